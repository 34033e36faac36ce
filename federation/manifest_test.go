package federation

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
	recordpb "github.com/libp2p/go-libp2p/core/record/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

func TestManifestCodec(t *testing.T) {
	_, origin := testKey(t)
	entries := []manifestEntry{{version: 1025}, {version: 1026}, {version: 2048}}
	for i := range entries {
		entries[i].sum = sha256.Sum256([]byte{byte(i)})
	}
	r := Record{Origin: origin, Kind: KindManifest, Key: "1", Version: 3000, Payload: encodeManifest(entries)}
	got, err := decodeManifest(&r)
	require.NoError(t, err)
	assert.Equal(t, entries, got)

	empty := r
	empty.Payload = encodeManifest(nil)
	got, err = decodeManifest(&empty)
	require.NoError(t, err)
	assert.Empty(t, got)

	bad := func(name string, edit func(r *Record)) {
		t.Helper()
		c := r
		c.Payload = append([]byte(nil), r.Payload...)
		edit(&c)
		_, err := decodeManifest(&c)
		assert.ErrorIs(t, err, errMalformed, name)
	}
	bad("key not canonical", func(r *Record) { r.Key = "01" })
	bad("key not a number", func(r *Record) { r.Key = "x" })
	bad("key negative", func(r *Record) { r.Key = "-1" })
	bad("wrong chunk", func(r *Record) { r.Key = "0" })
	bad("manifest older than its entries", func(r *Record) { r.Version = 2048 })
	bad("format", func(r *Record) { r.Payload[0] = 9 })
	bad("empty payload", func(r *Record) { r.Payload = nil })
	bad("truncated sum", func(r *Record) { r.Payload = r.Payload[:len(r.Payload)-1] })
	bad("trailing bytes", func(r *Record) { r.Payload = append(r.Payload, 0) })
	bad("not increasing", func(r *Record) {
		r.Payload = encodeManifest([]manifestEntry{{version: 1030}, {version: 1030}})
	})
	bad("too many", func(r *Record) {
		many := make([]manifestEntry, manifestSpan+1)
		for i := range many {
			many[i].version = 1025 + uint64(i)
		}
		r.Version = 5000
		r.Payload = encodeManifest(many)
	})
}

// TestDecodeListed: a listed envelope skips only the signature check; its
// signer must still be its origin, and that origin the manifest's.
func TestDecodeListed(t *testing.T) {
	const net = "test-net"
	kx, x := testKey(t)
	ky, y := testKey(t)
	rec := func(origin peer.ID) Record {
		return Record{Origin: origin, Kind: KindFacility, Key: "P01-a", Version: 7, Payload: []byte(`{}`)}
	}
	good, err := seal(net, kx, rec(x))
	require.NoError(t, err)
	in, reason := decodeListed(good, x, nil)
	require.Empty(t, reason)
	assert.Equal(t, rec(x), in.rec)

	// x's genuine record listed by y's manifest: not y's to vouch for.
	_, reason = decodeListed(good, y, nil)
	assert.Equal(t, reasonBadSignature, reason)

	// A record claiming origin y, sealed with x's key, listed by x.
	forged, err := seal(net, kx, rec(y))
	require.NoError(t, err)
	_, reason = decodeListed(forged, x, nil)
	assert.Equal(t, reasonBadSignature, reason)
	_, reason = decodeListed(forged, y, nil)
	assert.Equal(t, reasonBadSignature, reason)

	// y's genuine record under y is fine; garbage is malformed.
	fromY, err := seal(net, ky, rec(y))
	require.NoError(t, err)
	_, reason = decodeListed(fromY, y, nil)
	assert.Empty(t, reason)
	_, reason = decodeListed([]byte("not an envelope"), y, nil)
	assert.Equal(t, reasonMalformed, reason)

	// With the origin's key from its manifest (the fast path): the same
	// answers.
	keyOf := func(env []byte) []byte {
		pe, ok := parseEnvelope(env)
		require.True(t, ok)
		return pe.publicKey
	}
	xKey, yKey := keyOf(good), keyOf(fromY)
	in, reason = decodeListed(good, x, xKey)
	require.Empty(t, reason)
	assert.Equal(t, rec(x), in.rec)
	_, reason = decodeListed(good, y, yKey)
	assert.Equal(t, reasonBadSignature, reason)
	_, reason = decodeListed(forged, x, xKey)
	assert.Equal(t, reasonBadSignature, reason)
	_, reason = decodeListed(forged, y, yKey)
	assert.Equal(t, reasonBadSignature, reason)
}

