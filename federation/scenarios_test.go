package federation

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

func TestLateJoinerSyncsEverything(t *testing.T) {
	tn := newTestNet(t)
	tn.tweak = func(f *Federation) { f.syncBudget = 1 << 20 }
	tn.start(4)
	tn.waitMesh()
	// Enough records, some large, that sync needs several pages and, with
	// the small budget set below, several rounds.
	big := make([]byte, 48<<10)
	type want struct {
		n   *testNode
		key string
	}
	var wants []want
	for _, n := range tn.nodes {
		for j := range 12 {
			key := fmt.Sprintf("%s-fac-%d", n.province, j)
			require.NoError(t, n.stage(KindFacility, key, big))
			wants = append(wants, want{n, key})
		}
		// Superseded versions leave gaps in the origin's log.
		require.NoError(t, n.stage(KindFacility, n.province+"-fac-0", []byte(`{"v":2}`)))
	}

	// Gossip is done before the late joiner comes: it can only sync.
	for _, w := range wants {
		waitAllHave(t, tn.nodes, w.n.id, KindFacility, w.key, 1)
	}

	late := tn.add(charter.RoleProvince, func(n *testNode) {
		n.cfg.Bootstrap = []string{tn.nodes[2].addr()}
	})
	waitFor(t, waitTimeout, func() bool {
		for _, w := range wants {
			if !late.has(w.n.id, KindFacility, w.key, 1) {
				return false
			}
		}
		return true
	}, "late joiner to have %d records", len(wants))
	for _, n := range tn.nodes[:4] {
		r, ok, err := late.f.Record(n.id, KindFacility, n.province+"-fac-0")
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, `{"v":2}`, string(r.Payload))
	}
	st := late.f.Stats()
	assert.GreaterOrEqual(t, st.SyncRecordsPulled, uint64(len(wants)))
	assert.Greater(t, st.SyncRounds, uint64(1), "the size budget splits the response")

	// It learnt every member's addresses from one bootstrap, and the
	// network made a full mesh with it.
	tn.waitMesh()
	for _, m := range late.f.Members() {
		assert.NotEmpty(t, m.Addrs, "member %s", m.Province)
	}
	// Its watermarks catch up with the origins' counters (at the latest
	// when it has pulled from each origin itself).
	waitFor(t, waitTimeout, func() bool {
		caught := true
		require.NoError(t, late.db.View(func(tx *storage.Tx) error {
			for _, n := range tn.nodes[:4] {
				st, err := getOrigin(tx, n.id)
				require.NoError(t, err)
				caught = caught && st.Synced == st.Max
			}
			return nil
		}))
		return caught
	}, "watermarks")
}

// partition cuts every link between groups a and b: close connections and
// block in both gaters.
func partition(a, b []*testNode, cut bool) {
	for _, x := range a {
		for _, y := range b {
			x.f.gater.setBlocked(y.id, cut)
			y.f.gater.setBlocked(x.id, cut)
			if cut {
				_ = x.f.host.Network().ClosePeer(y.id)
				_ = y.f.host.Network().ClosePeer(x.id)
			}
		}
	}
}

func TestPartitionHeals(t *testing.T) {
	tn := startNet(t, 6)
	tn.waitMesh()
	a, b := tn.nodes[:3], tn.nodes[3:]
	partition(a, b, true)
	waitFor(t, waitTimeout, func() bool {
		partition(a, b, true) // a dial in flight may have slipped through
		for _, n := range tn.nodes {
			if n.f.ConnectedPeers() != 2 {
				return false
			}
		}
		return true
	}, "partition")

	require.NoError(t, a[0].stage(KindAvailability, a[0].province, []byte(`{"accepting":true}`)))
	require.NoError(t, b[1].stage(KindAvailability, b[1].province, []byte(`{"accepting":false}`)))
	waitAllHave(t, a, a[0].id, KindAvailability, a[0].province, 1)
	waitAllHave(t, b, b[1].id, KindAvailability, b[1].province, 1)
	for _, n := range b {
		assert.False(t, n.has(a[0].id, KindAvailability, a[0].province, 1), "record crossed the partition")
	}

	partition(a, b, false)
	tn.waitMesh()
	waitAllHave(t, tn.nodes, a[0].id, KindAvailability, a[0].province, 1)
	waitAllHave(t, tn.nodes, b[1].id, KindAvailability, b[1].province, 1)
}

func TestRestartCatchesUp(t *testing.T) {
	tn := startNet(t, 4)
	tn.waitMesh()
	n3 := tn.nodes[3]
	require.NoError(t, n3.stage(KindStats, "daily", []byte(`{"calls":1}`)))
	before, _, _ := n3.f.Record(n3.id, KindStats, "daily")

	n3.stop()
	n3.f, n3.db = nil, nil
	require.NoError(t, tn.nodes[0].stage(KindFacility, "P00-new", []byte(`{}`)))
	require.NoError(t, tn.nodes[1].stage(KindService, "P01-svc", []byte(`{}`)))

	n3.cfg.Bootstrap = []string{tn.nodes[0].addr()}
	n3.start()
	waitAllHave(t, []*testNode{n3}, tn.nodes[0].id, KindFacility, "P00-new", 1)
	waitAllHave(t, []*testNode{n3}, tn.nodes[1].id, KindService, "P01-svc", 1)

	// Its counter went on from where it was.
	require.NoError(t, n3.stage(KindStats, "daily", []byte(`{"calls":2}`)))
	after, _, _ := n3.f.Record(n3.id, KindStats, "daily")
	assert.Greater(t, after.Version, before.Version)
	waitAllHave(t, tn.nodes, n3.id, KindStats, "daily", after.Version)

	// Last seen was kept for the time it was away.
	for _, m := range tn.nodes[0].f.Members() {
		assert.False(t, m.LastSeen.IsZero(), "member %s", m.Province)
	}
}

