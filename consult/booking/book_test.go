package booking_test

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/storage"
)

var codeShape = regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{5}$`)

func TestBookAndGet(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, stationSchedule(stationA))
	start := f.local(2030, 3, 5, 7, 30)

	a, err := f.svc.Book(f.ctx, "resident", booking.BookRequest{
		Facility: stationA, Start: start.UTC(), Name: "  Trần Văn Bình ", Phone: "+84 912.345.678",
		Reason: "đau lưng", BirthYear: 1961,
	})
	require.NoError(t, err)
	assert.Regexp(t, codeShape, a.Code)
	assert.Len(t, a.ID, 32)
	assert.Equal(t, booking.StatusBooked, a.Status)
	assert.Equal(t, "2030-03-05T07:30:00+07:00", a.Start.Format(time.RFC3339), "in the facility's zone")
	assert.Equal(t, "2030-03-05T08:00:00+07:00", a.End.Format(time.RFC3339))
	assert.Equal(t, "2030-03-05", a.Day)
	assert.Equal(t, "Trần Văn Bình", a.Name)
	assert.Equal(t, "+84912345678", a.Phone)
	assert.Equal(t, 1, f.slotCount(t, stationA, start))

	for _, typed := range []string{a.Code, strings.ToLower(a.Code), strings.ReplaceAll(a.Code, "-", ""), " " + strings.ReplaceAll(strings.ToLower(a.Code), "-", " ")} {
		got, err := f.svc.Get(f.ctx, "resident", typed)
		require.NoError(t, err, typed)
		assert.Equal(t, a, got)
	}

	entries := f.audit(t)
	require.Len(t, entries, 1+1+4, "schedule, create, 4 reads")
	assert.Equal(t, "appointment.create", entries[1].Action)
	assert.Equal(t, "resident", entries[1].Actor)
	assert.Equal(t, "appointment:"+a.ID, entries[1].Subject)
	assert.Equal(t, "appointment.read", entries[2].Action)
	for _, e := range entries {
		assert.NotContains(t, e.Subject+e.Detail, "Bình", "no patient data in the audit log")
	}
}

func TestBookValidatesRequest(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, stationSchedule(stationA))
	good := booking.BookRequest{Facility: stationA, Start: f.local(2030, 3, 5, 8, 0), Name: "Lê Thị Hoa", Phone: "0912345678"}
	tests := []struct {
		name string
		edit func(*booking.BookRequest)
		code string
	}{
		{"no name", func(r *booking.BookRequest) { r.Name = "   " }, "invalid_name"},
		{"long name", func(r *booking.BookRequest) { r.Name = strings.Repeat("ệ", 101) }, "invalid_name"},
		{"control in name", func(r *booking.BookRequest) { r.Name = "Hoa\x07" }, "invalid_name"},
		{"bad UTF-8", func(r *booking.BookRequest) { r.Name = "Hoa\xff" }, "invalid_name"},
		{"no phone", func(r *booking.BookRequest) { r.Phone = "" }, "invalid_phone"},
		{"short phone", func(r *booking.BookRequest) { r.Phone = "09123456" }, "invalid_phone"},
		{"long phone", func(r *booking.BookRequest) { r.Phone = "0912345678901" }, "invalid_phone"},
		{"foreign phone", func(r *booking.BookRequest) { r.Phone = "+1 415 555 0100" }, "invalid_phone"},
		{"letters in phone", func(r *booking.BookRequest) { r.Phone = "09123x5678" }, "invalid_phone"},
		{"plus inside", func(r *booking.BookRequest) { r.Phone = "09+12345678" }, "invalid_phone"},
		{"long reason", func(r *booking.BookRequest) { r.Reason = strings.Repeat("đ", 501) }, "invalid_reason"},
		{"born 1899", func(r *booking.BookRequest) { r.BirthYear = 1899 }, "invalid_birth_year"},
		{"born next year", func(r *booking.BookRequest) { r.BirthYear = 2031 }, "invalid_birth_year"},
		{"no start", func(r *booking.BookRequest) { r.Start = time.Time{} }, "invalid_start"},
		{"no facility", func(r *booking.BookRequest) { r.Facility = "" }, "invalid_facility"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.edit(&r)
			_, err := f.svc.Book(f.ctx, "resident", r)
			requireCode(t, err, consult.ErrInvalid, tc.code)
			var ce *consult.Error
			require.ErrorAs(t, err, &ce)
			for _, v := range []string{r.Name, r.Phone, r.Reason} {
				if len(strings.TrimSpace(v)) > 3 {
					assert.NotContains(t, ce.Message, v, "messages never echo patient data")
				}
			}
		})
	}
	for i, phone := range []string{"0912345678", "912345678", "+84912345678", "+84 28 3812 3456", "(028) 3812-3456", "84912345678"} {
		r := good
		r.Start = good.Start.Add(time.Duration(i) * 30 * time.Minute)
		r.Phone = phone
		r.Reason = strings.Repeat("đ", 500) + "\n"
		r.BirthYear = 2030
		_, err := f.svc.Book(f.ctx, "resident", r)
		require.NoError(t, err, phone)
		assert.Equal(t, 1, f.slotCount(t, stationA, r.Start))
	}
}

func TestBookChecksTheSlot(t *testing.T) {
	f := newFixture(t, f0(), nil)
	f.schedule(t, stationSchedule(stationA))
	tests := []struct {
		name  string
		start time.Time
		kind  error
		code  string
	}{
		{"between slots", f.local(2030, 3, 5, 7, 15), consult.ErrInvalid, "not_a_slot"},
		{"one second off", f.local(2030, 3, 5, 7, 30).Add(time.Second), consult.ErrInvalid, "not_a_slot"},
		{"lunch break", f.local(2030, 3, 5, 12, 0), consult.ErrInvalid, "not_a_slot"},
		{"runs past closing", f.local(2030, 3, 5, 11, 30), consult.ErrInvalid, "not_a_slot"},
		{"Sunday", f.local(2030, 3, 10, 8, 0), consult.ErrInvalid, "not_a_slot"},
		{"started an hour ago", f.local(2030, 3, 4, 8, 0), consult.ErrGone, "slot_in_past"},
		{"started a minute ago", f.local(2030, 3, 4, 9, 0), consult.ErrGone, "slot_in_past"},
		{"closed day", f.local(2030, 3, 6, 8, 0), consult.ErrConflict, "day_closed"},
		{"beyond horizon", f.local(2030, 3, 19, 8, 0), consult.ErrConflict, "beyond_horizon"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.book(stationA, tc.start)
			requireCode(t, err, tc.kind, tc.code)
		})
	}
	_, err := f.book(stationA, f.local(2030, 3, 4, 9, 30))
	require.NoError(t, err, "the slot that starts now")
	_, err = f.book(stationA, f.local(2030, 3, 18, 16, 0))
	require.NoError(t, err, "last slot of the horizon")

	_, err = f.book("79-NOPE", f.local(2030, 3, 5, 8, 0))
	requireCode(t, err, consult.ErrNotFound, "facility_not_found")
	_, err = f.book("66-TYT001/2030-03-05", f.local(2030, 3, 5, 8, 0))
	requireCode(t, err, consult.ErrNotFound, "facility_not_found")
	_, err = f.book(stationB, f.local(2030, 3, 5, 8, 0))
	requireCode(t, err, consult.ErrNotFound, "schedule_not_found")

	entries := f.audit(t)
	assert.Len(t, entries, 3, "refusals write nothing: schedule and two bookings")
}

// f0 is Monday 4 March 2030, 09:01 in Ho Chi Minh City.
func f0() time.Time { return monday6am.Add(3*time.Hour + time.Minute) }

func TestBookCapacityUnderContention(t *testing.T) {
	f := newFixture(t, monday6am, nil)
	f.schedule(t, stationSchedule(stationA)) // capacity 3
	start := f.local(2030, 3, 5, 9, 0)

	const n = 100
	errs := make([]error, n)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-ready
			_, errs[i] = f.book(stationA, start)
		})
	}
	close(ready)
	wg.Wait()

	ok, full := 0, 0
	for _, err := range errs {
		var ce *consult.Error
		switch {
		case err == nil:
			ok++
		case errors.As(err, &ce) && ce.Code == "slot_full" && errors.Is(err, consult.ErrConflict):
			full++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	assert.Equal(t, 3, ok)
	assert.Equal(t, 97, full)
	assert.Equal(t, 3, f.slotCount(t, stationA, start), "counter")
	desk, err := f.svc.Desk(f.ctx, "staff", stationA, "2030-03-05")
	require.NoError(t, err)
	assert.Len(t, desk, 3, "desk")
	slots, err := f.svc.Slots(stationA, "2030-03-05")
	require.NoError(t, err)
	assert.Equal(t, 0, slots[4].Free)
	assert.Equal(t, start, slots[4].Start)
}

// TestBookSurvivesBatchRetry mixes bookings with writes that fail after
// writing, which makes storage roll back and re-run the whole batch: every
// Book fn may run more than once, and the counters must stay exact.
func TestBookSurvivesBatchRetry(t *testing.T) {
	f := newFixture(t, monday6am, &storage.Options{NoSync: true})
	sc := stationSchedule(stationA)
	sc.Capacity = 5
	f.schedule(t, sc)
	starts := []time.Time{f.local(2030, 3, 5, 7, 0), f.local(2030, 3, 5, 7, 30)}

	const n = 60
	codes := make([]string, n)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-ready
			a, err := f.book(stationA, starts[i%2])
			if err == nil {
				codes[i] = a.Code
			}
		})
		wg.Go(func() {
			<-ready
			_ = f.db.Update(f.ctx, func(tx *storage.Tx) error {
				if err := tx.Put(storage.BucketSettings, "scratch", i); err != nil {
					return err
				}
				return errors.New("fail after writing")
			})
		})
	}
	close(ready)
	wg.Wait()

	booked := 0
	for _, c := range codes {
		if c == "" {
			continue
		}
		booked++
		a, err := f.svc.Get(f.ctx, "staff", c)
		require.NoError(t, err, "every code a caller got was committed")
		assert.Equal(t, booking.StatusBooked, a.Status)
	}
	assert.Equal(t, 10, booked)
	for _, s := range starts {
		assert.Equal(t, 5, f.slotCount(t, stationA, s))
	}
	desk, err := f.svc.Desk(f.ctx, "staff", stationA, "2030-03-05")
	require.NoError(t, err)
	assert.Len(t, desk, 10)
	var apps, codesN int
	require.NoError(t, f.db.View(func(tx *storage.Tx) error {
		var err error
		if apps, err = tx.Count(storage.BucketAppointments, ""); err != nil {
			return err
		}
		codesN, err = tx.Count(storage.BucketApptCodes, "")
		return err
	}))
	assert.Equal(t, 10, apps, "no orphan appointments from abandoned runs")
	assert.Equal(t, 10, codesN)
}
