package stats_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/stats"
	"github.com/moinha/moinha/storage"
)

// Test facilities of province 66 and their levels.
const (
	station  = "66-TYT001"
	hospital = "66-BVDK01"
	gone     = "66-GONE"
)

type directory map[string]consult.Level

func (d directory) BookableFacility(id string) (*time.Location, error) {
	if _, ok := d[id]; !ok {
		return nil, consult.Errorf(consult.ErrNotFound, "facility_not_found", "no such facility")
	}
	return time.FixedZone("ICT", 7*3600), nil
}

func (d directory) level(id string) (consult.Level, error) {
	l, ok := d[id]
	if !ok || id == gone {
		return "", fmt.Errorf("no facility %s", id)
	}
	return l, nil
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// stage is one Stage call a test replicator saw.
type stage struct {
	kind, key string
	payload   []byte
}

// replicator records what Publish stages.
type replicator struct {
	mu     sync.Mutex // guards staged
	staged []stage
}

func (r *replicator) Stage(_ *storage.Tx, kind, key string, payload []byte, _ bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.staged = append(r.staged, stage{kind, key, payload})
	return nil
}

func (r *replicator) take() []stage {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.staged
	r.staged = nil
	return out
}

// callSource stands in for the calls service: fixed counts on one day.
type callSource struct{ day string }

func (s callSource) Tally(_ *storage.Tx, day string, t *stats.Tally) error {
	if day == s.day {
		t.AddAt(hospital, stats.MetricCalls("consult"), 6)
		t.AddAt(hospital, stats.MetricCallMinutes("consult"), 75)
		t.Add(consult.ProvincialHospital, stats.MetricCalls("conference"), 2)
	}
	return nil
}

type fixture struct {
	ctx   context.Context
	db    *storage.DB
	clock *clock
	book  *booking.Service
	stats *stats.Service
	repl  *replicator
	meta  stats.Meta
}

// newFixture: a real data file at 09:00 in Vietnam on 2 March 2026, a
// station and a hospital open around the clock with hourly slots.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "db"), &storage.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	dir := directory{station: consult.CommuneHealthStation, hospital: consult.ProvincialHospital, gone: consult.HealthCentre}
	c := &clock{t: time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)}
	f := &fixture{ctx: context.Background(), db: db, clock: c, repl: &replicator{},
		meta: stats.Meta{Version: "test", Started: c.Now().Add(-time.Hour), Interval: 5 * time.Minute}}
	f.stats = stats.New(db, stats.Options{Province: "66", LevelOf: dir.level, Now: c.Now,
		Sources: []stats.Source{callSource{day: "2026-03-02"}}})
	f.book = booking.New(db, dir, booking.Options{Now: c.Now, OnStatus: f.stats.CountAppointment})
	all := map[string][]booking.Interval{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		all[d] = []booking.Interval{{Open: "00:00", Close: "24:00"}}
	}
	for id := range dir {
		_, err := f.book.PutSchedule(f.ctx, "admin", booking.Schedule{Facility: id, SlotMinutes: 60, Capacity: 100, Hours: all})
		require.NoError(t, err)
	}
	return f
}

// bookN books n appointments at facility in the next hour's slot.
func (f *fixture) bookN(t *testing.T, facility string, n int) []booking.Appointment {
	t.Helper()
	start := f.clock.Now().Truncate(time.Hour).Add(time.Hour)
	var out []booking.Appointment
	for i := range n {
		a, err := f.book.Book(f.ctx, "resident", booking.BookRequest{Facility: facility, Start: start,
			Name: fmt.Sprintf("Người Bệnh %d", i), Phone: fmt.Sprintf("09120000%02d", i)})
		require.NoError(t, err)
		out = append(out, a)
	}
	return out
}

func (f *fixture) set(t *testing.T, as []booking.Appointment, status string) {
	t.Helper()
	for _, a := range as {
		_, err := f.book.SetStatus(f.ctx, "staff", a.Code, status)
		require.NoError(t, err)
	}
}

