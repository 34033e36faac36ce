package referral

import (
	"strings"
	"time"

	"github.com/moinha/moinha/storage"
)

// Counter directions.
const (
	dirOut = "out" // as the referring province
	dirIn  = "in"  // as a candidate or acceptor
)

// Timings kept as histograms.
const (
	timingAccept   = "time_to_accept"   // creation → acceptance stored at the owner
	timingComplete = "time_to_complete" // creation → final report (consult: the answer) at the owner
)

const statsPrefix = "referral/"

// timingBounds are the histogram's upper bounds in seconds (the last
// bucket is everything above).
var timingBounds = []float64{1, 10, 60, 600, 3600, 6 * 3600, 24 * 3600, 7 * 24 * 3600}

type histogram struct {
	Count   int     `json:"count"`
	Sum     float64 `json:"sum_seconds"`
	Buckets []int   `json:"buckets"` // len(timingBounds)+1
}

// count adds one to a counter, in tx.
func count(tx *storage.Tx, typ Type, dir, name string) error {
	key := statsPrefix + string(typ) + "/" + dir + "/" + name
	var n int
	if _, err := tx.Get(storage.BucketStats, key, &n); err != nil {
		return err
	}
	return tx.Put(storage.BucketStats, key, n+1)
}

// observe adds a duration to a timing histogram, in tx.
func observe(tx *storage.Tx, typ Type, name string, d time.Duration) error {
	key := statsPrefix + string(typ) + "/timing/" + name
	var h histogram
	if _, err := tx.Get(storage.BucketStats, key, &h); err != nil {
		return err
	}
	if len(h.Buckets) != len(timingBounds)+1 {
		h.Buckets = make([]int, len(timingBounds)+1)
	}
	sec := max(d.Seconds(), 0)
	i := 0
	for i < len(timingBounds) && sec > timingBounds[i] {
		i++
	}
	h.Buckets[i]++
	h.Count++
	h.Sum += sec
	return tx.Put(storage.BucketStats, key, h)
}

// Stats are a province's referral and consult figures since its start:
// counts and timings, never patient data (GET /api/v1/referrals/stats).
// The network's daily statistics read DayCounts instead.
type Stats struct {
	Province  string    `json:"province"`
	Referrals TypeStats `json:"referrals"`
	Consults  TypeStats `json:"consults"`
	Updated   time.Time `json:"updated"`
}

// TypeStats are the figures of one type.
type TypeStats struct {
	// Outbound counts this province's own requests: created, accepted,
	// declined, expired, rejected, cancelled, completed, failed,
	// reoffered, late_accepts.
	Outbound map[string]int `json:"outbound"`
	// Inbound counts offers to this province: offered, accepted,
	// declined, completed, failed, returned.
	Inbound map[string]int `json:"inbound"`
	// Open is how many of this province's requests are not closed.
	Open int `json:"open"`
	// TimeToAccept and TimeToComplete measure this province's requests
	// (for consults, time to complete is the time to the answer).
	TimeToAccept   Timing `json:"time_to_accept"`
	TimeToComplete Timing `json:"time_to_complete"`
}

// Timing summarises a histogram: the count, the mean, and the upper
// bounds of the buckets holding the median and the 90th percentile.
type Timing struct {
	Count       int     `json:"count"`
	MeanSeconds float64 `json:"mean_seconds"`
	P50Seconds  float64 `json:"p50_seconds_at_most"`
	P90Seconds  float64 `json:"p90_seconds_at_most"`
}

func (h histogram) timing() Timing {
	t := Timing{Count: h.Count}
	if h.Count == 0 {
		return t
	}
	t.MeanSeconds = h.Sum / float64(h.Count)
	q := func(p float64) float64 {
		want := int(p*float64(h.Count) + 0.999999)
		seen := 0
		for i, n := range h.Buckets {
			seen += n
			if seen >= want {
				if i < len(timingBounds) {
					return timingBounds[i]
				}
				return -1 // above the last bound
			}
		}
		return -1
	}
	t.P50Seconds, t.P90Seconds = q(0.5), q(0.9)
	return t
}

