package stats

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/moinha/moinha/storage"
)

func histKey(province, day string) string { return prefixHist + province + "/" + day }

func lastKey(province string) string { return prefixLast + province }

// histEntry is a stored report with the member (peer ID) that signed it;
// "" for this node's own.
type histEntry struct {
	Origin string `json:"origin,omitempty"`
	Report Report `json:"report"`
}

// lastEntry points at a member's most recent report.
type lastEntry struct {
	Origin   string    `json:"origin,omitempty"`
	Day      string    `json:"day"`
	Reported time.Time `json:"reported"`
	Interval int64     `json:"interval_seconds"`
}

// putHistory stores r as its province's report for its day and moves the
// province's last-report pointer forward.
func putHistory(tx *storage.Tx, origin string, r Report) error {
	if err := tx.Put(storage.BucketStats, histKey(r.Province, r.Day), histEntry{Origin: origin, Report: r}); err != nil {
		return err
	}
	var last lastEntry
	if _, err := tx.Get(storage.BucketStats, lastKey(r.Province), &last); err != nil {
		return err
	}
	if r.Reported.Before(last.Reported) {
		return nil
	}
	return tx.Put(storage.BucketStats, lastKey(r.Province), lastEntry{
		Origin: origin, Day: r.Day, Reported: r.Reported, Interval: r.IntervalSeconds})
}

// Apply stores, inside tx (the transaction that stores the record), a
// report another member published: origin is its peer ID, province the
// province code of its certificate, key the record key. A deleted record
// removes the day. A record whose key is not a day is not a daily report
// and is ignored. A report that breaks the rules is refused with
// ErrMalformed or ErrTooLarge and nothing is stored; the caller logs it.
func (s *Service) Apply(tx *storage.Tx, origin, province, key string, payload []byte, deleted bool) error {
	day := key
	if _, ok := ParseDay(day); !ok || province == "" || strings.Contains(province, "/") {
		return nil
	}
	if deleted {
		return tx.Delete(storage.BucketStats, histKey(province, day))
	}
	r, err := DecodeReport(payload, province, day, s.opts.Now())
	if err != nil {
		return err
	}
	return putHistory(tx, origin, r)
}

// Entry is a stored report and the member that signed it ("" for this
// node).
type Entry struct {
	Origin string
	Report
}

// Query selects reports from the history.
type Query struct {
	Province string // "" for every province
	From, To string // days, inclusive; both required
	// Skip, when not nil, drops the reports of some origins (revoked members).
	Skip func(origin string) bool
	// Limit caps the reports returned (zero: no cap); Cursor continues
	// after the Next of a previous page.
	Limit  int
	Cursor string
}

// History returns the stored reports that match q, ordered by province
// and day, and the cursor of the next page ("" on the last).
func (s *Service) History(q Query) ([]Entry, string, error) {
	if _, ok := ParseDay(q.From); !ok {
		return nil, "", fmt.Errorf("%w: from %.10q", ErrMalformed, q.From)
	}
	if _, ok := ParseDay(q.To); !ok {
		return nil, "", fmt.Errorf("%w: to %.10q", ErrMalformed, q.To)
	}
	prefix := prefixHist
	if q.Province != "" {
		prefix += q.Province + "/"
	}
	after := ""
	if q.Cursor != "" {
		after = prefixHist + q.Cursor
	}
	var (
		out  []Entry
		next string
	)
	err := s.db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketStats, prefix, after, func(k string, v storage.Value) error {
			rest := strings.TrimPrefix(k, prefixHist)
			_, day, ok := strings.Cut(rest, "/")
			if !ok || day < q.From || day > q.To {
				return nil
			}
			if q.Limit > 0 && len(out) == q.Limit {
				next = strings.TrimPrefix(out[len(out)-1].cursor(), prefixHist)
				return storage.ErrStop
			}
			var e histEntry
			if err := v.Decode(&e); err != nil {
				return err
			}
			if q.Skip != nil && q.Skip(e.Origin) {
				return nil
			}
			out = append(out, Entry{Origin: e.Origin, Report: e.Report})
			return nil
		})
	})
	if err != nil {
		return nil, "", fmt.Errorf("stats: history: %w", err)
	}
	return out, next, nil
}