func TestTallyCountsBookingEventsByDayAndLevel(t *testing.T) {
	f := newFixture(t)
	st := f.bookN(t, station, 12)
	hs := f.bookN(t, hospital, 3)
	f.set(t, st[:7], booking.StatusArrived)
	f.set(t, st[7:9], booking.StatusCancelled)
	f.set(t, st[:5], booking.StatusFulfilled)
	_, err := f.book.Reschedule(f.ctx, "staff", hs[0].Code, hs[0].Start.Add(time.Hour))
	require.NoError(t, err) // no event
	gon := f.bookN(t, gone, 6)

	f.clock.Advance(2 * time.Hour) // past the slots: no-shows may be recorded
	f.set(t, st[9:], booking.StatusNoShow)
	f.set(t, hs[1:], booking.StatusNoShow)

	tl, err := f.stats.Tally("2026-03-02")
	require.NoError(t, err)
	cs, ph := consult.CommuneHealthStation, consult.ProvincialHospital
	for _, tc := range []struct {
		level  consult.Level
		metric string
		want   int64
	}{
		{cs, stats.MetricBookings, 12}, {cs, stats.MetricCheckIns, 7}, {cs, stats.MetricCancellations, 2},
		{cs, stats.MetricFulfilled, 5}, {cs, stats.MetricNoShows, 3},
		{ph, stats.MetricBookings, 3}, {ph, stats.MetricNoShows, 2}, {ph, stats.MetricCheckIns, 0},
		{ph, stats.MetricCalls("consult"), 6}, {ph, stats.MetricCallMinutes("consult"), 75}, {ph, stats.MetricCalls("conference"), 2},
		{stats.LevelUnattributed, stats.MetricBookings, int64(len(gon))},
	} {
		assert.Equal(t, tc.want, tl.Count(tc.level, tc.metric), "%s %s", tc.level, tc.metric)
	}
	other, err := f.stats.Tally("2026-03-01")
	require.NoError(t, err)
	assert.Empty(t, other.Levels(), "events count on the day they happen")

	r, err := f.stats.Build("2026-03-02", f.meta)
	require.NoError(t, err)
	assert.Equal(t, int64(3*3600), r.UptimeSeconds, "started an hour before the fixture, two hours ago")
	for _, tc := range []struct {
		level  consult.Level
		metric string
		want   cell
	}{
		{cs, stats.MetricBookings, cell{12, false, true}},
		{cs, stats.MetricCheckIns, cell{7, false, true}},
		{cs, stats.MetricCancellations, cell{0, true, true}},
		{cs, stats.MetricNoShows, cell{0, true, true}},
		{ph, stats.MetricBookings, cell{0, true, true}},
		{ph, stats.MetricCheckIns, cell{0, false, true}},
		{ph, stats.MetricCalls("consult"), cell{6, false, true}},
		{ph, stats.MetricCallMinutes("consult"), cell{75, false, true}},
		{ph, stats.MetricCalls("conference"), cell{0, true, true}},
		{stats.LevelUnattributed, stats.MetricBookings, cell{6, false, true}},
	} {
		v, sup, ok := r.Value(tc.level, tc.metric)
		assert.Equal(t, tc.want, cell{v, sup, ok}, "%s %s", tc.level, tc.metric)
	}
	raw, err := r.Encode()
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "Người Bệnh")
	assert.NotContains(t, string(raw), "0912")
}

func TestPublishStagesOnlyWhatIsDue(t *testing.T) {
	f := newFixture(t)
	publish := func(backfill bool) []stage {
		t.Helper()
		_, err := f.stats.Publish(f.ctx, f.repl, f.meta, f.meta.Interval/2, backfill)
		require.NoError(t, err)
		return f.repl.take()
	}
	// The first round after a start: today only (the node was not running
	// on the earlier days: nothing counted, nothing reported).
	got := publish(true)
	require.Len(t, got, 1)
	assert.Equal(t, stage{stats.KindStats, "2026-03-02", got[0].payload}, got[0])

	// Nothing changed and the last report is fresh: nothing to stage.
	f.clock.Advance(time.Minute)
	assert.Empty(t, publish(false))

	// A booking changes today's content: staged at once.
	f.bookN(t, station, 5)
	got = publish(false)
	require.Len(t, got, 1)
	var r stats.Report
	require.NoError(t, json.Unmarshal(got[0].payload, &r))
	v, _, _ := r.Value(consult.CommuneHealthStation, stats.MetricBookings)
	assert.Equal(t, int64(5), v)

	// Unchanged but a heartbeat old: staged again so the observer knows
	// the province is alive.
	f.clock.Advance(3 * time.Minute)
	assert.Len(t, publish(false), 1)

	// Bookings late in the day, then midnight passes before the next
	// round: yesterday's final counts go out once, and today's first.
	f.clock.Advance(14*time.Hour + 50*time.Minute) // 23:54 in Vietnam
	f.bookN(t, station, 1)
	f.clock.Advance(10 * time.Minute)
	got = publish(false)
	require.Len(t, got, 2)
	assert.Equal(t, []string{"2026-03-02", "2026-03-03"}, []string{got[0].key, got[1].key})
	assert.Empty(t, publish(false))

	// A restart after days away backfills a day whose last events were
	// never published, and never invents the days it was down.
	f.clock.Advance(-10 * time.Minute)
	f.bookN(t, hospital, 2) // 23:54 on the 2nd again: a change after its last report
	f.clock.Advance(4*24*time.Hour + 10*time.Minute)
	got = publish(true)
	keys := []string{}
	for _, s := range got {
		keys = append(keys, s.key)
	}
	assert.Equal(t, []string{"2026-03-02", "2026-03-07"}, keys)

	// The history holds this node's own reports.
	entries, next, err := f.stats.History(stats.Query{From: "2026-03-01", To: "2026-03-31"})
	require.NoError(t, err)
	assert.Empty(t, next)
	days := []string{}
	for _, e := range entries {
		assert.Equal(t, "66", e.Province)
		days = append(days, e.Day)
	}
	assert.Equal(t, []string{"2026-03-02", "2026-03-03", "2026-03-07"}, days)
}