// TestParseEnvelope: the direct reader agrees with libp2p's decoder on
// what Seal writes, and declines anything else.
func TestParseEnvelope(t *testing.T) {
	k, id := testKey(t)
	env, err := seal("net", k, Record{Origin: id, Kind: KindFacility, Key: "P01-a", Version: 3, Payload: []byte(`{"x":1}`)})
	require.NoError(t, err)
	pe, ok := parseEnvelope(env)
	require.True(t, ok)
	want, err := record.UnmarshalEnvelope(env)
	require.NoError(t, err)
	wantKey, err := crypto.MarshalPublicKey(want.PublicKey)
	require.NoError(t, err)
	assert.Equal(t, wantKey, pe.publicKey)
	assert.Equal(t, want.PayloadType, pe.payloadType)
	assert.Equal(t, want.RawPayload, pe.payload)
	var raw recordpb.Envelope
	require.NoError(t, proto.Unmarshal(env, &raw))
	assert.Equal(t, raw.Signature, pe.signature)

	field := func(num int, b []byte) []byte {
		out := binary.AppendUvarint(nil, uint64(num<<3|2))
		out = binary.AppendUvarint(out, uint64(len(b)))
		return append(out, b...)
	}
	for name, b := range map[string][]byte{
		"empty":           nil,
		"truncated":       env[:len(env)-1],
		"duplicate field": append(append([]byte(nil), env...), field(2, []byte("x"))...),
		"unknown field":   append(append([]byte(nil), env...), field(4, []byte("x"))...),
		"varint field":    append(append([]byte(nil), env...), 0x08, 0x01),
		"missing field":   field(1, []byte("k")),
	} {
		_, ok := parseEnvelope(b)
		assert.False(t, ok, name)
	}
}

