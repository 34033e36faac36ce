package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

// inbox records what a node's "test" handler received.
type inbox struct {
	mu   sync.Mutex // guards got
	got  []string   // "<from province>/<id>:<payload>", in commit order
	fail func(id string) error
}

// handler stores each message under settings/direct/<id> as well, so a
// test can check it committed with the inbox entry.
func (in *inbox) handler(tx *storage.Tx, from Member, id string, payload []byte) error {
	if in.fail != nil {
		if err := in.fail(id); err != nil {
			return err
		}
	}
	return tx.Put(storage.BucketSettings, "direct/"+id, string(payload))
}

func (in *inbox) ids(n *testNode) []string {
	var out []string
	_ = n.db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketSettings, "direct/", "", func(k string, _ storage.Value) error {
			out = append(out, strings.TrimPrefix(k, "direct/"))
			return nil
		})
	})
	return out
}

func enqueue(t *testing.T, n *testNode, to peer.ID, ids ...string) {
	t.Helper()
	require.NoError(t, n.db.Update(context.Background(), func(tx *storage.Tx) error {
		for _, id := range ids {
			if err := n.f.EnqueueDirect(tx, to, "test", id, []byte("payload "+id)); err != nil {
				return err
			}
		}
		return nil
	}))
	n.f.Flush()
}

func outboxDepth(n *testNode) int {
	d, _, err := n.f.OutboxStats()
	if err != nil {
		return -1
	}
	return d
}

func directNet(t *testing.T, n int) (*testNet, []*inbox) {
	boxes := make([]*inbox, n)
	for i := range boxes {
		boxes[i] = &inbox{}
	}
	tn := newTestNet(t)
	tn.tweak = func(f *Federation) {
		var i int
		if _, err := fmt.Sscanf(f.cert.Province, "P%d", &i); err == nil && i < len(boxes) {
			f.Handle("test", boxes[i].handler)
		}
	}
	tn.start(n)
	tn.waitMesh()
	return tn, boxes
}

func TestDirectDeliversOnceInOrder(t *testing.T) {
	tn, boxes := directNet(t, 2)
	a, b := tn.nodes[0], tn.nodes[1]
	var ids []string
	for i := range 150 {
		ids = append(ids, fmt.Sprintf("m%03d", i))
	}
	enqueue(t, a, b.id, ids...)
	waitFor(t, waitTimeout, func() bool { return len(boxes[1].ids(b)) == len(ids) && outboxDepth(a) == 0 },
		"150 messages delivered and acknowledged")
	assert.Equal(t, ids, boxes[1].ids(b))
	st := a.f.DirectStats()
	assert.EqualValues(t, 150, st.Delivered)
	assert.EqualValues(t, 150, b.f.DirectStats().Received)

	// A second message with a seen ID is acknowledged and not handled.
	ack, err := a.f.SendNow(context.Background(), b.id, "test", "m000", []byte("again"))
	require.NoError(t, err)
	assert.Equal(t, "duplicate", ack.Status)
	require.NoError(t, b.db.View(func(tx *storage.Tx) error {
		var v string
		_, err := tx.Get(storage.BucketSettings, "direct/m000", &v)
		assert.Equal(t, "payload m000", v)
		return err
	}))
}

func TestDirectToDownPeerArrivesWhenItReturns(t *testing.T) {
	tn, boxes := directNet(t, 2)
	a, b := tn.nodes[0], tn.nodes[1]
	b.stop()
	b.f, b.db = nil, nil
	enqueue(t, a, b.id, "while-down-1", "while-down-2")
	assert.Equal(t, 2, outboxDepth(a))

	b.cfg.Bootstrap = []string{a.addr()}
	b.start()
	waitFor(t, waitTimeout, func() bool { return len(boxes[1].ids(b)) == 2 && outboxDepth(a) == 0 },
		"messages delivered after the peer returned")
}

func TestDirectAcrossHealedPartition(t *testing.T) {
	tn, boxes := directNet(t, 2)
	a, b := tn.nodes[0], tn.nodes[1]
	a.f.Block(b.id, true)
	b.f.Block(a.id, true)
	enqueue(t, a, b.id, "queued-1")
	waitFor(t, waitTimeout, func() bool { return a.f.DirectStats().Failures > 0 }, "a failed attempt")
	assert.Empty(t, boxes[1].ids(b))
	a.f.Block(b.id, false)
	b.f.Block(a.id, false)
	// The maintenance loop redials; the reconnection wakes the loop at once.
	waitFor(t, waitTimeout, func() bool { return len(boxes[1].ids(b)) == 1 && outboxDepth(a) == 0 },
		"queued message delivered after the partition healed")
}

