package storage

import (
	"errors"
	"fmt"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
)

type op struct {
	fn   func(*Tx) error
	done chan error
}

// errRetryBatch aborts a batch whose member failed after writing.
var errRetryBatch = errors.New("storage: retry batch")

// writer is the single goroutine that commits. It takes the first queued
// write, then everything else already queued (up to maxBatch), and commits
// them together: a lone writer pays no added delay, and concurrent writers
// share an fsync because they queue while the previous commit syncs.
func (db *DB) writer() {
	defer db.writerWG.Done()
	// A write fn that faults on a damaged page panics (and is rolled back
	// by runOp) instead of killing the process.
	debug.SetPanicOnFault(true)
	batch := make([]*op, 0, db.maxBatch)
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
		db.commit(batch)
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
			for _, i := range live {
				t := &Tx{tx: btx, writable: true}
				ferr := runOp(batch[i].fn, t)
				results[i] = ferr
				if ferr != nil && t.dirty {
					failed = i
					return errRetryBatch
				}
			}
			return nil
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
