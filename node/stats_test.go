package node_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/stats"
	"github.com/moinha/moinha/node"
)

// statsPage is GET /api/v1/network/stats's answer.
type statsPage struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Items []struct {
		Province        string               `json:"province"`
		Name            string               `json:"name"`
		Day             string               `json:"day"`
		Reported        time.Time            `json:"reported"`
		IntervalSeconds int64                `json:"interval_seconds"`
		Version         string               `json:"version"`
		UptimeSeconds   int64                `json:"uptime_seconds"`
		Levels          []stats.LevelReport  `json:"levels"`
		Availability    []stats.Availability `json:"availability"`
	} `json:"items"`
	Next string `json:"next"`
}

// reportingPage is GET /api/v1/network/reporting's answer.
type reportingPage struct {
	From  string            `json:"from"`
	To    string            `json:"to"`
	Now   time.Time         `json:"now"`
	Items []stats.Reporting `json:"items"`
}

func TestStatsAPIOnAProvinceNode(t *testing.T) {
	tn := newTestNode(t)
	admin, staff := tn.login(t, "admin"), tn.login(t, "staff")
	station := tn.stations(t)[0].ID
	seats := tn.seats(t, 6)
	var booked []appointment
	for _, s := range seats[:6] {
		booked = append(booked, tn.book(t, s.facility, s.start))
	}
	for _, a := range booked[:2] {
		tn.do(t, req{method: "POST", path: "/api/v1/appointments/" + a.Code + "/arrive", token: staff}).ok(t, http.StatusOK, nil)
	}
	tn.do(t, req{method: "PUT", path: "/api/v1/availability/cardiology", token: admin,
		body: map[string]any{"accepting": true, "capacity": 4, "wait_days": 3}}).ok(t, http.StatusOK, nil)
	staged, err := node.PublishStats(context.Background(), tn.Node)
	require.NoError(t, err)
	require.Equal(t, 1, staged)

	today := stats.Day(time.Now())
	var page statsPage
	tn.do(t, req{method: "GET", path: "/api/v1/network/stats", token: staff}).ok(t, http.StatusOK, &page)
	require.Len(t, page.Items, 1)
	it := page.Items[0]
	assert.Equal(t, [3]string{province, today, node.Version}, [3]string{it.Province, it.Day, it.Version})
	assert.Equal(t, []stats.Availability{{Specialty: "cardiology", Accepting: true, Capacity: 4, WaitDays: 3}}, it.Availability)
	rep := stats.Report{Levels: it.Levels}
	bookings := map[consult.Level]int64{}
	for _, s := range seats[:6] {
		f, err := tn.Directory().GetFacility(s.facility)
		require.NoError(t, err)
		bookings[f.Level]++
	}
	for level, n := range bookings {
		v, sup, ok := rep.Value(level, stats.MetricBookings)
		require.True(t, ok, level)
		assert.Equal(t, stats.Suppressed(n), sup, level)
		if !sup {
			assert.Equal(t, n, v, level)
		}
	}
	require.NotEmpty(t, station)

	// Filters: a level, a province, a range.
	tn.do(t, req{method: "GET", path: "/api/v1/network/stats?level=central_hospital", token: staff}).ok(t, http.StatusOK, &page)
	require.Len(t, page.Items, 1)
	assert.Empty(t, page.Items[0].Levels)
	tn.do(t, req{method: "GET", path: "/api/v1/network/stats?province=79", token: staff}).ok(t, http.StatusOK, &page)
	assert.Empty(t, page.Items)
	tn.do(t, req{method: "GET", path: "/api/v1/network/stats?from=2020-01-01&to=2020-01-31", token: staff}).ok(t, http.StatusOK, &page)
	assert.Empty(t, page.Items)
	assert.Equal(t, [2]string{"2020-01-01", "2020-01-31"}, [2]string{page.From, page.To})

	// The CSV: a byte-order mark, a header, one row per province, day,
	// level and metric; suppressed cells empty and flagged.
	res := tn.do(t, req{method: "GET", path: "/api/v1/network/stats.csv", token: staff})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	assert.Equal(t, "text/csv; charset=utf-8", res.header.Get("Content-Type"))
	assert.Contains(t, res.header.Get("Content-Disposition"), "attachment")
	require.True(t, bytes.HasPrefix(res.body, []byte("\uFEFF")))
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(res.body, []byte("\uFEFF")))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"province", "name", "day", "level", "metric", "value", "suppressed"}, rows[0])
	cells := 0
	for _, l := range it.Levels {
		cells += len(l.Values)
	}
	assert.Len(t, rows, 1+cells)
	for _, row := range rows[1:] {
		assert.Equal(t, province, row[0])
		assert.Equal(t, row[5] == "", row[6] == "true", "row %v", row)
	}

	// Reporting: this province, online, reported today.
	var rp reportingPage
	tn.do(t, req{method: "GET", path: "/api/v1/network/reporting", token: staff}).ok(t, http.StatusOK, &rp)
	require.Len(t, rp.Items, 1)
	r := rp.Items[0]
	assert.Equal(t, province, r.Province)
	assert.True(t, r.Online)
	assert.False(t, r.NotReporting)
	assert.Equal(t, 1, r.ReceivedDays)
	assert.Equal(t, 1, r.ExpectedDays, "expected from the first report on")
	assert.Equal(t, today, r.LastDay)

	// Anyone logged in; nobody else; bad filters named.
	tn.do(t, req{method: "GET", path: "/api/v1/network/stats"}).fails(t, http.StatusUnauthorized, "login_required")
	for path, code := range map[string]string{
		"/api/v1/network/stats?from=2026-13-01":                 "invalid_from",
		"/api/v1/network/stats?from=2026-03-02&to=2026-03-01":   "invalid_from",
		"/api/v1/network/stats?from=2024-01-01&to=2026-01-01":   "invalid_from",
		"/api/v1/network/stats?to=yesterday":                    "invalid_to",
		"/api/v1/network/stats?level=spa":                       "invalid_level",
		"/api/v1/network/stats?province=..%2F":                  "invalid_province",
		"/api/v1/network/stats?limit=0":                         "invalid_limit",
		"/api/v1/network/stats.csv?level=spa":                   "invalid_level",
		"/api/v1/network/reporting?from=2026-03-02&to=2026-03-": "invalid_to",
	} {
		tn.do(t, req{method: "GET", path: path, token: staff}).fails(t, http.StatusBadRequest, code)
	}

	// Operators' metrics.
	res = tn.do(t, req{method: "GET", path: "/metrics"})
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, string(res.body), "moinha_stats_reports_published_total")
	assert.Contains(t, string(res.body), `moinha_appointment_events_today{event="bookings"} 6`)
	assert.Contains(t, string(res.body), `moinha_appointment_events_today{event="checkins"} 2`)
}

