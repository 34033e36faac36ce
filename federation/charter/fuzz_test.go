package charter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The decoders read files and bytes from other nodes: they must never
// panic, and whatever they accept must survive a round trip unchanged.

func FuzzParseCertificate(f *testing.F) {
	ch, auth := newCharter(f)
	c, err := Admit(ch, auth, newPeer(f), "66", "Đắk Lắk", RoleProvince, 0)
	require.NoError(f, err)
	data, err := MarshalCertificate(c)
	require.NoError(f, err)
	f.Add(data)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"network":"` + ch.NetworkID() + `","role":"observer"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCertificate(data)
		if err != nil {
			return
		}
		out, err := MarshalCertificate(c)
		require.NoError(t, err)
		back, err := ParseCertificate(out)
		require.NoError(t, err)
		require.Equal(t, c.ID(), back.ID())
		_ = c.Verify(ch, time.Now()) // must not panic
	})
}

func FuzzParseRevocation(f *testing.F) {
	ch, auth := newCharter(f)
	r, err := Revoke(ch, auth, newPeer(f), "reason")
	require.NoError(f, err)
	data, err := MarshalRevocation(r)
	require.NoError(f, err)
	f.Add(data)
	f.Add([]byte(`{"signature":"AAAA"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRevocation(data)
		if err != nil {
			return
		}
		out, err := MarshalRevocation(r)
		require.NoError(t, err)
		back, err := ParseRevocation(out)
		require.NoError(t, err)
		require.Equal(t, string(r.signedBytes()), string(back.signedBytes()))
		_ = r.Verify(ch)
	})
}

func FuzzParseCharter(f *testing.F) {
	ch, _ := newCharter(f)
	f.Add(ch.Canonical())
	f.Add([]byte(`{"name":"x","authorities":[],"protocol":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCharter(data)
		if err != nil {
			return
		}
		back, err := ParseCharter(c.Canonical())
		require.NoError(t, err)
		require.Equal(t, c.NetworkID(), back.NetworkID())
	})
}
