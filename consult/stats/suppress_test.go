package stats_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/stats"
)

func TestSuppressed(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want bool
	}{{0, false}, {1, true}, {2, true}, {3, true}, {4, true}, {5, false}, {6, false}, {1000, false}} {
		assert.Equal(t, tc.want, stats.Suppressed(tc.n), "count %d", tc.n)
	}
}

// cell is what a report says about one metric of one level.
type cell struct {
	value      int64
	suppressed bool
	present    bool
}

func TestPublishSuppressesSmallCounts(t *testing.T) {
	const cs = consult.CommuneHealthStation
	tally := func(fill func(*stats.Tally)) *stats.Tally { t := stats.NewTally(); fill(t); return t }
	for _, tc := range []struct {
		name   string
		tally  *stats.Tally
		level  consult.Level
		metric string
		want   cell
	}{
		{"zero is published", tally(func(t *stats.Tally) { t.Add(cs, stats.MetricBookings, 7) }), cs, stats.MetricCheckIns, cell{0, false, true}},
		{"one is suppressed", tally(func(t *stats.Tally) { t.Add(cs, stats.MetricBookings, 1) }), cs, stats.MetricBookings, cell{0, true, true}},
		{"four is suppressed", tally(func(t *stats.Tally) { t.Add(cs, stats.MetricNoShows, 4) }), cs, stats.MetricNoShows, cell{0, true, true}},
		{"five is published", tally(func(t *stats.Tally) { t.Add(cs, stats.MetricNoShows, 5) }), cs, stats.MetricNoShows, cell{5, false, true}},
		{"counts add up", tally(func(t *stats.Tally) {
			t.Add(cs, stats.MetricBookings, 3)
			t.Add(cs, stats.MetricBookings, 3)
		}), cs, stats.MetricBookings, cell{6, false, true}},
		{"minutes hidden with a small call count", tally(func(t *stats.Tally) {
			t.Add(cs, stats.MetricCalls("consult"), 2)
			t.Add(cs, stats.MetricCallMinutes("consult"), 95)
		}), cs, stats.MetricCallMinutes("consult"), cell{0, true, true}},
		{"small minutes shown with enough calls", tally(func(t *stats.Tally) {
			t.Add(cs, stats.MetricCalls("briefing"), 6)
			t.Add(cs, stats.MetricCallMinutes("briefing"), 3)
		}), cs, stats.MetricCallMinutes("briefing"), cell{3, false, true}},
		{"median of three samples hidden", tally(func(t *stats.Tally) {
			t.Add(cs, stats.MetricReferralsAccepted, 3)
			for _, v := range []float64{10, 20, 30} {
				t.Observe(cs, stats.MetricReferralAcceptMedian, v)
			}
		}), cs, stats.MetricReferralAcceptMedian, cell{0, true, true}},
		{"median of six samples", tally(func(t *stats.Tally) {
			t.Add(cs, stats.MetricReferralsAccepted, 6)
			for _, v := range []float64{1, 2, 3, 5, 60, 90} {
				t.Observe(cs, stats.MetricReferralAcceptMedian, v)
			}
		}), cs, stats.MetricReferralAcceptMedian, cell{4, false, true}},
		{"any median is gated by its samples", tally(func(t *stats.Tally) {
			t.Observe(cs, "consult_accept_minutes_median", 2)
			t.Observe(cs, "consult_accept_minutes_median", 4)
		}), cs, "consult_accept_minutes_median", cell{0, true, true}},
		{"a small median of many samples is shown", tally(func(t *stats.Tally) {
			t.Add(cs, "consults_accepted", 5)
			for range 5 {
				t.Observe(cs, "consult_accept_minutes_median", 2)
			}
		}), cs, "consult_accept_minutes_median", cell{2, false, true}},
		{"unknown level is unattributed", tally(func(t *stats.Tally) { t.Add("", stats.MetricBookings, 9) }),
			stats.LevelUnattributed, stats.MetricBookings, cell{9, false, true}},
		{"facility counts unplaced are unattributed", tally(func(t *stats.Tally) { t.AddAt("66-X", stats.MetricBookings, 8) }),
			stats.LevelUnattributed, stats.MetricBookings, cell{8, false, true}},
		{"bad metric name ignored", tally(func(t *stats.Tally) {
			t.Add(cs, stats.MetricBookings, 5)
			t.Add(cs, "Name Of Patient", 1)
		}), cs, "Name Of Patient", cell{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := stats.Report{Levels: stats.Publish(tc.tally)}
			v, sup, ok := r.Value(tc.level, tc.metric)
			assert.Equal(t, tc.want, cell{v, sup, ok})
			for _, l := range r.Levels {
				for m, p := range l.Values {
					assert.Equal(t, p == nil, contains(l.Suppressed, m), "%s/%s: null exactly when listed", l.Level, m)
					if p != nil && !strings.Contains(m, "minutes") {
						assert.False(t, stats.Suppressed(*p), "%s/%s=%d published", l.Level, m, *p)
					}
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestPublishListsBookingMetricsAndOrdersLevels(t *testing.T) {
	tl := stats.NewTally()
	tl.Add(consult.ProvincialHospital, stats.MetricCalls("consult"), 5)
	tl.Add(consult.CommuneHealthStation, stats.MetricBookings, 12)
	tl.Add("", stats.MetricBookings, 0)
	levels := stats.Publish(tl)
	require.Len(t, levels, 3)
	assert.Equal(t, []consult.Level{consult.CommuneHealthStation, consult.ProvincialHospital, stats.LevelUnattributed},
		[]consult.Level{levels[0].Level, levels[1].Level, levels[2].Level})
	for _, l := range levels {
		for _, m := range []string{stats.MetricBookings, stats.MetricCheckIns, stats.MetricNoShows, stats.MetricCancellations, stats.MetricFulfilled} {
			assert.Contains(t, l.Values, m)
		}
	}
	raw, err := json.Marshal(levels[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"level":"commune_health_station","values":{"bookings":12,"cancellations":0,"checkins":0,"fulfilled":0,"noshows":0}}`, string(raw))
}

func TestDecodeReport(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	good := func() map[string]any {
		return map[string]any{
			"schema": 1, "province": "66", "day": "2026-03-02", "reported": now.Add(-time.Minute),
			"interval_seconds": 300, "version": "1.0", "uptime_seconds": 60,
			"levels": []any{map[string]any{"level": "commune_health_station",
				"values": map[string]any{"bookings": 12, "checkins": nil, "calls_consult": 2, "call_minutes_consult": 40,
					"referrals_accepted": 9, "referral_accept_minutes_median": 3},
				"suppressed": []string{"checkins"}}},
			"availability": []any{map[string]any{"specialty": "cardiology", "accepting": true, "capacity": 3, "wait_days": 2},
				map[string]any{"specialty": "astrology", "accepting": true, "capacity": 3, "wait_days": 2}},
			"future_field": "ignored",
		}
	}
	enc := func(m map[string]any) []byte { raw, _ := json.Marshal(m); return raw }
	with := func(k string, v any) []byte { m := good(); m[k] = v; return enc(m) }

	r, err := stats.DecodeReport(enc(good()), "66", "2026-03-02", now)
	require.NoError(t, err)
	cs := consult.CommuneHealthStation
	check := func(metric string, want cell) {
		t.Helper()
		v, sup, ok := r.Value(cs, metric)
		assert.Equal(t, want, cell{v, sup, ok}, metric)
	}
	check("bookings", cell{12, false, true})
	check("checkins", cell{0, true, true})
	check("calls_consult", cell{0, true, true})        // a member that forgot to suppress
	check("call_minutes_consult", cell{0, true, true}) // hidden with its count
	check("referral_accept_minutes_median", cell{3, false, true})
	assert.Equal(t, []string{"call_minutes_consult", "calls_consult", "checkins"}, r.Levels[0].Suppressed)
	assert.Len(t, r.Availability, 1, "unknown specialties dropped")

	future, err := stats.DecodeReport(with("reported", now.Add(time.Hour)), "66", "2026-03-02", now)
	require.NoError(t, err)
	assert.Equal(t, now, future.Reported, "a report time ahead of the receiver's clock is capped")

	tooMany := make([]any, 17)
	for i := range tooMany {
		tooMany[i] = map[string]any{"level": "commune_health_station", "values": map[string]any{}}
	}
	for name, payload := range map[string][]byte{
		"other province":  with("province", "79"),
		"other day":       with("day", "2026-03-01"),
		"far future day":  with("day", "2026-03-09"),
		"no schema":       with("schema", 0),
		"no report time":  with("reported", nil),
		"negative uptime": with("uptime_seconds", -1),
		"bad level":       with("levels", []any{map[string]any{"level": "spa", "values": map[string]any{}}}),
		"duplicate level": with("levels", []any{map[string]any{"level": "health_centre", "values": map[string]any{}}, map[string]any{"level": "health_centre", "values": map[string]any{}}}),
		"bad metric":      with("levels", []any{map[string]any{"level": "health_centre", "values": map[string]any{"Nguyễn Văn A": 7}}}),
		"negative value":  with("levels", []any{map[string]any{"level": "health_centre", "values": map[string]any{"bookings": -7}}}),
		"too many levels": with("levels", tooMany),
		"not json":        []byte("{"),
		"too large":       []byte(`{"version":"` + strings.Repeat("x", stats.MaxPayload) + `"}`),
	} {
		_, err := stats.DecodeReport(payload, "66", map[bool]string{true: "2026-03-09", false: "2026-03-02"}[name == "far future day"], now)
		assert.Error(t, err, name)
	}
}

func TestDay(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 3, 1, 16, 59, 59, 0, time.UTC), "2026-03-01"},
		{time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC), "2026-03-02"}, // midnight in Hà Nội
		{time.Date(2026, 3, 2, 0, 30, 0, 0, time.FixedZone("ICT", 7*3600)), "2026-03-02"},
	} {
		assert.Equal(t, tc.want, stats.Day(tc.t))
	}
}
