package node

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/moinha/moinha/consult/calls"
)

// callsCollector exports, at scrape time, the calls service's figures:
// calls in progress and their participants by kind, the calls created,
// started and ended since the data file was made (stored counters, so
// they survive restarts), the SFU's forwarding counters and the TURN
// server's allocations since the node started. Counts only, no people.
type callsCollector struct{ n *Node }

var (
	descCallsActive = prometheus.NewDesc("moinha_calls_active",
		"Calls this node hosts with someone in them now, by kind.", []string{"kind"}, nil)
	descCallParticipants = prometheus.NewDesc("moinha_call_participants",
		"People in the calls this node hosts now (from any province), by kind.", []string{"kind"}, nil)
	descCallsCreated = prometheus.NewDesc("moinha_calls_created_total",
		"Calls created on this node, by kind.", []string{"kind"}, nil)
	descCallsStarted = prometheus.NewDesc("moinha_calls_started_total",
		"Calls hosted here that started (two people in them at once), by kind.", []string{"kind"}, nil)
	descCallsEnded = prometheus.NewDesc("moinha_calls_ended_total",
		"Calls hosted here that ended, by kind.", []string{"kind"}, nil)
	descCallSeconds = prometheus.NewDesc("moinha_call_seconds_total",
		"Time of the ended calls hosted here, from start to end, by kind.", []string{"kind"}, nil)
	descSFUPackets = prometheus.NewDesc("moinha_sfu_packets_total",
		"RTP packets through the SFU since start: received from publishers (in), forwarded to receivers (out), dropped (a write to a receiver failed).",
		[]string{"direction"}, nil)
	descSFUBytes = prometheus.NewDesc("moinha_sfu_bytes_total",
		"RTP bytes through the SFU since start: received from publishers (in), forwarded to receivers (out).",
		[]string{"direction"}, nil)
	descSFUParticipants = prometheus.NewDesc("moinha_sfu_participants",
		"Participants connected to the SFU's open rooms.", nil, nil)
	descTURNAllocations = prometheus.NewDesc("moinha_turn_allocations",
		"Live allocations on the embedded TURN server (absent when it is off).", nil, nil)
	descTURNAuth = prometheus.NewDesc("moinha_turn_auth_total",
		"TURN credential checks since start, by result (ok, refused: malformed or expired).", []string{"result"}, nil)
)

// Describe implements prometheus.Collector.
func (c callsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCallsActive, descCallParticipants, descCallsCreated, descCallsStarted,
		descCallsEnded, descCallSeconds, descSFUPackets, descSFUBytes, descSFUParticipants, descTURNAllocations, descTURNAuth} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c callsCollector) Collect(ch chan<- prometheus.Metric) {
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	live := c.n.calls.Live()
	for _, k := range calls.Kinds {
		ch <- prometheus.MustNewConstMetric(descCallsActive, gauge, float64(live.Active[k]), string(k))
		ch <- prometheus.MustNewConstMetric(descCallParticipants, gauge, float64(live.Participants[k]), string(k))
	}
	if totals, err := c.n.calls.Stats(); err != nil {
		for _, d := range []*prometheus.Desc{descCallsCreated, descCallsStarted, descCallsEnded, descCallSeconds} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
	} else {
		for _, k := range calls.Kinds {
			t := totals[k]
			ch <- prometheus.MustNewConstMetric(descCallsCreated, counter, float64(t.Calls), string(k))
			ch <- prometheus.MustNewConstMetric(descCallsStarted, counter, float64(t.Started), string(k))
			ch <- prometheus.MustNewConstMetric(descCallsEnded, counter, float64(t.Ended), string(k))
			ch <- prometheus.MustNewConstMetric(descCallSeconds, counter, float64(t.Seconds), string(k))
		}
	}
	m := live.Media
	ch <- prometheus.MustNewConstMetric(descSFUPackets, counter, float64(m.PacketsIn), "in")
	ch <- prometheus.MustNewConstMetric(descSFUPackets, counter, float64(m.PacketsOut), "out")
	ch <- prometheus.MustNewConstMetric(descSFUPackets, counter, float64(m.Dropped), "dropped")
	ch <- prometheus.MustNewConstMetric(descSFUBytes, counter, float64(m.BytesIn), "in")
	ch <- prometheus.MustNewConstMetric(descSFUBytes, counter, float64(m.BytesOut), "out")
	ch <- prometheus.MustNewConstMetric(descSFUParticipants, gauge, float64(m.Participants))
	if live.TURNEnabled {
		ch <- prometheus.MustNewConstMetric(descTURNAllocations, gauge, float64(live.TURN.Allocations))
		ch <- prometheus.MustNewConstMetric(descTURNAuth, counter, float64(live.TURN.AuthSuccesses), "ok")
		ch <- prometheus.MustNewConstMetric(descTURNAuth, counter, float64(live.TURN.AuthFailures), "refused")
	}
}
