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

// restartOpts makes ICE notice a dead link in about a second.
func restartOpts(net *calltest.SwitchNet) calltest.Options {
	o := calltest.Options{DisconnectedTimeout: time.Second, FailedTimeout: 3 * time.Second, KeepAlive: 250 * time.Millisecond}
	if net != nil {
		o.Net = net
	}
	return o
}

// TestICERestartConsult cuts one participant's network for a while: ICE
// goes disconnected, the client restarts it, and media flows again both
// ways when the network is back.
func TestICERestartConsult(t *testing.T) {
	netns.Require(t)
	n := newNode(t, "66", nil)
	ctx := ctxT(t, 30*time.Second)
	net, err := calltest.NewSwitchNet()
	require.NoError(t, err)
	for _, offererCut := range []bool{false, true} {
		// The newcomer offers: the first round cuts the answerer, the
		// second the offerer.
		id := n.create(t, "staff", calls.KindConsult, n.user("doctor"))
		a := n.dial(t, id, "staff", restartOpts(net))
		b := n.dial(t, id, "doctor", restartOpts(nil))
		if offererCut {
			require.NoError(t, b.Join())
			require.NoError(t, a.Join())
		} else {
			require.NoError(t, a.Join())
			require.NoError(t, b.Join())
		}
		waitMedia(t, ctx, 10, []*calltest.Client{a, b}, []*calltest.Client{a, b})

		net.Cut()
		waitUntil(t, ctx, "an ICE restart", func() bool { return a.Restarts()+b.Restarts() > 0 })
		net.Restore()
		require.NoError(t, b.WaitMoreMedia(ctx, a.Key(), "audio", 50), "audio from the cut side resumes")
		require.NoError(t, a.WaitMoreMedia(ctx, b.Key(), "audio", 50), "audio to the cut side resumes")
		require.NoError(t, b.WaitMoreMedia(ctx, a.Key(), "video", 30))
		a.Close()
		b.Close()
	}
}

// TestICERestartConference does the same to a participant of a group call:
// its upload ("pub", which it offers) and download ("sub", which the SFU
// offers on request) both recover.
func TestICERestartConference(t *testing.T) {
	netns.Require(t)
	n := newNode(t, "66", nil)
	ctx := ctxT(t, 30*time.Second)
	id := n.create(t, "doctor", calls.KindConference, n.user("staff"), n.user("nurse1"))
	net, err := calltest.NewSwitchNet()
	require.NoError(t, err)
	host := n.dial(t, id, "doctor", restartOpts(nil))
	require.NoError(t, host.Join())
	_, err = host.WaitType(ctx, calls.MsgAdmitted)
	require.NoError(t, err)
	var cs []*calltest.Client
	for i, u := range []string{"staff", "nurse1"} {
		o := restartOpts(nil)
		if i == 0 {
			o = restartOpts(net)
		}
		c := n.dial(t, id, u, o)
		require.NoError(t, c.Join())
		_, err = host.WaitFor(ctx, func(m calls.Message) bool { return m.Type == calls.MsgKnock && m.User == c.Key() })
		require.NoError(t, err)
		require.NoError(t, host.Admit(c.Key()))
		cs = append(cs, c)
	}
	all := append([]*calltest.Client{host}, cs...)
	waitMedia(t, ctx, 10, all, all)

	cut, other := cs[0], cs[1]
	net.Cut()
	waitUntil(t, ctx, "ICE restarts on pub and sub", func() bool { return cut.Restarts() >= 2 })
	net.Restore()
	require.NoError(t, other.WaitMoreMedia(ctx, cut.Key(), "audio", 50), "upload recovers")
	require.NoError(t, cut.WaitMoreMedia(ctx, other.Key(), "audio", 50), "download recovers")
	require.NoError(t, cut.WaitMoreMedia(ctx, host.Key(), "video", 30))
	assert.GreaterOrEqual(t, cut.Restarts(), 2)
}
