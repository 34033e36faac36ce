package federation

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Direct-messaging metric descriptions. Names: moinha_federation_direct_*.
var (
	descDirectDepth      = prometheus.NewDesc("moinha_federation_direct_outbox_depth", "Direct messages waiting in the outbox.", nil, nil)
	descDirectAge        = prometheus.NewDesc("moinha_federation_direct_outbox_oldest_seconds", "Age of the oldest direct message waiting in the outbox (0 when empty).", nil, nil)
	descDirectEnqueued   = prometheus.NewDesc("moinha_federation_direct_enqueued_total", "Direct messages stored in the outbox.", nil, nil)
	descDirectDelivered  = prometheus.NewDesc("moinha_federation_direct_delivered_total", "Direct messages the receiver acknowledged.", nil, nil)
	descDirectRefusedOut = prometheus.NewDesc("moinha_federation_direct_refused_by_peer_total", "Direct messages a receiver refused (dropped from the outbox).", nil, nil)
	descDirectDropped    = prometheus.NewDesc("moinha_federation_direct_dropped_total", "Direct messages dropped because their destination left or was revoked.", nil, nil)
	descDirectAttempts   = prometheus.NewDesc("moinha_federation_direct_streams_total", "Direct-message streams opened.", nil, nil)
	descDirectFailures   = prometheus.NewDesc("moinha_federation_direct_failures_total", "Direct deliveries that failed and will be retried.", nil, nil)
	descDirectReceived   = prometheus.NewDesc("moinha_federation_direct_received_total", "Direct messages received, handled and stored.", nil, nil)
	descDirectDuplicates = prometheus.NewDesc("moinha_federation_direct_duplicates_total", "Direct messages received again and ignored.", nil, nil)
	descDirectRefusedIn  = prometheus.NewDesc("moinha_federation_direct_refused_total", "Direct messages or streams this node refused.", nil, nil)
)

// directCollector exports DirectStats and the outbox depth and age (read
// from the data file on each scrape).
type directCollector struct{ f *Federation }

// Describe implements prometheus.Collector.
func (c *directCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDirectDepth, descDirectAge, descDirectEnqueued, descDirectDelivered,
		descDirectRefusedOut, descDirectDropped, descDirectAttempts, descDirectFailures, descDirectReceived,
		descDirectDuplicates, descDirectRefusedIn} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *directCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.f.DirectStats()
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	counter(descDirectEnqueued, st.Enqueued)
	counter(descDirectDelivered, st.Delivered)
	counter(descDirectRefusedOut, st.RefusedOut)
	counter(descDirectDropped, st.Dropped)
	counter(descDirectAttempts, st.Attempts)
	counter(descDirectFailures, st.Failures)
	counter(descDirectReceived, st.Received)
	counter(descDirectDuplicates, st.Duplicates)
	counter(descDirectRefusedIn, st.RefusedIn)
	if depth, oldest, err := c.f.OutboxStats(); err == nil {
		age := 0.0
		if !oldest.IsZero() {
			age = time.Since(oldest).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(descDirectDepth, prometheus.GaugeValue, float64(depth))
		ch <- prometheus.MustNewConstMetric(descDirectAge, prometheus.GaugeValue, age)
	}
}
