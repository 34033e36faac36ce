package booking_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/storage"
)

// other is a second Service over the fixture's file: its PutSchedule
// changes a schedule behind the back of f.svc, whose cache then holds the
// old one. Every decision of f.svc must still follow the stored schedule.
func (f *fixture) other() *booking.Service {
	return booking.New(f.db, zones{stationA: f.hcm, stationB: f.hcm}, booking.Options{Now: f.clock.Now})
}

func TestBookFollowsAScheduleChangedElsewhere(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, stationSchedule(stationA)) // capacity 3, 07:00–11:30 and 13:30–16:30
	nine := f.local(2030, 3, 5, 9, 0)
	_, err := f.book(stationA, nine) // f.svc now caches the schedule
	require.NoError(t, err)
	slots, err := f.svc.Slots(stationA, "2030-03-05")
	require.NoError(t, err)
	require.Equal(t, 2, slots[4].Free)

	sc := stationSchedule(stationA)
	sc.Capacity = 1
	_, err = f.other().PutSchedule(f.ctx, "admin", sc)
	require.NoError(t, err)
	_, err = f.book(stationA, nine)
	requireCode(t, err, consult.ErrConflict, "slot_full")
	slots, err = f.svc.Slots(stationA, "2030-03-05")
	require.NoError(t, err)
	assert.Equal(t, 0, slots[4].Free)

	// Hours moved: 07:00 is no slot any more, 17:00 now is.
	sc.Capacity = 3
	sc.Hours = weekdays(booking.Interval{Open: "09:00", Close: "18:00"})
	_, err = f.other().PutSchedule(f.ctx, "admin", sc)
	require.NoError(t, err)
	_, err = f.book(stationA, f.local(2030, 3, 5, 7, 0))
	requireCode(t, err, consult.ErrInvalid, "not_a_slot")
	seventeen, err := f.book(stationA, f.local(2030, 3, 5, 17, 0))
	require.NoError(t, err, "refused only on the stored schedule, never on a cached one")
	assert.Equal(t, "2030-03-05T17:30:00+07:00", seventeen.End.Format(time.RFC3339))

	// Slot length changed: the appointment's end follows the new one.
	sc.SlotMinutes = 60
	_, err = f.other().PutSchedule(f.ctx, "admin", sc)
	require.NoError(t, err)
	ten, err := f.book(stationA, f.local(2030, 3, 5, 10, 0))
	require.NoError(t, err)
	assert.Equal(t, "2030-03-05T11:00:00+07:00", ten.End.Format(time.RFC3339))
	moved, err := f.svc.Reschedule(f.ctx, "resident", ten.Code, f.local(2030, 3, 5, 12, 0))
	require.NoError(t, err)
	assert.Equal(t, "2030-03-05T13:00:00+07:00", moved.End.Format(time.RFC3339))

	// The schedule is gone: nothing books on the cached one.
	require.NoError(t, f.db.Update(f.ctx, func(tx *storage.Tx) error { return tx.Delete(storage.BucketSchedules, stationA) }))
	_, err = f.book(stationA, f.local(2030, 3, 5, 14, 0))
	requireCode(t, err, consult.ErrNotFound, "schedule_not_found")
	_, err = f.svc.Slots(stationA, "2030-03-05")
	requireCode(t, err, consult.ErrNotFound, "schedule_not_found")
}

// Bookings racing schedule changes never exceed the capacity of the
// schedule their own transaction read: with capacity 1 set while 100
// bookings run, at most the seats taken under capacity 3 remain.
func TestBookRacingScheduleChanges(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, stationSchedule(stationA))
	start := f.local(2030, 3, 5, 9, 0)
	other := f.other()
	var wg sync.WaitGroup
	ready := make(chan struct{})
	const n = 100
	ok := make([]bool, n)
	for i := range n {
		wg.Go(func() {
			<-ready
			_, err := f.book(stationA, start)
			ok[i] = err == nil
		})
	}
	wg.Go(func() {
		<-ready
		for c := range 6 {
			sc := stationSchedule(stationA)
			sc.Capacity = 1 + c%3
			_, err := other.PutSchedule(f.ctx, "admin", sc)
			assert.NoError(t, err)
		}
	})
	close(ready)
	wg.Wait()
	booked := 0
	for _, b := range ok {
		if b {
			booked++
		}
	}
	assert.LessOrEqual(t, booked, 3)
	assert.Equal(t, booked, f.slotCount(t, stationA, start))

	sc := stationSchedule(stationA)
	sc.Capacity = 1
	_, err := other.PutSchedule(f.ctx, "admin", sc)
	require.NoError(t, err)
	_, err = f.book(stationA, start)
	requireCode(t, err, consult.ErrConflict, "slot_full")
}

// Appointment IDs begin with the creation time, so they sort by it.
func TestAppointmentIDsSortByCreation(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, stationSchedule(stationA))
	prev := ""
	for i := range 5 {
		f.clock.Set(monday6am.Add(time.Duration(i) * time.Millisecond))
		a, err := f.book(stationA, f.local(2030, 3, 5, 7, 0).Add(time.Duration(i)*30*time.Minute))
		require.NoError(t, err)
		require.Regexp(t, `^[0-9a-f]{32}$`, a.ID)
		assert.Greater(t, a.ID, prev)
		prev = a.ID
	}
}
