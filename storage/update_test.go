package storage_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/storage"
)

func TestUpdateConcurrentAllCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.db")
	db, err := storage.Open(path, nil)
	require.NoError(t, err)
	const n = 200
	ctx := testCtx(t)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs <- db.Update(ctx, func(tx *storage.Tx) error {
				if err := tx.Put(storage.BucketRecords, fmt.Sprintf("k%03d", i), i); err != nil {
					return err
				}
				return tx.Audit("test", "record.write", fmt.Sprintf("record:%d", i), "")
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, n, count(t, db, storage.BucketRecords))
	audited, err := db.VerifyAudit()
	require.NoError(t, err)
	assert.Equal(t, n, audited)
	require.NoError(t, db.Close())

	// Values survive reopening.
	db = openAt(t, path, nil)
	assert.Equal(t, n, count(t, db, storage.BucketRecords))
	for i := range n {
		v, ok := get[int](t, db, storage.BucketRecords, fmt.Sprintf("k%03d", i))
		require.True(t, ok)
		require.Equal(t, i, v)
	}
	audited, err = db.VerifyAudit()
	require.NoError(t, err)
	assert.Equal(t, n, audited)
}

func TestUpdateErrorAbortsOwnWritesOnly(t *testing.T) {
	db, _ := openTemp(t, nil)
	ctx := testCtx(t)
	boom := errors.New("boom")
	err := db.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.Put(storage.BucketRecords, "a", 1); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, ok := get[int](t, db, storage.BucketRecords, "a")
	assert.False(t, ok)

	err = db.Update(ctx, func(*storage.Tx) error { panic("kaboom") })
	require.ErrorContains(t, err, "panicked")
	put(t, db, storage.BucketRecords, "b", 2) // the writer survived
}

func TestUpdateAfterClose(t *testing.T) {
	db, _ := openTemp(t, nil)
	require.NoError(t, db.Close())
	err := db.Update(testCtx(t), func(*storage.Tx) error { return nil })
	require.ErrorIs(t, err, storage.ErrClosed)
	require.ErrorIs(t, db.View(func(*storage.Tx) error { return nil }), storage.ErrClosed)
}

func TestUpdateCancelledContext(t *testing.T) {
	db, _ := openTemp(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A cancelled context may still win the race to queue; either way the
	// answer is definite: committed (nil) or not queued (ctx error).
	err := db.Update(ctx, func(tx *storage.Tx) error { return tx.Put(storage.BucketRecords, "k", 1) })
	_, ok := get[int](t, db, storage.BucketRecords, "k")
	if err != nil {
		require.ErrorIs(t, err, context.Canceled)
		assert.False(t, ok)
	} else {
		assert.True(t, ok)
	}
}

// Close racing many writers: every Update returns (committed, or
// ErrClosed), none hangs. Before closeMu, an Update could queue its op
// after the writer's final drain and wait forever.
func TestUpdateRacingClose(t *testing.T) {
	for round := range 50 {
		db, err := storage.Open(filepath.Join(t.TempDir(), "node.db"), &storage.Options{NoSync: true})
		require.NoError(t, err)
		started := make(chan struct{})
		var once sync.Once
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for {
					err := db.Update(context.Background(), func(tx *storage.Tx) error {
						once.Do(func() { close(started) })
						return nil
					})
					if err != nil {
						if !errors.Is(err, storage.ErrClosed) {
							t.Errorf("round %d: %v", round, err)
						}
						return
					}
				}
			})
		}
		<-started
		require.NoError(t, db.Close())
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: an Update hung after Close", round)
		}
	}
}
