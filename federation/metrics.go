package federation

import (
	"maps"
	"slices"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a connection is refused; they label peers_refused.
const (
	refusedRevoked = "revoked"   // the gater refused a revoked peer
	refusedNoHello = "no_hello"  // the peer said no valid hello in time
	refusedBadCert = "bad_hello" // the hello carried no valid membership
)

var refuseReasons = []string{refusedRevoked, refusedNoHello, refusedBadCert}

// Stats is a snapshot of the federation's counters (the same numbers the
// Prometheus collector exports).
type Stats struct {
	GossipSent        uint64            // records this node published
	GossipReceived    uint64            // records accepted from gossip
	GossipRejected    map[string]uint64 // gossip messages rejected, by reason
	GossipIgnored     uint64            // gossip messages ignored (stale)
	GossipDropped     uint64            // messages pubsub dropped (full queues)
	SyncRounds        uint64            // sync rounds this node asked for
	SyncRecordsPulled uint64            // records stored from sync
	SyncListed        uint64            // records from sync a verified manifest listed (not verified one by one)
	SyncRejected      map[string]uint64 // records from sync rejected, by reason
	PeersRefused      map[string]uint64 // connections refused, by reason
	Peers             int               // members connected now
}

// metrics holds the counters. They are plain atomics so a node without a
// Registerer still counts (Stats); the collector reads them on scrape.
type metrics struct {
	gossipSent, gossipReceived, gossipIgnored, gossipDropped atomic.Uint64
	syncRounds, syncPulled                                   atomic.Uint64
	syncListed                                               atomic.Uint64

	gossipRejected map[string]*atomic.Uint64 // fixed key set: rejectReasons
	syncRejected   map[string]*atomic.Uint64 // fixed key set: rejectReasons
	refused        map[string]*atomic.Uint64 // fixed key set: refuseReasons

	peers func() int
}

func newMetrics(peers func() int) *metrics {
	m := &metrics{
		gossipRejected: make(map[string]*atomic.Uint64),
		syncRejected:   make(map[string]*atomic.Uint64),
		refused:        make(map[string]*atomic.Uint64),
		peers:          peers,
	}
	for _, r := range rejectReasons {
		m.gossipRejected[r] = new(atomic.Uint64)
		m.syncRejected[r] = new(atomic.Uint64)
	}
	for _, r := range refuseReasons {
		m.refused[r] = new(atomic.Uint64)
	}
	return m
}

func inc(m map[string]*atomic.Uint64, reason string) {
	if c := m[reason]; c != nil {
		c.Add(1)
	}
}

func snapshot(m map[string]*atomic.Uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = v.Load()
	}
	return out
}

func (m *metrics) stats() Stats {
	return Stats{
		GossipSent:        m.gossipSent.Load(),
		GossipReceived:    m.gossipReceived.Load(),
		GossipRejected:    snapshot(m.gossipRejected),
		GossipIgnored:     m.gossipIgnored.Load(),
		GossipDropped:     m.gossipDropped.Load(),
		SyncRounds:        m.syncRounds.Load(),
		SyncRecordsPulled: m.syncPulled.Load(),
		SyncListed:        m.syncListed.Load(),
		SyncRejected:      snapshot(m.syncRejected),
		PeersRefused:      snapshot(m.refused),
		Peers:             m.peers(),
	}
}

// Metric descriptions. Names: moinha_federation_*.
var (
	descGossipSent     = prometheus.NewDesc("moinha_federation_gossip_sent_total", "Records this node published by gossip.", nil, nil)
	descGossipReceived = prometheus.NewDesc("moinha_federation_gossip_received_total", "Records accepted from gossip.", nil, nil)
	descGossipRejected = prometheus.NewDesc("moinha_federation_gossip_rejected_total", "Gossip messages rejected by the validator, by reason.", []string{"reason"}, nil)
	descGossipIgnored  = prometheus.NewDesc("moinha_federation_gossip_ignored_total", "Gossip messages ignored as stale.", nil, nil)
	descGossipDropped  = prometheus.NewDesc("moinha_federation_gossip_dropped_total", "Messages pubsub dropped because a queue was full.", nil, nil)
	descSyncRounds     = prometheus.NewDesc("moinha_federation_sync_rounds_total", "Anti-entropy rounds this node asked for.", nil, nil)
	descSyncPulled     = prometheus.NewDesc("moinha_federation_sync_records_pulled_total", "Records stored from anti-entropy sync.", nil, nil)
	descSyncListed     = prometheus.NewDesc("moinha_federation_sync_manifest_listed_total", "Records from sync checked against a verified manifest instead of their own signature.", nil, nil)
	descSyncRejected   = prometheus.NewDesc("moinha_federation_sync_rejected_total", "Records from sync rejected, by reason.", []string{"reason"}, nil)
	descRefused        = prometheus.NewDesc("moinha_federation_peers_refused_total", "Connections refused, by reason.", []string{"reason"}, nil)
	descPeers          = prometheus.NewDesc("moinha_federation_peers", "Members connected now.", nil, nil)
)

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descGossipSent, descGossipReceived, descGossipRejected,
		descGossipIgnored, descGossipDropped, descSyncRounds, descSyncPulled, descSyncListed, descSyncRejected,
		descRefused, descPeers} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descGossipSent, m.gossipSent.Load())
	counter(descGossipReceived, m.gossipReceived.Load())
	counter(descGossipIgnored, m.gossipIgnored.Load())
	counter(descGossipDropped, m.gossipDropped.Load())
	counter(descSyncRounds, m.syncRounds.Load())
	counter(descSyncPulled, m.syncPulled.Load())
	counter(descSyncListed, m.syncListed.Load())
	for _, r := range sortedKeys(m.gossipRejected) {
		counter(descGossipRejected, m.gossipRejected[r].Load(), r)
	}
	for _, r := range sortedKeys(m.syncRejected) {
		counter(descSyncRejected, m.syncRejected[r].Load(), r)
	}
	for _, r := range sortedKeys(m.refused) {
		counter(descRefused, m.refused[r].Load(), r)
	}
	ch <- prometheus.MustNewConstMetric(descPeers, prometheus.GaugeValue, float64(m.peers()))
}

func sortedKeys(m map[string]*atomic.Uint64) []string { return slices.Sorted(maps.Keys(m)) }
