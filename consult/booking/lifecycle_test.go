package booking_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
)

// oneSeat is stationSchedule with capacity 1.
func oneSeat(facility string) booking.Schedule {
	sc := stationSchedule(facility)
	sc.Capacity = 1
	return sc
}

func TestCancelFreesTheSeat(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, oneSeat(stationA))
	start := f.local(2030, 3, 5, 8, 0)

	first, err := f.book(stationA, start)
	require.NoError(t, err)
	_, err = f.book(stationA, start)
	requireCode(t, err, consult.ErrConflict, "slot_full")

	cancelled, err := f.svc.Cancel(f.ctx, "resident", strings.ToLower(first.Code))
	require.NoError(t, err)
	assert.Equal(t, booking.StatusCancelled, cancelled.Status)
	assert.Equal(t, 0, f.slotCount(t, stationA, start))

	second, err := f.book(stationA, start)
	require.NoError(t, err, "the cancelled seat is free again")
	assert.NotEqual(t, first.Code, second.Code)
	assert.Equal(t, 1, f.slotCount(t, stationA, start))

	_, err = f.svc.Cancel(f.ctx, "resident", first.Code)
	requireCode(t, err, consult.ErrConflict, "already_cancelled")
	assert.Equal(t, 1, f.slotCount(t, stationA, start), "a second cancel releases nothing")

	got, err := f.svc.Get(f.ctx, "staff", first.Code)
	require.NoError(t, err)
	assert.Equal(t, booking.StatusCancelled, got.Status)

	entries := f.audit(t)
	last := entries[len(entries)-1]
	assert.Equal(t, "appointment.read", last.Action)
	assert.Equal(t, "appointment.cancel", entries[len(entries)-3].Action)
	assert.Equal(t, "booked->cancelled", entries[len(entries)-3].Detail)
}

func TestReschedule(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, oneSeat(stationA))
	slot1, slot2, slot3 := f.local(2030, 3, 5, 8, 0), f.local(2030, 3, 5, 8, 30), f.local(2030, 3, 7, 14, 0)

	a, err := f.book(stationA, slot1)
	require.NoError(t, err)
	b, err := f.book(stationA, slot2)
	require.NoError(t, err)

	_, err = f.svc.Reschedule(f.ctx, "resident", a.Code, slot2)
	requireCode(t, err, consult.ErrConflict, "slot_full")
	still, err := f.svc.Get(f.ctx, "resident", a.Code)
	require.NoError(t, err)
	assert.Equal(t, a, still, "a refused move leaves the booking as it was")
	assert.Equal(t, 1, f.slotCount(t, stationA, slot1))
	assert.Equal(t, 1, f.slotCount(t, stationA, slot2))

	for _, bad := range []struct {
		start time.Time
		kind  error
		code  string
	}{
		{f.local(2030, 3, 5, 8, 10), consult.ErrInvalid, "not_a_slot"},
		{f.local(2030, 3, 4, 5, 30), consult.ErrInvalid, "not_a_slot"},
		{f.local(2030, 3, 6, 8, 0), consult.ErrConflict, "day_closed"},
		{f.local(2030, 3, 29, 8, 0), consult.ErrConflict, "beyond_horizon"},
	} {
		_, err = f.svc.Reschedule(f.ctx, "resident", a.Code, bad.start)
		requireCode(t, err, bad.kind, bad.code)
	}
	f.clock.Set(f.local(2030, 3, 4, 10, 1))
	_, err = f.svc.Reschedule(f.ctx, "resident", a.Code, f.local(2030, 3, 4, 10, 0))
	requireCode(t, err, consult.ErrGone, "slot_in_past")

	moved, err := f.svc.Reschedule(f.ctx, "resident", a.Code, slot3.UTC())
	require.NoError(t, err)
	assert.Equal(t, a.ID, moved.ID)
	assert.Equal(t, a.Code, moved.Code)
	assert.Equal(t, booking.StatusBooked, moved.Status)
	assert.Equal(t, "2030-03-07T14:00:00+07:00", moved.Start.Format(time.RFC3339))
	assert.Equal(t, "2030-03-07", moved.Day)
	assert.Equal(t, 0, f.slotCount(t, stationA, slot1), "old seat released")
	assert.Equal(t, 1, f.slotCount(t, stationA, slot3), "new seat taken")

	tue, err := f.svc.Desk(f.ctx, "staff", stationA, "2030-03-05")
	require.NoError(t, err)
	require.Len(t, tue, 1)
	assert.Equal(t, b.ID, tue[0].ID)
	thu, err := f.svc.Desk(f.ctx, "staff", stationA, "2030-03-07")
	require.NoError(t, err)
	require.Len(t, thu, 1)
	assert.Equal(t, a.ID, thu[0].ID)

	same, err := f.svc.Reschedule(f.ctx, "resident", a.Code, slot3)
	require.NoError(t, err, "moving to the slot it holds changes nothing")
	assert.Equal(t, slot3, same.Start)
	assert.Equal(t, 1, f.slotCount(t, stationA, slot3))

	_, err = f.book(stationA, slot1)
	require.NoError(t, err, "the old slot can be booked again")

	_, err = f.svc.Cancel(f.ctx, "resident", a.Code)
	require.NoError(t, err)
	_, err = f.svc.Reschedule(f.ctx, "resident", a.Code, slot2.Add(time.Hour))
	requireCode(t, err, consult.ErrConflict, "not_booked")
	_, err = f.svc.Reschedule(f.ctx, "resident", a.Code, time.Time{})
	requireCode(t, err, consult.ErrInvalid, "invalid_start")
}

