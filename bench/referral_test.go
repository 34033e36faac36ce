package bench

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReferralNemesis is the robustness run: ≥ 20 kills of random nodes
// under a referral workload, then the checker over the history.
func TestReferralNemesis(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of kills and restarts")
	}
	rep, err := ReferralNemesis(context.Background(), NemesisOptions{Seed: 42})
	require.NoError(t, err)
	t.Logf("%+v", rep)
	assert.GreaterOrEqual(t, rep.Kills, 20)
	assert.Positive(t, rep.Acked)
	assert.Positive(t, rep.Completed)
	assert.Zero(t, rep.Lost, "lost")
	assert.Zero(t, rep.Duplicated, "duplicated")
	assert.Zero(t, rep.Stuck, "stuck")
	assert.Empty(t, rep.Problems)
}
