package federation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/moinha/moinha/storage"
)

// outcome is what became of one incoming record.
type outcome struct {
	stored bool   // accepted and committed
	reason string // rejected, and why ("" if not rejected)
	err    error  // could not be stored (a local failure: retried by sync)
}

// step is one element of a batch to store: a record (in), or a sync
// watermark (mark) to adopt once the records before it are stored.
type step struct {
	in   *incoming
	mark *syncMark
}

// syncMark is a responder's word that the requester now has every record
// of origin up to version.
type syncMark struct {
	origin  peer.ID
	version uint64
}

// applyError marks the record whose Apply callback failed.
type applyError struct {
	i   int
	err error
}

func (e *applyError) Error() string { return fmt.Sprintf("apply: %v", e.err) }

// maxApplyRetries is how many failed Apply callbacks a batch transaction
// is retried around before its steps are stored one per transaction.
const maxApplyRetries = 3

// applyBatch checks and stores ins in one transaction, calling
// Config.Apply for data records, and learns the membership facts of the
// accepted ones. A record that is neither stored nor rejected was stale.
// Gossip and hello come through here; sync through applySteps.
func (f *Federation) applyBatch(ctx context.Context, ins []*incoming) []outcome {
	steps := make([]step, len(ins))
	for i, in := range ins {
		steps[i].in = in
	}
	return f.applySteps(ctx, steps, nil)
}

// applySteps stores steps in order in one transaction. A record whose
// Apply fails is left out (its outcome carries the error, and its origin
// goes into failed, so that no later watermark of that origin is adopted)
// and the transaction runs again without it; after maxApplyRetries such
// failures the remaining steps go one per transaction. failed may be nil
// when steps hold no marks.
func (f *Federation) applySteps(ctx context.Context, steps []step, failed map[peer.ID]bool) []outcome {
	if failed == nil {
		failed = make(map[peer.ID]bool)
	}
	out := make([]outcome, len(steps))
	skip := make(map[int]bool)
	for retry := 0; ; retry++ {
		err := f.applyTx(ctx, steps, out, skip, failed)
		var ae *applyError
		switch {
		case err == nil:
			f.afterCommit(steps, out)
			return out
		case errors.As(err, &ae) && retry < maxApplyRetries:
			f.logApplyFailure(steps[ae.i].in, ae.err)
			skip[ae.i] = true
			out[ae.i] = outcome{err: ae.err}
			failed[steps[ae.i].in.rec.Origin] = true
			continue
		case len(steps) == 1:
			out[0] = outcome{err: err}
			if errors.As(err, &ae) {
				f.logApplyFailure(steps[0].in, ae.err)
			}
			return out
		}
		break
	}
	// Too many failures in one batch: one step per transaction, so each
	// failure costs only itself.
	for i := range steps {
		if skip[i] {
			continue
		}
		one := make([]outcome, 1)
		err := f.applyTx(ctx, steps[i:i+1], one, nil, failed)
		if err != nil {
			out[i] = outcome{err: err}
			if in := steps[i].in; in != nil {
				failed[in.rec.Origin] = true
				var ae *applyError
				if errors.As(err, &ae) {
					f.logApplyFailure(in, ae.err)
				}
			}
			continue
		}
		out[i] = one[0]
		f.afterCommit(steps[i:i+1], one)
	}
	return out
}

// applyTx runs steps (but those in skip) in one transaction, filling out.
func (f *Federation) applyTx(ctx context.Context, steps []step, out []outcome, skip map[int]bool, failed map[peer.ID]bool) error {
	return f.db.Update(ctx, func(tx *storage.Tx) error {
		now := time.Now()
		for i := range out {
			if !skip[i] {
				out[i] = outcome{} // the function may run more than once
			}
		}
		og := newOrigins(tx, f.self, &f.names)
		for i, s := range steps {
			if skip[i] {
				continue
			}
			if s.mark != nil {
				if !failed[s.mark.origin] {
					if err := adoptSynced(og, s.mark.origin, s.mark.version); err != nil {
						return err
					}
				}
				continue
			}
			in := s.in
			if reason := f.check(in, now); reason != "" {
				out[i].reason = reason
				continue
			}
			stored, err := putRecord(og, in.rec, in.env, in.stored, in.bulk)
			if err != nil {
				return err
			}
			if !stored {
				continue // stale
			}
			if dataKinds[in.rec.Kind] {
				var err error
				switch {
				case in.apply != nil:
					err = in.apply(tx)
				case f.cfg.Apply != nil:
					err = f.cfg.Apply(tx, in.rec)
				}
				if err != nil {
					return &applyError{i: i, err: err}
				}
			}
			// Facts are true whether or not this commits, and learning
			// them now lets later records of the batch rely on them.
			f.learn(in, now)
			out[i].stored = true
		}
		return og.flush()
	})
}

func (f *Federation) logApplyFailure(in *incoming, err error) {
	f.log.Warn("apply callback failed", "origin", in.rec.Origin, "kind", in.rec.Kind, "version", in.rec.Version, "err", err)
}

// afterCommit tells Config.Stored and the test hook of committed records.
func (f *Federation) afterCommit(steps []step, out []outcome) {
	if f.hooks.applied == nil && f.cfg.Stored == nil {
		return
	}
	for i, o := range out {
		if !o.stored {
			continue
		}
		if f.hooks.applied != nil {
			f.hooks.applied(steps[i].in.rec)
		}
		if f.cfg.Stored != nil {
			f.cfg.Stored(steps[i].in.rec)
		}
	}
}
