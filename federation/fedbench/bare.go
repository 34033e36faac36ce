package fedbench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// BareNet is plain gossipsub on real loopback hosts with the options the
// federation uses (flood publish, no author, content IDs, 4,096-deep
// queues, the same heartbeat) and nothing else: no records, signatures,
// validation or storage. It is the baseline.
type BareNet struct {
	hosts  []host.Host
	topics []*pubsub.Topic
	subs   []*pubsub.Subscription
	meshes []*meshTracer
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// watch, when set, is told of every message a host receives from
	// another: the host's index and the message's first 8 bytes.
	watch atomic.Pointer[func(host int, tag uint64)]
}

// NewBareNet starts one host per entry of topo, each dialling the hosts
// topo lists, and waits until every host has its neighbours in its mesh.
func NewBareNet(ctx context.Context, topo [][]int, heartbeat time.Duration) (*BareNet, error) {
	if heartbeat <= 0 {
		heartbeat = 100 * time.Millisecond
	}
	pctx, cancel := context.WithCancel(context.Background())
	bn := &BareNet{cancel: cancel}
	proto := protocol.ID("/bare/meshsub/1.2.0")
	features := func(feat pubsub.GossipSubFeature, p protocol.ID) bool {
		if p != proto {
			return false
		}
		switch feat {
		case pubsub.GossipSubFeatureMesh, pubsub.GossipSubFeaturePX, pubsub.GossipSubFeatureIdontwant:
			return true
		}
		return false
	}
	params := pubsub.DefaultGossipSubParams()
	params.HeartbeatInterval = heartbeat
	params.HeartbeatInitialDelay = min(heartbeat, params.HeartbeatInitialDelay)
	for i := range topo {
		h, err := libp2p.New(
			libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"),
			libp2p.DisableRelay(),
			libp2p.DisableMetrics(),
		)
		if err != nil {
			bn.Close()
			return nil, err
		}
		bn.hosts = append(bn.hosts, h)
		mt := &meshTracer{mesh: make(map[peer.ID]bool)}
		bn.meshes = append(bn.meshes, mt)
		ps, err := pubsub.NewGossipSub(pctx, h,
			pubsub.WithGossipSubProtocols([]protocol.ID{proto}, features),
			pubsub.WithGossipSubParams(params),
			pubsub.WithFloodPublish(true),
			pubsub.WithPeerExchange(false),
			pubsub.WithNoAuthor(),
			pubsub.WithMessageIdFn(contentID),
			pubsub.WithPeerOutboundQueueSize(4096),
			pubsub.WithValidateQueueSize(4096),
			pubsub.WithRawTracer(mt),
		)
		if err != nil {
			bn.Close()
			return nil, err
		}
		topic, err := ps.Join("bare")
		if err != nil {
			bn.Close()
			return nil, err
		}
		sub, err := topic.Subscribe(pubsub.WithBufferSize(4096))
		if err != nil {
			bn.Close()
			return nil, err
		}
		bn.topics = append(bn.topics, topic)
		bn.subs = append(bn.subs, sub)
		for _, j := range topo[i] {
			ai := peer.AddrInfo{ID: bn.hosts[j].ID(), Addrs: bn.hosts[j].Addrs()}
			if err := h.Connect(ctx, ai); err != nil {
				bn.Close()
				return nil, err
			}
		}
	}
	for i, sub := range bn.subs {
		self := bn.hosts[i].ID()
		bn.wg.Go(func() {
			for {
				m, err := sub.Next(pctx)
				if err != nil {
					return
				}
				if m.ReceivedFrom == self || len(m.Data) < 8 {
					continue
				}
				if w := bn.watch.Load(); w != nil {
					(*w)(i, binary.BigEndian.Uint64(m.Data))
				}
			}
		})
	}
	// Every host has each neighbour's subscription, and the mesh links
	// join all hosts into one graph.
	err := WaitFor(ctx, 60*time.Second, "bare meshes", func() bool {
		for i, h := range bn.hosts {
			if len(bn.topics[i].ListPeers()) < len(h.Network().Peers()) {
				return false
			}
		}
		return bn.meshConnected()
	})
	if err != nil {
		bn.Close()
		return nil, err
	}
	return bn, nil
}

