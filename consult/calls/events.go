package calls

import (
	"context"
	"sync"

	"github.com/moinha/moinha/storage"
)

// pendingEvent is an event on its way to storage, with what it changes in
// the counters and the call record. The start of a call is counted (kind
// total and the day's counter at the host's facility) in the transaction
// that records it, or in the end's if the call ended first.
type pendingEvent struct {
	Event
	kind    Kind
	started bool // no event: the call has just started, record Started and active
}

// eventWriter stores call events in the background, many per commit, so
// that signalling never waits for an fsync (the end of a call, which
// decides who may still join, is written synchronously instead).
type eventWriter struct {
	s    *Service
	ch   chan pendingEvent
	done chan struct{}
	once sync.Once
}

func newEventWriter(s *Service) *eventWriter {
	w := &eventWriter{s: s, ch: make(chan pendingEvent, 4096), done: make(chan struct{})}
	go w.run()
	return w
}

// add queues e. Only rooms call it, and they are done before close.
func (w *eventWriter) add(e pendingEvent) { w.ch <- e }

func (w *eventWriter) close() {
	w.once.Do(func() {
		close(w.ch)
		<-w.done
	})
}

func (w *eventWriter) run() {
	defer close(w.done)
	var seq uint64
	for e := range w.ch {
		batch := []pendingEvent{e}
	more:
		for len(batch) < 256 {
			select {
			case e, ok := <-w.ch:
				if !ok {
					break more
				}
				batch = append(batch, e)
			default:
				break more
			}
		}
		base := seq
		seq += uint64(len(batch))
		err := w.s.db.Update(context.Background(), func(tx *storage.Tx) error {
			for i, e := range batch {
				if !e.started {
					if err := putEvent(tx, e.Event, base+uint64(i)); err != nil {
						return err
					}
				}
				if e.Type == EventJoined {
					if err := addCounts(tx, e.kind, func(c *Counters) { c.Joins++ }); err != nil {
						return err
					}
				}
				if e.started {
					c, err := getCall(tx, e.Call)
					if err != nil {
						return err
					}
					if c == nil || c.State == StateEnded || !c.Started.IsZero() {
						continue // counted already (a rejoin after a restart), or by the end
					}
					c.State, c.Started = StateActive, e.Time
					if err := tx.Put(storage.BucketCalls, callKey(c.ID), c); err != nil {
						return err
					}
					if err := countStart(tx, c); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			w.s.log.Error("calls: store events", "events", len(batch), "err", err)
		}
	}
}
