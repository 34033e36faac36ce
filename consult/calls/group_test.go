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

// joinGroup dials and joins every user; the host (first) admits the rest
// from the waiting room.
func joinGroup(t testing.TB, n *node, id string, users []string, o calltest.Options) []*calltest.Client {
	t.Helper()
	ctx := ctxT(t, 20*time.Second)
	var cs []*calltest.Client
	for i, u := range users {
		c := n.dial(t, id, u, o)
		require.NoError(t, c.Join())
		if i == 0 {
			_, err := c.WaitType(ctx, calls.MsgAdmitted)
			require.NoError(t, err)
		} else {
			_, err := c.WaitType(ctx, calls.MsgWaiting)
			require.NoError(t, err)
			_, err = cs[0].WaitFor(ctx, func(m calls.Message) bool { return m.Type == calls.MsgKnock && m.User == c.Key() })
			require.NoError(t, err)
			require.NoError(t, cs[0].Admit(c.Key()))
			_, err = c.WaitType(ctx, calls.MsgAdmitted)
			require.NoError(t, err)
		}
		cs = append(cs, c)
	}
	return cs
}

func TestConferenceSixParties(t *testing.T) {
	netns.Require(t)
	n := newNode(t, "66", nil)
	users := []string{"doctor", "staff", "nurse1", "nurse2", "nurse3", "nurse4"}
	var invite []calls.User
	for _, u := range users[1:] {
		invite = append(invite, n.user(u))
	}
	id := n.create(t, "doctor", calls.KindConference, invite...)
	leaks := calltest.CheckLeaks(t)
	cs := joinGroup(t, n, id, users, calltest.Options{Simulcast: true, VideoBitrate: 300_000})

	ctx := ctxT(t, 30*time.Second)
	waitMedia(t, ctx, 30, cs, cs)
	for _, c := range cs {
		got := 0
		for _, st := range c.AllReceived() {
			assert.Zero(t, st.Invalid)
			assert.NotEqual(t, c.Key(), st.From, "a participant gets its own media back")
			if st.Kind == "video" {
				got++
			}
		}
		assert.Equal(t, 5, got, "%s receives video from the other five", c.Key())
	}
	part, err := cs[0].WaitFor(ctx, func(m calls.Message) bool {
		return m.Type == calls.MsgParticipants && len(m.Participants) == 6
	})
	require.NoError(t, err)
	assert.Len(t, part.Participants, 6)

	// One leaves: the others stop getting its media, the call goes on.
	require.NoError(t, cs[5].Leave())
	_, err = cs[0].WaitFor(ctx, func(m calls.Message) bool {
		return m.Type == calls.MsgParticipants && len(m.Participants) == 5
	})
	require.NoError(t, err)
	waitMedia(t, ctx, cs[1].Received(cs[2].Key(), "video").Valid+10, cs[1:2], cs[2:3])

	require.NoError(t, cs[0].End())
	for _, c := range cs[:5] {
		code, reason, err := c.WaitClosed(ctx)
		require.NoError(t, err)
		assert.Equal(t, calls.CloseEnded, code)
		assert.Equal(t, calls.ReasonHostEnded, reason)
	}
	for _, c := range cs {
		c.Close()
	}
	leaks()
}

func TestWaitingRoomDeny(t *testing.T) {
	netns.Require(t)
	n := newNode(t, "66", nil)
	id := n.create(t, "doctor", calls.KindBriefing, n.user("staff"), n.user("nurse1"))
	ctx := ctxT(t, 10*time.Second)
	host := n.dial(t, id, "doctor", calltest.Options{NoVideo: true})
	require.NoError(t, host.Join())
	_, err := host.WaitType(ctx, calls.MsgAdmitted)
	require.NoError(t, err)

	guest := n.dial(t, id, "staff", calltest.Options{NoVideo: true})
	require.NoError(t, guest.Join())
	_, err = guest.WaitType(ctx, calls.MsgWaiting)
	require.NoError(t, err)

	// A participant who is not the host cannot admit.
	other := n.dial(t, id, "nurse1", calltest.Options{NoVideo: true})
	require.NoError(t, other.Join())
	require.NoError(t, other.Admit(guest.Key()))
	m, err := other.WaitType(ctx, calls.MsgError)
	require.NoError(t, err)
	assert.Equal(t, calls.ReasonNotHost, m.Reason, "only the host admits")

	require.NoError(t, host.Deny(guest.Key()))
	code, reason, err := guest.WaitClosed(ctx)
	require.NoError(t, err)
	assert.Equal(t, calls.CloseForbidden, code)
	assert.Equal(t, calls.ReasonDenied, reason)
}

// TestConferenceAcrossProvinces: a conference hosted in one province with
// participants of another, who join through their own node; their media
// goes to the host node's SFU.
func TestConferenceAcrossProvinces(t *testing.T) {
	netns.Require(t)
	relays := calltest.NewRelays()
	t.Cleanup(relays.Close)
	host := newNode(t, "79", relays)
	guest := newNode(t, "66", relays)
	ctx := ctxT(t, 30*time.Second)
	id := host.create(t, "doctor", calls.KindConference, host.user("staff"), guest.user("doctor"), guest.user("nurse1"))
	waitUntil(t, ctx, "the invitation", func() bool {
		vs, _, _ := guest.svc.List(guest.caller("nurse1"), 10, "")
		return len(vs) == 1
	})
	h := host.dial(t, id, "doctor", calltest.Options{Simulcast: true})
	require.NoError(t, h.Join())
	_, err := h.WaitType(ctx, calls.MsgAdmitted)
	require.NoError(t, err)
	cs := []*calltest.Client{h}
	for _, p := range []struct {
		n    *node
		user string
	}{{host, "staff"}, {guest, "doctor"}, {guest, "nurse1"}} {
		c := p.n.dial(t, id, p.user, calltest.Options{Simulcast: true})
		require.NoError(t, c.Join())
		_, err := c.WaitType(ctx, calls.MsgWaiting)
		require.NoError(t, err)
		_, err = h.WaitFor(ctx, func(m calls.Message) bool { return m.Type == calls.MsgKnock && m.User == c.Key() })
		require.NoError(t, err)
		require.NoError(t, h.Admit(c.Key()))
		_, err = c.WaitType(ctx, calls.MsgAdmitted)
		require.NoError(t, err)
		cs = append(cs, c)
	}
	waitMedia(t, ctx, 20, cs, cs)
	require.NoError(t, h.End())
	for _, c := range cs {
		_, reason, err := c.WaitClosed(ctx)
		require.NoError(t, err)
		assert.Equal(t, calls.ReasonHostEnded, reason, c.Key())
	}
	assert.Zero(t, relays.Rejected.Load())
}