func TestSetStatus(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, stationSchedule(stationA))
	start := f.local(2030, 3, 4, 8, 0)
	a, err := f.book(stationA, start)
	require.NoError(t, err)
	b, err := f.book(stationA, start)
	require.NoError(t, err)

	_, err = f.svc.SetStatus(f.ctx, "staff", a.Code, "booked")
	requireCode(t, err, consult.ErrInvalid, "invalid_status")
	_, err = f.svc.SetStatus(f.ctx, "staff", a.Code, "done")
	requireCode(t, err, consult.ErrInvalid, "invalid_status")
	_, err = f.svc.SetStatus(f.ctx, "staff", a.Code, booking.StatusFulfilled)
	requireCode(t, err, consult.ErrConflict, "invalid_transition")
	_, err = f.svc.SetStatus(f.ctx, "staff", b.Code, booking.StatusNoShow)
	requireCode(t, err, consult.ErrConflict, "too_early")

	got, err := f.svc.SetStatus(f.ctx, "staff", a.Code, booking.StatusArrived)
	require.NoError(t, err)
	assert.Equal(t, booking.StatusArrived, got.Status)
	_, err = f.svc.SetStatus(f.ctx, "staff", a.Code, booking.StatusArrived)
	requireCode(t, err, consult.ErrConflict, "invalid_transition")
	_, err = f.svc.Cancel(f.ctx, "resident", a.Code)
	requireCode(t, err, consult.ErrConflict, "invalid_transition")
	_, err = f.svc.SetStatus(f.ctx, "staff", a.Code, booking.StatusNoShow)
	requireCode(t, err, consult.ErrConflict, "invalid_transition")
	got, err = f.svc.SetStatus(f.ctx, "staff", a.Code, booking.StatusFulfilled)
	require.NoError(t, err)
	assert.Equal(t, booking.StatusFulfilled, got.Status)
	for _, to := range []string{booking.StatusArrived, booking.StatusCancelled, booking.StatusNoShow} {
		_, err = f.svc.SetStatus(f.ctx, "staff", a.Code, to)
		requireCode(t, err, consult.ErrConflict, "invalid_transition")
	}
	assert.Equal(t, 2, f.slotCount(t, stationA, start), "arrival and fulfilment keep the seat")

	f.clock.Set(start.Add(45 * time.Minute))
	got, err = f.svc.SetStatus(f.ctx, "staff", b.Code, booking.StatusNoShow)
	require.NoError(t, err)
	assert.Equal(t, booking.StatusNoShow, got.Status)
	assert.Equal(t, start.Add(45*time.Minute).UTC(), got.Updated)
	_, err = f.svc.SetStatus(f.ctx, "staff", b.Code, booking.StatusArrived)
	requireCode(t, err, consult.ErrConflict, "invalid_transition")

	entries := f.audit(t)
	var moves []string
	for _, e := range entries {
		if e.Action == "appointment.status" {
			moves = append(moves, e.Actor+" "+e.Detail)
		}
	}
	assert.Equal(t, []string{"staff booked->arrived", "staff arrived->fulfilled", "staff booked->noshow"}, moves)
}

