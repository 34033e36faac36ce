package federation

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

// BenchmarkPropagation measures how long one staged record takes to reach
// every node (stored and applied everywhere), on a sparse topology where
// each node dials up to 4 earlier ones. In the same run, bare gossipsub
// (same options, no records, no validation, no storage) publishes 1 KiB
// on the same topology, for a ratio. Data files use NoSync: on one disk
// many nodes' fsyncs would measure the disk, not the protocol.
//
//	go test ./federation -run XXX -bench Propagation -benchtime 200x
func BenchmarkPropagation(b *testing.B) {
	for _, n := range []int{8, 32} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchPropagation(b, n) })
	}
}

// sparseTopology gives, for each node i, up to 4 distinct earlier nodes to
// dial (fixed seed, so both networks get the same graph).
func sparseTopology(n int) [][]int {
	rng := mrand.New(mrand.NewPCG(1, uint64(n)))
	out := make([][]int, n)
	for i := 1; i < n; i++ {
		perm := rng.Perm(i)
		out[i] = perm[:min(4, i)]
	}
	return out
}

func benchPropagation(b *testing.B, n int) {
	topo := sparseTopology(n)
	arrivals := make(chan string, 64*n)

	tn := newTestNet(b)
	tn.tweak = func(f *Federation) {
		f.hooks.applied = func(r Record) {
			if r.Kind == KindStats {
				arrivals <- r.Key
			}
		}
	}
	for i := range n {
		tn.add(charter.RoleProvince, func(nd *testNode) {
			for _, j := range topo[i] {
				nd.cfg.Bootstrap = append(nd.cfg.Bootstrap, tn.nodes[j].addr())
			}
			nd.cfg.ConnectMembers = -1      // keep the sparse topology
			nd.cfg.SyncInterval = time.Hour // measure gossip, not sync
		})
	}
	waitFor(b, 60*time.Second, func() bool {
		for i, nd := range tn.nodes {
			if nd.f.ConnectedPeers() < len(topo[i]) {
				return false
			}
		}
		return true
	}, "topology")

	bare := newBareNet(b, topo)

	payload := make([]byte, 1024)
	_, _ = rand.Read(payload)
	propagate := func(i int) time.Duration {
		src := tn.nodes[(i%n+n)%n]
		key := fmt.Sprintf("bench-%d", i)
		start := time.Now()
		err := src.db.Update(context.Background(), func(tx *storage.Tx) error {
			return src.f.Stage(tx, KindStats, key, payload, false)
		})
		require.NoError(b, err)
		for got := 0; got < n-1; {
			select {
			case k := <-arrivals:
				if k == key {
					got++
				}
			case <-time.After(30 * time.Second):
				b.Fatalf("record %s reached %d of %d nodes", key, got, n-1)
			}
		}
		return time.Since(start)
	}
	// Warm up: meshes formed, connections and caches hot.
	for i := range 3 {
		propagate(-1 - i)
		bare.propagate(b, -1-i)
	}

	var fed, raw []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fed = append(fed, propagate(i))
		raw = append(raw, bare.propagate(b, i))
	}
	b.StopTimer()
	p50, p99 := percentile(fed, 50), percentile(fed, 99)
	b50, b99 := percentile(raw, 50), percentile(raw, 99)
	b.ReportMetric(ms(p50), "p50_ms")
	b.ReportMetric(ms(p99), "p99_ms")
	b.ReportMetric(ms(b50), "bare_p50_ms")
	b.ReportMetric(ms(b99), "bare_p99_ms")
	if b50 > 0 {
		b.ReportMetric(float64(p50)/float64(b50), "ratio_p50")
	}
	b.ReportMetric(0, "ns/op") // the time per op mixes both networks
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

// bareNet is plain gossipsub on real loopback hosts, with the options the
// federation uses, and nothing else.
type bareNet struct {
	hosts  []host.Host
	topics []*pubsub.Topic
	got    chan string
}

func newBareNet(b *testing.B, topo [][]int) *bareNet {
	ctx, cancel := context.WithCancel(context.Background())
	bn := &bareNet{got: make(chan string, 64*len(topo))}
	b.Cleanup(func() {
		cancel()
		for _, h := range bn.hosts {
			h.Close()
		}
	})
	proto := protocol.ID("/bare/meshsub/1.2.0")
	features := func(feat pubsub.GossipSubFeature, p protocol.ID) bool {
		return p == proto && feat != pubsub.GossipSubFeatureExtensions
	}
	params := pubsub.DefaultGossipSubParams()
	params.HeartbeatInterval = 100 * time.Millisecond
	params.HeartbeatInitialDelay = 100 * time.Millisecond
	var subs []*pubsub.Subscription
	for i := range topo {
		h, err := libp2p.New(
			libp2p.ListenAddrStrings(defaultListenAddrs...),
			libp2p.DisableRelay(),
			libp2p.DisableMetrics(),
		)
		require.NoError(b, err)
		bn.hosts = append(bn.hosts, h)
		ps, err := pubsub.NewGossipSub(ctx, h,
			pubsub.WithGossipSubProtocols([]protocol.ID{proto}, features),
			pubsub.WithGossipSubParams(params),
			pubsub.WithFloodPublish(true),
			pubsub.WithNoAuthor(),
			pubsub.WithMessageIdFn(contentID),
			pubsub.WithPeerOutboundQueueSize(queueSize),
			pubsub.WithValidateQueueSize(queueSize),
			pubsub.WithMaxMessageSize(maxMessageSize),
		)
		require.NoError(b, err)
		topic, err := ps.Join("bare")
		require.NoError(b, err)
		sub, err := topic.Subscribe(pubsub.WithBufferSize(queueSize))
		require.NoError(b, err)
		bn.topics = append(bn.topics, topic)
		subs = append(subs, sub)
		for _, j := range topo[i] {
			require.NoError(b, h.Connect(ctx, peer.AddrInfo{ID: bn.hosts[j].ID(), Addrs: bn.hosts[j].Addrs()}))
		}
	}
	for i, sub := range subs {
		self := bn.hosts[i].ID()
		go func() {
			for {
				m, err := sub.Next(ctx)
				if err != nil {
					return
				}
				if m.ReceivedFrom != self {
					bn.got <- string(m.Data[:16])
				}
			}
		}()
	}
	return bn
}

// propagate publishes 1 KiB from node i%N and waits until all others have it.
func (bn *bareNet) propagate(b *testing.B, i int) time.Duration {
	n := len(bn.hosts)
	data := make([]byte, 1024)
	copy(data, fmt.Sprintf("bare-%011d", i+1_000_000))
	_, _ = rand.Read(data[16:])
	id := string(data[:16])
	start := time.Now()
	require.NoError(b, bn.topics[(i%n+n)%n].Publish(context.Background(), data))
	for got := 0; got < n-1; {
		select {
		case k := <-bn.got:
			if k == id {
				got++
			}
		case <-time.After(30 * time.Second):
			b.Fatalf("bare message reached %d of %d nodes", got, n-1)
		}
	}
	return time.Since(start)
}
