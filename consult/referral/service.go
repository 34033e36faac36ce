package referral

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// Sender is what referrals need from the network: store a message for a
// province inside tx, so that it is sent if and only if tx commits, and
// deliver it until the receiver stored it. id is unique among this node's
// messages. A province with no current member that may receive returns an
// error wrapping ErrUnreachable (before writing anything).
type Sender interface {
	Send(tx *storage.Tx, toProvince, kind, id string, payload []byte) error
}

// Flusher is optionally implemented by a Sender: Flush says that the
// transactions which called Send have committed, so delivery starts at
// once.
type Flusher interface{ Flush() }

// Availability is one province's gossiped referral availability for one
// specialty.
type Availability struct {
	Province  string
	Specialty string
	Accepting bool
	Capacity  int
	WaitDays  int
}

// AvailabilitySource lists every member province's current availability
// for a specialty (this node's own included).
type AvailabilitySource interface {
	Available(specialty string) ([]Availability, error)
}

// Options configure a Service. Zero values are documented per field.
type Options struct {
	// Province is this node's province code. Required.
	Province string
	// Sender carries messages to other provinces. Nil means a lone node:
	// only its own province can be a candidate.
	Sender Sender
	// Availability ranks candidates. Nil means none: a referral needs a
	// target province (or stays in this province).
	Availability AvailabilitySource
	// Geo gives a province's approximate centroid, to rank candidates by
	// distance. Nil means distance is ignored.
	Geo func(province string) (lat, lon float64, ok bool)
	// Observer makes the service read-only: every write is refused and
	// every message too.
	Observer bool
	// EmergencyDeadline, UrgentDeadline and RoutineDeadline are how long a
	// candidate has to answer an offer. Zero means 15 min, 2 h and 24 h.
	EmergencyDeadline, UrgentDeadline, RoutineDeadline time.Duration
	// EmergencyFanout is how many candidates an emergency is offered to at
	// once (the first to accept wins). Zero means 2; other urgencies are
	// offered to one candidate at a time.
	EmergencyFanout int
	// TimerPoll is the longest the deadline loop sleeps before looking
	// again. Zero means 1 s.
	TimerPoll time.Duration
	// AutoAccept, when set, accepts an offer in the transaction that
	// receives it if it returns true (a hospital that takes every
	// emergency; benchmarks). Nil means doctors accept by hand.
	AutoAccept func(v View) bool
	// Now is the clock. Zero means time.Now.
	Now func() time.Time
	// Logger receives IDs and counts, never patient data. Zero means
	// discard.
	Logger *slog.Logger
}

// Service is one node's referrals and consult requests. It is safe for
// concurrent use; its state is the data file, plus the deadline loop
// between Start and Close.
type Service struct {
	db   *storage.DB
	opts Options
	log  *slog.Logger
	now  func() time.Time

	wake chan struct{} // wakes the deadline loop; capacity 1

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	startOnce sync.Once
	closeOnce sync.Once
}

// New returns a Service over db.
func New(db *storage.DB, opts Options) (*Service, error) {
	if opts.Province == "" || strings.ContainsAny(opts.Province, "/-") {
		return nil, errors.New("referral: Options.Province is required (a province code)")
	}
	if opts.EmergencyDeadline <= 0 {
		opts.EmergencyDeadline = 15 * time.Minute
	}
	if opts.UrgentDeadline <= 0 {
		opts.UrgentDeadline = 2 * time.Hour
	}
	if opts.RoutineDeadline <= 0 {
		opts.RoutineDeadline = 24 * time.Hour
	}
	if opts.EmergencyFanout <= 0 {
		opts.EmergencyFanout = 2
	}
	if opts.TimerPoll <= 0 {
		opts.TimerPoll = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{
		db: db, opts: opts, log: opts.Logger.With("component", "referral"), now: opts.Now,
		wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel,
	}, nil
}

// Start runs the deadline loop until Close.
func (s *Service) Start() {
	s.startOnce.Do(func() {
		if s.ctx.Err() != nil {
			return
		}
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.deadlineLoop() }()
	})
}

// Close stops the loop and waits for it. It is idempotent; the data
// file stays open (the caller owns it).
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
	})
}

// update runs fn in a write transaction and, once it committed, lets the
// Sender deliver and the deadline loop look again.
func (s *Service) update(ctx context.Context, fn func(tx *storage.Tx) error) error {
	if s.opts.Observer {
		return consult.Errorf(consult.ErrForbidden, "observer", "an observer node is read-only")
	}
	if err := s.db.Update(ctx, fn); err != nil {
		return err
	}
	s.committed()
	return nil
}

// committed is called after a transaction that may have sent messages or
// changed deadlines.
func (s *Service) committed() {
	if f, ok := s.opts.Sender.(Flusher); ok {
		f.Flush()
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Service) deadline(urgency string) time.Duration {
	switch urgency {
	case UrgencyEmergency:
		return s.opts.EmergencyDeadline
	case UrgencyUrgent:
		return s.opts.UrgentDeadline
	}
	return s.opts.RoutineDeadline
}

func (s *Service) fanout(urgency string) int {
	if urgency == UrgencyEmergency {
		return s.opts.EmergencyFanout
	}
	return 1
}

// deadlineLoop expires offers whose deadline passed, reading them from the
// due index (so deadlines survive restarts).
func (s *Service) deadlineLoop() {
	for {
		next := s.expireDue()
		wait := s.opts.TimerPoll
		if !next.IsZero() {
			wait = min(wait, max(time.Until(next), time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// expireDue handles every referral with an offer past its deadline and
// returns the next deadline (zero if none is known).
func (s *Service) expireDue() time.Time {
	for s.ctx.Err() == nil {
		now := s.now()
		var due []string
		var next time.Time
		err := s.db.View(func(tx *storage.Tx) error {
			return tx.Scan(storage.BucketReferralIdx, idxDue, "", func(k string, _ storage.Value) error {
				t, id, ok := parseDue(k)
				if !ok {
					return nil
				}
				if t.After(now) {
					next = t
					return storage.ErrStop
				}
				due = append(due, id)
				if len(due) >= 64 {
					return storage.ErrStop
				}
				return nil
			})
		})
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Warn("read due offers", "err", err)
			}
			return time.Time{}
		}
		if len(due) == 0 {
			return next
		}
		for _, id := range due {
			if err := s.expire(id, now); err != nil && s.ctx.Err() == nil {
				s.log.Warn("expire offers", "referral", id, "err", err)
				return now.Add(s.opts.TimerPoll)
			}
		}
	}
	return time.Time{}
}

func parseDue(k string) (time.Time, string, bool) {
	rest := strings.TrimPrefix(k, idxDue)
	ts, id, ok := strings.Cut(rest, "/")
	if !ok || len(ts) != 20 {
		return time.Time{}, "", false
	}
	var n int64
	for _, c := range ts {
		if c < '0' || c > '9' {
			return time.Time{}, "", false
		}
		n = n*10 + int64(c-'0')
	}
	return time.Unix(0, n), id, true
}
