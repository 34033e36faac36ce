package stats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/storage"
)

// Source is a service that keeps its own daily counters (calls,
// referrals) and adds them to a day's tally when a report is built. It
// keys its counters by the Day of each event and the level of the
// facility the event belongs to.
type Source interface {
	// Tally adds the service's counts for day ("YYYY-MM-DD", see Day) to
	// t, reading them inside tx (a read transaction on the node's data
	// file): counts with t.AddAt (by facility) or t.Add (by level),
	// samples of a median with t.ObserveAt or t.Observe. It must not open
	// another transaction.
	Tally(tx *storage.Tx, day string, t *Tally) error
}

// SourceFunc adapts a function to Source.
type SourceFunc func(tx *storage.Tx, day string, t *Tally) error

// Tally implements Source.
func (f SourceFunc) Tally(tx *storage.Tx, day string, t *Tally) error { return f(tx, day, t) }

// Options configure a Service. Each field says what its zero value means.
type Options struct {
	// Province is this node's province code. Required to publish.
	Province string
	// LevelOf returns a facility's level; it is called outside any
	// transaction. Zero (nil), or an error, puts the facility's counts
	// under LevelUnattributed.
	LevelOf func(facility string) (consult.Level, error)
	// Sources add other services' counts (calls, referrals) to each
	// report. Zero means bookings only.
	Sources []Source
	// Now is the clock. Zero means time.Now.
	Now func() time.Time
}

// Service counts this node's events, builds its daily reports, and keeps
// the history of every member's reports. It is safe for concurrent use
// and keeps no state outside the data file.
type Service struct {
	db   *storage.DB
	opts Options
}

// New returns the statistics of the node whose data file is db.
func New(db *storage.DB, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{db: db, opts: opts}
}

// Key prefixes in storage.BucketStats (see the package comment).
const (
	prefixAppt = "appt/"
	prefixHist = "hist/"
	prefixLast = "last/"
)

func apptKey(day, facility string) string { return prefixAppt + day + "/" + facility }

// apptCounts are one facility's booking counters for one day.
type apptCounts struct {
	Bookings      int64 `json:"bookings,omitempty"`
	CheckIns      int64 `json:"checkins,omitempty"`
	NoShows       int64 `json:"noshows,omitempty"`
	Cancellations int64 `json:"cancellations,omitempty"`
	Fulfilled     int64 `json:"fulfilled,omitempty"`
}

// CountAppointment is booking's OnStatus hook: inside the transaction of
// a booking (from "") or a status change, it adds the event to the
// facility's counters of the day it happens. Rescheduling is no event.
// It runs on the storage writer for every booking, so the counters are
// read without reflection (apptCounts.parse).
func (s *Service) CountAppointment(tx *storage.Tx, facility, from, to string, at time.Time) error {
	var field int
	switch {
	case from == "" && to == booking.StatusBooked:
		field = 0
	case to == booking.StatusArrived:
		field = 1
	case to == booking.StatusNoShow:
		field = 2
	case to == booking.StatusCancelled:
		field = 3
	case to == booking.StatusFulfilled:
		field = 4
	default:
		return nil
	}
	key := apptKey(Day(at), facility)
	var c apptCounts
	v, ok, err := tx.GetValue(storage.BucketStats, key)
	if err != nil {
		return err
	}
	if ok && !c.parse(v) {
		if err := v.Decode(&c); err != nil {
			return fmt.Errorf("%s/%s: %w", storage.BucketStats, key, err)
		}
	}
	*c.fields()[field]++
	return tx.Put(storage.BucketStats, key, &c)
}

// fields are c's counters in the order of their JSON fields.
func (c *apptCounts) fields() [5]*int64 {
	return [5]*int64{&c.Bookings, &c.CheckIns, &c.NoShows, &c.Cancellations, &c.Fulfilled}
}

// apptFieldNames are apptCounts' JSON names, in field order.
var apptFieldNames = [5]string{"bookings", "checkins", "noshows", "cancellations", "fulfilled"}

