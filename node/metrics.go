package node

import "github.com/prometheus/client_golang/prometheus"

// metrics are the node's own Prometheus collectors, registered on the
// node's registry (never the global one: many nodes share a process in
// testnet).
type metrics struct {
	requests *prometheus.CounterVec   // route, code
	latency  *prometheus.HistogramVec // route
	bookings prometheus.Counter

	statsPublished prometheus.Counter // reports this node staged (stats.go)
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moinha_http_requests_total", Help: "HTTP API requests by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "moinha_http_request_duration_seconds", Help: "HTTP API latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		bookings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moinha_bookings_total", Help: "Appointments booked on this node.",
		}),
		statsPublished: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moinha_stats_reports_published_total", Help: "Daily statistics reports this node staged for the network.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.bookings, m.statsPublished)
	return m
}
