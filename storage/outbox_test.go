package storage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/storage"
)

func outbox(t *testing.T, db *storage.DB, dest string, due time.Time, limit int) []storage.OutboxMessage {
	t.Helper()
	var out []storage.OutboxMessage
	require.NoError(t, db.View(func(tx *storage.Tx) error {
		var err error
		out, err = tx.Outbox(dest, due, limit)
		return err
	}))
	return out
}

func ids(ms []storage.OutboxMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestOutbox(t *testing.T) {
	db, _ := openTemp(t, nil)
	ctx := testCtx(t)
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

	// The message commits with the change it announces, or not at all.
	require.NoError(t, db.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.Put(storage.BucketReferrals, "r1", "referral"); err != nil {
			return err
		}
		return tx.EnqueueOutbox(&storage.OutboxMessage{ID: "m1", Dest: "peerB", Kind: "offer", Payload: []byte{0, 1, 2}, Created: t0})
	}))
	_, ok := get[string](t, db, storage.BucketReferrals, "r1")
	require.True(t, ok)
	err := db.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.Put(storage.BucketReferrals, "r2", "referral"); err != nil {
			return err
		}
		if err := tx.EnqueueOutbox(&storage.OutboxMessage{ID: "lost", Dest: "peerB", Created: t0}); err != nil {
			return err
		}
		return assert.AnError
	})
	require.ErrorIs(t, err, assert.AnError)

	for i, m := range []storage.OutboxMessage{
		{ID: "m2", Dest: "peerA", Created: t0.Add(1 * time.Second)},
		{ID: "m3", Dest: "peerB", Created: t0.Add(2 * time.Second)},
		{ID: "m4", Dest: "peerA", Created: t0.Add(3 * time.Second), NextAttempt: t0.Add(time.Hour)},
		{ID: "m5", Dest: "peerB", Created: t0.Add(4 * time.Second)},
	} {
		require.NoError(t, db.Update(ctx, func(tx *storage.Tx) error {
			require.NoError(t, tx.EnqueueOutbox(&m), "message %d", i)
			assert.NotEmpty(t, m.Key)
			return nil
		}))
	}

	// Bad messages are refused.
	for _, m := range []storage.OutboxMessage{{ID: "x"}, {Dest: "peerA"}, {ID: "x", Dest: "a/b"}} {
		require.Error(t, db.Update(ctx, func(tx *storage.Tx) error { return tx.EnqueueOutbox(&m) }))
	}

	all := outbox(t, db, "peerB", time.Time{}, 0)
	require.Equal(t, []string{"m1", "m3", "m5"}, ids(all), "enqueue order per destination")
	assert.Equal(t, []byte{0, 1, 2}, all[0].Payload)
	assert.Equal(t, "offer", all[0].Kind)
	assert.True(t, all[0].NextAttempt.Equal(t0), "due at once")
	assert.Equal(t, []string{"m1", "m3"}, ids(outbox(t, db, "peerB", time.Time{}, 2)))
	assert.Equal(t, []string{"m2", "m4", "m1", "m3", "m5"}, ids(outbox(t, db, "", time.Time{}, 0)), "grouped by destination")
	assert.Equal(t, []string{"m2"}, ids(outbox(t, db, "peerA", t0.Add(time.Minute), 0)), "m4 is not due")
	assert.Equal(t, []string{"m2", "m4"}, ids(outbox(t, db, "peerA", t0.Add(time.Hour), 0)), "due is inclusive")
	assert.Empty(t, outbox(t, db, "peerC", time.Time{}, 0))
	assert.Empty(t, outbox(t, db, "peer", time.Time{}, 0), "a destination is not a prefix of another")

	// Defer: attempts and the next try.
	m1 := all[0]
	for i := range 3 {
		require.NoError(t, db.Update(ctx, func(tx *storage.Tx) error {
			return tx.DeferOutbox(m1.Key, t0.Add(time.Duration(i+1)*time.Minute), "unreachable")
		}))
	}
	got := outbox(t, db, "peerB", time.Time{}, 1)[0]
	assert.Equal(t, 3, got.Attempts)
	assert.Equal(t, "unreachable", got.LastError)
	assert.True(t, got.NextAttempt.Equal(t0.Add(3*time.Minute)))
	assert.Equal(t, []string{"m3", "m5"}, ids(outbox(t, db, "peerB", t0.Add(2*time.Minute), 0)), "deferred m1 not yet due")
	require.NoError(t, db.Update(ctx, func(tx *storage.Tx) error { return tx.DeferOutbox("peerB/missing", t0, "") }))

	// Stats, then ack.
	var depth int
	var oldest time.Time
	require.NoError(t, db.View(func(tx *storage.Tx) (err error) {
		depth, oldest, err = tx.OutboxStats()
		return err
	}))
	assert.Equal(t, 5, depth)
	assert.True(t, oldest.Equal(t0))

	require.NoError(t, db.Update(ctx, func(tx *storage.Tx) error { return tx.AckOutbox(m1.Key) }))
	require.NoError(t, db.Update(ctx, func(tx *storage.Tx) error { return tx.AckOutbox(m1.Key) }), "ack is idempotent")
	assert.Equal(t, []string{"m3", "m5"}, ids(outbox(t, db, "peerB", time.Time{}, 0)))
	require.NoError(t, db.View(func(tx *storage.Tx) (err error) {
		depth, oldest, err = tx.OutboxStats()
		return err
	}))
	assert.Equal(t, 4, depth)
	assert.True(t, oldest.Equal(t0.Add(time.Second)))

	// Empty outbox.
	empty, _ := openTemp(t, nil)
	require.NoError(t, empty.View(func(tx *storage.Tx) (err error) {
		depth, oldest, err = tx.OutboxStats()
		return err
	}))
	assert.Zero(t, depth)
	assert.True(t, oldest.IsZero())
}
