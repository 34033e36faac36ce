package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/storage"
	"github.com/moinha/moinha/testnet"
)

// benchPatient is the patient of every benchmark referral.
var benchPatient = referral.Patient{Name: "Bệnh nhân Thử nghiệm", Phone: "0900000000", BirthYear: 1970, Sex: "male"}

func benchReferral(target, urgency string) referral.CreateRequest {
	p := benchPatient
	return referral.CreateRequest{Specialty: "cardiology", Urgency: urgency, Reason: "đánh giá tim mạch",
		Patient: &p, TargetProvince: target}
}

// autoAccept makes every candidate accept on receipt, in the transaction
// that stores the offer: the measured path is then offer → durable
// accept at the candidate → durable at the referring node.
func autoAccept(referral.View) bool { return true }

// referralNet starts n provinces with durable storage and waits until
// they form a full mesh.
func referralNet(ctx context.Context, n int, ro referral.Options, o Options) (*testnet.Net, error) {
	net, err := testnet.Start(ctx, testnet.Options{Provinces: n, Referrals: ro, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	if err := net.WaitConnected(ctx, 2*time.Minute, n-1); err != nil {
		net.Stop()
		return nil, err
	}
	return net, nil
}

func runReferral(ctx context.Context, o Options) (*Result, error) {
	samples := max(50, int(o.Duration/(20*time.Millisecond)))
	inflight := 1000
	if o.Duration < time.Second {
		inflight = 200
	}
	var rtP50, rtP99, flP50, flP99, thr, ifP50, ifP99 []float64
	for run := range o.Runs {
		o.Logger.Info("bench referral: round trip", "run", run, "samples", samples)
		rt, fl, err := referralRoundTrip(ctx, o, samples)
		if err != nil {
			return nil, err
		}
		rtP50, rtP99 = append(rtP50, percentile(rt, 50)), append(rtP99, percentile(rt, 99))
		flP50, flP99 = append(flP50, percentile(fl, 50)), append(flP99, percentile(fl, 99))
		o.Logger.Info("bench referral: in flight", "run", run, "referrals", inflight)
		perSec, lat, err := referralInFlight(ctx, o, inflight, 8)
		if err != nil {
			return nil, err
		}
		thr = append(thr, perSec)
		ifP50, ifP99 = append(ifP50, percentile(lat, 50)), append(ifP99, percentile(lat, 99))
	}
	return &Result{
		Scenario: "referral",
		Setup: fmt.Sprintf("two provinces: %d sequential referrals, offer durable at the referrer → accepted in the candidate's receiving transaction → acceptance durable at the referrer; "+
			"eight provinces: %d referrals created at once (8 clients per province, random targets); fsync on, loopback", samples, inflight),
		Notes: []string{
			"floor: two sequential bbolt commits (one small put each) on the same disk in the same run — the two fsyncs the round trip cannot avoid",
			"in-flight latency is creation → acceptance stored at the referrer, from the two transactions' own clocks (excludes the last commit's fsync)",
		},
		Figures: []Figure{
			withGoal(figure("roundtrip.p50", "ms", rtP50), false, 30),
			withGoal(figure("roundtrip.p99", "ms", rtP99), false, 30),
			figure("floor.two_fsyncs.p50", "ms", flP50),
			figure("floor.two_fsyncs.p99", "ms", flP99),
			figure("inflight.throughput", "referrals/s", thr),
			figure("inflight.p50", "ms", ifP50),
			figure("inflight.p99", "ms", ifP99),
		},
	}, nil
}

// referralRoundTrip measures, between two provinces, the time from an
// offer made durable at the referring node to the acceptance made durable
// there, one referral at a time; and the floor: two sequential commits.
func referralRoundTrip(ctx context.Context, o Options, samples int) (rt, floor []time.Duration, err error) {
	net, err := referralNet(ctx, 2, referral.Options{AutoAccept: autoAccept}, o)
	if err != nil {
		return nil, nil, err
	}
	defer net.Stop()
	owner, target := net.Nodes[0], net.Nodes[1].Province
	who := referral.Actor{User: "bench"}
	one := func() (time.Duration, error) {
		v, err := owner.Referrals().Create(ctx, who, benchReferral(target, referral.UrgencyUrgent))
		if err != nil {
			return 0, err
		}
		t0 := time.Now()
		deadline := t0.Add(30 * time.Second)
		for {
			st, _, err := owner.Referrals().Status(v.ID)
			if err != nil {
				return 0, err
			}
			if st == referral.StatusAccepted {
				return time.Since(t0), nil
			}
			if time.Now().After(deadline) {
				return 0, fmt.Errorf("referral %s not accepted after 30 s (status %s)", v.ID, st)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	for range 20 { // warm connections, streams, the page cache
		if _, err := one(); err != nil {
			return nil, nil, err
		}
	}
	for range samples {
		d, err := one()
		if err != nil {
			return nil, nil, err
		}
		rt = append(rt, d)
	}
	slices.Sort(rt)

	dir, err := os.MkdirTemp(filepath.Dir(owner.DataDir), "floor-*")
	if err != nil {
		return nil, nil, err
	}
	db, err := storage.Open(filepath.Join(dir, "floor.db"), nil)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	put := func(k int) error {
		return db.Update(ctx, func(tx *storage.Tx) error { return tx.Put(storage.BucketSettings, fmt.Sprint(k), "x") })
	}
	for i := range samples + 20 {
		t0 := time.Now()
		if err := put(2 * i); err != nil {
			return nil, nil, err
		}
		if err := put(2*i + 1); err != nil {
			return nil, nil, err
		}
		if i >= 20 {
			floor = append(floor, time.Since(t0))
		}
	}
	slices.Sort(floor)
	return rt, floor, nil
}

// referralInFlight creates total referrals among provinces at once and
// measures how long until every one is accepted at its referrer.
func referralInFlight(ctx context.Context, o Options, total, provinces int) (perSec float64, lat []time.Duration, err error) {
	net, err := referralNet(ctx, provinces, referral.Options{AutoAccept: autoAccept}, o)
	if err != nil {
		return 0, nil, err
	}
	defer net.Stop()
	rng := rand.New(rand.NewPCG(1, 2))
	type job struct {
		from   int
		target string
	}
	jobs := make(chan job, total)
	for i := range total {
		from := i % provinces
		to := rng.IntN(provinces - 1)
		if to >= from {
			to++
		}
		jobs <- job{from, net.Nodes[to].Province}
	}
	close(jobs)
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	start := time.Now()
	for range 8 * provinces {
		wg.Go(func() {
			for j := range jobs {
				_, err := net.Nodes[j.from].Referrals().Create(ctx, referral.Actor{User: "bench"}, benchReferral(j.target, referral.UrgencyUrgent))
				if err != nil {
					errMu.Lock()
					firstErr = cmpOr(firstErr, err)
					errMu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, nil, firstErr
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		waiting := 0
		for _, nd := range net.Nodes {
			n, err := nd.Referrals().Awaiting()
			if err != nil {
				return 0, nil, err
			}
			waiting += n
		}
		if waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			return 0, nil, fmt.Errorf("%d referrals still wait for an answer after 5 min", waiting)
		}
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	for _, nd := range net.Nodes {
		cursor := ""
		for {
			items, next, err := nd.Referrals().List(referral.Filter{Box: referral.BoxOutbox}, 500, cursor)
			if err != nil {
				return 0, nil, err
			}
			for _, v := range items {
				if v.AcceptedAt == nil {
					return 0, nil, fmt.Errorf("referral %s ended %s, not accepted", v.ID, v.Status)
				}
				lat = append(lat, v.AcceptedAt.Sub(v.Created))
			}
			if cursor = next; cursor == "" {
				break
			}
		}
	}
	if len(lat) != total {
		return 0, nil, fmt.Errorf("%d referrals at the referrers, want %d", len(lat), total)
	}
	slices.Sort(lat)
	return float64(total) / elapsed.Seconds(), lat, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
