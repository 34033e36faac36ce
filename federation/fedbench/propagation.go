package fedbench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/moinha/moinha/federation"
)

// tracker follows tagged items (records, bare messages) until each has
// reached want nodes.
type tracker struct {
	want int

	mu    sync.Mutex // guards items
	items map[string]*item
}

type item struct {
	start time.Time
	got   int
	last  time.Duration // from start to the last arrival
	done  chan struct{}
}

func newTracker(want int) *tracker { return &tracker{want: want, items: make(map[string]*item)} }

// expect registers tag as sent now; the returned channel closes when it
// has reached want nodes.
func (t *tracker) expect(tag string) <-chan struct{} {
	it := &item{start: time.Now(), done: make(chan struct{})}
	t.mu.Lock()
	t.items[tag] = it
	t.mu.Unlock()
	return it.done
}

// arrived counts one node's arrival of tag (unknown tags are ignored).
func (t *tracker) arrived(tag string) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	it := t.items[tag]
	if it == nil || it.got >= t.want {
		return
	}
	it.got++
	it.last = now.Sub(it.start)
	if it.got == t.want {
		close(it.done)
	}
}

// result reports how long tag took to reach every node, and how many it
// reached.
func (t *tracker) result(tag string) (time.Duration, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	it := t.items[tag]
	if it == nil {
		return 0, 0
	}
	return it.last, it.got
}

// PropagationOptions tune Propagation.
type PropagationOptions struct {
	// N is the number of nodes. Required.
	N int
	// Samples is how many records (and as many bare messages) to time.
	// Zero means 100.
	Samples int
	// Payload is the record payload size. Zero means 1 KiB.
	Payload int
	// Net tunes the federation network (N is taken from above).
	Net Options
	// Profile, when set, receives a CPU profile of the timed samples only
	// (not the set-up or the warm-up), with every goroutine of the
	// federation network labelled net=federation and of the bare one
	// net=bare (go tool pprof -tagfocus net=bare).
	Profile io.Writer
}

// PropagationResult holds one run's samples.
type PropagationResult struct {
	N       int
	Fed     []time.Duration // record staged → stored at every other node
	Bare    []time.Duration // bare publish → delivered at every other host
	Dropped uint64          // pubsub drops in the federation network
	Size    int             // bytes on the topic per message, both networks
	Late    int             // federation samples over 1 s: gossip missed a node, sync brought it
}

