package federation

import (
	"bufio"
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/federation/charter"
)

// publishRaw gossips bytes from n as they are, bypassing Stage (n's own
// validator accepts whatever n publishes itself).
func publishRaw(t *testing.T, n *testNode, data []byte) {
	t.Helper()
	require.NoError(t, n.f.topic.Publish(context.Background(), data))
}

// waitRejected waits until every node in nodes counted a gossip rejection
// for reason (beyond what it had in before).
func waitRejected(t *testing.T, nodes []*testNode, reason string, before map[*testNode]uint64) {
	t.Helper()
	waitFor(t, waitTimeout, func() bool {
		for _, n := range nodes {
			if n.f.Stats().GossipRejected[reason] <= before[n] {
				return false
			}
		}
		return true
	}, "%d nodes to reject for %s", len(nodes), reason)
}

func rejected(nodes []*testNode, reason string) map[*testNode]uint64 {
	out := make(map[*testNode]uint64)
	for _, n := range nodes {
		out[n] = n.f.Stats().GossipRejected[reason]
	}
	return out
}

func TestGossipRefusesBadRecords(t *testing.T) {
	tn := startNet(t, 3)
	obs := tn.add(charter.RoleObserver, func(n *testNode) {
		n.cfg.Bootstrap = []string{tn.nodes[0].addr()}
	})
	tn.waitMesh()
	attacker, victims := tn.nodes[1], []*testNode{tn.nodes[0], tn.nodes[2], obs}
	netID := tn.ch.NetworkID()

	cases := []struct {
		name   string
		from   *testNode
		data   func() []byte
		reason string
	}{
		{"forged origin", attacker, func() []byte {
			// Claims to be node 0's record, signed by the attacker.
			r := Record{Origin: tn.nodes[0].id, Kind: KindFacility, Key: "P00-fake", Version: 99, Payload: []byte(`{}`)}
			return sealRaw(t, netID, attacker.key, appendRecordUnchecked(r))
		}, reasonBadSignature},
		{"another network", attacker, func() []byte {
			r := Record{Origin: attacker.id, Kind: KindFacility, Key: "P01-x", Version: 99, Payload: []byte(`{}`)}
			env, err := seal(newTestNet(t).ch.NetworkID(), attacker.key, r)
			require.NoError(t, err)
			return env
		}, reasonBadSignature},
		{"another province", attacker, func() []byte {
			r := Record{Origin: attacker.id, Kind: KindFacility, Key: "P02-hospital", Version: 99, Payload: []byte(`{}`)}
			env, err := seal(netID, attacker.key, r)
			require.NoError(t, err)
			return env
		}, reasonOwnership},
		{"oversize", attacker, func() []byte {
			r := Record{Origin: attacker.id, Kind: KindStats, Key: "daily", Version: 99, Payload: make([]byte, MaxPayload+1)}
			return sealRaw(t, netID, attacker.key, appendRecordUnchecked(r))
		}, reasonOversize},
		{"malformed", attacker, func() []byte { return []byte("not an envelope") }, reasonMalformed},
		{"unknown kind", attacker, func() []byte {
			env, err := seal(netID, attacker.key, Record{Origin: attacker.id, Kind: "referral", Key: "P01-x", Version: 99})
			require.NoError(t, err)
			return env
		}, reasonUnknownKind},
		{"observer writes", obs, func() []byte {
			env, err := seal(netID, obs.key, Record{Origin: obs.id, Kind: KindStats, Key: "daily", Version: 99, Payload: []byte(`{}`)})
			require.NoError(t, err)
			return env
		}, reasonObserver},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var targets []*testNode
			for _, n := range tn.nodes {
				if n != tc.from {
					targets = append(targets, n)
				}
			}
			before := rejected(targets, tc.reason)
			waitSubscribed(t, tc.from, targets)
			publishRaw(t, tc.from, tc.data())
			waitRejected(t, targets, tc.reason, before)
		})
	}
	// Nothing of it was stored or applied anywhere.
	for _, n := range victims {
		assert.False(t, n.has(tn.nodes[0].id, KindFacility, "P00-fake", 1))
		assert.False(t, n.has(attacker.id, KindFacility, "P02-hospital", 1))
		n.mu.Lock()
		assert.Empty(t, n.applied, "node %d applied something", n.i)
		n.mu.Unlock()
	}

	// The observer cannot stage, but receives everyone's records.
	assert.ErrorIs(t, obs.stage(KindStats, "daily", nil), ErrObserver)
	require.NoError(t, attacker.stage(KindAvailability, "P01", []byte(`{"accepting":true}`)))
	waitAllHave(t, victims, attacker.id, KindAvailability, "P01", 1)

	// A stale record (an older version than the one stored) is ignored,
	// not rejected.
	old, _, err := attacker.f.Record(attacker.id, KindAvailability, "P01")
	require.NoError(t, err)
	require.NoError(t, attacker.stage(KindAvailability, "P01", []byte(`{"accepting":false}`)))
	waitAllHave(t, victims, attacker.id, KindAvailability, "P01", old.Version+1)
	ignoredBefore := tn.nodes[0].f.Stats().GossipIgnored
	old.Payload = []byte(`{"accepting":"stale"}`) // other bytes than the first publish
	env, err := seal(netID, attacker.key, old)
	require.NoError(t, err)
	publishRaw(t, attacker, env)
	waitFor(t, waitTimeout, func() bool { return tn.nodes[0].f.Stats().GossipIgnored > ignoredBefore }, "stale ignored")
}

