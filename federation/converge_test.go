package federation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSixteenNodesConverge(t *testing.T) {
	tn := startNet(t, 16)
	tn.waitMesh()

	src := tn.nodes[5]
	require.NoError(t, src.stage(KindFacility, "P05-tram-y-te-1", []byte(`{"name":"Trạm Y tế 1"}`)))
	waitAllHave(t, tn.nodes, src.id, KindFacility, "P05-tram-y-te-1", 1)

	// Every other node handed it to the domain.
	for _, n := range tn.nodes {
		if n == src {
			continue
		}
		n.mu.Lock()
		r, ok := n.applied[recordKey(src.id, KindFacility, "P05-tram-y-te-1")]
		n.mu.Unlock()
		require.True(t, ok, "node %d", n.i)
		assert.Equal(t, `{"name":"Trạm Y tế 1"}`, string(r.Payload))
	}
	// Everyone knows everyone.
	for _, n := range tn.nodes {
		assert.Len(t, n.f.Members(), 16)
	}
	st := src.f.Stats()
	assert.GreaterOrEqual(t, st.GossipSent, uint64(2)) // its member record and the facility
}
