package stats

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
)

// Metric names. They are stable: the API, the CSV export and the
// observer's dashboard show them as they are.
const (
	MetricBookings      = "bookings"      // appointments booked that day
	MetricCheckIns      = "checkins"      // residents checked in at the desk
	MetricNoShows       = "noshows"       // booked residents recorded as not come
	MetricCancellations = "cancellations" // appointments cancelled
	MetricFulfilled     = "fulfilled"     // visits completed

	MetricReferralsSent     = "referrals_sent"     // referrals this province created
	MetricReferralsReceived = "referrals_received" // offers received from other provinces
	MetricReferralsAccepted = "referrals_accepted" // offers this province accepted
	MetricReferralsDeclined = "referrals_declined" // offers this province declined
	MetricReferralsExpired  = "referrals_expired"  // offers that expired unanswered
	// MetricReferralAcceptMedian is the median, in whole minutes, from
	// offer to acceptance over the acceptances of the day; feed it with
	// Tally.Observe, one sample per acceptance.
	MetricReferralAcceptMedian = "referral_accept_minutes_median"
)

// MetricCalls names the count of calls of a kind ("consult", "conference",
// "briefing", "training") started that day.
func MetricCalls(kind string) string { return "calls_" + kind }

// MetricCallMinutes names the minutes of calls of a kind that ended that
// day (suppressed along with MetricCalls of the kind).
func MetricCallMinutes(kind string) string { return "call_minutes_" + kind }

// bookingMetrics are listed, zero or not, for every level of a report.
func bookingMetrics() []string {
	return []string{MetricBookings, MetricCheckIns, MetricNoShows, MetricCancellations, MetricFulfilled}
}

// LevelUnattributed is the level of counts a service cannot tie to a
// facility (e.g. a facility since removed from the directory).
const LevelUnattributed consult.Level = "unattributed"

// ValidLevel reports whether l may head a report's level: a facility level
// or LevelUnattributed.
func ValidLevel(l consult.Level) bool { return l == LevelUnattributed || consult.ValidLevel(l) }

// levelOrder sorts levels lowest first, unattributed last.
func levelOrder(l consult.Level) int {
	if i := slices.Index(consult.Levels, l); i >= 0 {
		return i
	}
	return len(consult.Levels)
}

// metricName is the shape of every metric name.
var metricName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

// ValidMetric reports whether name has the shape of a metric name.
func ValidMetric(name string) bool { return metricName.MatchString(name) }

// MinPublished is the smallest non-zero count that is published: counts
// from 1 to MinPublished-1 are suppressed.
const MinPublished = 5

// Suppressed reports whether a count must not be published.
func Suppressed(n int64) bool { return n > 0 && n < MinPublished }

// gateOf returns the count a derived metric is suppressed with: calls_<k>
// for call_minutes_<k>, <t>s_accepted for <t>_accept_minutes_median; ""
// for a count, which is its own gate, and for other medians, which their
// number of samples gates.
func gateOf(metric string) string {
	if kind, ok := strings.CutPrefix(metric, "call_minutes_"); ok {
		return MetricCalls(kind)
	}
	if typ, ok := strings.CutSuffix(metric, "_accept_minutes_median"); ok {
		return typ + "s_accepted" // referral → referrals_accepted
	}
	return ""
}

// isDerived reports whether a metric is not itself a count of events
// (minutes, a median): its value may be small without naming anyone, and
// it is suppressed with what it derives from instead (its gate count, its
// number of samples).
func isDerived(metric string) bool {
	return gateOf(metric) != "" || strings.HasSuffix(metric, "_median")
}

// maxValue bounds a published value.
const maxValue = 1e12

// Day is t's date in Vietnam (UTC+7, no daylight saving), "YYYY-MM-DD":
// the day every node counts an event on, whatever its facility's zone.
func Day(t time.Time) string { return t.UTC().Add(7 * time.Hour).Format(time.DateOnly) }

// ParseDay parses "YYYY-MM-DD" strictly, as midnight UTC.
func ParseDay(s string) (time.Time, bool) {
	if len(s) != len(time.DateOnly) {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, s)
	return d, err == nil
}

// addDays returns day shifted by n days (day must be valid).
func addDays(day string, n int) string {
	d, _ := ParseDay(day)
	return d.AddDate(0, 0, n).Format(time.DateOnly)
}

