package fedbench

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/moinha/moinha/federation"
)

// ThroughputOptions tune Throughput.
type ThroughputOptions struct {
	// N is the number of nodes. Zero means 32.
	N int
	// Phase is how long each offered rate is held. Zero means 5 s.
	Phase time.Duration
	// MaxP99 is the completion latency (staged → stored at every node)
	// that the 99th percentile of a phase may not exceed for the rate to
	// count as sustained. Zero means 1 s.
	MaxP99 time.Duration
	// Start is the first offered rate (records/s); each success doubles
	// it, and after the first failure Refine bisections narrow it. Zero
	// means 25.
	Start float64
	// Refine is how many bisection steps follow the first failure. Zero
	// means 2.
	Refine int
	// Payload is the record size. Zero means 1 KiB.
	Payload int
	// Net tunes the federation network (N is taken from above).
	Net Options
}

func (o *ThroughputOptions) withDefaults() {
	if o.N <= 0 {
		o.N = 32
	}
	if o.Phase <= 0 {
		o.Phase = 5 * time.Second
	}
	if o.MaxP99 <= 0 {
		o.MaxP99 = time.Second
	}
	if o.Start <= 0 {
		o.Start = 25
	}
	if o.Refine <= 0 {
		o.Refine = 2
	}
	if o.Payload <= 0 {
		o.Payload = 1024
	}
}

// Phase is one offered rate held for ThroughputOptions.Phase.
type Phase struct {
	Rate      float64       // offered, records (or messages) per second
	Sent      int           // records staged (messages published)
	Delivered int           // (record, node) arrivals counted
	Lost      int           // (record, node) pairs missing at the end
	Dropped   uint64        // pubsub drops counted by the tracer
	P50, P99  time.Duration // completion: staged → stored at every other node
	OK        bool          // nothing lost or dropped, P99 ≤ MaxP99
}

// ThroughputResult is one run's search, for the federation and for bare
// gossipsub on the same topology.
type ThroughputResult struct {
	N          int
	Fed, Bare  []Phase
	FedRate    float64 // highest sustained rate (0: none)
	BareRate   float64
	FedBest    Phase // the phase at FedRate
	BareBest   Phase
	FedDropped uint64 // every drop in the federation network, all phases
}

// Throughput finds the highest rate of records, staged round-robin at
// every node, that N nodes sustain with every record stored at every node
// (counted through Config.Stored) and no pubsub drop; then the same for
// bare gossipsub messages of the same size on the same topology. Sync is
// off (hourly) so it cannot hide losses.
func Throughput(ctx context.Context, o ThroughputOptions) (*ThroughputResult, error) {
	o.withDefaults()
	o.Net.N = o.N
	if o.Net.SyncInterval == 0 {
		o.Net.SyncInterval = time.Hour
	}
	res := &ThroughputResult{N: o.N}

	net, err := NewNet(ctx, o.Net)
	if err != nil {
		return nil, err
	}
	defer net.Close()
	if err := net.WaitTopology(ctx, 3*time.Minute); err != nil {
		return nil, err
	}
	if err := net.WaitMesh(ctx, time.Minute); err != nil {
		return nil, err
	}
	fedT := newTracker(o.N - 1)
	net.Watch(func(_ *Node, r federation.Record) {
		if r.Kind == federation.KindStats {
			fedT.arrived(r.Key)
		}
	})
	payload := make([]byte, o.Payload)
	_, _ = rand.Read(payload)
	fedSend := func(i int, tag string) error {
		return net.Nodes[i%o.N].Stage(ctx, federation.KindStats, tag, payload)
	}
	res.Fed, res.FedRate, res.FedBest, err = search(ctx, o, fedT, fedSend, net.Dropped)
	if err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}
	res.FedDropped = net.Dropped()
	_ = net.Close()

	bare, err := NewBareNet(ctx, Topology(o.N, net.opts.Degree), net.opts.Heartbeat)
	if err != nil {
		return nil, err
	}
	defer bare.Close()
	bareT := newTracker(o.N - 1)
	bare.Watch(func(_ int, tag uint64) { bareT.arrived(strconv.FormatUint(tag, 10)) })
	bareSend := func(i int, tag string) error {
		t, _ := strconv.ParseUint(tag, 10, 64)
		return bare.Publish(ctx, i%o.N, t, o.Payload)
	}
	res.Bare, res.BareRate, res.BareBest, err = search(ctx, o, bareT, bareSend, bare.Dropped)
	if err != nil {
		return nil, fmt.Errorf("bare: %w", err)
	}
	return res, nil
}

