package booking

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// Get returns the appointment with this booking code (any case, dashes
// optional), auditing the read as "appointment.read". An unknown or
// malformed code gives "appointment_not_found".
func (s *Service) Get(ctx context.Context, actor, code string) (Appointment, error) {
	c, _, err := s.lookup(code)
	if err != nil {
		return Appointment{}, err
	}
	var out Appointment
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		a, err := loadByCode(tx, c)
		if err != nil {
			return err
		}
		if err := tx.Audit(actor, "appointment.read", "appointment:"+a.ID, ""); err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		return Appointment{}, userError("get", err)
	}
	return localize(out, s.displayZone(out.Facility)), nil
}

// Cancel cancels a booked appointment and frees its seat. Cancelling again
// gives "already_cancelled"; an appointment past booked (arrived,
// fulfilled, no-show) gives "invalid_transition".
func (s *Service) Cancel(ctx context.Context, actor, code string) (Appointment, error) {
	return s.SetStatus(ctx, actor, code, StatusCancelled)
}

// SetStatus moves an appointment along its life for the station desk:
// booked → arrived (check-in), noshow (once its start has passed:
// otherwise "too_early") or cancelled (which frees the seat), and arrived →
// fulfilled. Any other move gives "invalid_transition" (or
// "already_cancelled"); an unknown status gives "invalid_status". Audited as
// "appointment.cancel" or "appointment.status" with the move as detail.
func (s *Service) SetStatus(ctx context.Context, actor, code, status string) (Appointment, error) {
	switch status {
	case StatusArrived, StatusNoShow, StatusFulfilled, StatusCancelled:
	default:
		return Appointment{}, consult.Invalid("status", "must be one of %s, %s, %s, %s",
			StatusArrived, StatusNoShow, StatusFulfilled, StatusCancelled)
	}
	action := "status"
	if status == StatusCancelled {
		action = "cancel"
	}
	return s.modify(ctx, actor, code, action, nil, func(tx *storage.Tx, a *Appointment, now time.Time) (string, error) {
		if err := checkTransition(a, status, now); err != nil {
			return "", err
		}
		if status == StatusCancelled {
			if err := addSlotUse(tx, slotKey(a.Facility, a.Start), -1); err != nil {
				return "", err
			}
		}
		detail := a.Status + "->" + status
		a.Status = status
		return detail, nil
	})
}

// Reschedule moves a booked appointment to the slot at newStart of the same
// facility, atomically: the new seat is taken under the same checks as Book
// (and with "slot_full" nothing changes) and the old one released in one
// transaction. Moving to the slot it already holds changes nothing. Audited
// as "appointment.reschedule". Only a booked appointment moves
// ("not_booked").
func (s *Service) Reschedule(ctx context.Context, actor, code string, newStart time.Time) (Appointment, error) {
	if newStart.IsZero() {
		return Appointment{}, consult.Invalid("start", "required")
	}
	start := newStart.UTC()
	var loc *time.Location
	resolve := func(facility string) error {
		var err error
		loc, err = s.zone(facility)
		return err
	}
	return s.modify(ctx, actor, code, "reschedule", resolve, func(tx *storage.Tx, a *Appointment, now time.Time) (string, error) {
		if a.Status != StatusBooked {
			return "", consult.Errorf(consult.ErrConflict, CodeNotBooked, "only a booked appointment can be moved; this one is %s", a.Status)
		}
		if start.Equal(a.Start) {
			return "unchanged", nil
		}
		cs, err := scheduleIn(tx, a.Facility, s.scheds.get(a.Facility))
		if err != nil {
			return "", err
		}
		sc := &cs.sc
		day, err := sc.checkBookable(start, now, loc)
		if err != nil {
			return "", err
		}
		newKey := slotKey(a.Facility, start)
		used, err := slotUse(tx, newKey)
		if err != nil {
			return "", err
		}
		if used >= sc.Capacity {
			return "", errSlotFull() // before any write: the old booking stands
		}
		if err := tx.PutInt(storage.BucketApptByDay, newKey, int64(used+1)); err != nil {
			return "", err
		}
		if err := addSlotUse(tx, slotKey(a.Facility, a.Start), -1); err != nil {
			return "", err
		}
		if err := tx.Delete(storage.BucketApptByDay, deskKey(a)); err != nil {
			return "", err
		}
		a.Start, a.End, a.Day = start, start.Add(sc.slotLen()), day.Format(dateLayout)
		if err := tx.Put(storage.BucketApptByDay, deskKey(a), a.ID); err != nil {
			return "", err
		}
		return "start " + start.Format(time.RFC3339), nil
	})
}

