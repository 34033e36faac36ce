package booking_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
)

// monday6am is Monday 4 March 2030, 06:00 in Ho Chi Minh City.
var monday6am = time.Date(2030, 3, 4, 6, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// stationSchedule: weekdays 07:00–11:30 and 13:30–16:30, 30-minute slots,
// 3 residents each, closed Wednesday 6 March, bookable 14 days ahead.
func stationSchedule(facility string) booking.Schedule {
	return booking.Schedule{
		Facility: facility, SlotMinutes: 30, Capacity: 3, HorizonDays: 14,
		Hours:  weekdays(booking.Interval{Open: "13:30", Close: "16:30"}, booking.Interval{Open: "07:00", Close: "11:30"}),
		Closed: []string{"2030-03-06", "2030-03-06", "2030-01-01"},
	}
}

func TestPutScheduleValidates(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	require.Equal(t, time.Monday, monday6am.Weekday())
	ok := stationSchedule(stationA)
	tests := []struct {
		name string
		edit func(*booking.Schedule)
		code string
	}{
		{"slot too short", func(s *booking.Schedule) { s.SlotMinutes = 4 }, "invalid_slot_minutes"},
		{"slot too long", func(s *booking.Schedule) { s.SlotMinutes = 241 }, "invalid_slot_minutes"},
		{"no capacity", func(s *booking.Schedule) { s.Capacity = 0 }, "invalid_capacity"},
		{"capacity too big", func(s *booking.Schedule) { s.Capacity = 101 }, "invalid_capacity"},
		{"horizon negative", func(s *booking.Schedule) { s.HorizonDays = -1 }, "invalid_horizon_days"},
		{"horizon too far", func(s *booking.Schedule) { s.HorizonDays = 366 }, "invalid_horizon_days"},
		{"weekday name", func(s *booking.Schedule) { s.Hours = map[string][]booking.Interval{"monday": {{"07:00", "11:00"}}} }, "invalid_hours"},
		{"time without zero", func(s *booking.Schedule) { s.Hours = map[string][]booking.Interval{"mon": {{"7:00", "11:00"}}} }, "invalid_hours"},
		{"hour 25", func(s *booking.Schedule) { s.Hours = map[string][]booking.Interval{"mon": {{"07:00", "25:00"}}} }, "invalid_hours"},
		{"minute 60", func(s *booking.Schedule) { s.Hours = map[string][]booking.Interval{"mon": {{"07:60", "11:00"}}} }, "invalid_hours"},
		{"opens at 24:00", func(s *booking.Schedule) { s.Hours = map[string][]booking.Interval{"mon": {{"24:00", "24:00"}}} }, "invalid_hours"},
		{"closes before open", func(s *booking.Schedule) { s.Hours = map[string][]booking.Interval{"mon": {{"11:00", "07:00"}}} }, "invalid_hours"},
		{"empty period", func(s *booking.Schedule) { s.Hours = map[string][]booking.Interval{"mon": {{"07:00", "07:00"}}} }, "invalid_hours"},
		{"shorter than a slot", func(s *booking.Schedule) { s.Hours = map[string][]booking.Interval{"mon": {{"07:00", "07:20"}}} }, "invalid_hours"},
		{"overlap", func(s *booking.Schedule) {
			s.Hours = map[string][]booking.Interval{"tue": {{"13:00", "17:00"}, {"07:00", "13:30"}}}
		}, "invalid_hours"},
		{"closed not a date", func(s *booking.Schedule) { s.Closed = []string{"2030-02-30"} }, "invalid_closed"},
		{"closed other format", func(s *booking.Schedule) { s.Closed = []string{"30/04/2030"} }, "invalid_closed"},
		{"no facility", func(s *booking.Schedule) { s.Facility = "" }, "invalid_facility"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.edit(&s)
			_, err := f.svc.PutSchedule(f.ctx, "admin", s)
			requireCode(t, err, consult.ErrInvalid, tc.code)
		})
	}
	bad := ok
	bad.Facility = "79-UNKNOWN"
	_, err := f.svc.PutSchedule(f.ctx, "admin", bad)
	requireCode(t, err, consult.ErrNotFound, "facility_not_found")

	_, err = f.svc.GetSchedule(stationA)
	requireCode(t, err, consult.ErrNotFound, "schedule_not_found")
}

func TestPutScheduleNormalizesAndStores(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	in := stationSchedule(stationA)
	in.Hours["sat"] = []booking.Interval{{"07:00", "12:00"}, {"12:00", "24:00"}} // touching is fine; 24:00 closes at midnight
	got := f.schedule(t, in)
	assert.Equal(t, []booking.Interval{{"07:00", "11:30"}, {"13:30", "16:30"}}, got.Hours["mon"])
	assert.Equal(t, []string{"2030-01-01", "2030-03-06"}, got.Closed)
	assert.Equal(t, monday6am.UTC(), got.Updated)

	stored, err := f.svc.GetSchedule(stationA)
	require.NoError(t, err)
	assert.Equal(t, got, stored)

	entries := f.audit(t)
	require.Len(t, entries, 1)
	assert.Equal(t, "schedule.put", entries[0].Action)
	assert.Equal(t, "facility:"+stationA, entries[0].Subject)
}

