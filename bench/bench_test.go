package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestList(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, List(&out))
	for _, s := range scenarios() {
		assert.Contains(t, out.String(), s.name)
	}
}

func TestRunRefusesUnknownScenario(t *testing.T) {
	err := Run(context.Background(), Options{Scenarios: []string{"nope"}, Out: &bytes.Buffer{}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "booking")
}

func TestMedianAndPercentile(t *testing.T) {
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
	assert.Equal(t, 0.0, median(nil))
	d := []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}
	assert.Equal(t, 2.0, percentile(d, 50))
	assert.Equal(t, 3.0, percentile(d, 100))
}

// TestScenariosShort runs both scenarios briefly and checks the figures
// make sense (the rss scenario measures in-process here: the test binary
// is not moinha).
func TestScenariosShort(t *testing.T) {
	if testing.Short() {
		t.Skip("initialises two full-size provinces")
	}
	var out bytes.Buffer
	err := Run(context.Background(), Options{Scenarios: []string{"booking", "rss"}, JSON: true, Runs: 1,
		Duration: 300 * time.Millisecond, Clients: 16, Out: &out})
	require.NoError(t, err)
	var doc struct {
		Results []Result `json:"results"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), out.String())
	require.Len(t, doc.Results, 2)
	figures := map[string]Figure{}
	for _, r := range doc.Results {
		for _, f := range r.Figures {
			figures[r.Scenario+"/"+f.Name] = f
		}
	}
	for _, name := range []string{"booking/http.throughput", "booking/in_process.throughput", "booking/bare_bbolt.throughput",
		"booking/http.p99", "booking/ratio.http_vs_bare", "rss/rss.serving", "rss/rss.peak"} {
		f, ok := figures[name]
		require.True(t, ok, name)
		assert.Positive(t, f.Median, name)
		assert.Len(t, f.Runs, 1, name)
	}
	assert.NotNil(t, figures["booking/http.throughput"].Met)
	assert.True(t, strings.Contains(strings.Join(doc.Results[1].Notes, " "), "in-process"))
}

func TestNationalDirectoryShape(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 34 full-size provinces")
	}
	origins, facilities, workers, err := nationalDirectory()
	require.NoError(t, err)
	assert.Len(t, origins, 34)
	assert.InDelta(t, 15000, facilities, 100)
	assert.InDelta(t, 150000, workers, 500)
	for _, og := range origins {
		for _, r := range og.Records {
			require.True(t, strings.HasPrefix(r.Key, og.Province+"-"), r.Key)
		}
	}
}

func TestListNamesFederationGroup(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, List(&out))
	assert.Contains(t, out.String(), "federation")
	for _, s := range federationScenarios {
		assert.Contains(t, out.String(), s)
	}
}
