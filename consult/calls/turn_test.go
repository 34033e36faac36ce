package calls_test

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/calls/calltest"
	"github.com/moinha/moinha/internal/netns"
)

func relayOnly(o *calls.Options) { o.RelayOnly = true }

func TestConsultThroughTURN(t *testing.T) {
	netns.Require(t)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			n := newNode(t, "66", nil, relayOnly)
			ctx := ctxT(t, 20*time.Second)
			id := n.create(t, "staff", calls.KindConsult, n.user("doctor"))
			o := calltest.Options{TURNTransport: transport}
			a := n.dial(t, id, "staff", o)
			b := n.dial(t, id, "doctor", o)
			assert.Equal(t, "relay", a.Hello().ICETransportPolicy)
			require.NoError(t, a.Join())
			require.NoError(t, b.Join())
			waitMedia(t, ctx, 20, []*calltest.Client{a, b}, []*calltest.Client{a, b})
			for _, c := range []*calltest.Client{a, b} {
				p := c.SelectedPair("peer")
				require.NotNil(t, p)
				assert.Equal(t, webrtc.ICECandidateTypeRelay, p.Local.Typ, "%s sends through TURN", c.Key())
			}
			assert.GreaterOrEqual(t, n.svc.TURN().Allocations(), 2)
			assert.Zero(t, n.svc.TURN().AuthFailures())
		})
	}
}

func TestConferenceThroughTURN(t *testing.T) {
	netns.Require(t)
	n := newNode(t, "66", nil, relayOnly)
	id := n.create(t, "doctor", calls.KindTraining, n.user("staff"), n.user("nurse1"))
	cs := joinGroup(t, n, id, []string{"doctor", "staff", "nurse1"}, calltest.Options{Simulcast: true})
	ctx := ctxT(t, 20*time.Second)
	waitMedia(t, ctx, 20, cs, cs)
	for _, c := range cs {
		for _, name := range []string{"pub", "sub"} {
			p := c.SelectedPair(name)
			require.NotNil(t, p, "%s %s", c.Key(), name)
			assert.Equal(t, webrtc.ICECandidateTypeRelay, p.Local.Typ)
		}
	}
}
