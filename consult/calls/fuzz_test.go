package calls_test

import (
	"context"
	"testing"

	"github.com/moinha/moinha/consult/calls"
)

// FuzzHandleRelay: another node's bytes must never panic the service nor
// be taken from the wrong province.
func FuzzHandleRelay(f *testing.F) {
	f.Add("79", []byte(`{"v":1,"kind":"invite","call":"aaaaaaaaaaaaaaaaaaaaaaaaaa","invite":{"id":"aaaaaaaaaaaaaaaaaaaaaaaaaa","kind":"consult","host":{"province":"79","username":"doctor"},"invitees":[{"province":"66","username":"staff"}]}}`))
	f.Add("79", []byte(`{"v":1,"kind":"up","call":"aaaaaaaaaaaaaaaaaaaaaaaaaa","user":"79.doctor","msg":{"type":"join"}}`))
	f.Add("79", []byte(`{"v":1,"kind":"down","call":"aaaaaaaaaaaaaaaaaaaaaaaaaa","msg":{"type":"ended"}}`))
	f.Add("66", []byte(`{}`))
	n := newNode(f, "66", nil)
	f.Fuzz(func(t *testing.T, from string, raw []byte) {
		_ = n.svc.HandleRelay(context.Background(), from, raw)
	})
}

// FuzzParseKey: a user key parses back to itself or not at all.
func FuzzParseKey(f *testing.F) {
	f.Add("66.doctor")
	f.Add("66..x")
	f.Fuzz(func(t *testing.T, key string) {
		if u, ok := calls.ParseKey(key); ok && u.Key() != key {
			t.Fatalf("ParseKey(%q) = %+v, Key %q", key, u, u.Key())
		}
	})
}
