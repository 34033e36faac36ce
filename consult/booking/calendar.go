package booking

import (
	"slices"
	"time"

	"github.com/moinha/moinha/consult"
)

// weekdayKey is the key of Schedule.Hours for d: "sun", "mon", … "sat".
func weekdayKey(d time.Weekday) string {
	const keys = "sunmontuewedthufrisat"
	return keys[3*d : 3*d+3]
}

// validWeekday reports whether key is one of mon, tue, wed, thu, fri, sat, sun.
func validWeekday(key string) bool {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if weekdayKey(d) == key {
			return true
		}
	}
	return false
}

// defaultHorizonDays is the horizon of a schedule whose HorizonDays is zero.
const defaultHorizonDays = 60

const dateLayout = "2006-01-02"

// A day is a calendar date, held as midnight UTC so that it has no zone.

// parseDay parses "YYYY-MM-DD" strictly.
func parseDay(s string) (time.Time, bool) {
	if len(s) != len(dateLayout) {
		return time.Time{}, false
	}
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, false
	}
	return d, true
}

// dayOf is t's calendar date in loc.
func dayOf(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// at is the instant of minute-of-day min on day in loc.
func at(day time.Time, minute int, loc *time.Location) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, 0, minute, 0, 0, loc)
}

// clock parses "HH:MM" into minutes after midnight; "24:00" only when
// allow24 (the close of a period ending at midnight).
func clock(s string, allow24 bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	switch {
	case m > 59, h > 24, h == 24 && (m != 0 || !allow24):
		return 0, false
	}
	return h*60 + m, true
}

// period is an Interval in minutes after midnight.
type period struct{ open, close int }

// periods returns the opening periods of day's weekday. The schedule was
// validated when stored, so unparsable entries are skipped, not reported.
func (sc *Schedule) periods(day time.Time) []period {
	ivs := sc.Hours[weekdayKey(day.Weekday())]
	out := make([]period, 0, len(ivs))
	for _, iv := range ivs {
		o, ok1 := clock(iv.Open, false)
		c, ok2 := clock(iv.Close, true)
		if ok1 && ok2 && o < c {
			out = append(out, period{o, c})
		}
	}
	return out
}

func (sc *Schedule) slotLen() time.Duration { return time.Duration(sc.SlotMinutes) * time.Minute }

func (sc *Schedule) horizon() int {
	if sc.HorizonDays == 0 {
		return defaultHorizonDays
	}
	return sc.HorizonDays
}

func (sc *Schedule) closedOn(day time.Time) bool {
	_, found := slices.BinarySearch(sc.Closed, day.Format(dateLayout))
	return found
}

// beyondHorizon reports whether day is too far after today (in loc) to book.
func (sc *Schedule) beyondHorizon(day, now time.Time, loc *time.Location) bool {
	return day.After(dayOf(now, loc).AddDate(0, 0, sc.horizon()))
}

// slotStarts lists the start of every slot on day by the weekly hours (it
// ignores closed days, the horizon and the clock). A slot must end by its
// period's close.
func (sc *Schedule) slotStarts(day time.Time, loc *time.Location) []time.Time {
	step := sc.slotLen()
	if step <= 0 {
		return nil
	}
	var out []time.Time
	for _, p := range sc.periods(day) {
		end := at(day, p.close, loc)
		for t := at(day, p.open, loc); !t.Add(step).After(end); t = t.Add(step) {
			out = append(out, t)
		}
	}
	return out
}

// isSlotStart reports whether start begins a slot of its own day (in loc)
// by the weekly hours, and returns that day.
func (sc *Schedule) isSlotStart(start time.Time, loc *time.Location) (time.Time, bool) {
	day := dayOf(start, loc)
	step := sc.slotLen()
	if step <= 0 {
		return day, false
	}
	for _, p := range sc.periods(day) {
		open, end := at(day, p.open, loc), at(day, p.close, loc)
		if !start.Before(open) && !start.Add(step).After(end) && start.Sub(open)%step == 0 {
			return day, true
		}
	}
	return day, false
}

// checkBookable decides whether a resident may take the slot at start now:
// it must be a slot start, not past, not on a closed day, within the
// horizon. It returns the slot's local day.
func (sc *Schedule) checkBookable(start, now time.Time, loc *time.Location) (time.Time, error) {
	day, ok := sc.isSlotStart(start, loc)
	switch {
	case !ok:
		return day, consult.Errorf(consult.ErrInvalid, CodeNotASlot, "start is not the start of a slot of this facility's schedule")
	case start.Before(now):
		return day, consult.Errorf(consult.ErrGone, CodeSlotInPast, "this slot has already started")
	case sc.closedOn(day):
		return day, consult.Errorf(consult.ErrConflict, CodeDayClosed, "the facility is closed on %s", day.Format(dateLayout))
	case sc.beyondHorizon(day, now, loc):
		return day, consult.Errorf(consult.ErrConflict, CodeBeyondHorizon, "bookings open %d days ahead", sc.horizon())
	}
	return day, nil
}
