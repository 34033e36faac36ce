package federation

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testNetID = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

func testKey(t testing.TB) (crypto.PrivKey, peer.ID) {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	id, err := peer.IDFromPrivateKey(k)
	require.NoError(t, err)
	return k, id
}

// rawRecord seals arbitrary record bytes, bypassing encodeRecord's checks,
// so tests can forge what a hostile peer could send.
type rawRecord struct {
	domain string
	codec  []byte
	data   []byte
}

func (r *rawRecord) Domain() string                 { return r.domain }
func (r *rawRecord) Codec() []byte                  { return r.codec }
func (r *rawRecord) MarshalRecord() ([]byte, error) { return r.data, nil }
func (r *rawRecord) UnmarshalRecord(b []byte) error { r.data = b; return nil }

// appendRecordUnchecked encodes r like encodeRecord without its checks.
func appendRecordUnchecked(r Record) []byte {
	buf := []byte{recordFormat}
	buf = appendBytes(buf, []byte(r.Origin))
	buf = appendBytes(buf, []byte(r.Kind))
	buf = appendBytes(buf, []byte(r.Key))
	buf = appendUvarint(buf, r.Version)
	var flags byte
	if r.Deleted {
		flags = 1
	}
	buf = append(buf, flags)
	return appendBytes(buf, r.Payload)
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// sealRaw signs raw record bytes with key in netID's domain.
func sealRaw(t testing.TB, netID string, key crypto.PrivKey, data []byte) []byte {
	t.Helper()
	env, err := record.Seal(&rawRecord{domain: recordDomain(netID), codec: recordCodec, data: data}, key)
	require.NoError(t, err)
	b, err := env.Marshal()
	require.NoError(t, err)
	return b
}

func TestSealOpen(t *testing.T) {
	key, id := testKey(t)
	r := Record{Origin: id, Kind: KindFacility, Key: "66-a", Version: 7, Deleted: true, Payload: []byte("x")}
	env, err := seal(testNetID, key, r)
	require.NoError(t, err)
	got, err := open(testNetID, env)
	require.NoError(t, err)
	assert.Equal(t, r, got)
	got, err = openUnverified(env)
	require.NoError(t, err)
	assert.Equal(t, r, got)

	// Another network's domain: the signature does not verify.
	other := "ff" + testNetID[2:]
	_, err = open(other, env)
	assert.ErrorIs(t, err, errBadSignature)

	// One flipped byte anywhere breaks it.
	for i := range env {
		bad := bytes.Clone(env)
		bad[i] ^= 0x01
		if _, err := open(testNetID, bad); err == nil {
			t.Fatalf("flipping byte %d still opens", i)
		}
	}

	// Signed by someone who is not the origin.
	key2, _ := testKey(t)
	forged := sealRaw(t, testNetID, key2, appendRecordUnchecked(r))
	_, err = open(testNetID, forged)
	assert.ErrorIs(t, err, errBadSignature)

	// An oversize payload is refused by encode and by open.
	big := r
	big.Payload = make([]byte, MaxPayload+1)
	_, err = seal(testNetID, key, big)
	assert.ErrorIs(t, err, errOversize)
	_, reason := decodeIncoming(testNetID, sealRaw(t, testNetID, key, appendRecordUnchecked(big)))
	assert.Equal(t, reasonOversize, reason)

	// Another payload type.
	env2, err := record.Seal(&rawRecord{domain: recordDomain(testNetID), codec: []byte("/other/1"), data: appendRecordUnchecked(r)}, key)
	require.NoError(t, err)
	b2, err := env2.Marshal()
	require.NoError(t, err)
	_, err = open(testNetID, b2)
	assert.ErrorIs(t, err, errMalformed)
}

func TestDecodeRecordStrict(t *testing.T) {
	_, id := testKey(t)
	good := appendRecordUnchecked(Record{Origin: id, Kind: "facility", Key: "k", Version: 1, Payload: []byte("p")})
	_, err := decodeRecord(good)
	require.NoError(t, err)
	cases := map[string][]byte{
		"empty":         nil,
		"format":        append([]byte{9}, good[1:]...),
		"trailing":      append(bytes.Clone(good), 0),
		"truncated":     good[:len(good)-1],
		"version zero":  appendRecordUnchecked(Record{Origin: id, Kind: "facility", Key: "k", Version: 0}),
		"no key":        appendRecordUnchecked(Record{Origin: id, Kind: "facility", Key: "", Version: 1}),
		"slash in kind": appendRecordUnchecked(Record{Origin: id, Kind: "a/b", Key: "k", Version: 1}),
		"bad origin":    appendRecordUnchecked(Record{Origin: "nope", Kind: "facility", Key: "k", Version: 1}),
		"long key":      appendRecordUnchecked(Record{Origin: id, Kind: "facility", Key: string(make([]byte, MaxKeyLen+1)), Version: 1}),
		"flags":         func() []byte { b := bytes.Clone(good); b[len(b)-3] = 2; return b }(),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := decodeRecord(b)
			assert.Error(t, err)
		})
	}
}

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, writeFrame(&buf, frameRecord, []byte("abc")))
	require.NoError(t, writeFrame(&buf, frameEnd, nil))
	rd := bufio.NewReader(&buf)
	typ, p, err := readFrame(rd)
	require.NoError(t, err)
	assert.Equal(t, frameRecord, typ)
	assert.Equal(t, "abc", string(p))
	typ, p, err = readFrame(rd)
	require.NoError(t, err)
	assert.Equal(t, frameEnd, typ)
	assert.Empty(t, p)
	assert.ErrorIs(t, writeFrame(&buf, frameRecord, make([]byte, maxFrame)), errFrameTooLarge)

	_, id := testKey(t)
	m := appendMark(appendMark(nil, mark{origin: []byte(id), version: 5}), mark{origin: []byte(id), version: 1 << 40})
	marks, err := decodeMarks(m, 10)
	require.NoError(t, err)
	require.Len(t, marks, 2)
	assert.Equal(t, uint64(1<<40), marks[1].version)
	_, err = decodeMarks(m, 1)
	assert.Error(t, err)
}

