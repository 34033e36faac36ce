package federation_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/federation/fedbench"
)

// BenchmarkPropagation times one staged record until every node has stored
// it, on a sparse topology (each node dials up to 4 earlier ones), against
// bare gossipsub (same gossipsub parameters, messages of the envelope's
// size, no signatures, validation, peer scoring or storage) on the same
// topology in the same run. Data files use NoSync; "late" counts samples
// over 1 s (a record gossip lost, brought by sync).
//
//	go test ./federation -run '^$' -bench Propagation -benchtime 200x
func BenchmarkPropagation(b *testing.B) {
	for _, n := range []int{8, 32, 64} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			res, err := fedbench.Propagation(b.Context(), fedbench.PropagationOptions{N: n, Samples: b.N})
			require.NoError(b, err)
			p50, p99 := fedbench.Percentile(res.Fed, 50), fedbench.Percentile(res.Fed, 99)
			b50, b99 := fedbench.Percentile(res.Bare, 50), fedbench.Percentile(res.Bare, 99)
			b.ReportMetric(fedbench.Ms(p50), "p50_ms")
			b.ReportMetric(fedbench.Ms(p99), "p99_ms")
			b.ReportMetric(fedbench.Ms(b50), "bare_p50_ms")
			b.ReportMetric(fedbench.Ms(b99), "bare_p99_ms")
			b.ReportMetric(float64(p50)/float64(b50), "ratio_p50")
			b.ReportMetric(float64(p99)/float64(b99), "ratio_p99")
			b.ReportMetric(float64(res.Dropped), "dropped")
			b.ReportMetric(float64(res.Late), "late")
			b.ReportMetric(0, "ns/op") // time per op mixes setup and both networks
		})
	}
}

// BenchmarkThroughput finds the highest rate of records (staged round
// robin at every node, 1 KiB) that 32 nodes sustain with every record
// stored at every node, no pubsub drop and a p99 completion under 1 s,
// against bare gossipsub on the same topology. Each iteration is one full
// search (about a minute).
//
//	go test ./federation -run '^$' -bench Throughput -benchtime 3x
func BenchmarkThroughput(b *testing.B) {
	var fed, bare, fedP99, bareP99 []float64
	var dropped uint64
	for range b.N {
		res, err := fedbench.Throughput(b.Context(), fedbench.ThroughputOptions{N: 32})
		require.NoError(b, err)
		for _, ph := range res.Fed {
			b.Logf("fed  %6.0f/s sent %5d lost %5d dropped %4d p50 %7.1f ms p99 %7.1f ms ok %v", ph.Rate, ph.Sent, ph.Lost, ph.Dropped, fedbench.Ms(ph.P50), fedbench.Ms(ph.P99), ph.OK)
		}
		for _, ph := range res.Bare {
			b.Logf("bare %6.0f/s sent %5d lost %5d dropped %4d p50 %7.1f ms p99 %7.1f ms ok %v", ph.Rate, ph.Sent, ph.Lost, ph.Dropped, fedbench.Ms(ph.P50), fedbench.Ms(ph.P99), ph.OK)
		}
		fed, bare = append(fed, res.FedRate), append(bare, res.BareRate)
		fedP99, bareP99 = append(fedP99, fedbench.Ms(res.FedBest.P99)), append(bareP99, fedbench.Ms(res.BareBest.P99))
		dropped += res.FedBest.Dropped
	}
	b.ReportMetric(median(fed), "records/s")
	b.ReportMetric(median(bare), "bare_msgs/s")
	b.ReportMetric(median(fed)/median(bare), "ratio")
	b.ReportMetric(median(fedP99), "p99_ms")
	b.ReportMetric(median(bareP99), "bare_p99_ms")
	b.ReportMetric(float64(dropped), "dropped")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkHeal cuts 32 nodes into two halves for 30 s while both sides
// stage 10 records/s, heals, and times until every node stores every
// record. Each iteration takes the partition's length and more.
//
//	go test ./federation -run '^$' -bench Heal -benchtime 3x
func BenchmarkHeal(b *testing.B) {
	var conv, first []float64
	for range b.N {
		res, err := fedbench.Heal(b.Context(), fedbench.HealOptions{N: 32})
		require.NoError(b, err)
		b.Logf("staged %d, converged %v (first cross %v, %d crossings)", res.Staged, res.Converged, res.FirstCross, res.CrossedLate)
		conv = append(conv, res.Converged.Seconds())
		first = append(first, res.FirstCross.Seconds())
	}
	b.ReportMetric(median(conv), "converge_s")
	b.ReportMetric(median(first), "first_cross_s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSync times a new node's sync of a national-size directory
// (34 origins × 441 facilities of ~650 B and 4,412 health workers of
// ~250 B: 15,000 and 150,000 records) from a network of 4 sources that
// hold it, fsync on at the joiner, against 165,000 Ed25519 verifications
// on every core measured just before. Building the directory (signing
// 165,000 records) takes a minute or two before the timer starts.
//
//	go test ./federation -run '^$' -bench Sync -benchtime 3x
func BenchmarkSync(b *testing.B) {
	d, err := fedbench.BuildDirectory(b.Context(), fedbench.DirectoryOptions{Origins: fedbench.SyntheticDirectory(34, 441, 4412)})
	require.NoError(b, err)
	defer d.Close()
	b.ResetTimer()
	var took, floor []float64
	for range b.N {
		fl, err := fedbench.VerifyFloor(d.Records, 400)
		require.NoError(b, err)
		res, err := d.Join(b.Context(), fedbench.JoinOptions{})
		require.NoError(b, err)
		b.Logf("joined: %d records in %v (floor %v); sync rounds %d", res.Records, res.Elapsed, fl, res.Stats.SyncRounds)
		took, floor = append(took, res.Elapsed.Seconds()), append(floor, fl.Seconds())
	}
	b.ReportMetric(median(took), "sync_s")
	b.ReportMetric(median(floor), "verify_floor_s")
	b.ReportMetric(median(took)/median(floor), "ratio")
	b.ReportMetric(0, "ns/op")
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
