package calls_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/calls/calltest"
	"github.com/moinha/moinha/internal/netns"
)

func TestJoinRefused(t *testing.T) {
	netns.Require(t)
	relays := calltest.NewRelays()
	t.Cleanup(relays.Close)
	n := newNode(t, "66", relays)
	other := newNode(t, "79", relays)
	id := n.create(t, "staff", calls.KindConsult, n.user("doctor"))
	ended := n.create(t, "staff", calls.KindConference, n.user("doctor"))
	ctx := ctxT(t, 10*time.Second)
	host := n.dial(t, ended, "staff", calltest.Options{NoVideo: true, NoAudio: true})
	require.NoError(t, host.Join())
	require.NoError(t, host.End())
	_, _, err := host.WaitClosed(ctx)
	require.NoError(t, err)

	stale := n.tokens["nurse1"]
	require.NoError(t, n.acct.Logout(context.Background(), stale))

	cases := []struct {
		name   string
		node   *node
		call   string
		token  string
		status int
		code   string
	}{
		{"uninvited user", n, id, n.tokens["intruder"], http.StatusForbidden, calls.ReasonNotInvited},
		{"observer", n, id, n.tokens["observer"], http.StatusForbidden, calls.ReasonObserver},
		{"forged token", n, id, strings.Repeat("A", 43), http.StatusUnauthorized, "invalid_token"},
		{"stale token", n, id, stale, http.StatusUnauthorized, "invalid_token"},
		{"no token", n, id, "", http.StatusUnauthorized, "invalid_token"},
		{"unknown call", n, "aaaaaaaaaaaaaaaaaaaaaaaaaa", n.tokens["doctor"], http.StatusNotFound, calls.ReasonNotFound},
		{"malformed call ID", n, "x", n.tokens["doctor"], http.StatusNotFound, calls.ReasonNotFound},
		{"ended call", n, ended, n.tokens["doctor"], http.StatusUnprocessableEntity, calls.ReasonEnded},
		{"same username, other province", other, id, other.tokens["doctor"], http.StatusNotFound, calls.ReasonNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := calltest.Dial(ctx, tc.node.srv.URL, tc.call, calltest.Options{Token: tc.token})
			var he *calltest.HandshakeError
			require.True(t, errors.As(err, &he), "want a refused handshake, got %v", err)
			assert.Equal(t, tc.status, he.Status)
			assert.Equal(t, tc.code, he.Code)
		})
	}

	// The service refuses observers at its own door too.
	_, err = n.svc.Create(ctx, calls.Caller{Username: "observer", Role: consult.RoleObserver},
		calls.CreateRequest{Kind: calls.KindConsult, Invite: []calls.User{n.user("doctor")}})
	assert.ErrorIs(t, err, consult.ErrForbidden)
	_, err = n.svc.Create(ctx, n.caller("staff"), calls.CreateRequest{Kind: calls.KindConsult, Invite: []calls.User{n.user("observer")}})
	assert.ErrorIs(t, err, consult.ErrInvalid)
}

