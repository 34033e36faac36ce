package node_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/node"
)

// TestListReferralsPages: the CLI's list through the operator socket of a
// running node follows the pages to the end (every referral once), as the
// read-only path on a stopped node does.
func TestListReferralsPages(t *testing.T) {
	node.SetAdminPageSize(t, 2)
	tn := newTestNode(t)
	staff := tn.login(t, "staff")
	var want []string
	for range 5 {
		r := tn.do(t, req{method: "POST", path: "/api/v1/referrals", token: staff, body: map[string]any{
			"specialty": "cardiology", "urgency": "routine", "reason": "khó thở", "target_province": "66",
			"patient": map[string]any{"name": "Lê Văn Tám", "phone": "0987654321", "birth_year": 1961, "sex": "male"},
		}})
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		var v struct{ ID string }
		require.NoError(t, json.Unmarshal(r.body, &v))
		want = append(want, v.ID)
	}
	require.True(t, node.Running(tn.dir))
	got, err := node.ListReferrals(context.Background(), tn.dir, referral.Filter{Type: referral.TypeReferral, Box: referral.BoxOutbox})
	require.NoError(t, err)
	ids := make([]string, 0, len(got))
	for _, v := range got {
		ids = append(ids, v.ID)
	}
	assert.ElementsMatch(t, want, ids, "five referrals over three pages, each once")
}
