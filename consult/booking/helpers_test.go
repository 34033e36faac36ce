package booking_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/storage"
)

// zones is a directory stand-in: facility ID → zone.
type zones map[string]*time.Location

func (z zones) BookableFacility(id string) (*time.Location, error) {
	loc, ok := z[id]
	if !ok {
		return nil, consult.Errorf(consult.ErrNotFound, "facility_not_found", "no such facility")
	}
	return loc, nil
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// Test facilities. hcm is Asia/Ho_Chi_Minh (UTC+7 all year).
const (
	stationA  = "66-TYT001"
	stationB  = "66-TYT002"
	kathmandu = "np-1"
	berlin    = "de-1"
)

type fixture struct {
	db    *storage.DB
	svc   *booking.Service
	clock *fakeClock
	hcm   *time.Location
	ctx   context.Context
}

// newFixture opens a real bbolt file and a Service whose clock reads now.
func newFixture(t testing.TB, now time.Time, opts *storage.Options) *fixture {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "db"), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	hcm := mustZone(t, "Asia/Ho_Chi_Minh")
	z := zones{stationA: hcm, stationB: hcm, kathmandu: mustZone(t, "Asia/Kathmandu"), berlin: mustZone(t, "Europe/Berlin")}
	clock := &fakeClock{t: now}
	return &fixture{
		db: db, clock: clock, hcm: hcm, ctx: context.Background(),
		svc: booking.New(db, z, booking.Options{Now: clock.Now}),
	}
}

// weekdays is mon–fri with the given intervals.
func weekdays(ivs ...booking.Interval) map[string][]booking.Interval {
	h := map[string][]booking.Interval{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		h[d] = ivs
	}
	return h
}

func (f *fixture) schedule(t testing.TB, sc booking.Schedule) booking.Schedule {
	t.Helper()
	out, err := f.svc.PutSchedule(f.ctx, "admin", sc)
	require.NoError(t, err)
	return out
}

// local is a wall time in Ho Chi Minh City.
func (f *fixture) local(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, f.hcm)
}

func (f *fixture) book(facility string, start time.Time) (booking.Appointment, error) {
	return f.svc.Book(f.ctx, "resident", booking.BookRequest{
		Facility: facility, Start: start, Name: "Nguyễn Thị Lan", Phone: "0912 345 678", Reason: "khám thai",
	})
}

// slotCount reads a slot counter straight from storage.
func (f *fixture) slotCount(t testing.TB, facility string, start time.Time) int {
	t.Helper()
	var n int
	require.NoError(t, f.db.View(func(tx *storage.Tx) error {
		_, err := tx.Get(storage.BucketApptByDay, facility+"/"+start.UTC().Format(time.RFC3339), &n)
		return err
	}))
	return n
}

func (f *fixture) audit(t testing.TB) []storage.AuditEntry {
	t.Helper()
	n, err := f.db.VerifyAudit()
	require.NoError(t, err)
	entries, err := f.db.AuditEntries(0, n+1)
	require.NoError(t, err)
	return entries
}

// requireCode asserts err is a *consult.Error of this kind and code.
func requireCode(t testing.TB, err error, kind error, code string) {
	t.Helper()
	var ce *consult.Error
	require.ErrorAs(t, err, &ce, "want %s", code)
	assert.Equal(t, code, ce.Code, ce.Message)
	assert.ErrorIs(t, err, kind)
}