// Propagation starts a federation network and a bare gossipsub network of
// N nodes on the same topology and times, alternately, one record staged at
// node i mod N until every other node has stored it, and one bare message
// as large as the record's signed envelope, published from the same
// position, until every other host has it. Before timing, every node's
// mesh and membership are complete. Gossip carries the samples; sync runs
// every 10 s (unless Net says otherwise), so a record gossip lost still
// arrives, as a sample of seconds.
//
// What "reached" means: for the federation, the record has committed to
// the node's data file (Config.Stored, called after the commit), so
// Records and the domain's Apply tables show it; the clock starts when
// Stage's transaction is submitted. For bare gossipsub, the message has
// been delivered to the host's subscription; the clock starts at Publish.
func Propagation(ctx context.Context, o PropagationOptions) (*PropagationResult, error) {
	if o.Samples <= 0 {
		o.Samples = 100
	}
	if o.Payload <= 0 {
		o.Payload = 1024
	}
	o.Net.N = o.N
	if o.Net.SyncInterval == 0 {
		// Gossip carries the samples; sync only completes membership
		// before timing and rescues a record gossip lost, which then
		// shows as a sample of seconds (counted in Late).
		o.Net.SyncInterval = 10 * time.Second
	}
	var (
		net  *Net
		bare *BareNet
		err  error
	)
	// Goroutines inherit the labels of the one that starts them.
	pprof.Do(ctx, pprof.Labels("net", "federation"), func(ctx context.Context) { net, err = NewNet(ctx, o.Net) })
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
	if err := net.WaitMembers(ctx, time.Minute); err != nil {
		return nil, err
	}
	pprof.Do(ctx, pprof.Labels("net", "bare"), func(ctx context.Context) {
		bare, err = NewBareNet(ctx, Topology(o.N, net.opts.Degree), net.opts.Heartbeat)
	})
	if err != nil {
		return nil, err
	}
	defer bare.Close()

	fedT := newTracker(o.N - 1)
	net.Watch(func(_ *Node, r federation.Record) {
		if r.Kind == federation.KindStats {
			fedT.arrived(r.Key)
		}
	})
	bareT := newTracker(o.N - 1)
	bare.Watch(func(_ int, tag uint64) { bareT.arrived(strconv.FormatUint(tag, 10)) })

	payload := make([]byte, o.Payload)
	_, _ = rand.Read(payload)
	bareSize := o.Payload // until the first envelope is known
	fed := func(i int, timeout time.Duration) (d time.Duration, err error) {
		src := net.Nodes[i%o.N]
		key := fmt.Sprintf("prop-%d", i)
		done := fedT.expect(key)
		pprof.Do(ctx, pprof.Labels("net", "federation"), func(ctx context.Context) {
			err = src.Stage(ctx, federation.KindStats, key, payload)
		})
		if err != nil {
			return 0, err
		}
		if err := await(ctx, done, timeout); err != nil {
			_, got := fedT.result(key)
			return 0, fmt.Errorf("record %s reached %d of %d nodes: %w", key, got, o.N-1, err)
		}
		d, _ = fedT.result(key)
		return d, nil
	}
	raw := func(i int, timeout time.Duration) (d time.Duration, err error) {
		tag := uint64(i) + 1
		done := bareT.expect(strconv.FormatUint(tag, 10))
		pprof.Do(ctx, pprof.Labels("net", "bare"), func(ctx context.Context) {
			err = bare.Publish(ctx, i%o.N, tag, bareSize)
		})
		if err != nil {
			return 0, err
		}
		if err := await(ctx, done, timeout); err != nil {
			_, got := bareT.result(strconv.FormatUint(tag, 10))
			return 0, fmt.Errorf("bare message %d reached %d of %d hosts: %w", tag, got, o.N-1, err)
		}
		d, _ = bareT.result(strconv.FormatUint(tag, 10))
		return d, nil
	}
	// Warm up: connections, meshes, caches. A record lost to a mesh still
	// forming would wait for sync; give it a minute.
	for i := range min(o.N, 8) {
		if _, err := fed(1_000_000+i, time.Minute); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
		if _, err := raw(1_000_000+i, time.Minute); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	// The bare messages are as large as the records' signed envelopes.
	first := net.Nodes[1_000_000%o.N]
	env, ok, err := first.F.Envelope(first.ID, federation.KindStats, "prop-1000000")
	if err != nil || !ok {
		return nil, fmt.Errorf("fedbench: a warm-up record's envelope: found %v: %w", ok, err)
	}
	bareSize = len(env)
	dropped := net.Dropped()
	res := &PropagationResult{N: o.N, Size: bareSize}
	if o.Profile != nil {
		if err := pprof.StartCPUProfile(o.Profile); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	for i := range o.Samples {
		d, err := fed(i, 30*time.Second)
		if err != nil {
			return nil, err
		}
		res.Fed = append(res.Fed, d)
		if d > time.Second {
			res.Late++
		}
		if d, err = raw(i, 30*time.Second); err != nil {
			return nil, err
		}
		res.Bare = append(res.Bare, d)
	}
	res.Dropped = net.Dropped() - dropped
	return res, nil
}

func await(ctx context.Context, done <-chan struct{}, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return context.DeadlineExceeded
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Percentile is the p-th percentile (0–100, nearest rank) of ds.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(p/100*float64(len(s)) + 0.999999)
	return s[min(max(rank-1, 0), len(s)-1)]
}

// Ms renders d in milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
