package calls_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/calls/calltest"
	"github.com/moinha/moinha/internal/netns"
)

func TestConsultInProvince(t *testing.T) {
	netns.Require(t)
	n := newNode(t, "66", nil)
	leaks := calltest.CheckLeaks(t)
	ctx := ctxT(t, 20*time.Second)

	id := n.create(t, "staff", calls.KindConsult, n.user("doctor"))
	a := n.dial(t, id, "staff", calltest.Options{})
	b := n.dial(t, id, "doctor", calltest.Options{})
	assert.Equal(t, calls.RoleHost, a.Hello().Call.Role)
	assert.Equal(t, calls.RoleParticipant, b.Hello().Call.Role)
	require.NotEmpty(t, a.Hello().ICEServers, "TURN credentials come with hello")
	require.NoError(t, a.Join())
	require.NoError(t, b.Join())

	waitMedia(t, ctx, 20, []*calltest.Client{a, b}, []*calltest.Client{a, b})
	for _, c := range []*calltest.Client{a, b} {
		for _, st := range c.AllReceived() {
			assert.Zero(t, st.Invalid, "%s got media naming someone else", c.Key())
		}
	}

	require.NoError(t, a.End())
	for _, c := range []*calltest.Client{a, b} {
		code, reason, err := c.WaitClosed(ctx)
		require.NoError(t, err)
		assert.Equal(t, calls.CloseEnded, code)
		assert.Equal(t, calls.ReasonHostEnded, reason)
		c.Close()
	}
	leaks()

	v, err := n.svc.Get(n.caller("doctor"), id)
	require.NoError(t, err)
	assert.Equal(t, calls.StateEnded, v.State)
	assert.False(t, v.Started.IsZero())
	evs, err := n.svc.Events(id)
	require.NoError(t, err)
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	assert.Equal(t, calls.EventRinging, types[0])
	assert.Contains(t, types, calls.EventJoined)
	assert.Equal(t, calls.EventEnded, types[len(types)-1])
	st, err := n.svc.Stats()
	require.NoError(t, err)
	assert.Equal(t, int64(1), st[calls.KindConsult].Calls)
	assert.Equal(t, int64(1), st[calls.KindConsult].Ended)
	assert.Equal(t, int64(2), st[calls.KindConsult].Joins)
}

func TestConsultAcrossProvinces(t *testing.T) {
	netns.Require(t)
	relays := calltest.NewRelays()
	t.Cleanup(relays.Close)
	hcm := newNode(t, "79", relays) // the host's province
	dl := newNode(t, "66", relays)  // the invitee's
	ctx := ctxT(t, 20*time.Second)

	id := hcm.create(t, "doctor", calls.KindConsult, dl.user("staff"))
	// The invitation reaches the other node; its user lists the call with
	// a join URL on their own node.
	var views []calls.View
	waitUntil(t, ctx, "the invitation", func() bool {
		views, _, _ = dl.svc.List(dl.caller("staff"), 10, "")
		return len(views) == 1
	})
	assert.Equal(t, id, views[0].ID)
	assert.Equal(t, dl.srv.URL+"/call/"+id, views[0].JoinURL)
	assert.True(t, views[0].Remote)

	a := hcm.dial(t, id, "doctor", calltest.Options{})
	b := dl.dial(t, id, "staff", calltest.Options{})
	require.NoError(t, a.Join())
	require.NoError(t, b.Join())
	waitMedia(t, ctx, 20, []*calltest.Client{a, b}, []*calltest.Client{a, b})

	require.NoError(t, b.Leave())
	_, err := a.WaitType(ctx, calls.MsgPeerLeft)
	require.NoError(t, err)
	require.NoError(t, a.End())
	_, reason, err := a.WaitClosed(ctx)
	require.NoError(t, err)
	assert.Equal(t, calls.ReasonHostEnded, reason)
	waitUntil(t, ctx, "the end to reach the invitee's node", func() bool {
		v, err := dl.svc.Get(dl.caller("staff"), id)
		return err == nil && v.State == calls.StateEnded
	})
	assert.Zero(t, relays.Rejected.Load())
}
