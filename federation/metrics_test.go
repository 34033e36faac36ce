package federation

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

func TestMetricsRegisterAndUnregister(t *testing.T) {
	tn := newTestNet(t)
	key, id := testKey(t)
	cert, err := charter.Admit(tn.ch, tn.auth, id, "66", "x", charter.RoleProvince, time.Hour)
	require.NoError(t, err)
	db, err := storage.Open(filepath.Join(t.TempDir(), "node.db"), nil)
	require.NoError(t, err)
	defer db.Close()
	reg := prometheus.NewRegistry()
	cfg := Config{Key: key, Charter: tn.ch, Certificate: cert, DB: db, Registerer: reg}
	f, err := New(cfg)
	require.NoError(t, err)

	inc(f.metrics.gossipRejected, reasonObserver)
	f.metrics.syncPulled.Add(3)
	families, err := reg.Gather()
	require.NoError(t, err)
	got := make(map[string]float64)
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetValue() + "}"
			}
			if c := m.GetCounter(); c != nil {
				got[name] = c.GetValue()
			} else if g := m.GetGauge(); g != nil {
				got[name] = g.GetValue()
			}
		}
	}
	for _, name := range []string{
		"moinha_federation_gossip_sent_total", "moinha_federation_gossip_received_total",
		"moinha_federation_gossip_ignored_total", "moinha_federation_gossip_dropped_total",
		"moinha_federation_sync_rounds_total", "moinha_federation_peers",
		"moinha_federation_peers_refused_total{no_hello}",
	} {
		assert.Contains(t, got, name)
	}
	assert.Equal(t, 1.0, got["moinha_federation_gossip_rejected_total{observer}"])
	assert.Equal(t, 3.0, got["moinha_federation_sync_records_pulled_total"])

	// A second node cannot register into the same registry; after Close
	// the first one's metrics are gone and it can.
	_, err = New(cfg)
	assert.Error(t, err)
	require.NoError(t, f.Close())
	f2, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, f2.Close())
}