// newObserverNode starts a lone observer node (users admin and observer).
func newObserverNode(t *testing.T) *testNode {
	t.Helper()
	dir := t.TempDir()
	_, err := node.Init(context.Background(), node.InitOptions{DataDir: dir, Province: "BYT", Name: "Bộ Y tế", Role: "observer"})
	require.NoError(t, err)
	return startNode(t, dir)
}

func TestObserverNodeIsReadOnly(t *testing.T) {
	tn := newObserverNode(t)
	require.Equal(t, "observer", tn.Config().Role)
	admin, observer := tn.login(t, "admin"), tn.login(t, "observer")
	before := snapshot(t, tn.DB())
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour).Format(time.RFC3339)
	for _, r := range []req{
		{method: "POST", path: "/api/v1/facilities", token: admin, body: map[string]any{"code": "OBS", "name": "Không được", "level": "health_centre"}},
		{method: "POST", path: "/api/v1/facilities/import", token: admin, body: "code,name,level\nOBS,X,health_centre\n", ctype: "text/csv"},
		{method: "DELETE", path: "/api/v1/facilities/BYT-OBS", token: admin},
		{method: "POST", path: "/api/v1/practitioners", token: admin, body: map[string]any{"name": "Bác sĩ", "role": "doctor"}},
		{method: "PUT", path: "/api/v1/facilities/BYT-OBS/schedule", token: admin, body: map[string]any{}},
		{method: "PUT", path: "/api/v1/availability/cardiology", token: admin, body: map[string]any{"accepting": true, "capacity": 1, "wait_days": 1}},
		{method: "POST", path: "/api/v1/appointments", body: map[string]any{"facility": "79-TYT001", "start": start, "name": "A", "phone": "0912000000"}},
		{method: "POST", path: "/api/v1/appointments/ABCD-EFGH-JKMNP/cancel"},
		{method: "POST", path: "/api/v1/referrals", token: observer, body: map[string]any{}},
		{method: "POST", path: "/api/v1/referrals/79-R1/accept", token: observer},
		{method: "POST", path: "/api/v1/calls", token: observer, body: map[string]any{"kind": "consult"}},
		{method: "GET", path: "/api/v1/calls/C1/signal", token: observer, header: map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}},
	} {
		res := tn.do(t, r)
		assert.Equal(t, http.StatusForbidden, res.status, "%s %s: %s", r.method, r.path, res.body)
		assert.Contains(t, string(res.body), `"observer_read_only"`, "%s %s", r.method, r.path)
	}
	assert.Equal(t, before, snapshot(t, tn.DB()), "a refused request changed nothing")

	// Reads, its own sessions and its own accounts still work.
	tn.do(t, req{method: "GET", path: "/api/v1/network/stats", token: observer}).ok(t, http.StatusOK, nil)
	tn.do(t, req{method: "GET", path: "/api/v1/network/reporting", token: observer}).ok(t, http.StatusOK, nil)
	tn.do(t, req{method: "GET", path: "/api/v1/facilities"}).ok(t, http.StatusOK, nil)
	tn.do(t, req{method: "POST", path: "/api/v1/users", token: admin,
		body: map[string]any{"username": "analyst", "password": "correct horse battery staple", "role": "observer"}}).ok(t, http.StatusCreated, nil)
	tn.do(t, req{method: "POST", path: "/api/v1/logout", token: observer}).ok(t, http.StatusNoContent, nil)

	// An observer publishes nothing: no stats loop, no report of its own.
	var page statsPage
	tn.do(t, req{method: "GET", path: "/api/v1/network/stats", token: admin}).ok(t, http.StatusOK, &page)
	assert.Empty(t, page.Items)
	res := tn.do(t, req{method: "GET", path: "/metrics"})
	assert.Contains(t, string(res.body), `moinha_stats_reports_published_total 0`)
	assert.Contains(t, string(res.body), `moinha_network_reporting_provinces{state="not_reporting"} 0`)
}

func TestProvinceNodeIsNotReadOnly(t *testing.T) {
	tn := newTestNode(t)
	tn.do(t, req{method: "POST", path: "/api/v1/appointments/ABCD-EFGH-JKMNP/cancel"}).
		fails(t, http.StatusNotFound, "appointment_not_found")
}
