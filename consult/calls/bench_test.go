package calls_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/calls/calltest"
	"github.com/moinha/moinha/consult/calls/sfu"
	"github.com/moinha/moinha/internal/netns"
)

// reportLatency reports p50, p99 and max of ds in milliseconds.
func reportLatency(b *testing.B, ds []time.Duration) {
	b.Helper()
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(ds[len(ds)/2]), "p50-ms")
	b.ReportMetric(ms(ds[min(len(ds)-1, len(ds)*99/100)]), "p99-ms")
	b.ReportMetric(ms(ds[len(ds)-1]), "max-ms")
}

// consultSetup runs one consult through n's signalling and returns the time
// from the offer to media (audio and video) arriving both ways.
func consultSetup(b *testing.B, n *node, ctx context.Context) time.Duration {
	b.Helper()
	id := n.create(b, "staff", calls.KindConsult, n.user("doctor"))
	o := calltest.Options{}
	host := n.dial(b, id, "staff", o)
	guest := n.dial(b, id, "doctor", o)
	require.NoError(b, host.Join())
	require.NoError(b, guest.Join())
	for _, pair := range [][2]*calltest.Client{{host, guest}, {guest, host}} {
		require.NoError(b, pair[0].WaitMedia(ctx, pair[1].Key(), "audio", 1))
		require.NoError(b, pair[0].WaitMedia(ctx, pair[1].Key(), "video", 1))
	}
	offered := guest.OfferSentAt() // whoever joined second offers
	if offered.IsZero() {
		offered = host.OfferSentAt()
	}
	d := time.Since(offered)
	require.NoError(b, host.End())
	_, _, err := host.WaitClosed(ctx)
	require.NoError(b, err)
	host.Close()
	guest.Close()
	return d
}

// BenchmarkCallSetup: a consult through the node's real signalling
// (WebSocket, relay of offer, answer and trickled candidates), offer →
// media flowing both ways.
func BenchmarkCallSetup(b *testing.B) {
	netns.Require(b)
	n := newNode(b, "66", nil)
	ctx := ctxT(b, 5*time.Minute)
	var ds []time.Duration
	b.ResetTimer()
	for range b.N {
		ds = append(ds, consultSetup(b, n, ctx))
	}
	b.StopTimer()
	reportLatency(b, ds)
}

// BenchmarkBarePionSetup: the same two peers and media with no node
// between them (the floor for BenchmarkCallSetup).
func BenchmarkBarePionSetup(b *testing.B) {
	netns.Require(b)
	ctx := ctxT(b, 5*time.Minute)
	var ds []time.Duration
	for range b.N {
		d, err := calltest.BareSetup(ctx, calltest.Options{})
		require.NoError(b, err)
		ds = append(ds, d)
	}
	reportLatency(b, ds)
}

// BenchmarkCallSetup50: 50 consults set up at once on one node.
func BenchmarkCallSetup50(b *testing.B) {
	netns.Require(b)
	n := newNode(b, "66", nil)
	ctx := ctxT(b, 5*time.Minute)
	var ds []time.Duration
	var mu sync.Mutex
	var wall time.Duration
	for range b.N {
		start := time.Now()
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				d := consultSetup(b, n, ctx)
				mu.Lock()
				ds = append(ds, d)
				mu.Unlock()
			})
		}
		wg.Wait()
		wall += time.Since(start)
	}
	reportLatency(b, ds)
	b.ReportMetric(wall.Seconds()/float64(b.N), "s/50-setups")
}

// BenchmarkSFU6: a 6-party conference, every participant sending video at
// the given bitrate plus Opus-sized audio, through an SFU running in a
// child process (so its CPU is measured apart from the clients'). It
// reports the SFU's CPU in cores, packets forwarded per second, the loss
// the receivers saw, and forwarded packets per CPU-second (the forwarding
// ceiling per core). b.N is ignored: one measured 10 s window per run.
func BenchmarkSFU6(b *testing.B) {
	netns.Require(b)
	for _, kbps := range []int{1500, 4000} {
		b.Run(strconv.Itoa(kbps)+"kbps", func(b *testing.B) {
			sfuLoad(b, 6, kbps*1000, 10*time.Second)
		})
	}
}

func sfuLoad(b *testing.B, parties, bitrate int, window time.Duration) {
	ch := startChild(b)
	n := &node{province: "66", tokens: ch.info.Tokens, srv: &httptest.Server{URL: ch.info.URL}}
	users := []string{"doctor", "staff", "nurse1", "nurse2", "nurse3", "nurse4", "nurse5"}[:parties]
	cs := joinGroup(b, n, ch.info.Call, users, calltest.Options{VideoBitrate: bitrate})
	ctx := ctxT(b, 2*time.Minute)
	waitMedia(b, ctx, 60, cs, cs)

	type tot struct{ pkts, expected uint64 }
	count := func() tot {
		var t tot
		for _, c := range cs {
			for _, st := range c.AllReceived() {
				t.pkts += st.Packets
				t.expected += st.Expected
			}
		}
		return t
	}
	mediaStats := func() sfu.Stats {
		resp, err := http.Get(ch.info.URL + "/stats")
		require.NoError(b, err)
		defer resp.Body.Close()
		var st sfu.Stats
		require.NoError(b, json.NewDecoder(resp.Body).Decode(&st))
		return st
	}
	b.ResetTimer()
	c0, s0, t0, start := ch.cpu(b), mediaStats(), count(), time.Now()
	<-time.After(window) // a measurement window, not a wait for an event
	c1, s1, t1, secs := ch.cpu(b), mediaStats(), count(), time.Since(start).Seconds()
	b.StopTimer()
	cores := float64(c1-c0) / 100 / secs
	fwd := float64(s1.PacketsOut-s0.PacketsOut) / secs
	exp := t1.expected - t0.expected
	loss := 0.0
	if got := t1.pkts - t0.pkts; exp > got {
		loss = float64(exp-got) / float64(exp)
	}
	b.ReportMetric(cores, "sfu-cores")
	b.ReportMetric(float64(s1.PacketsIn-s0.PacketsIn)/secs, "in-pkts/s")
	b.ReportMetric(fwd, "fwd-pkts/s")
	b.ReportMetric(float64(s1.BytesOut-s0.BytesOut)*8/secs/1e6, "fwd-Mbit/s")
	b.ReportMetric(loss*100, "loss-%")
	if cores > 0 {
		b.ReportMetric(fwd/cores, "fwd-pkts/core-s")
	}
	for _, c := range cs {
		c.Close()
	}
}
