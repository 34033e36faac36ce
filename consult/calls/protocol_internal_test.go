package calls

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseClient(t *testing.T) {
	ok := []string{
		`{"type":"join"}`,
		`{"type":"offer","pc":"pub","sdp":"v=0"}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0"}}`,
		`{"type":"admit","user":"66.doctor"}`,
		`{"type":"end","from":"66.someone-else","reason":"x"}`,
	}
	for _, s := range ok {
		m, good := parseClient([]byte(s))
		assert.True(t, good, s)
		assert.Empty(t, m.From, "a client cannot set From")
		assert.Empty(t, m.Reason)
	}
	bad := []string{
		`{`, `[]`, `{"type":"hello"}`, `{"type":"ended"}`, `{"type":"offer"}`, `{"type":"offer","pc":"x","sdp":"v=0"}`,
		`{"type":"candidate"}`, `{"type":"admit","user":"doctor"}`, `{"type":"admit","user":"66.A B"}`,
		`{"type":"candidate","candidate":{"candidate":"` + strings.Repeat("a", 2000) + `"}}`,
		`{"type":"offer","sdp":"` + strings.Repeat("a", maxSDPBytes+1) + `"}`,
	}
	for _, s := range bad {
		_, good := parseClient([]byte(s))
		assert.False(t, good, s)
	}
}

func FuzzParseClient(f *testing.F) {
	f.Add([]byte(`{"type":"candidate","candidate":{"candidate":"x","sdpMid":"0"}}`))
	f.Add([]byte(`{"type":"offer","pc":"sub","sdp":"v=0"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, ok := parseClient(raw)
		if ok && (!clientTypes[m.Type] || m.From != "") {
			t.Fatalf("accepted %q as %+v", raw, m)
		}
	})
}