func (e *Entry) cursor() string { return histKey(e.Province, e.Day) }

// Member is a member of the network as the reporting view needs it.
type Member struct {
	Province string
	Name     string
	Role     string
	Online   bool
}

// Reporting is one member province's reporting over a range of days
// (DHIS2's reporting rate: reports received against reports expected).
type Reporting struct {
	Province string `json:"province"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	// ExpectedDays counts the days of the range from the province's first
	// report (or the range's start, if later) to the range's end or today.
	ExpectedDays int `json:"expected_days"`
	// ReceivedDays counts those days with a report.
	ReceivedDays int `json:"received_days"`
	// Rate is ReceivedDays / ExpectedDays to four decimals; null when
	// nothing is expected.
	Rate       *float64   `json:"rate"`
	LastReport *time.Time `json:"last_report"`
	LastDay    string     `json:"last_day,omitempty"`
	// IntervalSeconds is how often the province says it reports.
	IntervalSeconds int64 `json:"interval_seconds,omitempty"`
	Online          bool  `json:"online"`
	// NotReporting is true when the last report is older than two of the
	// province's intervals, or there is none.
	NotReporting bool `json:"not_reporting"`
}

// Reporting computes the reporting view of members over from..to (days,
// inclusive) at now. defaultInterval stands in for a province that never
// said its interval.
func (s *Service) Reporting(members []Member, from, to string, now time.Time, defaultInterval time.Duration) ([]Reporting, error) {
	if from > to {
		return nil, fmt.Errorf("%w: from after to", ErrMalformed)
	}
	today := Day(now)
	out := make([]Reporting, 0, len(members))
	err := s.db.View(func(tx *storage.Tx) error {
		for _, m := range members {
			r := Reporting{Province: m.Province, Name: m.Name, Role: m.Role, Online: m.Online}
			first := ""
			prefix := prefixHist + m.Province + "/"
			err := tx.Scan(storage.BucketStats, prefix, "", func(k string, _ storage.Value) error {
				first = strings.TrimPrefix(k, prefix)
				return storage.ErrStop
			})
			if err != nil {
				return err
			}
			start, end := from, min(to, today)
			if first > start {
				start = first
			}
			if start <= end {
				err = tx.Scan(storage.BucketStats, prefix, prefix+addDays(start, -1), func(k string, _ storage.Value) error {
					if strings.TrimPrefix(k, prefix) > end {
						return storage.ErrStop
					}
					r.ReceivedDays++
					return nil
				})
				if err != nil {
					return err
				}
				r.ExpectedDays = daysBetween(start, end) + 1
			}
			if r.ExpectedDays > 0 {
				rate := math.Round(float64(r.ReceivedDays)/float64(r.ExpectedDays)*1e4) / 1e4
				r.Rate = &rate
			}
			var last lastEntry
			ok, err := tx.Get(storage.BucketStats, lastKey(m.Province), &last)
			if err != nil {
				return err
			}
			interval := defaultInterval
			if ok {
				t := last.Reported
				r.LastReport, r.LastDay, r.IntervalSeconds = &t, last.Day, last.Interval
				if last.Interval > 0 {
					interval = time.Duration(last.Interval) * time.Second
				}
			}
			r.NotReporting = !ok || now.Sub(last.Reported) > 2*interval
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stats: reporting: %w", err)
	}
	return out, nil
}

// daysBetween counts the days from a to b (valid days, a <= b).
func daysBetween(a, b string) int {
	x, _ := ParseDay(a)
	y, _ := ParseDay(b)
	return int(y.Sub(x).Hours() / 24)
}