// TestWriteManifestsPolicy: the open chunk is signed once enough records
// wait; a closed chunk at once; nothing twice.
func TestWriteManifestsPolicy(t *testing.T) {
	tn := newTestNet(t)
	a := tn.add(charter.RoleProvince, func(n *testNode) { n.cfg.SyncInterval = time.Hour })
	stageN := func(from, to int) {
		require.NoError(t, a.db.Update(t.Context(), func(tx *storage.Tx) error {
			for i := from; i < to; i++ {
				if err := a.f.Stage(tx, KindPractitioner, fmt.Sprintf("P00-bs-%d", i), []byte(`{}`), false); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	write := func() int {
		n, err := a.f.WriteManifests(t.Context())
		require.NoError(t, err)
		return n
	}
	listed := func(c uint64) int {
		r, ok, err := a.f.Record(a.id, KindManifest, manifestKey(c))
		require.NoError(t, err)
		if !ok {
			return -1
		}
		entries, err := decodeManifest(&r)
		require.NoError(t, err)
		return len(entries)
	}

	stageN(0, manifestMinNew-1)
	assert.Equal(t, 0, write(), "too few records wait in the open chunk")
	stageN(manifestMinNew-1, 40)
	assert.Equal(t, 1, write())
	assert.Equal(t, 40, listed(0))
	assert.Equal(t, 0, write(), "nothing new")

	// One change: listed records superseded cost nothing; the new version
	// waits for company.
	stageN(3, 4)
	assert.Equal(t, 0, write())

	// Past the chunk's end: chunk 0 is closed and signed at once with
	// what it holds now; chunk 1 waits or is signed by its own count.
	stageN(40, manifestSpan+10)
	assert.Equal(t, 1, write())
	// Less three versions: a's member record, the first manifest, and the
	// superseded version of P00-bs-3.
	assert.Equal(t, manifestSpan-3, listed(0))
	assert.Equal(t, -1, listed(1))
	stageN(manifestSpan+10, manifestSpan+40)
	assert.Equal(t, 1, write())
	assert.Greater(t, listed(1), manifestMinNew)

	// Observers sign none.
	obs := tn.add(charter.RoleObserver, func(n *testNode) { n.cfg.SyncInterval = time.Hour; n.cfg.Observer = true })
	n, err := obs.f.WriteManifests(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n)
}

// TestJoinerUsesManifests: a running node signs manifests of its records
// on its own; a node that joins later checks the listed records against
// them instead of one signature each, verifies the rest one by one, and
// relays the manifests to the next joiner.
func TestJoinerUsesManifests(t *testing.T) {
	tn := newTestNet(t)
	a := tn.add(charter.RoleProvince, nil) // SyncInterval 500 ms: its maintenance signs
	const n = 40
	require.NoError(t, a.db.Update(t.Context(), func(tx *storage.Tx) error {
		for i := range n {
			if err := a.f.Stage(tx, KindPractitioner, fmt.Sprintf("P00-bs-%d", i), fmt.Appendf(nil, `{"i":%d}`, i), false); err != nil {
				return err
			}
		}
		return nil
	}))
	waitFor(t, waitTimeout, func() bool { return a.has(a.id, KindManifest, "0", 1) }, "a's manifest")
	// After the manifest: one new record and one changed; neither listed.
	require.NoError(t, a.stage(KindPractitioner, "P00-bs-new", []byte(`{}`)))
	require.NoError(t, a.stage(KindPractitioner, "P00-bs-3", []byte(`{"changed":true}`)))

	all := func(nd *testNode) bool {
		for i := range n {
			if !nd.has(a.id, KindPractitioner, fmt.Sprintf("P00-bs-%d", i), 1) {
				return false
			}
		}
		r, ok, err := nd.f.Record(a.id, KindPractitioner, "P00-bs-3")
		return nd.has(a.id, KindPractitioner, "P00-bs-new", 1) && err == nil && ok && string(r.Payload) == `{"changed":true}`
	}
	b := tn.add(charter.RoleProvince, func(nd *testNode) { nd.cfg.Bootstrap = []string{a.addr()} })
	waitFor(t, waitTimeout, func() bool { return all(b) }, "b has a's records")
	st := b.f.Stats()
	assert.GreaterOrEqual(t, st.SyncListed, uint64(n-1), "listed records were checked against the manifest")
	assert.Zero(t, sumValues(st.SyncRejected))
	assert.True(t, b.has(a.id, KindManifest, "0", 1), "b keeps the manifest")
	for i := range n {
		key := fmt.Sprintf("P00-bs-%d", i)
		want, ok, err := a.f.Envelope(a.id, KindPractitioner, key)
		require.NoError(t, err)
		require.True(t, ok)
		got, ok, err := b.f.Envelope(a.id, KindPractitioner, key)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, want, got, key)
	}

	// c learns everything from b alone: b relays a's manifest.
	a.stop()
	c := tn.add(charter.RoleProvince, func(nd *testNode) { nd.cfg.Bootstrap = []string{b.addr()} })
	waitFor(t, waitTimeout, func() bool { return all(c) }, "c has a's records")
	assert.GreaterOrEqual(t, c.f.Stats().SyncListed, uint64(n-1))
}

func sumValues(m map[string]uint64) uint64 {
	var s uint64
	for _, v := range m {
		s += v
	}
	return s
}

// TestManifestsDoNotVouchForForgeries: a hostile member answering sync
// sends a's genuine manifest with a tampered copy of a listed record (its
// hash is not listed, so its signature is checked, and fails), and a
// manifest of its own listing a record it forged in a's name, with a's
// public key (listed, but not by its origin). Both are refused and counted; the genuine listed
// record is stored.
func TestManifestsDoNotVouchForForgeries(t *testing.T) {
	tn := newTestNet(t)
	a := tn.add(charter.RoleProvince, func(n *testNode) { n.cfg.SyncInterval = time.Hour })
	for i := range 20 {
		require.NoError(t, a.stage(KindPractitioner, fmt.Sprintf("P00-bs-%d", i), fmt.Appendf(nil, `{"i":%d}`, i)))
	}
	staged, err := a.f.WriteManifests(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, staged)
	aManifest, ok, err := a.f.Envelope(a.id, KindManifest, "0")
	require.NoError(t, err)
	require.True(t, ok)
	genuine, ok, err := a.f.Envelope(a.id, KindPractitioner, "P00-bs-0")
	require.NoError(t, err)
	require.True(t, ok)
	victim, ok, err := a.f.Envelope(a.id, KindPractitioner, "P00-bs-1")
	require.NoError(t, err)
	require.True(t, ok)
	// Same length, one payload byte changed: the hash no longer matches.
	tampered := append([]byte(nil), victim...)
	i := len(tampered) - 1
	for tampered[i] != '1' {
		i--
	}
	tampered[i] = '9'

	// m serves honestly until script is set.
	var script atomic.Pointer[[]rawFrame]
	m := tn.add(charter.RoleProvince, func(n *testNode) {
		n.cfg.SyncInterval = time.Hour
		n.cfg.Bootstrap = []string{a.addr()}
		n.tweak = func(f *Federation) {
			f.hooks.serveSync = func(w *syncWriter, have map[peer.ID]uint64) error {
				frames := script.Load()
				if frames == nil {
					return f.serveSync(w, have)
				}
				for _, fr := range *frames {
					if err := w.frame(fr.typ, fr.payload); err != nil {
						return err
					}
				}
				return w.frame(frameEnd, []byte{0})
			}
		}
	})
	waitFor(t, waitTimeout, func() bool { return m.f.members.admitted(a.id, time.Now()) }, "m knows a")
	// A record in a's name with a's public key and a signature that is
	// not a's over it (a's, over another record).
	var fe recordpb.Envelope
	require.NoError(t, proto.Unmarshal(genuine, &fe))
	fe.Payload, err = encodeRecord(&Record{Origin: a.id, Kind: KindPractitioner, Key: "P00-forged", Version: 900, Payload: []byte(`{}`)})
	require.NoError(t, err)
	forged, err := proto.Marshal(&fe)
	require.NoError(t, err)
	_, reason := decodeIncoming(m.f.netID, forged)
	require.Equal(t, reasonBadSignature, reason)
	mManifest, err := seal(m.f.netID, m.key, Record{Origin: m.id, Kind: KindManifest, Key: "0", Version: 1000,
		Payload: encodeManifest([]manifestEntry{{version: 900, sum: sha256.Sum256(forged)}})})
	require.NoError(t, err)
	aMember, ok, err := a.f.Envelope(a.id, KindMember, a.id.String())
	require.NoError(t, err)
	require.True(t, ok)
	script.Store(&[]rawFrame{
		{frameRecord, aMember},
		{frameManifest, aManifest}, {frameRecord, genuine}, {frameRecord, tampered},
		{frameManifest, mManifest}, {frameRecord, forged},
	})
	a.stop()

	j := tn.add(charter.RoleProvince, func(n *testNode) {
		n.cfg.SyncInterval = time.Hour
		n.cfg.Bootstrap = []string{m.addr()}
	})
	waitFor(t, waitTimeout, func() bool { return j.has(a.id, KindPractitioner, "P00-bs-0", 1) }, "the genuine listed record")
	waitFor(t, waitTimeout, func() bool { return j.f.Stats().SyncRejected[reasonBadSignature] >= 2 }, "both forgeries refused")
	assert.False(t, j.has(a.id, KindPractitioner, "P00-bs-1", 1), "the tampered record")
	assert.False(t, j.has(a.id, KindPractitioner, "P00-forged", 1), "the forged record")
	assert.GreaterOrEqual(t, j.f.Stats().SyncListed, uint64(2))
}

type rawFrame struct {
	typ     byte
	payload []byte
}