// bareHost is a libp2p host with a valid key and no membership.
func bareHost(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
	)
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return h
}

func addrInfo(n *testNode) peer.AddrInfo {
	return peer.AddrInfo{ID: n.id, Addrs: n.f.host.Addrs()}
}

func TestNonMembersAreRefused(t *testing.T) {
	tn := startNet(t, 2)
	tn.waitMesh()
	n0 := tn.nodes[0]
	ctx := context.Background()

	t.Run("no hello", func(t *testing.T) {
		before := n0.f.Stats().PeersRefused[refusedNoHello]
		h := bareHost(t)
		require.NoError(t, h.Connect(ctx, addrInfo(n0)))
		waitFor(t, waitTimeout, func() bool {
			return n0.f.Stats().PeersRefused[refusedNoHello] > before &&
				h.Network().Connectedness(n0.id) != network.Connected
		}, "a silent peer to be dropped")
		assert.NotContains(t, n0.f.ps.ListPeers(n0.f.topicName), h.ID())
	})

	t.Run("gossip reaches no one before the hello", func(t *testing.T) {
		before := n0.f.Stats().PeersRefused[refusedNoHello]
		h := bareHost(t)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		features := func(pubsub.GossipSubFeature, protocol.ID) bool { return true }
		spy := &spyTracer{dropTracer: dropTracer{newMetrics(func() int { return 0 })}}
		ps, err := pubsub.NewGossipSub(ctx, h,
			pubsub.WithGossipSubProtocols([]protocol.ID{n0.f.protoMesh}, features),
			pubsub.WithNoAuthor(), pubsub.WithMessageIdFn(contentID), pubsub.WithRawTracer(spy))
		require.NoError(t, err)
		topic, err := ps.Join(n0.f.topicName)
		require.NoError(t, err)
		sub, err := topic.Subscribe()
		require.NoError(t, err)
		require.NoError(t, h.Connect(ctx, addrInfo(n0)))
		waitFor(t, waitTimeout, func() bool {
			return slices.Contains(n0.f.ps.ListPeers(n0.f.topicName), h.ID())
		}, "the spy to subscribe")
		require.NoError(t, n0.stage(KindStats, "spied", []byte(`{}`)))
		waitAllHave(t, tn.nodes, n0.id, KindStats, "spied", 1)
		waitFor(t, waitTimeout, func() bool {
			return n0.f.Stats().PeersRefused[refusedNoHello] > before
		}, "the spy to be dropped")
		// Everything n0 sent the spy arrived before n0 hung up on it.
		assert.Zero(t, spy.messages.Load(), "a peer without a hello received gossip")
		_ = sub
	})

	t.Run("certificate of another charter", func(t *testing.T) {
		before := n0.f.Stats().PeersRefused[refusedBadCert]
		h := bareHost(t)
		other := newTestNet(t)
		cert, err := charter.Admit(other.ch, other.auth, h.ID(), "P99", "Stranger", charter.RoleProvince, time.Hour)
		require.NoError(t, err)
		payload, err := jsonMarshal(MemberInfo{Certificate: cert, Name: "Stranger", Role: charter.RoleProvince})
		require.NoError(t, err)
		env, err := seal(tn.ch.NetworkID(), h.Peerstore().PrivKey(h.ID()),
			Record{Origin: h.ID(), Kind: KindMember, Key: h.ID().String(), Version: 1, Payload: payload})
		require.NoError(t, err)

		require.NoError(t, h.Connect(ctx, addrInfo(n0)))
		s, err := h.NewStream(ctx, n0.id, n0.f.protoHello)
		require.NoError(t, err)
		require.NoError(t, writeFrame(s, frameHello, env))
		_, _, err = readFrame(bufio.NewReader(s))
		assert.Error(t, err, "no hello comes back")
		waitFor(t, waitTimeout, func() bool {
			return n0.f.Stats().PeersRefused[refusedBadCert] > before &&
				h.Network().Connectedness(n0.id) != network.Connected
		}, "the stranger to be dropped")
		_, known, _, _ := n0.f.members.cert(h.ID())
		assert.False(t, known)
	})

	t.Run("node of another network", func(t *testing.T) {
		before := n0.f.Stats().PeersRefused[refusedNoHello]
		other := newTestNet(t).start(1, func(_ int, cfg *Config) {
			cfg.Bootstrap = []string{n0.addr()}
		})
		stranger := other.nodes[0]
		// It redials its bootstrap while alone, and is dropped each time.
		waitFor(t, waitTimeout, func() bool {
			return n0.f.Stats().PeersRefused[refusedNoHello] > before
		}, "the other network's node to be dropped")
		assert.Equal(t, 0, stranger.f.ConnectedPeers())
		assert.Equal(t, 1, n0.f.ConnectedPeers())
		_, known, _, _ := n0.f.members.cert(stranger.id)
		assert.False(t, known)
	})
}

