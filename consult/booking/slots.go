package booking

import (
	"github.com/moinha/moinha/storage"
)

// Slots lists the slots of a facility on date ("YYYY-MM-DD" in the
// facility's zone), in order, with Free = capacity − booked (never below
// zero); full slots are listed with Free 0. Slots that have started are left
// out, and a closed day or a day beyond the horizon has none. Times are in
// the facility's zone. A malformed date gives code "invalid_date".
func (s *Service) Slots(facility, date string) ([]Slot, error) {
	day, ok := parseDay(date)
	if !ok {
		return nil, errInvalidDate()
	}
	loc, err := s.zone(facility)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []Slot{}
	known := s.scheds.get(facility)
	var seen *cachedSchedule
	err = s.db.View(func(tx *storage.Tx) error {
		cs, err := scheduleIn(tx, facility, known)
		if err != nil {
			return err
		}
		if cs != known {
			seen = cs
		}
		sc := &cs.sc
		if sc.closedOn(day) || sc.beyondHorizon(day, now, loc) {
			return nil
		}
		step := sc.slotLen()
		for _, start := range sc.slotStarts(day, loc) {
			if start.Before(now) {
				continue
			}
			used, err := slotUse(tx, slotKey(facility, start))
			if err != nil {
				return err
			}
			out = append(out, Slot{Start: start, End: start.Add(step), Free: max(0, sc.Capacity-used)})
		}
		return nil
	})
	s.remember(facility, seen)
	if err != nil {
		return nil, userError("slots", err)
	}
	return out, nil
}

// slotUse reads a slot's booked count (zero when absent).
func slotUse(tx *storage.Tx, key string) (int, error) {
	n, _, err := tx.GetInt(storage.BucketApptByDay, key)
	return int(n), err
}

// addSlotUse changes a slot's count by delta, never below zero, and deletes
// the key at zero so the bucket holds only booked slots.
func addSlotUse(tx *storage.Tx, key string, delta int) error {
	n, err := slotUse(tx, key)
	if err != nil {
		return err
	}
	n = max(0, n+delta)
	if n == 0 {
		return tx.Delete(storage.BucketApptByDay, key)
	}
	return tx.PutInt(storage.BucketApptByDay, key, int64(n))
}
