package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func openInternal(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "node.db"), &Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// batchOf runs fns as concurrent Updates that the writer is guaranteed to
// commit as one batch: a first Update holds the writer until all of fns are
// queued. It returns each fn's Update result.
func batchOf(t *testing.T, db *DB, fns []func(*Tx) error) []error {
	t.Helper()
	require.LessOrEqual(t, len(fns), db.maxBatch)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)

	release := make(chan struct{})
	holding := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Go(func() {
		assert.NoError(t, db.Update(ctx, func(*Tx) error {
			once.Do(func() { close(holding) })
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		}))
	})
	<-holding
	errs := make([]error, len(fns))
	for i, fn := range fns {
		wg.Go(func() { errs[i] = db.Update(ctx, fn) })
	}
	// The queue is a channel we own; waiting for its length is waiting on
	// a condition (the goroutines have reached it), not on time.
	require.Eventually(t, func() bool { return len(db.ops) == len(fns) }, 10*time.Second, 100*time.Microsecond)
	close(release)
	wg.Wait()
	return errs
}

func TestBatchFailedWriterDoesNotAffectSiblings(t *testing.T) {
	db := openInternal(t)
	const n = 64
	boom := errors.New("boom")
	var runs [n]atomic.Int32
	var started, before atomic.Int32 // fns started; of them, before the failing one
	fns := make([]func(*Tx) error, n)
	for i := range fns {
		fns[i] = func(tx *Tx) error {
			runs[i].Add(1)
			k := started.Add(1)
			if err := tx.Put(BucketRecords, fmt.Sprintf("k%02d", i), i); err != nil {
				return err
			}
			if err := tx.Audit("test", "record.write", fmt.Sprintf("record:%d", i), ""); err != nil {
				return err
			}
			if i == n/2 {
				before.Store(k - 1)
				return boom // after writing: its writes must vanish
			}
			return nil
		}
	}
	errs := batchOf(t, db, fns)
	for i, err := range errs {
		if i == n/2 {
			require.ErrorIs(t, err, boom)
		} else {
			require.NoError(t, err, "fn %d", i)
		}
	}
	var c int
	require.NoError(t, db.View(func(tx *Tx) error {
		var err error
		c, err = tx.Count(BucketRecords, "")
		return err
	}))
	assert.Equal(t, n-1, c)
	require.NoError(t, db.View(func(tx *Tx) error {
		assert.False(t, tx.Has(BucketRecords, fmt.Sprintf("k%02d", n/2)))
		return nil
	}))
	audited, err := db.VerifyAudit()
	require.NoError(t, err)
	assert.Equal(t, n-1, audited, "the failed fn's audit entry was rolled back; the chain has no gap")

	// They shared a batch: the siblings that ran before the failure ran
	// again in the retry (the queue's order is the goroutines', which the
	// race detector shuffles: the failing fn may come first).
	var rerun int
	for i := range runs {
		if runs[i].Load() > 1 {
			rerun++
		}
	}
	assert.EqualValues(t, before.Load(), rerun)
	assert.EqualValues(t, 1, runs[n/2].Load(), "the failed fn is not retried")
}

func TestBatchFailureWithoutWritesIsSkipped(t *testing.T) {
	db := openInternal(t)
	const n = 64
	boom := errors.New("nothing written")
	var runs [n]atomic.Int32
	fns := make([]func(*Tx) error, n)
	for i := range fns {
		fns[i] = func(tx *Tx) error {
			runs[i].Add(1)
			if i%8 == 0 {
				var v int
				_, _ = tx.Get(BucketRecords, "k00", &v) // reads are fine
				return boom
			}
			return tx.Put(BucketRecords, fmt.Sprintf("k%02d", i), i)
		}
	}
	errs := batchOf(t, db, fns)
	for i, err := range errs {
		if i%8 == 0 {
			require.ErrorIs(t, err, boom)
		} else {
			require.NoError(t, err)
		}
		assert.EqualValues(t, 1, runs[i].Load(), "fn %d: no retry was needed", i)
	}
	var c int
	require.NoError(t, db.View(func(tx *Tx) error {
		var err error
		c, err = tx.Count(BucketRecords, "")
		return err
	}))
	assert.Equal(t, n-n/8, c)
}

func TestBatchPanicRollsBackOnlyItself(t *testing.T) {
	db := openInternal(t)
	const n = 32
	fns := make([]func(*Tx) error, n)
	for i := range fns {
		fns[i] = func(tx *Tx) error {
			if err := tx.Put(BucketRecords, fmt.Sprintf("k%02d", i), i); err != nil {
				return err
			}
			if i == 7 || i == 20 {
				panic("a bug in a write")
			}
			return nil
		}
	}
	errs := batchOf(t, db, fns)
	for i, err := range errs {
		if i == 7 || i == 20 {
			require.ErrorContains(t, err, "panicked")
		} else {
			require.NoError(t, err)
		}
	}
	require.NoError(t, db.View(func(tx *Tx) error {
		for i := range n {
			assert.Equal(t, i != 7 && i != 20, tx.Has(BucketRecords, fmt.Sprintf("k%02d", i)), "key %d", i)
		}
		return nil
	}))
}

// Append stores what Put stores, in pages packed nearly full.
func TestAppendPacksPages(t *testing.T) {
	db := openInternal(t)
	value := bytes.Repeat([]byte("x"), 100)
	for chunk := range 20 {
		require.NoError(t, db.Update(t.Context(), func(tx *Tx) error {
			for i := range 100 {
				k := SeqKey(uint64(chunk*100 + i))
				if err := tx.Put(BucketRecords, k, value); err != nil {
					return err
				}
				if err := tx.Append(BucketCalls, k, value); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	leaves := func(b Bucket) int {
		var n int
		require.NoError(t, db.bolt.View(func(tx *bolt.Tx) error {
			n = tx.Bucket([]byte(b)).Stats().LeafPageN
			return nil
		}))
		return n
	}
	put, appended := leaves(BucketRecords), leaves(BucketCalls)
	t.Logf("leaf pages: put %d, append %d", put, appended)
	assert.Less(t, float64(appended), 0.7*float64(put))
	require.NoError(t, db.View(func(tx *Tx) error {
		for _, k := range []string{SeqKey(0), SeqKey(1999)} {
			a, _, _ := tx.GetValue(BucketRecords, k)
			b, ok, err := tx.GetValue(BucketCalls, k)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, []byte(a), []byte(b))
		}
		return nil
	}))
}