// parse reads a stored value in the form encoding/json writes for
// apptCounts (codec byte, then {"name":N,...} with known names, no spaces)
// without reflection, and reports whether it could; anything else is left
// to the JSON decoder. It is about 13 times faster than the decoder.
func (c *apptCounts) parse(v storage.Value) bool {
	// v[0] is storage's codec byte; version 1 is JSON.
	if len(v) < 3 || v[0] != 1 || v[1] != '{' || v[len(v)-1] != '}' {
		return false
	}
	*c = apptCounts{}
	rest := string(v[2 : len(v)-1])
	fields := c.fields()
	for more := rest != ""; more; {
		var item string
		item, rest, more = strings.Cut(rest, ",")
		name, num, ok := strings.Cut(item, ":")
		if !ok || len(name) < 2 || name[0] != '"' || name[len(name)-1] != '"' {
			return false
		}
		i := slices.Index(apptFieldNames[:], name[1:len(name)-1])
		n, err := strconv.ParseInt(num, 10, 64)
		if i < 0 || err != nil || *fields[i] != 0 {
			return false
		}
		*fields[i] = n
	}
	return true
}

// Tally returns this node's raw (unsuppressed) counts for day: its own
// bookings by facility level and whatever its Sources add.
func (s *Service) Tally(day string) (*Tally, error) {
	t, _, err := s.tally(day)
	return t, err
}

