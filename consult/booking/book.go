package booking

import (
	"context"
	"errors"
	"time"

	"github.com/moinha/moinha/storage"
)

// Book takes a seat in a slot for a resident and returns the appointment
// with its booking code (times in the facility's zone). The request is
// validated (codes "invalid_<field>"); start must be a slot start of the
// facility's schedule ("not_a_slot"), not past ("slot_in_past"), not on a
// closed day ("day_closed") and within the horizon ("beyond_horizon"); a
// full slot gives "slot_full". Capacity is checked and the seat taken in
// the same transaction that writes the appointment, its indexes and the
// "appointment.create" audit entry.
func (s *Service) Book(ctx context.Context, actor string, r BookRequest) (Appointment, error) {
	now := s.now()
	if err := checkRequest(&r, now); err != nil {
		return Appointment{}, err
	}
	loc, err := s.zone(r.Facility)
	if err != nil {
		return Appointment{}, err
	}
	start := r.Start.UTC()
	// Everything that does not need the transaction is done before it, on
	// the cached schedule: the storage writer is one goroutine that every
	// write of the node waits for.
	cs, err := s.cachedOrCurrent(r.Facility)
	if err != nil {
		return Appointment{}, userError("book", err)
	}
	p, err := prepareBooking(cs, &r, start, now, loc)
	if err != nil {
		// Refuse only on the committed schedule, never on a cached one
		// that may have been replaced.
		if cs, err = s.currentSchedule(r.Facility); err != nil {
			return Appointment{}, userError("book", err)
		}
		if p, err = prepareBooking(cs, &r, start, now, loc); err != nil {
			return Appointment{}, userError("book", err)
		}
	}
	var (
		out  Appointment
		seen *cachedSchedule // a schedule the transaction decoded
	)
	// fn may run more than once (storage retries a batch when a sibling
	// fails after writing): it checks everything it decides on inside the
	// transaction, changes nothing it shares, and sets out only on success.
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		q := p
		cur, err := scheduleIn(tx, r.Facility, p.sched)
		if err != nil {
			return err
		}
		if cur != p.sched {
			// The schedule was replaced since p was prepared: decide
			// again on the one this transaction reads.
			seen = cur
			if q, err = prepareBooking(cur, &r, start, now, loc); err != nil {
				return err
			}
		}
		used, _, err := tx.GetInt(storage.BucketApptByDay, q.slot)
		if err != nil {
			return err
		}
		if used >= int64(q.sched.sc.Capacity) {
			return errSlotFull() // before any write: the batch need not be retried
		}
		if tx.Has(storage.BucketAppointments, q.a.ID) || tx.Has(storage.BucketApptCodes, q.code) {
			// With 80 random bits per millisecond and 64 random bits this
			// never happens; the check is what makes uniqueness certain.
			id, code, err := freshIdentity(tx, now)
			if err != nil {
				return err
			}
			if q, err = q.withIdentity(id, code); err != nil {
				return err
			}
		}
		if err := tx.PutInt(storage.BucketApptByDay, q.slot, used+1); err != nil {
			return err
		}
		if err := tx.Append(storage.BucketAppointments, q.a.ID, q.rec); err != nil {
			return err
		}
		if err := tx.Put(storage.BucketApptCodes, q.code, q.idValue); err != nil {
			return err
		}
		if err := tx.Put(storage.BucketApptByDay, q.desk, q.idValue); err != nil {
			return err
		}
		if err := tx.Audit(actor, "appointment.create", q.subject, ""); err != nil {
			return err
		}
		if err := s.statusChanged(tx, q.a.Facility, "", q.a.Status, now); err != nil {
			return err
		}
		out = q.a
		return nil
	})
	s.remember(r.Facility, seen)
	if err != nil {
		return Appointment{}, userError("book", err)
	}
	return localize(out, loc), nil
}

// preparedBooking is a booking decided on one schedule and encoded, ready
// for the transaction to check and write. It is read-only once built.
type preparedBooking struct {
	sched   *cachedSchedule // the schedule it was decided on
	a       Appointment     // times in UTC
	code    string          // canonical booking code
	slot    string          // slotKey
	desk    string          // deskKey
	rec     storage.Encoded // a
	idValue storage.Encoded // a.ID, the value of both indexes
	subject string          // the audit subject, "appointment:<id>"
}

// prepareBooking checks that start is bookable now on cs and builds the
// appointment with a fresh ID and code. r must have passed checkRequest.
func prepareBooking(cs *cachedSchedule, r *BookRequest, start, now time.Time, loc *time.Location) (preparedBooking, error) {
	day, err := cs.sc.checkBookable(start, now, loc)
	if err != nil {
		return preparedBooking{}, err
	}
	p := preparedBooking{
		sched: cs,
		a: Appointment{
			Status: StatusBooked, Facility: r.Facility,
			Start: start, End: start.Add(cs.sc.slotLen()), Day: day.Format(dateLayout),
			Name: r.Name, Phone: r.Phone, Reason: r.Reason, BirthYear: r.BirthYear,
			Created: now.UTC(), Updated: now.UTC(),
		},
		slot: slotKey(r.Facility, start),
	}
	return p.withIdentity(newID(now), newCode())
}

// withIdentity returns p with the appointment's ID and code set and the
// records encoded again.
func (p preparedBooking) withIdentity(id, code string) (preparedBooking, error) {
	p.a.ID, p.a.Code, p.code = id, formatCode(code), code
	p.desk, p.subject = deskKey(&p.a), "appointment:"+id
	var err error
	if p.rec, err = storage.Encode(&p.a); err != nil {
		return preparedBooking{}, err
	}
	if p.idValue, err = storage.Encode(id); err != nil {
		return preparedBooking{}, err
	}
	return p, nil
}

var errNoIdentity = errors.New("booking: no unused appointment ID and code after several draws")

// freshIdentity draws an appointment ID and a canonical booking code that
// are both unused. With 80 random bits per millisecond and 64 random bits
// a second draw is astronomically rare; the check is what makes uniqueness
// certain.
func freshIdentity(tx *storage.Tx, now time.Time) (id, code string, err error) {
	for range 4 {
		id, code = newID(now), newCode()
		if !tx.Has(storage.BucketAppointments, id) && !tx.Has(storage.BucketApptCodes, code) {
			return id, code, nil
		}
	}
	return "", "", errNoIdentity
}

// localize renders an appointment's times in loc.
func localize(a Appointment, loc *time.Location) Appointment {
	a.Start = a.Start.In(loc)
	a.End = a.End.In(loc)
	return a
}
