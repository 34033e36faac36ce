package bench

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/referral"
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

// TestNemesisCheckerCatchesLoss checks the checker itself: an
// acknowledged referral that no node holds is reported lost, and an
// acknowledged outcome missing at an open referral too.
func TestNemesisCheckerCatchesLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a network")
	}
	ctx := context.Background()
	o := Options{}
	o.withDefaults()
	net, err := referralNet(ctx, 2, referral.Options{}, o)
	require.NoError(t, err)
	defer net.Stop()
	v, err := net.Nodes[0].Referrals().Create(ctx, referral.Actor{User: "staff"}, benchReferral(net.Nodes[1].Province, referral.UrgencyRoutine))
	require.NoError(t, err)
	h := &history{created: map[string]int{v.ID: 0, "66-r-aaaaaaaaaaaaaaaa": 0}, outcomes: map[string]string{"79:x.1": v.ID}}
	var rep NemesisReport
	check(net, h, &rep)
	assert.Equal(t, 2, rep.Lost, "%v", rep.Problems)
	assert.Equal(t, 1, rep.Stuck, "the open referral")
	assert.Zero(t, rep.Duplicated)
}