func TestCreateValidation(t *testing.T) {
	n := newNode(t, "66", nil)
	ctx := context.Background()
	bad := []calls.CreateRequest{
		{Kind: "party", Invite: []calls.User{n.user("doctor")}},
		{Kind: calls.KindConsult},
		{Kind: calls.KindConsult, Invite: []calls.User{n.user("doctor"), n.user("nurse1")}},
		{Kind: calls.KindConference, Invite: []calls.User{n.user("doctor"), n.user("doctor")}},
		{Kind: calls.KindConference, Invite: []calls.User{n.user("staff")}}, // the host
		{Kind: calls.KindConference, Invite: []calls.User{{Province: "66", Username: "X y"}}},
		{Kind: calls.KindConference, Invite: []calls.User{n.user("nobody")}},
	}
	for i, req := range bad {
		_, err := n.svc.Create(ctx, n.caller("staff"), req)
		assert.ErrorIs(t, err, consult.ErrInvalid, "case %d", i)
	}
	_, err := n.svc.Create(ctx, n.caller("staff"), calls.CreateRequest{Kind: calls.KindConference,
		Invite: []calls.User{{Province: "79", Username: "doctor"}}})
	assert.ErrorIs(t, err, consult.ErrConflict, "a lone node cannot invite other provinces")
	c, err := n.svc.Create(ctx, n.caller("staff"), calls.CreateRequest{Kind: calls.KindConsult, Invite: []calls.User{{Username: "doctor"}}})
	require.NoError(t, err)
	assert.True(t, calls.ValidID(c.ID))
	assert.Equal(t, n.srv.URL+"/call/"+c.ID, c.JoinURL)

	// Listing: each side sees it, newest first, paged.
	for range 3 {
		n.create(t, "doctor", calls.KindBriefing, n.user("staff"))
	}
	views, next, err := n.svc.List(n.caller("staff"), 2, "")
	require.NoError(t, err)
	require.Len(t, views, 2)
	require.NotEmpty(t, next)
	more, next2, err := n.svc.List(n.caller("staff"), 2, next)
	require.NoError(t, err)
	require.Len(t, more, 2)
	assert.Empty(t, next2)
	assert.Equal(t, c.ID, more[1].ID, "oldest last")
	assert.Equal(t, calls.RoleHost, more[1].Role)
	assert.Equal(t, calls.RoleParticipant, views[0].Role)
	_, err = n.svc.Get(n.caller("intruder"), c.ID)
	assert.ErrorIs(t, err, consult.ErrNotFound)
}

func TestProtocolViolations(t *testing.T) {
	netns.Require(t)
	n := newNode(t, "66", nil)
	id := n.create(t, "staff", calls.KindConsult, n.user("doctor"))
	ctx := ctxT(t, 10*time.Second)
	c := n.dial(t, id, "staff", calltest.Options{NoVideo: true, NoAudio: true})

	// Signalling before join, and to nobody.
	require.NoError(t, c.Send(calls.Message{Type: calls.MsgOffer, SDP: "v=0"}))
	m, err := c.WaitType(ctx, calls.MsgError)
	require.NoError(t, err)
	assert.Equal(t, calls.ReasonNotJoined, m.Reason)
	require.NoError(t, c.Join())
	require.NoError(t, c.Send(calls.Message{Type: calls.MsgOffer, SDP: "v=0"}))
	_, err = c.WaitFor(ctx, func(m calls.Message) bool { return m.Reason == calls.ReasonNoPeer })
	require.NoError(t, err)
	// Only the host ends; a participant's admit is refused.
	d := n.dial(t, id, "doctor", calltest.Options{NoVideo: true, NoAudio: true})
	require.NoError(t, d.Join())
	require.NoError(t, d.End())
	_, err = d.WaitFor(ctx, func(m calls.Message) bool { return m.Reason == calls.ReasonNotHost })
	require.NoError(t, err)

	// Malformed messages: an error each, closed at the third.
	for _, raw := range []string{`{`, `{"type":"dance"}`, `{"type":"candidate"}`} {
		require.NoError(t, c.SendRaw([]byte(raw)))
	}
	code, reason, err := c.WaitClosed(ctx)
	require.NoError(t, err)
	assert.Equal(t, calls.CloseBadMessage, code)
	assert.Equal(t, calls.ReasonBadMessage, reason)

	// Too large.
	e := n.dial(t, id, "staff", calltest.Options{NoVideo: true, NoAudio: true})
	require.NoError(t, e.SendRaw([]byte(`{"type":"offer","sdp":"`+strings.Repeat("a", calls.MaxMessageBytes)+`"}`)))
	code, reason, err = e.WaitClosed(ctx)
	require.NoError(t, err)
	assert.Equal(t, calls.CloseTooLarge, code)
	assert.Equal(t, calls.ReasonTooLarge, reason)

	// A second connection of the same user replaces the first.
	f := n.dial(t, id, "doctor", calltest.Options{NoVideo: true, NoAudio: true})
	require.NoError(t, f.Join())
	code, reason, err = d.WaitClosed(ctx)
	require.NoError(t, err)
	assert.Equal(t, calls.CloseReplaced, code)
	assert.Equal(t, calls.ReasonReplaced, reason)
}