func TestDesk(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, stationSchedule(stationA))
	f.schedule(t, stationSchedule(stationB))
	// Booked out of order; the desk lists by start.
	var want []string
	for _, hm := range [][2]int{{15, 0}, {7, 0}, {9, 30}, {7, 0}} {
		a, err := f.book(stationA, f.local(2030, 3, 5, hm[0], hm[1]))
		require.NoError(t, err)
		want = append(want, a.ID)
	}
	_, err := f.book(stationB, f.local(2030, 3, 5, 7, 0))
	require.NoError(t, err)
	_, err = f.book(stationA, f.local(2030, 3, 7, 7, 0))
	require.NoError(t, err)
	c, err := f.svc.Cancel(f.ctx, "resident", mustCode(t, f, want[2]))
	require.NoError(t, err)

	desk, err := f.svc.Desk(f.ctx, "staff", stationA, "2030-03-05")
	require.NoError(t, err)
	require.Len(t, desk, 4)
	for i := 1; i < len(desk); i++ {
		assert.False(t, desk[i].Start.Before(desk[i-1].Start), "ordered by start")
	}
	assert.ElementsMatch(t, []string{want[1], want[3]}, []string{desk[0].ID, desk[1].ID})
	assert.Equal(t, want[2], desk[2].ID)
	assert.Equal(t, booking.StatusCancelled, desk[2].Status, "cancelled appointments stay on the desk, marked")
	assert.Equal(t, c.Code, desk[2].Code)
	assert.Equal(t, want[0], desk[3].ID)
	assert.Equal(t, "2030-03-05T15:00:00+07:00", desk[3].Start.Format(time.RFC3339))

	empty, err := f.svc.Desk(f.ctx, "staff", stationA, "2030-03-06")
	require.NoError(t, err)
	assert.NotNil(t, empty)
	assert.Empty(t, empty)

	entries := f.audit(t)
	n := len(entries)
	assert.Equal(t, "appointment.list", entries[n-2].Action)
	assert.Equal(t, "staff", entries[n-2].Actor)
	assert.Equal(t, "facility:"+stationA+"/2030-03-05", entries[n-2].Subject)
	assert.Equal(t, "4", entries[n-2].Detail)
	assert.Equal(t, "0", entries[n-1].Detail)

	_, err = f.svc.Desk(f.ctx, "staff", stationA, "2030-13-01")
	requireCode(t, err, consult.ErrInvalid, "invalid_date")
	_, err = f.svc.Desk(f.ctx, "staff", "79-NOPE", "2030-03-05")
	requireCode(t, err, consult.ErrNotFound, "facility_not_found")
}

func mustCode(t *testing.T, f *fixture, id string) string {
	t.Helper()
	desk, err := f.svc.Desk(f.ctx, "staff", stationA, "2030-03-05")
	require.NoError(t, err)
	for _, a := range desk {
		if a.ID == id {
			return a.Code
		}
	}
	t.Fatalf("no appointment %s", id)
	return ""
}

func TestUnknownCodes(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, stationSchedule(stationA))
	a, err := f.book(stationA, f.local(2030, 3, 5, 8, 0))
	require.NoError(t, err)
	before := len(f.audit(t))

	other := []byte(strings.ReplaceAll(a.Code, "-", ""))
	other[0] = map[bool]byte{true: '3', false: '2'}[other[0] == '2']
	for _, code := range []string{
		"", "ABCD", string(other), a.Code + "2", "O" + a.Code[1:], strings.Repeat("2", 500),
		strings.NewReplacer("2", "Z").Replace(a.Code[:4]) + "/" + a.Code[5:],
	} {
		_, err := f.svc.Get(f.ctx, "resident", code)
		requireCode(t, err, consult.ErrNotFound, "appointment_not_found")
		_, err = f.svc.Cancel(f.ctx, "resident", code)
		requireCode(t, err, consult.ErrNotFound, "appointment_not_found")
		_, err = f.svc.SetStatus(f.ctx, "staff", code, booking.StatusArrived)
		requireCode(t, err, consult.ErrNotFound, "appointment_not_found")
		_, err = f.svc.Reschedule(f.ctx, "resident", code, f.local(2030, 3, 5, 9, 0))
		requireCode(t, err, consult.ErrNotFound, "appointment_not_found")
	}
	assert.Len(t, f.audit(t), before, "failed lookups write nothing")
}
