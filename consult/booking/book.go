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
	var out Appointment
	// fn may run more than once (storage retries a batch when a sibling
	// fails after writing): it reads everything it decides on inside the
	// transaction and sets out only on success.
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		sc, err := loadSchedule(tx, r.Facility)
		if err != nil {
			return err
		}
		day, err := sc.checkBookable(start, now, loc)
		if err != nil {
			return err
		}
		key := slotKey(r.Facility, start)
		used, err := slotUse(tx, key)
		if err != nil {
			return err
		}
		if used >= sc.Capacity {
			return errSlotFull() // before any write: the batch need not be retried
		}
		id, code, err := freshIdentity(tx)
		if err != nil {
			return err
		}
		a := Appointment{
			ID: id, Code: formatCode(code), Status: StatusBooked, Facility: r.Facility,
			Start: start, End: start.Add(sc.slotLen()), Day: day.Format(dateLayout),
			Name: r.Name, Phone: r.Phone, Reason: r.Reason, BirthYear: r.BirthYear,
			Created: now.UTC(), Updated: now.UTC(),
		}
		if err := tx.Put(storage.BucketSlotUse, key, used+1); err != nil {
			return err
		}
		if err := tx.Put(storage.BucketAppointments, id, &a); err != nil {
			return err
		}
		if err := tx.Put(storage.BucketApptCodes, code, id); err != nil {
			return err
		}
		if err := tx.Put(storage.BucketApptByDay, deskKey(&a), id); err != nil {
			return err
		}
		if err := tx.Audit(actor, "appointment.create", "appointment:"+id, ""); err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		return Appointment{}, userError("book", err)
	}
	return localize(out, loc), nil
}

var errNoIdentity = errors.New("booking: no unused appointment ID and code after several draws")

// freshIdentity draws an appointment ID and a canonical booking code that
// are both unused. With 128 and 64 random bits a second draw is
// astronomically rare; the check is what makes uniqueness certain.
func freshIdentity(tx *storage.Tx) (id, code string, err error) {
	for range 4 {
		id, code = newID(), newCode()
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
