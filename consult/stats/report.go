package stats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/moinha/moinha/consult"
)

// KindStats is the replicated record kind of a report (the federation's
// "stats"); the record key is the report's Day.
const KindStats = "stats"

// Schema is the version of the Report shape this package writes.
const Schema = 1

// MaxPayload bounds an encoded report (the federation carries at most
// 64 KiB per record).
const MaxPayload = 64 << 10

// Limits a received report must keep.
const (
	maxLevels       = 16
	maxMetrics      = 64
	maxAvailability = 64
	maxVersionLen   = 64
	maxProvinceLen  = 8
)

// Report is one member's statistics for one day: the payload of its
// "stats" record, keyed by Day. It holds counts only, never a person.
type Report struct {
	Schema          int            `json:"schema"`
	Province        string         `json:"province"`
	Day             string         `json:"day"`      // YYYY-MM-DD (Day)
	Reported        time.Time      `json:"reported"` // when this version was built
	IntervalSeconds int64          `json:"interval_seconds"`
	Version         string         `json:"version"` // node software version
	UptimeSeconds   int64          `json:"uptime_seconds"`
	Levels          []LevelReport  `json:"levels"`
	Availability    []Availability `json:"availability"`
}

// LevelReport holds one facility level's published cells: Values maps a
// metric to its value, or to null when suppressed, and Suppressed lists
// the null ones.
type LevelReport struct {
	Level      consult.Level     `json:"level"`
	Values     map[string]*int64 `json:"values"`
	Suppressed []string          `json:"suppressed,omitempty"`
}

// Availability is the province's referral availability for one specialty
// when the report was built.
type Availability struct {
	Specialty string `json:"specialty"`
	Accepting bool   `json:"accepting"`
	Capacity  int    `json:"capacity"`
	WaitDays  int    `json:"wait_days"`
}

// Value returns a cell: its value, whether it is suppressed, and whether
// the report has it at all.
func (r *Report) Value(level consult.Level, metric string) (v int64, suppressed, ok bool) {
	for _, l := range r.Levels {
		if l.Level != level {
			continue
		}
		p, found := l.Values[metric]
		if !found {
			return 0, false, false
		}
		if p == nil {
			return 0, true, true
		}
		return *p, false, true
	}
	return 0, false, false
}

// Publish turns a tally into the report's levels, suppressing small
// counts: every level the tally has, with the booking metrics always
// listed, and every other metric the tally holds for it.
// Counts added by facility and not yet placed under a level count as
// LevelUnattributed.
func Publish(t *Tally) []LevelReport {
	t.resolve(func(string) consult.Level { return LevelUnattributed })
	out := []LevelReport{}
	for _, level := range t.Levels() {
		lr := LevelReport{Level: level, Values: map[string]*int64{}}
		names := bookingMetrics()
		for m := range t.counts[level] {
			names = append(names, m)
		}
		for m := range t.samples[level] {
			names = append(names, m)
		}
		slices.Sort(names)
		names = slices.Compact(names)
		for _, m := range names {
			v, samples, _ := t.Raw(level, m)
			hide := Suppressed(v)
			if isDerived(m) {
				hide = Suppressed(samples) || (gateOf(m) != "" && Suppressed(t.Count(level, gateOf(m))))
			}
			if hide {
				lr.Values[m] = nil
				lr.Suppressed = append(lr.Suppressed, m)
				continue
			}
			lr.Values[m] = &v
		}
		out = append(out, lr)
	}
	return out
}

// sameContent reports whether a and b say the same thing, apart from when
// they were built and the node's uptime.
func sameContent(a, b *Report) bool {
	x, y := *a, *b
	x.Reported, y.Reported = time.Time{}, time.Time{}
	x.UptimeSeconds, y.UptimeSeconds = 0, 0
	ja, err1 := json.Marshal(&x)
	jb, err2 := json.Marshal(&y)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// Encode renders r as a record payload, checking its size.
func (r *Report) Encode() ([]byte, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("stats: encode report: %w", err)
	}
	if len(raw) > MaxPayload {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(raw))
	}
	return raw, nil
}

// DecodeReport reads and checks a report another member published under
// the record key day. province is the member's province code from its
// certificate; the report must name the same. Cells are checked and the
// suppression rule enforced again: a count from 1 to 4 is stored as
// suppressed, never as its value. Unknown fields are ignored (a newer
// member may say more).
func DecodeReport(payload []byte, province, day string, now time.Time) (Report, error) {
	var r Report
	if len(payload) > MaxPayload {
		return Report{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(payload))
	}
	if err := json.Unmarshal(payload, &r); err != nil {
		return Report{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	bad := func(format string, args ...any) (Report, error) {
		return Report{}, fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	d, ok := ParseDay(r.Day)
	switch {
	case r.Schema < 1:
		return bad("schema %d", r.Schema)
	case r.Province != province || len(r.Province) > maxProvinceLen:
		return bad("province %.8q is not the member's %q", r.Province, province)
	case !ok || r.Day != day:
		return bad("day %.10q under key %.10q", r.Day, day)
	case d.After(now.AddDate(0, 0, 2)):
		return bad("day %s is in the future", r.Day)
	case r.Reported.IsZero():
		return bad("no report time")
	case len(r.Version) > maxVersionLen:
		return bad("version too long")
	case r.UptimeSeconds < 0 || r.IntervalSeconds < 0 || r.IntervalSeconds > 7*86400:
		return bad("uptime or interval out of range")
	case len(r.Levels) > maxLevels:
		return bad("%d levels", len(r.Levels))
	case len(r.Availability) > maxAvailability:
		return bad("%d availability entries", len(r.Availability))
	}
	if r.Reported.After(now) {
		r.Reported = now // a fast clock does not make a member look alive
	}
	r.Reported = r.Reported.UTC()
	seen := map[consult.Level]bool{}
	for i := range r.Levels {
		l := &r.Levels[i]
		if !ValidLevel(l.Level) || seen[l.Level] {
			return bad("level %.32q", l.Level)
		}
		seen[l.Level] = true
		if len(l.Values) > maxMetrics {
			return bad("%d metrics", len(l.Values))
		}
		l.Suppressed = nil
		for m, v := range l.Values {
			switch {
			case !ValidMetric(m):
				return bad("metric name %.48q", m)
			case v != nil && (*v < 0 || *v > maxValue):
				return bad("value of %s out of range", m)
			case v != nil && Suppressed(*v) && !isDerived(m):
				l.Values[m] = nil // a member that forgot to suppress
			}
		}
		for m, v := range l.Values {
			if g := gateOf(m); v != nil && g != "" {
				if gv, found := l.Values[g]; found && gv == nil {
					l.Values[m] = nil // hidden with the count it derives from
				}
			}
		}
		for m, v := range l.Values {
			if v == nil {
				l.Suppressed = append(l.Suppressed, m)
			}
		}
		slices.Sort(l.Suppressed)
	}
	slices.SortFunc(r.Levels, func(a, b LevelReport) int { return levelOrder(a.Level) - levelOrder(b.Level) })
	avail := r.Availability[:0]
	for _, a := range r.Availability {
		if consult.ValidSpecialty(a.Specialty) && a.Capacity >= 0 && a.Capacity <= 10000 && a.WaitDays >= 0 && a.WaitDays <= 365 {
			avail = append(avail, a)
		}
	}
	r.Availability = avail
	if r.Levels == nil {
		r.Levels = []LevelReport{}
	}
	if r.Availability == nil {
		r.Availability = []Availability{}
	}
	return r, nil
}