// tally reads day's counts and the current availability.
func (s *Service) tally(day string) (*Tally, []Availability, error) {
	if _, ok := ParseDay(day); !ok {
		return nil, nil, fmt.Errorf("%w: day %.10q", ErrMalformed, day)
	}
	t := NewTally()
	var avail []Availability
	err := s.db.View(func(tx *storage.Tx) error {
		prefix := prefixAppt + day + "/"
		err := tx.Scan(storage.BucketStats, prefix, "", func(k string, v storage.Value) error {
			var c apptCounts
			if err := v.Decode(&c); err != nil {
				return err
			}
			facility := strings.TrimPrefix(k, prefix)
			t.AddAt(facility, MetricBookings, c.Bookings)
			t.AddAt(facility, MetricCheckIns, c.CheckIns)
			t.AddAt(facility, MetricNoShows, c.NoShows)
			t.AddAt(facility, MetricCancellations, c.Cancellations)
			t.AddAt(facility, MetricFulfilled, c.Fulfilled)
			return nil
		})
		if err != nil {
			return err
		}
		if avail, err = readAvailability(tx); err != nil {
			return err
		}
		for _, src := range s.opts.Sources {
			if err := src.Tally(tx, day, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("stats: tally %s: %w", day, err)
	}
	// Levels come from the directory, outside the transaction above (a
	// read transaction inside another can deadlock bbolt's remap).
	t.resolve(s.levelOf)
	return t, avail, nil
}

// levelOf is Options.LevelOf, with LevelUnattributed for what it cannot
// place.
func (s *Service) levelOf(facility string) consult.Level {
	if facility == "" || s.opts.LevelOf == nil {
		return LevelUnattributed
	}
	l, err := s.opts.LevelOf(facility)
	if err != nil {
		return LevelUnattributed
	}
	return l
}

// availabilityPrefix is the key prefix in storage.BucketSettings under
// which node keeps this province's referral availability per specialty.
const availabilityPrefix = "availability/"

func readAvailability(tx *storage.Tx) ([]Availability, error) {
	out := []Availability{}
	err := tx.Scan(storage.BucketSettings, availabilityPrefix, "", func(_ string, v storage.Value) error {
		var a Availability
		if err := v.Decode(&a); err != nil {
			return nil // not ours to judge; skip it
		}
		if consult.ValidSpecialty(a.Specialty) {
			out = append(out, a)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b Availability) int { return strings.Compare(a.Specialty, b.Specialty) })
	return out, err
}

// Meta is what a report says about the node itself.
type Meta struct {
	Version  string        // node software version
	Started  time.Time     // when the node started (uptime)
	Interval time.Duration // how often it publishes
}

// Build returns this node's report for day, suppressed and ready to
// publish.
func (s *Service) Build(day string, meta Meta) (Report, error) {
	t, avail, err := s.tally(day)
	if err != nil {
		return Report{}, err
	}
	now := s.opts.Now().UTC()
	r := Report{
		Schema: Schema, Province: s.opts.Province, Day: day, Reported: now,
		IntervalSeconds: int64(meta.Interval / time.Second), Version: meta.Version,
		Levels: Publish(t), Availability: avail,
	}
	if !meta.Started.IsZero() {
		r.UptimeSeconds = int64(now.Sub(meta.Started) / time.Second)
	}
	if len(r.Version) > maxVersionLen {
		r.Version = r.Version[:maxVersionLen]
	}
	return r, nil
}

// Publisher is what Publish needs to share a report with the network:
// node's federation (consult.Replicator). Nil publishes nothing but keeps
// the node's own history.
type Publisher = consult.Replicator

// backfillDays is how far back the first Publish after a start looks for
// days whose final counts were never published (the node stopped before
// the day's last interval).
const backfillDays = 31

// Publish builds this node's reports and stages, each in one transaction
// with its own history entry, those that are due:
//   - today's, when its content changed since the last one published or
//     that one is at least heartbeat old (so that the observer can tell a
//     quiet province from a silent one);
//   - an earlier day's, only when its content changed (the day's last
//     events came after its last report): yesterday on every call, and
//     with backfill every day of the last month that has booking counts.
//
// A day the node never reported and had no bookings on is never
// published: it was not running then. Publish returns how many reports it
// staged.
func (s *Service) Publish(ctx context.Context, repl Publisher, meta Meta, heartbeat time.Duration, backfill bool) (int, error) {
	today := Day(s.opts.Now())
	days := []string{addDays(today, -1)}
	if backfill {
		var err error
		if days, err = s.countedDays(addDays(today, -backfillDays), today); err != nil {
			return 0, err
		}
		days = append(days, addDays(today, -1))
		slices.Sort(days)
		days = slices.Compact(days)
	}
	n := 0
	var errs []error
	for _, day := range days {
		if day >= today {
			continue
		}
		staged, err := s.publishDay(ctx, repl, day, meta, 0, false)
		if err != nil {
			errs = append(errs, err)
		}
		if staged {
			n++
		}
	}
	staged, err := s.publishDay(ctx, repl, today, meta, heartbeat, true)
	if err != nil {
		errs = append(errs, err)
	}
	if staged {
		n++
	}
	return n, errors.Join(errs...)
}

// publishDay stages day's report when it is due (see Publish).
func (s *Service) publishDay(ctx context.Context, repl Publisher, day string, meta Meta, heartbeat time.Duration, isToday bool) (bool, error) {
	r, err := s.Build(day, meta)
	if err != nil {
		return false, err
	}
	prev, had, err := s.own(day)
	if err != nil {
		return false, err
	}
	switch {
	case !had && !isToday && len(r.Levels) == 0:
		return false, nil // not running that day, nothing to say
	case had && sameContent(&prev, &r) && (!isToday || r.Reported.Sub(prev.Reported) < heartbeat):
		return false, nil
	}
	payload, err := r.Encode()
	if err != nil {
		return false, err
	}
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		if repl != nil {
			if err := repl.Stage(tx, KindStats, day, payload, false); err != nil {
				return err
			}
		}
		return putHistory(tx, "", r)
	})
	if err != nil {
		return false, fmt.Errorf("stats: publish %s: %w", day, err)
	}
	return true, nil
}

// own returns this node's last published report for day.
func (s *Service) own(day string) (Report, bool, error) {
	var (
		e  histEntry
		ok bool
	)
	err := s.db.View(func(tx *storage.Tx) error {
		var err error
		ok, err = tx.Get(storage.BucketStats, histKey(s.opts.Province, day), &e)
		return err
	})
	return e.Report, ok, err
}

// countedDays lists the days from..to (inclusive) with booking counts.
func (s *Service) countedDays(from, to string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketStats, prefixAppt, prefixAppt+from, func(k string, _ storage.Value) error {
			day, _, _ := strings.Cut(strings.TrimPrefix(k, prefixAppt), "/")
			if day > to {
				return storage.ErrStop
			}
			if len(out) == 0 || out[len(out)-1] != day {
				out = append(out, day)
			}
			return nil
		})
	})
	return out, err
}

// BookingTotals sums this node's booking counters of day over its
// facilities, by metric (raw: for the operator's metrics, never published).
func (s *Service) BookingTotals(day string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, m := range bookingMetrics() {
		out[m] = 0
	}
	err := s.db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketStats, prefixAppt+day+"/", "", func(_ string, v storage.Value) error {
			var c apptCounts
			if err := v.Decode(&c); err != nil {
				return err
			}
			out[MetricBookings] += c.Bookings
			out[MetricCheckIns] += c.CheckIns
			out[MetricNoShows] += c.NoShows
			out[MetricCancellations] += c.Cancellations
			out[MetricFulfilled] += c.Fulfilled
			return nil
		})
	})
	return out, err
}