func TestSlotsTimezones(t *testing.T) {
	f := newFixture(t, monday6am.Add(-24*time.Hour), nil)
	morning := booking.Schedule{SlotMinutes: 30, Capacity: 2, Hours: weekdays(booking.Interval{"07:00", "11:30"})}

	t.Run("Ho Chi Minh City", func(t *testing.T) {
		sc := morning
		sc.Facility = stationA
		f.schedule(t, sc)
		slots, err := f.svc.Slots(stationA, "2030-03-04")
		require.NoError(t, err)
		require.Len(t, slots, 9)
		assert.Equal(t, time.Date(2030, 3, 4, 0, 0, 0, 0, time.UTC), slots[0].Start.UTC(), "07:00 at UTC+7 is 00:00Z")
		assert.Equal(t, time.Date(2030, 3, 4, 4, 30, 0, 0, time.UTC), slots[8].End.UTC())
		assert.Equal(t, 2, slots[0].Free)
		raw, err := json.Marshal(slots[0])
		require.NoError(t, err)
		assert.JSONEq(t, `{"start":"2030-03-04T07:00:00+07:00","end":"2030-03-04T07:30:00+07:00","free":2}`, string(raw))
	})
	t.Run("Kathmandu, UTC+05:45", func(t *testing.T) {
		sc := morning
		sc.Facility = kathmandu
		f.schedule(t, sc)
		slots, err := f.svc.Slots(kathmandu, "2030-03-04")
		require.NoError(t, err)
		require.Len(t, slots, 9)
		assert.Equal(t, time.Date(2030, 3, 4, 1, 15, 0, 0, time.UTC), slots[0].Start.UTC())
		assert.Equal(t, "2030-03-04T07:00:00+05:45", slots[0].Start.Format(time.RFC3339))
	})
	t.Run("Berlin, spring forward", func(t *testing.T) {
		// On 31 March 2030 Berlin's clocks jump from 02:00 to 03:00: the
		// 01:00–04:00 period is two hours long and has two hourly slots.
		f.clock.Set(time.Date(2030, 3, 25, 0, 0, 0, 0, time.UTC))
		f.schedule(t, booking.Schedule{Facility: berlin, SlotMinutes: 60, Capacity: 1,
			Hours: map[string][]booking.Interval{"sun": {{"01:00", "04:00"}}}})
		slots, err := f.svc.Slots(berlin, "2030-03-31")
		require.NoError(t, err)
		require.Len(t, slots, 2)
		assert.Equal(t, "2030-03-31T01:00:00+01:00", slots[0].Start.Format(time.RFC3339))
		assert.Equal(t, "2030-03-31T03:00:00+02:00", slots[1].Start.Format(time.RFC3339))
		_, err = f.book(berlin, slots[1].Start)
		require.NoError(t, err)
	})
}

func TestSlotsWindow(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, stationSchedule(stationA))

	slots, err := f.svc.Slots(stationA, "2030-03-04")
	require.NoError(t, err)
	require.Len(t, slots, 15, "9 morning and 6 afternoon slots")
	for i := 1; i < len(slots); i++ {
		assert.True(t, slots[i-1].Start.Before(slots[i].Start), "ordered")
	}
	assert.Equal(t, f.local(2030, 3, 4, 13, 30), slots[9].Start)

	f.clock.Set(f.local(2030, 3, 4, 9, 10))
	slots, err = f.svc.Slots(stationA, "2030-03-04")
	require.NoError(t, err)
	require.NotEmpty(t, slots)
	assert.Equal(t, f.local(2030, 3, 4, 9, 30), slots[0].Start, "slots that have started are gone")
	f.clock.Set(f.local(2030, 3, 4, 9, 30))
	slots, err = f.svc.Slots(stationA, "2030-03-04")
	require.NoError(t, err)
	assert.Equal(t, f.local(2030, 3, 4, 9, 30), slots[0].Start, "a slot starting now is still open")

	_, err = f.book(stationA, f.local(2030, 3, 5, 8, 0))
	require.NoError(t, err)
	slots, err = f.svc.Slots(stationA, "2030-03-05")
	require.NoError(t, err)
	assert.Equal(t, 3, slots[1].Free)
	assert.Equal(t, 2, slots[2].Free, "08:00 has one booking")

	for date, why := range map[string]string{
		"2030-03-06": "closed day",
		"2030-03-09": "Saturday: no hours",
		"2030-03-19": "beyond the 14-day horizon",
		"2030-03-03": "yesterday",
	} {
		slots, err := f.svc.Slots(stationA, date)
		require.NoError(t, err, why)
		assert.Empty(t, slots, why)
		assert.NotNil(t, slots, "an empty list, not null, in JSON")
	}
	slots, err = f.svc.Slots(stationA, "2030-03-18")
	require.NoError(t, err)
	assert.Len(t, slots, 15, "the last day of the horizon")

	for _, bad := range []string{"", "2030-3-4", "2030-02-29", "04/03/2030", "2030-03-04T00:00:00Z", "tomorrow"} {
		_, err := f.svc.Slots(stationA, bad)
		requireCode(t, err, consult.ErrInvalid, "invalid_date")
	}
	_, err = f.svc.Slots("79-NOPE", "2030-03-04")
	requireCode(t, err, consult.ErrNotFound, "facility_not_found")
	_, err = f.svc.Slots(stationB, "2030-03-04")
	requireCode(t, err, consult.ErrNotFound, "schedule_not_found")
}

func TestSlotsNeverNegative(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, stationSchedule(stationA))
	start := f.local(2030, 3, 5, 7, 0)
	for range 3 {
		_, err := f.book(stationA, start)
		require.NoError(t, err)
	}
	smaller := stationSchedule(stationA)
	smaller.Capacity = 1
	f.schedule(t, smaller)
	slots, err := f.svc.Slots(stationA, "2030-03-05")
	require.NoError(t, err)
	assert.Equal(t, 0, slots[0].Free)
	_, err = f.book(stationA, start)
	requireCode(t, err, consult.ErrConflict, "slot_full")
}