// Fuzz every decoder of a peer's bytes: no panics, and what decodes
// re-encodes to the same bytes.

func FuzzDecodeRecord(f *testing.F) {
	_, id := testKey(f)
	f.Add(appendRecordUnchecked(Record{Origin: id, Kind: "facility", Key: "66-a", Version: 3, Payload: []byte(`{}`)}))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		out, err := encodeRecord(&r)
		require.NoError(t, err)
		require.Equal(t, b, out)
	})
}

func FuzzOpen(f *testing.F) {
	key, id := testKey(f)
	env, err := seal(testNetID, key, Record{Origin: id, Kind: KindMember, Key: id.String(), Version: 1, Payload: []byte(`{}`)})
	require.NoError(f, err)
	f.Add(env)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = open(testNetID, b)
		_, _ = openUnverified(b)
		if in, reason := decodeIncoming(testNetID, b); reason == "" {
			_, _, _ = decodeMemberInfo(in.rec.Payload)
			_, _ = decodeLeaveInfo(in.rec.Payload)
			_, _ = decodeRevocation(in.rec.Payload)
		}
	})
}

func FuzzFrames(f *testing.F) {
	var buf bytes.Buffer
	_ = writeFrame(&buf, frameRequest, appendMark(nil, mark{origin: []byte("abc"), version: 9}))
	f.Add(buf.Bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		rd := bufio.NewReader(bytes.NewReader(b))
		for {
			_, p, err := readFrame(rd)
			if err != nil {
				return
			}
			_, _ = decodeMarks(p, 100)
		}
	})
}

func FuzzPayloads(f *testing.F) {
	f.Add([]byte(`{"cert":"abc","province":"66","time":"2025-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"certificate":{},"addrs":["/ip4/127.0.0.1/tcp/1"],"name":"x","role":"province","started":"2025-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = decodeMemberInfo(b)
		_, _ = decodeLeaveInfo(b)
		_, _ = decodeRevocation(b)
	})
}