// search doubles the offered rate until a phase fails, then bisects.
func search(ctx context.Context, o ThroughputOptions, t *tracker, send func(i int, tag string) error,
	dropped func() uint64) (phases []Phase, best float64, bestPhase Phase, err error) {
	seq := 0
	// Warm up (meshes formed, caches hot, start-up syncs done); not
	// counted.
	if _, err := runPhase(ctx, o, o.Start/2, &seq, t, send, dropped); err != nil {
		return nil, 0, Phase{}, err
	}
	run := func(rate float64) (Phase, error) {
		ph, err := runPhase(ctx, o, rate, &seq, t, send, dropped)
		phases = append(phases, ph)
		if err == nil && ph.OK && rate > best {
			best, bestPhase = rate, ph
		}
		return ph, err
	}
	lo, hi := 0.0, 0.0
	for rate := o.Start; ; rate *= 2 {
		ph, err := run(rate)
		if err != nil {
			return phases, best, bestPhase, err
		}
		if !ph.OK {
			hi = rate
			break
		}
		lo = rate
		if rate > 1e5 {
			return phases, best, bestPhase, nil
		}
	}
	for range o.Refine {
		mid := (lo + hi) / 2
		ph, err := run(mid)
		if err != nil {
			return phases, best, bestPhase, err
		}
		if ph.OK {
			lo = mid
		} else {
			hi = mid
		}
	}
	return phases, best, bestPhase, nil
}

// runPhase offers rate for o.Phase, then waits for the stragglers and for
// the network to go quiet.
func runPhase(ctx context.Context, o ThroughputOptions, rate float64, seq *int, t *tracker,
	send func(i int, tag string) error, dropped func() uint64) (Phase, error) {
	ph := Phase{Rate: rate}
	drops := dropped()
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex // guards errs
		errs  []error
		tags  []string
		dones []<-chan struct{}
	)
	sem := make(chan struct{}, 256)
	for k := 0; ; k++ {
		at := start.Add(time.Duration(k) * interval)
		if at.Sub(start) >= o.Phase {
			break
		}
		if d := time.Until(at); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ph, ctx.Err()
			}
		}
		*seq++
		i := *seq
		tag := strconv.Itoa(1_000_000_000 + i)
		tags = append(tags, tag)
		dones = append(dones, t.expect(tag))
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := send(i, tag); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return ph, errs[0]
	}
	ph.Sent = len(tags)
	// Stragglers: everything should be in within MaxP99 of the last send;
	// wait longer so that what is late is told apart from what is lost.
	deadline := time.After(o.MaxP99 + 5*time.Second)
wait:
	for _, d := range dones {
		select {
		case <-d:
		case <-deadline:
			break wait
		case <-ctx.Done():
			return ph, ctx.Err()
		}
	}
	var lat []time.Duration
	for _, tag := range tags {
		d, got := t.result(tag)
		ph.Delivered += got
		ph.Lost += t.want - got
		if got == t.want {
			lat = append(lat, d)
		} else {
			lat = append(lat, time.Hour) // counts against the percentiles
		}
	}
	ph.P50, ph.P99 = Percentile(lat, 50), Percentile(lat, 99)
	ph.Dropped = dropped() - drops
	ph.OK = ph.Lost == 0 && ph.Dropped == 0 && ph.P99 <= o.MaxP99
	// Let queues drain before the next phase: quiet for a second, or give
	// up after 30.
	quietSince, last := time.Now(), totalArrivals(t)
	_ = WaitFor(ctx, 30*time.Second, "quiet", func() bool {
		if n := totalArrivals(t); n != last {
			quietSince, last = time.Now(), n
		}
		return time.Since(quietSince) >= time.Second
	})
	return ph, nil
}

func totalArrivals(t *tracker) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, it := range t.items {
		n += it.got
	}
	return n
}
