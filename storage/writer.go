package storage

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

type op struct {
	fn   func(*Tx) error
	done chan error
}

// errRetryBatch aborts a batch whose member failed after writing.
var errRetryBatch = errors.New("storage: retry batch")

// maxLinger caps how long the writer waits for a batch to fill.
const maxLinger = 2 * time.Millisecond

// writer is the single goroutine that commits. It takes the first queued
// write, then everything else already queued (up to maxBatch), and commits
// them together: concurrent writers share an fsync because they queue while
// the previous commit syncs.
//
// Taking only what is queued would settle N busy writers into two
// alternating half-batches (one half queues while the other commits), so
// the writer remembers how many callers it saw around the last commit (the
// batch plus those that queued meanwhile) and, while fewer are queued, waits
// for them: at most half the last commit's duration, never over maxLinger.
// A lone writer saw one caller and pays no added delay; when writers go
// away the estimate drops after one short wait.
func (db *DB) writer() {
	defer db.writerWG.Done()
	// A write fn that faults on a damaged page panics (and is rolled back
	// by runOp) instead of killing the process.
	debug.SetPanicOnFault(true)
	batch := make([]*op, 0, db.maxBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	var (
		callers    int           // callers seen around the last commit
		lastCommit time.Duration // how long the last commit took
	)
	for {
		var first *op
		select {
		case first = <-db.ops:
		case <-db.closing:
			// Drain what was queued before Close so no caller hangs.
			for {
				select {
				case o := <-db.ops:
					db.commit([]*op{o})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < db.maxBatch {
			select {
			case o := <-db.ops:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		if want := min(callers, db.maxBatch); len(batch) < want && lastCommit > 0 {
			linger.Reset(min(lastCommit/2, maxLinger))
		wait:
			for len(batch) < want {
				select {
				case o := <-db.ops:
					batch = append(batch, o)
				case <-linger.C:
					break wait
				case <-db.closing:
					break wait
				}
			}
			linger.Stop()
		}
		start := time.Now()
		db.commit(batch)
		lastCommit = time.Since(start)
		callers = len(batch) + len(db.ops)
	}
}

// commit runs the batch in one bbolt transaction. An op that fails without
// writing is simply skipped; one that fails after writing forces a rollback
// and a retry of the batch without it.
func (db *DB) commit(batch []*op) {
	results := make([]error, len(batch))
	live := make([]int, len(batch))
	for i := range live {
		live[i] = i
	}
	for len(live) > 0 {
		failed := -1
		err := db.bolt.Update(func(btx *bolt.Tx) error {
			st := &batchState{} // per attempt: a retry starts from the file
			for _, i := range live {
				t := &Tx{tx: btx, writable: true, batch: st}
				ferr := runOp(batch[i].fn, t)
				results[i] = ferr
				if ferr != nil && t.dirty {
					failed = i
					return errRetryBatch
				}
			}
			return st.flush(&Tx{tx: btx, writable: true})
		})
		if failed >= 0 {
			next := live[:0]
			for _, i := range live {
				if i != failed {
					next = append(next, i)
				}
			}
			live = next
			continue
		}
		if err != nil {
			for _, i := range live {
				if results[i] == nil {
					results[i] = fmt.Errorf("storage: commit: %w", err)
				}
			}
		}
		break
	}
	for i, o := range batch {
		o.done <- results[i]
	}
}

func runOp(fn func(*Tx) error, t *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("storage: write panicked: %v", r)
			t.dirty = true // cannot know what it wrote: roll back
		}
	}()
	return fn(t)
}
