package node

import (
	"context"
	"errors"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/consult/stats"
	"github.com/moinha/moinha/federation"
	"github.com/moinha/moinha/storage"
)

// defaultStatsInterval is how often a node publishes its statistics when
// Config.StatsInterval is zero.
const defaultStatsInterval = 5 * time.Minute

// statsInterval is the effective publishing interval.
func (n *Node) statsInterval() time.Duration {
	if n.cfg.StatsInterval > 0 {
		return n.cfg.StatsInterval
	}
	return defaultStatsInterval
}

// newStats builds the node's statistics service and registers the
// metrics read from the data file (metrics_ops.go). Other services add
// their daily counts as stats.Sources, by facility: referrals and consult
// requests (referral.DayCounts), and the calls this node hosted
// (calls.DayCounts: calls_<kind> started, call_minutes_<kind> ended).
func (n *Node) newStats() *stats.Service {
	n.reg.MustRegister(opsCollector{n})
	referrals := stats.SourceFunc(func(tx *storage.Tx, day string, t *stats.Tally) error {
		return referral.DayCounts(tx, day, t.AddAt, t.ObserveAt)
	})
	callCounts := stats.SourceFunc(func(tx *storage.Tx, day string, t *stats.Tally) error {
		return calls.DayCounts(tx, day, t.AddAt)
	})
	return stats.New(n.db, stats.Options{Province: n.cfg.Province, LevelOf: n.facilityLevel,
		Sources: []stats.Source{referrals, callCounts}})
}

// facilityLevel is stats.Options.LevelOf over the directory.
func (n *Node) facilityLevel(id string) (consult.Level, error) {
	f, err := n.dir.GetFacility(id)
	return f.Level, err
}

// BookingWithClock returns a booking service over this node's data that
// reads the time from now, with the same statistics hook as Booking: for
// tests that record a no-show after an appointment's start.
func (n *Node) BookingWithClock(now func() time.Time) *booking.Service {
	return booking.New(n.db, n.dir, booking.Options{Now: now, OnStatus: n.stats.CountAppointment})
}

// Stats is the node's statistics: its own counts and reports, and the
// history of every member's.
func (n *Node) Stats() *stats.Service { return n.stats }

// statsLoop is the goroutine that publishes this node's reports; Close
// stops it and waits.
type statsLoop struct {
	cancel context.CancelFunc // stops the goroutine
	done   chan struct{}      // closed when it has returned
}

// startStats starts publishing (never on an observer: it writes nothing).
func (n *Node) startStats() {
	if n.cfg.Role == "observer" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &statsLoop{cancel: cancel, done: make(chan struct{})}
	n.statsLoop = l
	go func() {
		defer close(l.done)
		n.runStats(ctx)
	}()
}

// stopStats stops the publishing goroutine and waits for it. Close calls
// it once.
func (n *Node) stopStats() {
	if l := n.statsLoop; l != nil {
		l.cancel()
		<-l.done
	}
}

// runStats publishes at once (with the backfill of days whose last counts
// were never published), then every interval, until ctx ends.
func (n *Node) runStats(ctx context.Context) {
	interval := n.statsInterval()
	var repl stats.Publisher // stays a nil interface on a lone node
	if n.fed != nil {
		repl = n.fed
	}
	meta := stats.Meta{Version: Version, Started: n.started, Interval: interval}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	backfill := true
	for {
		round, cancelRound := context.WithTimeout(ctx, max(interval, 30*time.Second))
		staged, err := n.stats.Publish(round, repl, meta, interval/2, backfill)
		cancelRound()
		n.met.statsPublished.Add(float64(staged))
		switch {
		case err == nil:
			backfill = false
		case errors.Is(err, federation.ErrLeft), errors.Is(err, federation.ErrRevoked), ctx.Err() != nil:
			n.log.Debug("stats not published", "err", err)
		default:
			n.log.Warn("stats not published", "staged", staged, "err", err)
		}
		if staged > 0 {
			n.log.Debug("stats published", "reports", staged)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// applyStats stores a member's report in the statistics history, inside
// the transaction that stores its record. A report that breaks the rules
// is logged (origin and day only) and left out of the history; the record
// itself is kept, so sync does not fetch it again and again.
func (n *Node) applyStats(tx *storage.Tx, r federation.Record) error {
	province := n.memberProvince(r.Origin)
	if province == "" {
		return nil
	}
	err := n.stats.Apply(tx, r.Origin.String(), province, r.Key, r.Payload, r.Deleted)
	if errors.Is(err, stats.ErrMalformed) || errors.Is(err, stats.ErrTooLarge) {
		n.log.Warn("stats report refused", "origin", r.Origin, "day", r.Key, "version", r.Version, "err", err)
		return nil
	}
	return err
}

// memberProvince is the province code of a member's certificate ("" if
// unknown).
func (n *Node) memberProvince(p peer.ID) string {
	for _, m := range n.fed.Members() {
		if m.Peer == p {
			return m.Province
		}
	}
	return ""
}