func TestRevokedMemberIsCutOff(t *testing.T) {
	tn := startNet(t, 4)
	tn.waitMesh()
	bad := tn.nodes[3]
	rest := tn.nodes[:3]
	require.NoError(t, bad.stage(KindFacility, "P03-before", []byte(`{}`)))
	waitAllHave(t, tn.nodes, bad.id, KindFacility, "P03-before", 1)

	rev, err := charter.Revoke(tn.ch, tn.auth, bad.id, "key compromised")
	require.NoError(t, err)
	require.NoError(t, tn.nodes[1].f.Revoke(context.Background(), rev))

	waitFor(t, waitTimeout, func() bool {
		for _, n := range rest {
			if !n.f.members.revoked(bad.id) || n.f.host.Network().Connectedness(bad.id) == network.Connected {
				return false
			}
		}
		return bad.f.ConnectedPeers() == 0
	}, "the revoked node to be cut off")
	for _, n := range rest {
		assert.Equal(t, []string{"P03"}, n.leftProvinces(), "node %d", n.i)
		assert.Equal(t, 2, n.f.ConnectedPeers())
	}

	// It cannot come back: the gater refuses it after the handshake.
	before := tn.nodes[0].f.Stats().PeersRefused[refusedRevoked]
	_ = bad.f.host.Connect(context.Background(), addrInfo(tn.nodes[0]))
	waitFor(t, waitTimeout, func() bool {
		return tn.nodes[0].f.Stats().PeersRefused[refusedRevoked] > before
	}, "the gater to refuse it")
	assert.NotEqual(t, network.Connected, tn.nodes[0].f.host.Network().Connectedness(bad.id))

	// Its new records, relayed by someone else, are refused.
	env, err := seal(tn.ch.NetworkID(), bad.key, Record{Origin: bad.id, Kind: KindFacility, Key: "P03-after", Version: 50, Payload: []byte(`{}`)})
	require.NoError(t, err)
	targets := []*testNode{tn.nodes[0], tn.nodes[2]}
	b := rejected(targets, reasonRevoked)
	publishRaw(t, tn.nodes[1], env)
	waitRejected(t, targets, reasonRevoked, b)

	// The revocation persists: a restarted member still refuses it.
	n0 := tn.nodes[0]
	n0.stop()
	n0.f, n0.db = nil, nil
	n0.cfg.Bootstrap = []string{tn.nodes[1].addr()}
	n0.start()
	assert.True(t, n0.f.members.revoked(bad.id))
	for _, m := range n0.f.Members() {
		if m.Peer == bad.id {
			assert.True(t, m.Revoked)
		}
	}
}

// spyTracer counts the messages a pubsub instance receives.
type spyTracer struct {
	dropTracer
	messages atomic.Int64
}

func (s *spyTracer) RecvRPC(rpc *pubsub.RPC) { s.messages.Add(int64(len(rpc.GetPublish()))) }
