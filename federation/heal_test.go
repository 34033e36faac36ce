package federation

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/federation/charter"
)

// A line a – b – c with hourly sync: after a partition between a and b
// heals, b redials a within seconds, pulls what a staged meanwhile, and
// pokes c, which pulls it from b. Neither gossip (the record was published
// during the partition) nor the sync interval can be what brings it.
func TestHealedRecordsSpreadByRedialAndPoke(t *testing.T) {
	tn := newTestNet(t)
	line := func(nd *testNode) {
		nd.cfg.ConnectMembers = -1
		nd.cfg.SyncInterval = time.Hour
	}
	a := tn.add(charter.RoleProvince, line)
	b := tn.add(charter.RoleProvince, func(nd *testNode) {
		line(nd)
		nd.cfg.Bootstrap = []string{a.addr()}
	})
	c := tn.add(charter.RoleProvince, func(nd *testNode) {
		line(nd)
		nd.cfg.Bootstrap = []string{b.addr()}
	})
	waitFor(t, waitTimeout, func() bool {
		return a.f.ConnectedPeers() == 1 && b.f.ConnectedPeers() == 2 && c.f.ConnectedPeers() == 1
	}, "line topology")

	partition([]*testNode{a}, []*testNode{b}, true)
	waitFor(t, waitTimeout, func() bool { return a.f.ConnectedPeers() == 0 }, "partition")
	require.NoError(t, a.stage(KindFacility, "P00-during", []byte(`{}`)))
	assert.False(t, c.has(a.id, KindFacility, "P00-during", 1))

	healed := time.Now()
	partition([]*testNode{a}, []*testNode{b}, false)
	waitAllHave(t, []*testNode{b, c}, a.id, KindFacility, "P00-during", 1)
	assert.Less(t, time.Since(healed), 10*time.Second, "brought by redial and poke, not by the hourly sync")
	assert.Positive(t, c.f.Stats().SyncRecordsPulled)
}

func TestRedialBackoffGrowsWithTimeLost(t *testing.T) {
	f := &Federation{cfg: Config{SyncInterval: 45 * time.Second}, dialBackoff: make(map[peer.ID]backoff)}
	p := peer.ID("p")
	for _, tc := range []struct {
		lostAgo time.Duration
		want    time.Duration
	}{
		{0, redialMin},                       // just lost: soon
		{80 * time.Second, 10 * time.Second}, // an eighth of the time lost
		{time.Hour, maxRedialDelay},          // capped
	} {
		now := time.Now()
		f.dialBackoff[p] = backoff{lost: now.Add(-tc.lostAgo)}
		if tc.lostAgo == 0 {
			delete(f.dialBackoff, p)
		}
		f.dialFailed(p)
		wait := f.dialBackoff[p].next.Sub(now)
		assert.InDelta(t, tc.want.Seconds(), wait.Seconds(), 0.21*tc.want.Seconds()+0.05, "lost %v ago", tc.lostAgo)
		assert.False(t, f.dialDue(p, now))
		assert.True(t, f.dialDue(p, now.Add(wait+time.Millisecond)))
	}
	f.forgetBackoff(p)
	assert.True(t, f.dialDue(p, time.Now()))
}
