package fedbench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Small versions of each measurement, so the harness keeps working.

func TestPropagationSmall(t *testing.T) {
	res, err := Propagation(t.Context(), PropagationOptions{N: 5, Samples: 5})
	require.NoError(t, err)
	assert.Len(t, res.Fed, 5)
	assert.Len(t, res.Bare, 5)
	assert.Positive(t, Percentile(res.Fed, 50))
	assert.Zero(t, res.Dropped)
}

func TestThroughputSmall(t *testing.T) {
	res, err := Throughput(t.Context(), ThroughputOptions{N: 4, Phase: 300 * time.Millisecond, Start: 400, Refine: 1, MaxP99: 200 * time.Millisecond})
	require.NoError(t, err)
	assert.Positive(t, res.FedRate)
	assert.Positive(t, res.BareRate)
	assert.Zero(t, res.FedBest.Lost)
}

func TestDirectoryJoinSmall(t *testing.T) {
	d, err := BuildDirectory(t.Context(), DirectoryOptions{Origins: SyntheticDirectory(5, 10, 40), Sources: 2})
	require.NoError(t, err)
	defer d.Close()
	assert.Equal(t, 250, d.Records)
	res, err := d.Join(t.Context(), JoinOptions{})
	require.NoError(t, err)
	assert.Equal(t, 250, res.Records)
	floor, err := VerifyFloor(250, 400)
	require.NoError(t, err)
	assert.Positive(t, floor)
}

func TestHealSmall(t *testing.T) {
	res, err := Heal(t.Context(), HealOptions{N: 6, Partition: time.Second, Rate: 20})
	require.NoError(t, err)
	assert.Equal(t, 20, res.Staged)
	assert.Positive(t, res.Converged)
}