// Desk lists a facility's appointments on date ("YYYY-MM-DD" in its zone),
// every status included, ordered by start, times in the facility's zone.
// The read is audited once: "appointment.list", subject
// "facility:<id>/<date>", detail the count.
func (s *Service) Desk(ctx context.Context, actor, facility, date string) ([]Appointment, error) {
	if _, ok := parseDay(date); !ok {
		return nil, errInvalidDate()
	}
	loc, err := s.zone(facility)
	if err != nil {
		return nil, err
	}
	day, _ := parseDay(date)
	from := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
	to := from.AddDate(0, 0, 1) // the next midnight in the zone (DST-safe)
	end := slotKey(facility, to)
	var out []Appointment
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		out = []Appointment{} // fn may run more than once
		var ids []string
		// From the day's first second: keys after "F/<midnight>" and
		// before "F/<next midnight>"; slot counters (no "/ID") skipped.
		after := slotKey(facility, from.Add(-time.Second)) + "/\xff"
		err := tx.Scan(storage.BucketApptByDay, facility+"/", after, func(k string, v storage.Value) error {
			if k >= end {
				return storage.ErrStop
			}
			if !strings.Contains(k[len(facility)+1:], "/") {
				return nil // a slot's seat counter
			}
			var id string
			if err := v.Decode(&id); err != nil {
				return err
			}
			ids = append(ids, id)
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range ids {
			var a Appointment
			ok, err := tx.Get(storage.BucketAppointments, id, &a)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, localize(a, loc))
			}
		}
		return tx.Audit(actor, "appointment.list", "facility:"+facility+"/"+date, strconv.Itoa(len(out)))
	})
	if err != nil {
		return nil, userError("desk", err)
	}
	return out, nil
}

// modify runs change on the appointment with this code in one write
// transaction, then stores it and audits "appointment.<action>". resolve,
// if not nil, is called with the appointment's facility before the
// transaction. change must make every check before its first write.
func (s *Service) modify(ctx context.Context, actor, code, action string,
	resolve func(facility string) error,
	change func(tx *storage.Tx, a *Appointment, now time.Time) (detail string, err error),
) (Appointment, error) {
	c, facility, err := s.lookup(code)
	if err != nil {
		return Appointment{}, err
	}
	if resolve != nil {
		if err := resolve(facility); err != nil {
			return Appointment{}, err
		}
	}
	now := s.now()
	var out Appointment
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		a, err := loadByCode(tx, c)
		if err != nil {
			return err
		}
		from := a.Status
		detail, err := change(tx, &a, now)
		if err != nil {
			return err
		}
		if err := s.statusChanged(tx, a.Facility, from, a.Status, now); err != nil {
			return err
		}
		a.Updated = now.UTC()
		if err := tx.Put(storage.BucketAppointments, a.ID, &a); err != nil {
			return err
		}
		if err := tx.Audit(actor, "appointment."+action, "appointment:"+a.ID, detail); err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		return Appointment{}, userError(action, err)
	}
	return localize(out, s.displayZone(out.Facility)), nil
}

// lookup canonicalizes a typed code and checks in a read transaction that
// it exists, so that wrong codes cost no write transaction. It returns the
// canonical code and the appointment's facility.
func (s *Service) lookup(code string) (canonical, facility string, err error) {
	c, ok := canonicalCode(code)
	if !ok {
		return "", "", errAppointmentNotFound()
	}
	err = s.db.View(func(tx *storage.Tx) error {
		a, err := loadByCode(tx, c)
		facility = a.Facility
		return err
	})
	if err != nil {
		return "", "", userError("lookup", err)
	}
	return c, facility, nil
}

// loadByCode reads the appointment a canonical code points to.
func loadByCode(tx *storage.Tx, code string) (Appointment, error) {
	var id string
	ok, err := tx.Get(storage.BucketApptCodes, code, &id)
	if err != nil {
		return Appointment{}, err
	}
	if !ok {
		return Appointment{}, errAppointmentNotFound()
	}
	var a Appointment
	ok, err = tx.Get(storage.BucketAppointments, id, &a)
	if err != nil {
		return Appointment{}, err
	}
	if !ok {
		return Appointment{}, errAppointmentNotFound()
	}
	return a, nil
}

// checkTransition allows booked → arrived | noshow | cancelled and
// arrived → fulfilled; a no-show only once the start has passed.
func checkTransition(a *Appointment, to string, now time.Time) error {
	from := a.Status
	switch {
	case from == StatusCancelled && to == StatusCancelled:
		return consult.Errorf(consult.ErrConflict, CodeAlreadyCancelled, "this appointment is already cancelled")
	case from == StatusBooked && (to == StatusArrived || to == StatusCancelled):
		return nil
	case from == StatusBooked && to == StatusNoShow:
		if now.Before(a.Start) {
			return consult.Errorf(consult.ErrConflict, CodeTooEarly, "a no-show can be recorded only after the appointment's start")
		}
		return nil
	case from == StatusArrived && to == StatusFulfilled:
		return nil
	}
	return consult.Errorf(consult.ErrConflict, CodeInvalidTransition, "an appointment that is %s cannot become %s", from, to)
}
