package calls

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/moinha/moinha/storage"
)

// Key layout in storage.BucketCalls:
//
//	c/ID                               → Call
//	e/ID/NANOS(19 digits)-SEQ(6)       → Event (in time order per call)
//	u/USERKEY/REVNANOS(19 digits)/ID   → true (the calls a user hosts or is invited to, newest first)
//	s/KIND                             → Counters
//	d/DAY/FACILITY                     → dayCounts (hosted calls by kind; FACILITY "_" when none)
//
// DAY is the event's date in Vietnam (Day), like consult/stats'; FACILITY
// is the host's (Call.Facility).
const (
	prefixCall   = "c/"
	prefixEvent  = "e/"
	prefixUser   = "u/"
	prefixCounts = "s/"
	prefixDay    = "d/"
)

func callKey(id string) string { return prefixCall + id }

func eventKey(id string, nanos int64, seq uint64) string {
	return fmt.Sprintf("%s%s/%019d-%06d", prefixEvent, id, nanos, seq%1000000)
}

func userIndexKey(u User, c *Call) string {
	return fmt.Sprintf("%s%s/%019d/%s", prefixUser, u.Key(), math.MaxInt64-c.Created.UnixNano(), c.ID)
}

func countsKey(k Kind) string { return prefixCounts + string(k) }

func getCall(tx *storage.Tx, id string) (*Call, error) {
	var c Call
	ok, err := tx.Get(storage.BucketCalls, callKey(id), &c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	return &c, nil
}

// putCall stores c and indexes it for each of its users on this node.
func putCall(tx *storage.Tx, c *Call, province string) error {
	if err := tx.Put(storage.BucketCalls, callKey(c.ID), c); err != nil {
		return err
	}
	for _, u := range append([]User{c.Host}, c.Invitees...) {
		if u.Province != province {
			continue
		}
		if err := tx.Put(storage.BucketCalls, userIndexKey(u, c), true); err != nil {
			return err
		}
	}
	return nil
}

func addCounts(tx *storage.Tx, k Kind, fn func(*Counters)) error {
	var c Counters
	if _, err := tx.Get(storage.BucketCalls, countsKey(k), &c); err != nil {
		return err
	}
	fn(&c)
	return tx.Put(storage.BucketCalls, countsKey(k), &c)
}

// countStart counts, in tx, that c started (at c.Started): in its kind's
// totals and in the day's counters at its host's facility.
func countStart(tx *storage.Tx, c *Call) error {
	if err := addCounts(tx, c.Kind, func(k *Counters) { k.Started++ }); err != nil {
		return err
	}
	return addDay(tx, c.Started, c.Facility, c.Kind, func(d *dayKind) { d.Started++ })
}

// countEnd counts, in tx, that c ended at c.Ended: in its kind's totals
// and, if it had started, with its time in the day's counters at its
// host's facility.
func countEnd(tx *storage.Tx, c *Call) error {
	var secs int64
	if !c.Started.IsZero() {
		secs = max(int64(c.Ended.Sub(c.Started).Seconds()), 0)
	}
	if err := addCounts(tx, c.Kind, func(k *Counters) { k.Ended++; k.Seconds += secs }); err != nil {
		return err
	}
	if c.Started.IsZero() {
		return nil
	}
	return addDay(tx, c.Ended, c.Facility, c.Kind, func(d *dayKind) { d.Ended++; d.Seconds += secs })
}

func putEvent(tx *storage.Tx, e Event, seq uint64) error {
	return tx.Put(storage.BucketCalls, eventKey(e.Call, e.Time.UnixNano(), seq), &e)
}

// callIDFromUserKey extracts ID from u/USERKEY/REV/ID.
func callIDFromUserKey(k string) string {
	return k[strings.LastIndexByte(k, '/')+1:]
}

// Day is t's date in Vietnam (UTC+7, no daylight saving), "YYYY-MM-DD":
// the day a call's start and end count on (consult/stats.Day).
func Day(t time.Time) string { return t.UTC().Add(7 * time.Hour).Format(time.DateOnly) }

// dayCounts are the daily counters of the calls hosted at one facility:
// per kind, calls started and, of the calls that ended, how many and for
// how long. No people, no patients.
type dayCounts map[Kind]*dayKind

type dayKind struct {
	Started int64 `json:"started,omitempty"` // calls that started that day
	Ended   int64 `json:"ended,omitempty"`   // started calls that ended that day
	Seconds int64 `json:"seconds,omitempty"` // their time, start to end
}

func dayKey(at time.Time, facility string) string {
	if facility == "" || strings.Contains(facility, "/") {
		facility = "_"
	}
	return prefixDay + Day(at) + "/" + facility
}

// addDay changes, in tx, the counters of kind k at facility on the day of
// at.
func addDay(tx *storage.Tx, at time.Time, facility string, k Kind, fn func(*dayKind)) error {
	key := dayKey(at, facility)
	d := dayCounts{}
	if _, err := tx.Get(storage.BucketCalls, key, &d); err != nil {
		return err
	}
	if d[k] == nil {
		d[k] = &dayKind{}
	}
	fn(d[k])
	return tx.Put(storage.BucketCalls, key, d)
}

// Daily metric names (consult/stats' MetricCalls and MetricCallMinutes).
func metricCalls(k Kind) string       { return "calls_" + string(k) }
func metricCallMinutes(k Kind) string { return "call_minutes_" + string(k) }

// DayCounts reads, in tx only, the daily call metrics of day
// ("YYYY-MM-DD", see Day) of the calls this node hosted: add is called per
// facility of the host ("" when none) and kind with calls_<kind>, the
// calls that started that day (two people in them at once), and
// call_minutes_<kind>, the whole minutes of the calls that ended that day
// (summed in seconds, then rounded down). It is consult/stats' Source,
// minus the import.
func DayCounts(tx *storage.Tx, day string, add func(facility, metric string, n int64)) error {
	prefix := prefixDay + day + "/"
	return tx.Scan(storage.BucketCalls, prefix, "", func(k string, v storage.Value) error {
		facility := strings.TrimPrefix(k, prefix)
		if facility == "_" {
			facility = ""
		}
		var d dayCounts
		if err := v.Decode(&d); err != nil {
			return err
		}
		for _, kind := range Kinds {
			c := d[kind]
			if c == nil {
				continue
			}
			add(facility, metricCalls(kind), c.Started)
			add(facility, metricCallMinutes(kind), c.Seconds/60)
		}
		return nil
	})
}