// Stats reads this province's figures.
func (s *Service) Stats() (Stats, error) {
	st := Stats{Province: s.opts.Province, Updated: s.now().UTC()}
	err := s.db.View(func(tx *storage.Tx) error {
		for _, typ := range []Type{TypeReferral, TypeConsult} {
			ts := TypeStats{Outbound: map[string]int{}, Inbound: map[string]int{}}
			err := tx.Scan(storage.BucketStats, statsPrefix+string(typ)+"/", "", func(k string, v storage.Value) error {
				rest := strings.TrimPrefix(k, statsPrefix+string(typ)+"/")
				dir, name, _ := strings.Cut(rest, "/")
				switch dir {
				case dirOut, dirIn:
					var n int
					if err := v.Decode(&n); err != nil {
						return err
					}
					if dir == dirOut {
						ts.Outbound[name] = n
					} else {
						ts.Inbound[name] = n
					}
				case "timing":
					var h histogram
					if err := v.Decode(&h); err != nil {
						return err
					}
					if name == timingAccept {
						ts.TimeToAccept = h.timing()
					} else if name == timingComplete {
						ts.TimeToComplete = h.timing()
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			err = tx.Scan(storage.BucketReferralIdx, boxPrefix(typ, BoxOutbox), "", func(k string, _ storage.Value) error {
				r, err := load(tx, k[strings.LastIndexByte(k, '/')+1:])
				if err == nil && r != nil && !closed(r.Status) {
					ts.Open++
				}
				return err
			})
			if err != nil {
				return err
			}
			if typ == TypeReferral {
				st.Referrals = ts
			} else {
				st.Consults = ts
			}
		}
		return nil
	})
	return st, err
}

// Daily counters for the province's network statistics (consult/stats
// builds its reports from them through node). Keys in BucketStats:
//
//	referral/day/<day>/<facility or _>/<metric>  → count
//	referral/day/<day>/<facility or _>/~<metric>/<referral ID> → one sample (minutes)
//
// <day> is the event's date in Vietnam (UTC+7), like consult/stats.Day.
const dayPrefix = statsPrefix + "day/"

// Metric names, the same as consult/stats' (referrals_*) and their
// consult-request counterparts.
const (
	metricSent     = "sent"
	metricReceived = "received"
	metricAccepted = "accepted"
	metricDeclined = "declined"
	metricExpired  = "expired"
	metricAnswered = "answered"
)

// MetricName is the published name of a daily metric of typ:
// "referrals_sent", "consults_answered", …; and
// "referral_accept_minutes_median" for the acceptance-time samples.
func MetricName(typ Type, metric string) string {
	if metric == "accept_minutes" {
		return string(typ) + "_accept_minutes_median"
	}
	return string(typ) + "s_" + metric
}

// Day is t's date in Vietnam (UTC+7), "YYYY-MM-DD".
func Day(t time.Time) string { return t.UTC().Add(7 * time.Hour).Format(time.DateOnly) }

func dayKey(at time.Time, facility string) string {
	if facility == "" || strings.Contains(facility, "/") {
		facility = "_"
	}
	return dayPrefix + Day(at) + "/" + facility + "/"
}

// daily adds one to a daily metric of typ, in tx.
func daily(tx *storage.Tx, typ Type, at time.Time, facility, metric string) error {
	key := dayKey(at, facility) + MetricName(typ, metric)
	var n int64
	if _, err := tx.Get(storage.BucketStats, key, &n); err != nil {
		return err
	}
	return tx.Put(storage.BucketStats, key, n+1)
}

// sampleAccept records the minutes one acceptance took (offer received →
// accepted), in tx; referrals only.
func sampleAccept(tx *storage.Tx, r *Referral, at time.Time, facility string, since time.Time) error {
	if r.Type != TypeReferral || since.IsZero() {
		return nil
	}
	key := dayKey(at, facility) + "~" + MetricName(r.Type, "accept_minutes") + "/" + r.ID
	return tx.Put(storage.BucketStats, key, max(at.Sub(since).Minutes(), 0))
}

// DayCounts reads, in tx, the daily metrics of day ("YYYY-MM-DD"): add is
// called for each count with the facility it belongs to ("" when none),
// observe for each sample of a median. It is consult/stats' Source, minus
// the import.
func DayCounts(tx *storage.Tx, day string, add func(facility, metric string, n int64), observe func(facility, metric string, v float64)) error {
	return tx.Scan(storage.BucketStats, dayPrefix+day+"/", "", func(k string, v storage.Value) error {
		rest := strings.TrimPrefix(k, dayPrefix+day+"/")
		facility, metric, ok := strings.Cut(rest, "/")
		if !ok {
			return nil
		}
		if facility == "_" {
			facility = ""
		}
		if name, isSample := strings.CutPrefix(metric, "~"); isSample {
			name, _, _ = strings.Cut(name, "/")
			var x float64
			if err := v.Decode(&x); err == nil && observe != nil {
				observe(facility, name, x)
			}
			return nil
		}
		var n int64
		if err := v.Decode(&n); err == nil && add != nil {
			add(facility, metric, n)
		}
		return nil
	})
}
