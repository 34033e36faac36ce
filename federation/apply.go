package federation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moinha/moinha/storage"
)

// outcome is what became of one incoming record.
type outcome struct {
	stored bool   // accepted and committed
	reason string // rejected, and why ("" if not rejected)
	err    error  // could not be stored (a local failure: retried by sync)
}

// applyError marks the record whose Apply callback failed.
type applyError struct {
	i   int
	err error
}

func (e *applyError) Error() string { return fmt.Sprintf("apply: %v", e.err) }

// applyBatch checks and stores ins in one transaction, calling
// Config.Apply for data records, and learns the membership facts of the
// accepted ones. A record that is neither stored nor rejected was stale.
// Gossip, sync and hello all come through here.
func (f *Federation) applyBatch(ctx context.Context, ins []*incoming) []outcome {
	out, err := f.applyTx(ctx, ins)
	if err == nil {
		f.afterCommit(ins, out)
		return out
	}
	if len(ins) == 1 {
		return []outcome{{err: err}}
	}
	// One record spoilt the batch (its Apply failed): store the others one
	// by one so only that one waits for the next sync.
	out = make([]outcome, len(ins))
	for i, in := range ins {
		o, err := f.applyTx(ctx, ins[i:i+1])
		if err != nil {
			out[i] = outcome{err: err}
			f.log.Warn("record not stored", "origin", in.rec.Origin, "kind", in.rec.Kind, "version", in.rec.Version, "err", err)
			continue
		}
		out[i] = o[0]
		f.afterCommit(ins[i:i+1], o)
	}
	return out
}

func (f *Federation) applyTx(ctx context.Context, ins []*incoming) ([]outcome, error) {
	out := make([]outcome, len(ins))
	err := f.db.Update(ctx, func(tx *storage.Tx) error {
		now := time.Now()
		clear(out) // the function may run more than once
		for i, in := range ins {
			if reason := f.check(in, now); reason != "" {
				out[i].reason = reason
				continue
			}
			stored, err := putRecord(tx, f.self, in.rec, in.env)
			if err != nil {
				return err
			}
			if !stored {
				continue // stale
			}
			if dataKinds[in.rec.Kind] && f.cfg.Apply != nil {
				if err := f.cfg.Apply(tx, in.rec); err != nil {
					return &applyError{i: i, err: err}
				}
			}
			// Facts are true whether or not this commits, and learning
			// them now lets later records of the batch rely on them.
			f.learn(in, now)
			out[i].stored = true
		}
		return nil
	})
	var ae *applyError
	if errors.As(err, &ae) {
		f.log.Warn("apply callback failed", "origin", ins[ae.i].rec.Origin, "kind", ins[ae.i].rec.Kind, "version", ins[ae.i].rec.Version, "err", ae.err)
	}
	return out, err
}

// afterCommit runs the test hook for committed records.
func (f *Federation) afterCommit(ins []*incoming, out []outcome) {
	if f.hooks.applied == nil {
		return
	}
	for i, o := range out {
		if o.stored {
			f.hooks.applied(ins[i].rec)
		}
	}
}