// Tally collects a day's raw counts by level and metric before
// suppression. Sources add to it, by level when they know it or by
// facility (the report builder then looks the level up); it is not safe
// for concurrent use.
type Tally struct {
	counts  map[consult.Level]map[string]int64
	samples map[consult.Level]map[string][]float64
	// By facility, until resolve moves them under their levels.
	facCounts  map[string]map[string]int64
	facSamples map[string]map[string][]float64
}

// NewTally returns an empty Tally.
func NewTally() *Tally {
	return &Tally{
		counts: map[consult.Level]map[string]int64{}, samples: map[consult.Level]map[string][]float64{},
		facCounts: map[string]map[string]int64{}, facSamples: map[string]map[string][]float64{},
	}
}

// Add adds n to a count (a call or referral count, call minutes). An empty
// or unknown level counts as LevelUnattributed; a name that is not a
// metric name is ignored.
func (t *Tally) Add(level consult.Level, metric string, n int64) {
	if ValidMetric(metric) {
		addCount(t.counts, normLevel(level), metric, n)
	}
}

// Observe adds one sample of a median metric (e.g. minutes from offer to
// acceptance of one referral under MetricReferralAcceptMedian). The
// report publishes the median, suppressed when there are 1 to 4 samples.
func (t *Tally) Observe(level consult.Level, metric string, v float64) {
	if ValidMetric(metric) && !math.IsNaN(v) && !math.IsInf(v, 0) {
		addSample(t.samples, normLevel(level), metric, v)
	}
}

// AddAt is Add for a facility's count: the count goes under the
// facility's level (LevelUnattributed for "" or a facility the directory
// does not know).
func (t *Tally) AddAt(facility, metric string, n int64) {
	if ValidMetric(metric) {
		addCount(t.facCounts, facility, metric, n)
	}
}

// ObserveAt is Observe for a facility's sample.
func (t *Tally) ObserveAt(facility, metric string, v float64) {
	if ValidMetric(metric) && !math.IsNaN(v) && !math.IsInf(v, 0) {
		addSample(t.facSamples, facility, metric, v)
	}
}

// resolve moves the counts and samples added by facility under the level
// levelOf gives (outside any transaction: it reads the directory).
func (t *Tally) resolve(levelOf func(facility string) consult.Level) {
	for f, m := range t.facCounts {
		l := normLevel(levelOf(f))
		for metric, n := range m {
			addCount(t.counts, l, metric, n)
		}
	}
	for f, m := range t.facSamples {
		l := normLevel(levelOf(f))
		for metric, vs := range m {
			for _, v := range vs {
				addSample(t.samples, l, metric, v)
			}
		}
	}
	clear(t.facCounts)
	clear(t.facSamples)
}

func addCount[K comparable](m map[K]map[string]int64, k K, metric string, n int64) {
	inner := m[k]
	if inner == nil {
		inner = map[string]int64{}
		m[k] = inner
	}
	inner[metric] += n
}

func addSample[K comparable](m map[K]map[string][]float64, k K, metric string, v float64) {
	inner := m[k]
	if inner == nil {
		inner = map[string][]float64{}
		m[k] = inner
	}
	inner[metric] = append(inner[metric], v)
}

// Count returns a raw count (before suppression). Count, Raw and Levels
// see counts added by facility only once they are placed under a level:
// Service.Tally returns a placed tally.
func (t *Tally) Count(level consult.Level, metric string) int64 {
	return t.counts[normLevel(level)][metric]
}

// Raw returns the raw value a report cell is built from: a count, or a
// median with the number of its samples. ok is false when the tally has no
// such cell.
func (t *Tally) Raw(level consult.Level, metric string) (value, samples int64, ok bool) {
	level = normLevel(level)
	if s, found := t.samples[level][metric]; found {
		return median(s), int64(len(s)), true
	}
	v, found := t.counts[level][metric]
	return v, 0, found
}

// Levels lists the levels the tally has anything for, lowest first.
func (t *Tally) Levels() []consult.Level {
	var out []consult.Level
	for l := range t.counts {
		out = append(out, l)
	}
	for l := range t.samples {
		if _, dup := t.counts[l]; !dup {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b consult.Level) int { return levelOrder(a) - levelOrder(b) })
	return out
}

func normLevel(l consult.Level) consult.Level {
	if l == "" || !consult.ValidLevel(l) {
		return LevelUnattributed
	}
	return l
}

// median returns the median of s, rounded to a whole number.
func median(s []float64) int64 {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	mid := len(c) / 2
	m := c[mid]
	if len(c)%2 == 0 {
		m = (c[mid-1] + c[mid]) / 2
	}
	return int64(math.Round(m))
}