// meshConnected reports whether the mesh links reach every host from
// host 0.
func (bn *BareNet) meshConnected() bool {
	index := make(map[peer.ID]int, len(bn.hosts))
	for i, h := range bn.hosts {
		index[h.ID()] = i
	}
	seen := make([]bool, len(bn.hosts))
	seen[0] = true
	queue, reached := []int{0}, 1
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, p := range bn.meshes[i].peers() {
			if j, ok := index[p]; ok && !seen[j] {
				seen[j] = true
				reached++
				queue = append(queue, j)
			}
		}
	}
	return reached == len(bn.hosts)
}

// Len is the number of hosts.
func (bn *BareNet) Len() int { return len(bn.hosts) }

// Watch sets the function told of every message received (nil: none).
func (bn *BareNet) Watch(fn func(host int, tag uint64)) {
	if fn == nil {
		bn.watch.Store(nil)
		return
	}
	bn.watch.Store(&fn)
}

// Publish publishes size bytes (at least 8) from host i, tagged with tag
// in the first 8 bytes; the rest is random so every message is new.
func (bn *BareNet) Publish(ctx context.Context, i int, tag uint64, size int) error {
	data := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(data, tag)
	_, _ = rand.Read(data[8:])
	return bn.topics[i].Publish(ctx, data)
}

// Dropped sums what pubsub dropped at every host.
func (bn *BareNet) Dropped() uint64 {
	var n uint64
	for _, mt := range bn.meshes {
		n += mt.dropped.Load()
	}
	return n
}

// Close stops every host.
func (bn *BareNet) Close() error {
	bn.cancel()
	var errs []error
	for _, sub := range bn.subs {
		sub.Cancel()
	}
	for _, h := range bn.hosts {
		errs = append(errs, h.Close())
	}
	bn.wg.Wait()
	return errors.Join(errs...)
}

// contentID is the federation's message ID: a hash of the data.
func contentID(m *pb.Message) string {
	sum := sha256.Sum256(m.GetData())
	return string(sum[:20])
}

// meshTracer follows one host's mesh through graft and prune events and
// counts what pubsub drops because a queue is full.
type meshTracer struct {
	dropped atomic.Uint64

	mu   sync.Mutex // guards mesh
	mesh map[peer.ID]bool
}

func (t *meshTracer) peers() []peer.ID {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]peer.ID, 0, len(t.mesh))
	for p := range t.mesh {
		out = append(out, p)
	}
	return out
}

func (t *meshTracer) Graft(p peer.ID, _ string) {
	t.mu.Lock()
	t.mesh[p] = true
	t.mu.Unlock()
}

func (t *meshTracer) Prune(p peer.ID, _ string) {
	t.mu.Lock()
	delete(t.mesh, p)
	t.mu.Unlock()
}

func (t *meshTracer) RemovePeer(p peer.ID) { t.Prune(p, "") }

func (t *meshTracer) AddPeer(peer.ID, protocol.ID)             {}
func (t *meshTracer) OnNewOutboundStream(peer.ID, protocol.ID) {}
func (t *meshTracer) OnClosedOutboundStream(peer.ID)           {}
func (t *meshTracer) Join(string)                              {}
func (t *meshTracer) Leave(string)                             {}
func (t *meshTracer) ValidateMessage(*pubsub.Message)          {}
func (t *meshTracer) DeliverMessage(*pubsub.Message)           {}
func (t *meshTracer) DropRPC(*pubsub.RPC, peer.ID)             { t.dropped.Add(1) }
func (t *meshTracer) UndeliverableMessage(*pubsub.Message)     { t.dropped.Add(1) }
func (t *meshTracer) RejectMessage(_ *pubsub.Message, reason string) {
	if reason == pubsub.RejectValidationQueueFull || reason == pubsub.RejectValidationThrottled {
		t.dropped.Add(1)
	}
}
func (t *meshTracer) DuplicateMessage(*pubsub.Message)                     {}
func (t *meshTracer) ThrottlePeer(peer.ID)                                 {}
func (t *meshTracer) RecvRPC(*pubsub.RPC)                                  {}
func (t *meshTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (t *meshTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
