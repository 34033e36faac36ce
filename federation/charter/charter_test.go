package charter

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newKey(t testing.TB) crypto.PrivKey {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	return k
}

func newPeer(t testing.TB) peer.ID {
	t.Helper()
	id, err := peer.IDFromPrivateKey(newKey(t))
	require.NoError(t, err)
	return id
}

func newCharter(t testing.TB) (Charter, crypto.PrivKey) {
	t.Helper()
	auth := newKey(t)
	ch, err := NewCharter("Mọi Nhà test", auth)
	require.NoError(t, err)
	return ch, auth
}

// resign re-signs a modified certificate with key, so a test can make a
// well-signed certificate with one field wrong.
func resign(t *testing.T, c Certificate, key crypto.PrivKey) Certificate {
	t.Helper()
	sig, err := key.Sign(c.signedBytes())
	require.NoError(t, err)
	c.Signature = sig
	return c
}

func TestNetworkIDStableAndDistinct(t *testing.T) {
	ch, auth := newCharter(t)
	id := ch.NetworkID()
	assert.Len(t, id, 64)
	assert.Equal(t, id[:ShortIDLen], ch.ShortID())

	// A round trip through a file keeps the ID.
	path := filepath.Join(t.TempDir(), "charter.json")
	require.NoError(t, WriteCharter(path, ch))
	back, err := ReadCharter(path)
	require.NoError(t, err)
	assert.Equal(t, id, back.NetworkID())

	// The same time in another zone is the same charter.
	loc := time.FixedZone("ICT", 7*3600)
	moved := ch
	moved.Created = ch.Created.In(loc)
	assert.Equal(t, id, moved.NetworkID())

	// Any change is another network.
	other := ch
	other.Name = "another"
	assert.NotEqual(t, id, other.NetworkID())
	two := ch
	two.Authorities = append([]string(nil), ch.Authorities...)
	require.NoError(t, two.AddAuthority(newKey(t).GetPublic()))
	assert.NotEqual(t, id, two.NetworkID())
	_ = auth
}

func TestWriteCharterRefusesOverwrite(t *testing.T) {
	ch, _ := newCharter(t)
	path := filepath.Join(t.TempDir(), "charter.json")
	require.NoError(t, WriteCharter(path, ch))
	err := WriteCharter(path, ch)
	assert.ErrorIs(t, err, ErrExists)
}

func TestCharterValidate(t *testing.T) {
	ch, _ := newCharter(t)
	cases := []struct {
		name string
		mod  func(*Charter)
	}{
		{"no name", func(c *Charter) { c.Name = "" }},
		{"control char", func(c *Charter) { c.Name = "a\nb" }},
		{"protocol", func(c *Charter) { c.Protocol = 2 }},
		{"no authorities", func(c *Charter) { c.Authorities = nil }},
		{"bad authority", func(c *Charter) { c.Authorities = []string{"not base64!"} }},
		{"duplicate authority", func(c *Charter) { c.Authorities = []string{ch.Authorities[0], ch.Authorities[0]} }},
		{"no time", func(c *Charter) { c.Created = time.Time{} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ch
			c.Authorities = append([]string(nil), ch.Authorities...)
			tc.mod(&c)
			assert.ErrorIs(t, c.Validate(), ErrMalformed)
		})
	}
	assert.NoError(t, ch.Validate())
}

func TestAuthorityKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authority.key")
	k, err := CreateAuthorityKey(path)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	back, err := LoadAuthorityKey(path)
	require.NoError(t, err)
	assert.True(t, k.Equals(back))

	_, err = CreateAuthorityKey(path)
	assert.ErrorIs(t, err, ErrExists)

	_, err = LoadAuthorityKey(filepath.Join(t.TempDir(), "missing"))
	assert.Error(t, err)
	junk := filepath.Join(t.TempDir(), "junk")
	require.NoError(t, os.WriteFile(junk, []byte("junk"), 0o600))
	_, err = LoadAuthorityKey(junk)
	assert.Error(t, err)
}