func TestDirectRefusalsAndRetries(t *testing.T) {
	tn, boxes := directNet(t, 2)
	a, b := tn.nodes[0], tn.nodes[1]
	var mu sync.Mutex
	failures := 0
	boxes[1].fail = func(id string) error {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasPrefix(id, "refuse"):
			return Refuse("not_a_party")
		case strings.HasPrefix(id, "flaky") && failures < 2:
			failures++
			return errors.New("disk hiccup")
		}
		return nil
	}
	enqueue(t, a, b.id, "ok-1", "refuse-1", "flaky-1", "ok-2")
	waitFor(t, waitTimeout, func() bool { return outboxDepth(a) == 0 }, "outbox drained")
	assert.Equal(t, []string{"flaky-1", "ok-1", "ok-2"}, boxes[1].ids(b))
	assert.EqualValues(t, 1, a.f.DirectStats().RefusedOut)
	assert.GreaterOrEqual(t, a.f.DirectStats().Failures, uint64(1))

	ack, err := a.f.SendNow(context.Background(), b.id, "nope", "x1", nil)
	require.NoError(t, err)
	assert.Equal(t, DirectAck{Status: "refused", Reason: refuseUnknownKind}, ack)
	ack, err = a.f.SendNow(context.Background(), b.id, "test", "big", make([]byte, MaxDirectPayload+1))
	require.NoError(t, err)
	assert.Equal(t, DirectAck{Status: "refused", Reason: refuseOversize}, ack)

	require.NoError(t, a.db.Update(context.Background(), func(tx *storage.Tx) error {
		err := a.f.EnqueueDirect(tx, b.id, "test", "big", make([]byte, MaxDirectPayload+1))
		assert.ErrorIs(t, err, ErrBadMessage)
		assert.ErrorIs(t, a.f.EnqueueDirect(tx, b.id, "test", "bad/id", nil), ErrBadMessage)
		assert.ErrorIs(t, a.f.EnqueueDirect(tx, a.id, "test", "self", nil), ErrNoMember)
		assert.ErrorIs(t, a.f.Send(tx, "P99", "test", "nobody", nil), ErrNoMember)
		return nil
	}))
}

func TestDirectObserverSendsAndGetsNothing(t *testing.T) {
	tn, boxes := directNet(t, 2)
	a, b := tn.nodes[0], tn.nodes[1]
	obs := tn.add(charter.RoleObserver, func(n *testNode) {
		n.cfg.Bootstrap = []string{a.addr()}
		n.tweak = func(f *Federation) { f.Handle("test", (&inbox{}).handler) }
	})
	waitFor(t, waitTimeout, func() bool { return obs.f.ConnectedPeers() == 2 }, "observer connected")

	ack, err := obs.f.SendNow(context.Background(), b.id, "test", "from-observer", []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, DirectAck{Status: "refused", Reason: refuseObserver}, ack)
	assert.Empty(t, boxes[1].ids(b))

	require.NoError(t, obs.db.Update(context.Background(), func(tx *storage.Tx) error {
		assert.ErrorIs(t, obs.f.EnqueueDirect(tx, b.id, "test", "o1", nil), ErrObserver)
		return nil
	}))
	require.NoError(t, a.db.Update(context.Background(), func(tx *storage.Tx) error {
		assert.ErrorIs(t, a.f.EnqueueDirect(tx, obs.id, "test", "to-observer", nil), ErrObserverDest)
		assert.ErrorIs(t, a.f.Send(tx, obs.province, "test", "to-observer", nil), ErrNoMember)
		return nil
	}))
	ack, err = a.f.SendNow(context.Background(), obs.id, "test", "forced", []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, DirectAck{Status: "refused", Reason: refuseObserverNode}, ack)
}

func TestDirectReceiverChecksSender(t *testing.T) {
	tn, _ := directNet(t, 1)
	a := tn.nodes[0]
	key, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	stranger, err := peer.IDFromPrivateKey(key)
	require.NoError(t, err)
	acks := a.f.receive(stranger, []directMsg{{id: "x", kind: "test", province: "P00"}})
	assert.Equal(t, refuseNonMember, acks[0].reason)

	// A member naming another province than its certificate's.
	b := tn.add(charter.RoleProvince, func(n *testNode) { n.cfg.Bootstrap = []string{a.addr()} })
	waitFor(t, waitTimeout, func() bool { _, ok := a.f.memberOf(b.id, time.Now()); return ok }, "b admitted")
	acks = a.f.receive(b.id, []directMsg{{id: "y", kind: "test", province: "P00"}})
	assert.Equal(t, refuseProvince, acks[0].reason)
	acks = a.f.receive(b.id, []directMsg{{id: "y", kind: "test", province: b.province}})
	assert.Equal(t, ackStored, acks[0].status)
}

func TestProvincePeer(t *testing.T) {
	tn, _ := directNet(t, 2)
	p, ok := tn.nodes[0].f.ProvincePeer("P01")
	assert.True(t, ok)
	assert.Equal(t, tn.nodes[1].id, p)
	_, ok = tn.nodes[0].f.ProvincePeer("P00") // itself
	assert.False(t, ok)
}

func TestRetryDelay(t *testing.T) {
	for n := 1; n < 40; n++ {
		d := retryDelay(n)
		assert.Greater(t, d, time.Duration(0))
		assert.LessOrEqual(t, d, directRetryMax)
	}
	assert.GreaterOrEqual(t, retryDelay(30), directRetryMax/2)
}
