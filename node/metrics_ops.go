package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moinha/moinha/consult/stats"
)

// opsCollector exports, at scrape time, what the node's data file says:
// today's appointment events and, on an observer, how many member
// provinces report. (The durable outbox's depth and age are federation's:
// moinha_federation_direct_outbox_depth and _oldest_seconds.)
type opsCollector struct{ n *Node }

var (
	descApptToday = prometheus.NewDesc("moinha_appointment_events_today",
		"Appointment events on this node today (Vietnam's date), by event: bookings, checkins, noshows, cancellations, fulfilled.",
		[]string{"event"}, nil)
	descReporting = prometheus.NewDesc("moinha_network_reporting_provinces",
		"Member provinces by whether they report their statistics (observer only).", []string{"state"}, nil)
)

// Describe implements prometheus.Collector.
func (c opsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descApptToday
	if c.n.cfg.Role == "observer" {
		ch <- descReporting
	}
}

// Collect implements prometheus.Collector.
func (c opsCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	now := time.Now()
	if totals, err := n.stats.BookingTotals(stats.Day(now)); err != nil {
		ch <- prometheus.NewInvalidMetric(descApptToday, err)
	} else {
		for event, v := range totals {
			ch <- prometheus.MustNewConstMetric(descApptToday, prometheus.GaugeValue, float64(v), event)
		}
	}
	if n.cfg.Role != "observer" {
		return
	}
	today := stats.Day(now)
	rows, err := n.stats.Reporting(n.networkView().reporters, today, today, now, n.statsInterval())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descReporting, err)
		return
	}
	reporting, silent := 0, 0
	for _, r := range rows {
		if r.NotReporting {
			silent++
		} else {
			reporting++
		}
	}
	ch <- prometheus.MustNewConstMetric(descReporting, prometheus.GaugeValue, float64(reporting), "reporting")
	ch <- prometheus.MustNewConstMetric(descReporting, prometheus.GaugeValue, float64(silent), "not_reporting")
}