func TestCertificateVerify(t *testing.T) {
	ch, auth := newCharter(t)
	other, otherAuth := newCharter(t)
	p := newPeer(t)
	now := time.Now()

	good, err := Admit(ch, auth, p, "66", "Sở Y tế Đắk Lắk", RoleProvince, 0)
	require.NoError(t, err)
	require.NoError(t, good.VerifyPeer(ch, p, now))
	assert.Len(t, good.ID(), 32)

	// A stranger's key signs nothing in this network.
	_, err = Admit(ch, newKey(t), p, "66", "x", RoleProvince, 0)
	assert.ErrorIs(t, err, ErrNotAuthority)
	_, err = Admit(ch, auth, p, "66", "x", Role("king"), 0)
	assert.ErrorIs(t, err, ErrBadRole)
	_, err = Admit(ch, auth, p, "6-6", "x", RoleProvince, 0)
	assert.ErrorIs(t, err, ErrMalformed)

	fromOther, err := Admit(other, otherAuth, p, "66", "x", RoleProvince, 0)
	require.NoError(t, err)

	tampered := good
	tampered.Province = "79"

	unknownAuth := good
	unknownAuth.Authority = other.Authorities[0]
	unknownAuth = resign(t, unknownAuth, otherAuth)

	wrongKeySig := resign(t, good, otherAuth) // claims auth, signed by another key

	badRole := good
	badRole.Role = "king"

	cases := []struct {
		name string
		cert Certificate
		peer peer.ID
		now  time.Time
		want error
	}{
		{"valid", good, p, now, nil},
		{"tampered", tampered, p, now, ErrBadSignature},
		{"signed by another key", wrongKeySig, p, now, ErrBadSignature},
		{"unsigned", func() Certificate { c := good; c.Signature = nil; return c }(), p, now, ErrBadSignature},
		{"unknown authority", unknownAuth, p, now, ErrUnknownAuthority},
		{"wrong network", fromOther, p, now, ErrWrongNetwork},
		{"expired", good, p, good.NotAfter, ErrExpired},
		{"not yet valid", good, p, good.NotBefore.Add(-time.Second), ErrNotYetValid},
		{"bad role", badRole, p, now, ErrBadRole},
		{"peer mismatch", good, newPeer(t), now, ErrPeerMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cert.VerifyPeer(ch, tc.peer, tc.now)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestCertificateFileRoundTrip(t *testing.T) {
	ch, auth := newCharter(t)
	p := newPeer(t)
	c, err := Admit(ch, auth, p, "BV_BACHMAI", "Bệnh viện Bạch Mai", RoleHospital, 48*time.Hour)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "member.cert")
	require.NoError(t, WriteCertificate(path, c))
	require.NoError(t, WriteCertificate(path, c)) // replacing is fine
	back, err := ReadCertificate(path)
	require.NoError(t, err)
	assert.Equal(t, c.ID(), back.ID())
	require.NoError(t, back.VerifyPeer(ch, p, time.Now()))
	assert.WithinDuration(t, time.Now().Add(48*time.Hour), back.NotAfter, time.Minute)

	// Unknown fields and trailing data are refused.
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	_, err = ParseCertificate(append(data, []byte(`{}`)...))
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = ParseCertificate([]byte(`{"network":"x","extra":1}`))
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestRevocation(t *testing.T) {
	ch, auth := newCharter(t)
	other, otherAuth := newCharter(t)
	p := newPeer(t)
	r, err := Revoke(ch, auth, p, "key lost")
	require.NoError(t, err)
	require.NoError(t, r.Verify(ch))
	got, err := r.PeerID()
	require.NoError(t, err)
	assert.Equal(t, p, got)

	path := filepath.Join(t.TempDir(), "revocation")
	require.NoError(t, WriteRevocation(path, r))
	back, err := ReadRevocation(path)
	require.NoError(t, err)
	require.NoError(t, back.Verify(ch))

	_, err = Revoke(ch, otherAuth, p, "")
	assert.ErrorIs(t, err, ErrNotAuthority)

	fromOther, err := Revoke(other, otherAuth, p, "")
	require.NoError(t, err)
	assert.ErrorIs(t, fromOther.Verify(ch), ErrWrongNetwork)

	tampered := r
	tampered.Peer = newPeer(t).String()
	assert.ErrorIs(t, tampered.Verify(ch), ErrBadSignature)

	foreign := r
	foreign.Authority = other.Authorities[0]
	assert.ErrorIs(t, foreign.Verify(ch), ErrUnknownAuthority)
}

func TestErrorsAreDistinct(t *testing.T) {
	all := []error{ErrMalformed, ErrUnknownAuthority, ErrBadSignature, ErrWrongNetwork, ErrExpired,
		ErrNotYetValid, ErrBadRole, ErrPeerMismatch, ErrNotAuthority, ErrExists}
	for i, a := range all {
		for j, b := range all {
			if i != j && errors.Is(a, b) {
				t.Fatalf("%v is %v", a, b)
			}
		}
	}
}
