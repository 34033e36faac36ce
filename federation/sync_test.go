package federation

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

func TestSyncPagesAndRounds(t *testing.T) {
	tn := newTestNet(t)
	tn.tweak = func(f *Federation) { f.syncBudget = 1 << 20 }
	noTicks := func(_ int, cfg *Config) { cfg.SyncInterval = time.Hour }
	tn.start(1, noTicks)
	a := tn.nodes[0]
	// Stage while a is down, as an import would, so nothing is gossiped
	// and everything must travel by sync.
	a.stop()
	db, err := storage.Open(a.dbPath, &storage.Options{NoSync: true})
	require.NoError(t, err)
	cfg := a.cfg
	cfg.DB = db
	off, err := New(cfg)
	require.NoError(t, err)
	big := make([]byte, 48<<10)
	const n = 60 // ~2.9 MB: three responses of at most ~1 MiB
	for i := range n {
		require.NoError(t, db.Update(t.Context(), func(tx *storage.Tx) error {
			return off.Stage(tx, KindPractitioner, fmt.Sprintf("P00-bs-%d", i), big, false)
		}))
	}
	// Delete one: the tombstone travels too.
	require.NoError(t, db.Update(t.Context(), func(tx *storage.Tx) error {
		return off.Stage(tx, KindPractitioner, "P00-bs-7", nil, true)
	}))
	require.NoError(t, off.Close())
	require.NoError(t, db.Close())
	a.f, a.db = nil, nil
	a.start()

	b := tn.add(charter.RoleProvince, func(nd *testNode) {
		nd.cfg.Bootstrap = []string{a.addr()}
		nd.cfg.SyncInterval = time.Hour
	})
	waitFor(t, waitTimeout, func() bool {
		for i := range n {
			if !b.has(a.id, KindPractitioner, fmt.Sprintf("P00-bs-%d", i), 1) {
				return false
			}
		}
		return true
	}, "all records")
	r, ok, err := b.f.Record(a.id, KindPractitioner, "P00-bs-7")
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, r.Deleted)
	st := b.f.Stats()
	assert.GreaterOrEqual(t, st.SyncRounds, uint64(3))
	// 59 live, 1 tombstone, and a's member record(s) unless gossip was first.
	assert.GreaterOrEqual(t, st.SyncRecordsPulled, uint64(n))

	// Deleted records reached the domain as tombstones.
	b.mu.Lock()
	applied := b.applied[recordKey(a.id, KindPractitioner, "P00-bs-7")]
	b.mu.Unlock()
	assert.True(t, applied.Deleted)
	var live int
	require.NoError(t, b.f.Records(KindPractitioner, func(Record) error { live++; return nil }))
	assert.Equal(t, n-1, live)
}
