package booking

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// Facilities is what booking needs from the directory.
type Facilities interface {
	// BookableFacility returns the facility's time zone if the facility
	// exists and belongs to this node's province; otherwise a
	// *consult.Error of kind consult.ErrNotFound, code "facility_not_found".
	BookableFacility(id string) (*time.Location, error)
}

// Options tune a Service.
type Options struct {
	// Now is the clock. Zero means time.Now.
	Now func() time.Time
	// OnStatus, when not nil, is called inside the write transaction of
	// every new appointment (from "") and every status change, with the
	// facility, the statuses and the clock's time; an error aborts the
	// change. It is given no patient data. node counts bookings for the
	// network statistics here (consult/stats). Zero means nobody is told.
	OnStatus func(tx *storage.Tx, facility, from, to string, at time.Time) error
}

// Service is the booking calendar of one node. It is safe for concurrent
// use. Its only state outside the data file is a cache of decoded
// schedules, which every transaction checks against the stored bytes
// (schedcache.go).
type Service struct {
	db         *storage.DB
	facilities Facilities
	now        func() time.Time
	onStatus   func(tx *storage.Tx, facility, from, to string, at time.Time) error
	scheds     schedules
}

// New returns a Service over db. facilities decides which facilities take
// bookings here and in which zone.
func New(db *storage.DB, facilities Facilities, opts Options) *Service {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, facilities: facilities, now: now, onStatus: opts.OnStatus}
}

// zone asks the directory for a bookable facility's zone.
func (s *Service) zone(facility string) (*time.Location, error) {
	if facility == "" || strings.ContainsAny(facility, "/\x00") {
		// "/" separates index keys; such an ID cannot be a facility.
		return nil, errFacilityNotFound()
	}
	loc, err := s.facilities.BookableFacility(facility)
	if err != nil {
		var ce *consult.Error
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("booking: facility %s: %w", facility, err)
	}
	if loc == nil {
		loc = time.UTC
	}
	return loc, nil
}

// statusChanged calls the OnStatus hook, if any, inside tx.
func (s *Service) statusChanged(tx *storage.Tx, facility, from, to string, at time.Time) error {
	if s.onStatus == nil || from == to {
		return nil
	}
	return s.onStatus(tx, facility, from, to, at)
}

// displayZone is the zone to render a stored appointment in: the facility's,
// or UTC when the directory no longer knows it (the record stays readable).
func (s *Service) displayZone(facility string) *time.Location {
	loc, err := s.zone(facility)
	if err != nil {
		return time.UTC
	}
	return loc
}

// userError returns err unchanged when it is a user-facing *consult.Error,
// and wraps anything else with the operation's name.
func userError(op string, err error) error {
	var ce *consult.Error
	if err == nil || errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("booking: %s: %w", op, err)
}

// Keys of BucketApptByDay (layout 2, doc.go). Facility IDs never contain
// "/" (zone refuses them), and start times are UTC RFC 3339 at whole
// seconds, which sorts by time. A slot's seat counter is at slotKey; the
// desk entries of its appointments follow it at slotKey/ID, so one booking
// changes one leaf page of the bucket for both.
func slotKey(facility string, start time.Time) string {
	return facility + "/" + start.UTC().Format(time.RFC3339)
}

func deskKey(a *Appointment) string {
	return slotKey(a.Facility, a.Start) + "/" + a.ID
}
