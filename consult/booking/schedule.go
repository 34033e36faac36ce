package booking

import (
	"context"
	"slices"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// Limits of a schedule.
const (
	MinSlotMinutes  = 5
	MaxSlotMinutes  = 240
	MaxCapacity     = 100
	MaxHorizonDays  = 365
	maxPeriodsInDay = 48
	maxClosedDays   = 1000
)

// PutSchedule validates s and stores it as its facility's schedule,
// replacing any earlier one, and returns it as stored (intervals sorted,
// closed days sorted and deduplicated). Existing appointments are kept
// whatever the new hours or capacity. The change is audited as
// "schedule.put".
func (s *Service) PutSchedule(ctx context.Context, actor string, sc Schedule) (Schedule, error) {
	if sc.Facility == "" {
		return Schedule{}, consult.Invalid("facility", "required")
	}
	if _, err := s.zone(sc.Facility); err != nil {
		return Schedule{}, err
	}
	norm, err := normalizeSchedule(sc)
	if err != nil {
		return Schedule{}, err
	}
	norm.Updated = s.now().UTC()
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.Put(storage.BucketSchedules, norm.Facility, &norm); err != nil {
			return err
		}
		return tx.Audit(actor, "schedule.put", "facility:"+norm.Facility, "")
	})
	// After the commit: a booking that cached the old schedule meanwhile
	// only pays a decode, as every transaction checks the stored bytes.
	s.scheds.drop(norm.Facility)
	if err != nil {
		return Schedule{}, userError("put schedule", err)
	}
	return norm, nil
}

// GetSchedule returns a facility's schedule, or a consult error with code
// "schedule_not_found".
func (s *Service) GetSchedule(facility string) (Schedule, error) {
	var sc Schedule
	err := s.db.View(func(tx *storage.Tx) error {
		var err error
		sc, err = loadSchedule(tx, facility)
		return err
	})
	if err != nil {
		return Schedule{}, userError("get schedule", err)
	}
	return sc, nil
}

func loadSchedule(tx *storage.Tx, facility string) (Schedule, error) {
	var sc Schedule
	ok, err := tx.Get(storage.BucketSchedules, facility, &sc)
	if err != nil {
		return Schedule{}, err
	}
	if !ok {
		return Schedule{}, errScheduleNotFound()
	}
	return sc, nil
}

// normalizeSchedule checks every field of sc and returns a copy with sorted
// intervals and sorted, deduplicated closed days.
func normalizeSchedule(sc Schedule) (Schedule, error) {
	switch {
	case sc.SlotMinutes < MinSlotMinutes || sc.SlotMinutes > MaxSlotMinutes:
		return Schedule{}, consult.Invalid("slot_minutes", "must be between %d and %d minutes", MinSlotMinutes, MaxSlotMinutes)
	case sc.Capacity < 1 || sc.Capacity > MaxCapacity:
		return Schedule{}, consult.Invalid("capacity", "must be between 1 and %d residents per slot", MaxCapacity)
	case sc.HorizonDays < 0 || sc.HorizonDays > MaxHorizonDays:
		return Schedule{}, consult.Invalid("horizon_days", "must be between 0 (meaning %d) and %d days", defaultHorizonDays, MaxHorizonDays)
	case len(sc.Closed) > maxClosedDays:
		return Schedule{}, consult.Invalid("closed", "at most %d closed days", maxClosedDays)
	}
	out := sc
	out.Hours = make(map[string][]Interval, len(sc.Hours))
	for key, ivs := range sc.Hours {
		if !validWeekday(key) {
			return Schedule{}, consult.Invalid("hours", "unknown day %.12q: use mon, tue, wed, thu, fri, sat, sun", key)
		}
		if len(ivs) > maxPeriodsInDay {
			return Schedule{}, consult.Invalid("hours", "%s: at most %d opening periods", key, maxPeriodsInDay)
		}
		ps := make([]period, 0, len(ivs))
		for _, iv := range ivs {
			o, ok := clock(iv.Open, false)
			if !ok {
				return Schedule{}, consult.Invalid("hours", "%s: opening time %.12q is not a time of day HH:MM", key, iv.Open)
			}
			c, ok := clock(iv.Close, true)
			if !ok {
				return Schedule{}, consult.Invalid("hours", "%s: closing time %.12q is not a time of day HH:MM (or 24:00)", key, iv.Close)
			}
			if o >= c {
				return Schedule{}, consult.Invalid("hours", "%s: %s–%s closes before it opens", key, iv.Open, iv.Close)
			}
			if c-o < sc.SlotMinutes {
				return Schedule{}, consult.Invalid("hours", "%s: %s–%s is shorter than one %d-minute slot", key, iv.Open, iv.Close, sc.SlotMinutes)
			}
			ps = append(ps, period{o, c})
		}
		slices.SortFunc(ps, func(a, b period) int { return a.open - b.open })
		sorted := make([]Interval, 0, len(ps))
		for i, p := range ps {
			if i > 0 && p.open < ps[i-1].close {
				return Schedule{}, consult.Invalid("hours", "%s: %s–%s overlaps %s–%s", key,
					hhmm(ps[i-1].open), hhmm(ps[i-1].close), hhmm(p.open), hhmm(p.close))
			}
			sorted = append(sorted, Interval{Open: hhmm(p.open), Close: hhmm(p.close)})
		}
		out.Hours[key] = sorted
	}
	out.Closed = make([]string, 0, len(sc.Closed))
	for _, d := range sc.Closed {
		if _, ok := parseDay(d); !ok {
			return Schedule{}, consult.Invalid("closed", "%.12q is not a date YYYY-MM-DD", d)
		}
		out.Closed = append(out.Closed, d)
	}
	slices.Sort(out.Closed)
	out.Closed = slices.Compact(out.Closed)
	return out, nil
}

// hhmm renders minutes after midnight as "HH:MM".
func hhmm(m int) string {
	return string([]byte{byte('0' + m/600), byte('0' + m/60%10), ':', byte('0' + m%60/10), byte('0' + m%10)})
}