func TestHistoryAndReporting(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	report := func(province, day string, reported time.Time, bookings int64) []byte {
		raw, err := json.Marshal(stats.Report{Schema: 1, Province: province, Day: day, Reported: reported, IntervalSeconds: 300,
			Levels: []stats.LevelReport{{Level: consult.CommuneHealthStation, Values: map[string]*int64{stats.MetricBookings: &bookings}}}})
		require.NoError(t, err)
		return raw
	}
	apply := func(origin, province, key string, payload []byte) error {
		return f.db.Update(f.ctx, func(tx *storage.Tx) error {
			return f.stats.Apply(tx, origin, province, key, payload, false)
		})
	}
	// Province 79 reported 28 Feb – 2 Mar; 01 reported 25 Feb, then fell
	// silent; 48 never reported.
	for i, day := range []string{"2026-02-28", "2026-03-01", "2026-03-02"} {
		require.NoError(t, apply("peerA", "79", day, report("79", day, now.Add(time.Duration(i-2)*time.Hour), 10)))
	}
	require.NoError(t, apply("peerB", "01", "2026-02-25", report("01", "2026-02-25", now.AddDate(0, 0, -5), 3)))
	require.NoError(t, apply("peerB", "01", "referrals", []byte(`{"not":"a daily report"}`)), "other keys are ignored")
	err := apply("peerC", "48", "2026-03-02", report("79", "2026-03-02", now, 10))
	require.ErrorIs(t, err, stats.ErrMalformed, "a report must name its member's province")

	entries, _, err := f.stats.History(stats.Query{From: "2026-02-01", To: "2026-03-02"})
	require.NoError(t, err)
	require.Len(t, entries, 4)
	v, sup, _ := entries[0].Value(consult.CommuneHealthStation, stats.MetricBookings)
	assert.Equal(t, "01", entries[0].Province)
	assert.True(t, sup, "stored suppressed, whatever the member sent")
	assert.Zero(t, v)

	page1, next, err := f.stats.History(stats.Query{Province: "79", From: "2026-02-01", To: "2026-03-02", Limit: 2})
	require.NoError(t, err)
	require.Len(t, page1, 2)
	require.NotEmpty(t, next)
	page2, next, err := f.stats.History(stats.Query{Province: "79", From: "2026-02-01", To: "2026-03-02", Limit: 2, Cursor: next})
	require.NoError(t, err)
	assert.Empty(t, next)
	require.Len(t, page2, 1)
	assert.Equal(t, "2026-03-02", page2[0].Day)

	skipped, _, err := f.stats.History(stats.Query{From: "2026-02-01", To: "2026-03-02", Skip: func(o string) bool { return o == "peerA" }})
	require.NoError(t, err)
	assert.Len(t, skipped, 1, "a revoked member's reports are left out")

	rows, err := f.stats.Reporting([]stats.Member{{Province: "01", Online: true}, {Province: "48"}, {Province: "79", Online: true}},
		"2026-02-24", "2026-03-02", now, 5*time.Minute)
	require.NoError(t, err)
	require.Len(t, rows, 3)
	byProvince := map[string]stats.Reporting{}
	for _, r := range rows {
		byProvince[r.Province] = r
	}
	r01, r48, r79 := byProvince["01"], byProvince["48"], byProvince["79"]
	assert.Equal(t, [2]int{6, 1}, [2]int{r01.ExpectedDays, r01.ReceivedDays}, "01: from its first report on the 25th")
	assert.True(t, r01.NotReporting)
	assert.Equal(t, [2]int{7, 0}, [2]int{r48.ExpectedDays, r48.ReceivedDays})
	assert.True(t, r48.NotReporting)
	assert.Nil(t, r48.LastReport)
	assert.Equal(t, [2]int{3, 3}, [2]int{r79.ExpectedDays, r79.ReceivedDays})
	require.NotNil(t, r79.Rate)
	assert.InDelta(t, 1.0, *r79.Rate, 1e-9)
	assert.False(t, r79.NotReporting)
	assert.Equal(t, "2026-03-02", r79.LastDay)

	// Ten minutes later (two of 79's five-minute intervals) it is flagged.
	rows, err = f.stats.Reporting([]stats.Member{{Province: "79"}}, "2026-03-02", "2026-03-02", now.Add(10*time.Minute+time.Second), time.Hour)
	require.NoError(t, err)
	assert.True(t, rows[0].NotReporting)
}