func TestLeave(t *testing.T) {
	tn := startNet(t, 4)
	tn.waitMesh()
	leaver := tn.nodes[2]
	require.NoError(t, leaver.stage(KindFacility, "P02-x", []byte(`{}`)))
	waitAllHave(t, tn.nodes, leaver.id, KindFacility, "P02-x", 1)

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(t, leaver.f.Leave(ctx))
	others := []*testNode{tn.nodes[0], tn.nodes[1], tn.nodes[3]}
	waitFor(t, waitTimeout, func() bool {
		for _, n := range others {
			if len(n.leftProvinces()) != 1 {
				return false
			}
		}
		return true
	}, "OnLeave everywhere")
	for _, n := range others {
		assert.Equal(t, []string{"P02"}, n.leftProvinces())
		var m Member
		for _, x := range n.f.Members() {
			if x.Peer == leaver.id {
				m = x
			}
		}
		assert.True(t, m.Left)
		// Its records no longer list.
		require.NoError(t, n.f.Records(KindFacility, func(r Record) error {
			assert.NotEqual(t, leaver.id, r.Origin)
			return nil
		}))
	}
	assert.Equal(t, 0, leaver.f.ConnectedPeers())
	assert.ErrorIs(t, leaver.stage(KindFacility, "P02-y", nil), ErrLeft)

	// Restarted with the same certificate, it is not admitted again.
	leaver.stop()
	leaver.f, leaver.db = nil, nil
	leaver.cfg.Bootstrap = []string{tn.nodes[0].addr()}
	leaver.start()
	waitFor(t, waitTimeout, func() bool {
		return tn.nodes[0].f.Stats().PeersRefused[refusedBadCert] > 0
	}, "the left node to be refused")
	assert.Equal(t, 0, leaver.f.ConnectedPeers())
}

func TestLeaveStagedOfflineGoesOutBySync(t *testing.T) {
	tn := startNet(t, 3)
	tn.waitMesh()
	n2 := tn.nodes[2]
	n2.stop()
	n2.f, n2.db = nil, nil
	// The CLI: a Federation that is never started writes the leave.
	db, err := storage.Open(n2.dbPath, nil)
	require.NoError(t, err)
	cfg := n2.cfg
	cfg.DB = db
	f, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, db.Update(context.Background(), f.StageLeave))
	require.NoError(t, f.Close())
	require.NoError(t, db.Close())

	n2.cfg.Bootstrap = []string{tn.nodes[0].addr()}
	n2.start()
	waitFor(t, waitTimeout, func() bool {
		return len(tn.nodes[0].leftProvinces()) == 1 && len(tn.nodes[1].leftProvinces()) == 1
	}, "the offline leave to arrive")
}

func TestOnLeaveSparedWhileProvinceHasAnotherNode(t *testing.T) {
	tn := startNet(t, 2)
	// A second node of province P00 (a hospital in the same code, say).
	twin := tn.add(charter.RoleProvince, func(n *testNode) {
		n.province = "P00"
		cert, err := charter.Admit(tn.ch, tn.auth, n.id, "P00", "Twin", charter.RoleHospital, time.Hour)
		require.NoError(t, err)
		n.cert, n.cfg.Certificate = cert, cert
		n.cfg.Bootstrap = []string{tn.nodes[0].addr()}
	})
	tn.waitMesh()
	require.NoError(t, twin.f.Leave(context.Background()))
	waitFor(t, waitTimeout, func() bool {
		for _, m := range tn.nodes[1].f.Members() {
			if m.Peer == twin.id && m.Left {
				return true
			}
		}
		return false
	}, "leave to arrive")
	assert.Empty(t, tn.nodes[1].leftProvinces())
}

func TestApplyFailureIsRetriedBySync(t *testing.T) {
	var poisoned atomic.Bool
	poisoned.Store(true)
	tn := newTestNet(t)
	tn.start(2, func(i int, cfg *Config) {
		if i != 1 {
			return
		}
		next := cfg.Apply
		cfg.Apply = func(tx *storage.Tx, r Record) error {
			if r.Key == "P00-poison" && poisoned.Load() {
				return errors.New("directory says no")
			}
			return next(tx, r)
		}
	})
	tn.waitMesh()
	a, b := tn.nodes[0], tn.nodes[1]
	require.NoError(t, a.db.Update(context.Background(), func(tx *storage.Tx) error {
		for _, k := range []string{"P00-one", "P00-poison", "P00-two"} {
			if err := a.f.Stage(tx, KindFacility, k, []byte(`{}`), false); err != nil {
				return err
			}
		}
		return nil
	}))
	waitAllHave(t, []*testNode{b}, a.id, KindFacility, "P00-one", 1)
	waitAllHave(t, []*testNode{b}, a.id, KindFacility, "P00-two", 1)
	assert.False(t, b.has(a.id, KindFacility, "P00-poison", 1), "stored although Apply failed")

	poisoned.Store(false)
	waitAllHave(t, []*testNode{b}, a.id, KindFacility, "P00-poison", 1)
	b.mu.Lock()
	_, ok := b.applied[recordKey(a.id, KindFacility, "P00-poison")]
	b.mu.Unlock()
	assert.True(t, ok)
}
