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

// TestWeakStationGetsLowLayer: a receiver whose downlink loses packets is
// moved to the low simulcast layer; one that loses most of them has its
// video paused while its audio keeps flowing; a good receiver keeps the
// high layer.
func TestWeakStationGetsLowLayer(t *testing.T) {
	netns.Require(t)
	n := newNode(t, "66", nil)
	id := n.create(t, "doctor", calls.KindConference, n.user("staff"), n.user("nurse1"), n.user("nurse2"))
	ctx := ctxT(t, 30*time.Second)
	host := n.dial(t, id, "doctor", calltest.Options{Simulcast: true})
	require.NoError(t, host.Join())
	_, err := host.WaitType(ctx, calls.MsgAdmitted)
	require.NoError(t, err)
	admit := func(user string, o calltest.Options) *calltest.Client {
		c := n.dial(t, id, user, o)
		require.NoError(t, c.Join())
		_, err := host.WaitFor(ctx, func(m calls.Message) bool { return m.Type == calls.MsgKnock && m.User == c.Key() })
		require.NoError(t, err)
		require.NoError(t, host.Admit(c.Key()))
		return c
	}
	good := admit("staff", calltest.Options{NoVideo: true})
	weak := admit("nurse1", calltest.Options{NoVideo: true, RecvLoss: 0.12})
	dead := admit("nurse2", calltest.Options{NoVideo: true, RecvLoss: 0.8})
	for _, c := range []*calltest.Client{good, weak} {
		require.NoError(t, c.WaitMedia(ctx, host.Key(), "video", 5))
	}
	require.NoError(t, dead.WaitMedia(ctx, host.Key(), "audio", 5))
	from := host.Key()
	waitUntil(t, ctx, "the weak station on the low layer", func() bool {
		st := weak.Received(from, "video")
		return st.LastLayer == 0 && st.Layers[0] >= 30
	})
	waitUntil(t, ctx, "video paused for the dead station", func() bool {
		before := dead.Received(from, "video").Valid
		if dead.WaitMoreMedia(ctxT(t, 5*time.Second), from, "audio", 10) != nil {
			return false
		}
		return dead.Received(from, "video").Valid == before
	})
	require.NoError(t, dead.WaitMoreMedia(ctx, from, "audio", 20), "audio keeps flowing")
	require.NoError(t, good.WaitMoreMedia(ctx, from, "video", 30))
	assert.Equal(t, 2, good.Received(from, "video").LastLayer, "a good station keeps the high layer")
	assert.Zero(t, good.Received(from, "video").Layers[0])
}
