package federation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"

	"github.com/moinha/moinha/storage"
)

// Manifests let a joining node check a whole directory with one signature
// per thousand records instead of one per record (165,000 Ed25519
// verifications take ~10 s of both cores here).
//
// An origin's versions fall into chunks of manifestSpan (chunk c holds
// versions c·span+1 … (c+1)·span). For a chunk, the origin signs a record
// of kind manifest, key the chunk number in decimal, whose payload lists
// the version and SHA-256 of the envelope of each of its current data
// records in the chunk. The manifest is an ordinary record: it is signed
// by its origin, checked by the same rules (only a current, non-observer
// member writes one, about itself), gossiped and synced, and a newer
// version replaces it.
//
// Sync sends an origin's manifests ahead of its log (frameManifest). The
// requester verifies each manifest's signature and then accepts a record
// of that origin whose envelope hashes to a listed sum without verifying
// the record's own signature: the origin signed that very envelope's
// hash, so this is the origin's signature over the same bytes. Everything
// else about the record (shape, origin = signer, membership, ownership,
// staleness) is checked as for any record. A record the manifest does
// not list (newer, or changed) is verified one by one as before, so a
// missing or stale manifest costs speed, never correctness.
//
// A node signs manifests for its own records (WriteManifests) every
// SyncInterval, for each chunk whose current records are not all listed
// in its latest manifest — at once for a chunk that later versions have
// closed, else once manifestMinNew records wait — so a bulk import is
// covered within one interval, and routine edits cost one signature now
// and then.

const (
	// KindManifest is the kind of manifest records (key: chunk number).
	KindManifest = "manifest"
	// manifestSpan is how many versions one manifest chunk covers.
	manifestSpan = 1024
	// manifestMinNew is how many unlisted records make an origin sign the
	// open (last) chunk again.
	manifestMinNew = 16
	// manifestFormat is the first byte of a manifest payload.
	manifestFormat = 1
)

// manifestEntry is one listed record: its version and envelope hash.
type manifestEntry struct {
	version uint64
	sum     [sha256.Size]byte
}

// chunkOf is the manifest chunk that holds version v (v ≥ 1).
func chunkOf(v uint64) uint64 { return (v - 1) / manifestSpan }

// manifestKey is the record key of chunk c.
func manifestKey(c uint64) string { return strconv.FormatUint(c, 10) }

// parseManifestKey reads a manifest record key: a chunk number in
// canonical decimal.
func parseManifestKey(key string) (uint64, bool) {
	c, err := strconv.ParseUint(key, 10, 64)
	if err != nil || strconv.FormatUint(c, 10) != key || c > (1<<64-1)/manifestSpan-1 {
		return 0, false
	}
	return c, true
}

// encodeManifest renders entries (in increasing version order) as: format
// byte, uvarint count, then per entry the uvarint version difference to
// the previous entry (the first: to zero) and the 32-byte sum.
func encodeManifest(entries []manifestEntry) []byte {
	buf := make([]byte, 0, 2+len(entries)*(sha256.Size+2))
	buf = append(buf, manifestFormat)
	buf = binary.AppendUvarint(buf, uint64(len(entries)))
	prev := uint64(0)
	for _, e := range entries {
		buf = binary.AppendUvarint(buf, e.version-prev)
		buf = append(buf, e.sum[:]...)
		prev = e.version
	}
	return buf
}

// decodeManifest is the strict inverse of encodeManifest for the manifest
// record r: its key is a chunk, every listed version lies in that chunk,
// below r's own version, in strictly increasing order.
func decodeManifest(r *Record) ([]manifestEntry, error) {
	c, ok := parseManifestKey(r.Key)
	if !ok {
		return nil, fmt.Errorf("%w: manifest key", errMalformed)
	}
	b := r.Payload
	if len(b) == 0 || b[0] != manifestFormat {
		return nil, fmt.Errorf("%w: manifest format", errMalformed)
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > manifestSpan {
		return nil, fmt.Errorf("%w: manifest count", errMalformed)
	}
	b = b[k:]
	lo, hi := c*manifestSpan+1, (c+1)*manifestSpan
	out := make([]manifestEntry, 0, n)
	prev := uint64(0)
	for range n {
		d, k := binary.Uvarint(b)
		if k <= 0 || d == 0 || len(b)-k < sha256.Size {
			return nil, fmt.Errorf("%w: manifest entry", errMalformed)
		}
		v := prev + d
		if v < prev || v < lo || v > hi || v >= r.Version {
			return nil, fmt.Errorf("%w: manifest version %d outside chunk %d", errMalformed, v, c)
		}
		var e manifestEntry
		e.version = v
		copy(e.sum[:], b[k:k+sha256.Size])
		out = append(out, e)
		b = b[k+sha256.Size:]
		prev = v
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: manifest trailing bytes", errMalformed)
	}
	return out, nil
}

// WriteManifests signs a new manifest for every chunk of this node's
// versions holding current data records that its latest manifest does not
// list: at once for a closed chunk (later versions exist), and for the
// open one once manifestMinNew records wait. It reports how many it
// staged. It works whether or not the node runs (a stopped node's
// manifests go out by sync on the next start); a running node calls it
// every SyncInterval. Observers, departed and revoked nodes sign none.
func (f *Federation) WriteManifests(ctx context.Context) (int, error) {
	if f.observer || f.writable() != nil {
		return 0, nil
	}
	// Look first in a read transaction, and only if this node wrote
	// anything since the last look: most calls find nothing to sign.
	var due map[uint64][]manifestEntry
	var seen uint64
	err := f.db.View(func(tx *storage.Tx) error {
		st, err := getOrigin(tx, f.self)
		if err != nil || st.Max == f.manifestsSeen.Load() {
			return err
		}
		seen = st.Max
		due, err = f.manifestsDue(tx)
		return err
	})
	if err != nil || len(due) == 0 {
		if err == nil && seen != 0 {
			f.manifestsSeen.Store(seen)
		}
		return 0, wrapManifestErr(err)
	}
	staged := 0
	err = f.db.Update(ctx, func(tx *storage.Tx) error {
		staged = 0
		due, err := f.manifestsDue(tx)
		if err != nil {
			return err
		}
		for _, c := range slices.Sorted(maps.Keys(due)) {
			if _, _, err := f.stage(tx, Record{Kind: KindManifest, Key: manifestKey(c), Payload: encodeManifest(due[c])}); err != nil {
				return err
			}
			staged++
		}
		return nil
	})
	if err != nil {
		return 0, wrapManifestErr(err)
	}
	return staged, nil
}

func wrapManifestErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("federation: write manifests: %w", err)
}

// manifestsDue returns the entries of every chunk of this node's versions
// due a new manifest (see WriteManifests).
func (f *Federation) manifestsDue(tx *storage.Tx) (map[uint64][]manifestEntry, error) {
	chunks, last, err := ownChunks(tx, f.self, f.names.of(f.self))
	if err != nil {
		return nil, err
	}
	for c, entries := range chunks {
		listed, err := listedInManifest(tx, f.self, c)
		if err != nil {
			return nil, err
		}
		unlisted := 0
		for _, e := range entries {
			if !listed[e] {
				unlisted++
			}
		}
		if unlisted == 0 || (c == chunkOf(last) && unlisted < manifestMinNew) {
			delete(chunks, c)
		}
	}
	return chunks, nil
}

// ownChunks reads origin's current data records from its log, grouped by
// chunk, each chunk in version order, and the highest data version.
func ownChunks(tx *storage.Tx, origin peer.ID, name string) (map[uint64][]manifestEntry, uint64, error) {
	chunks := make(map[uint64][]manifestEntry)
	last := uint64(0)
	prefix := logPrefix(origin)
	err := tx.Scan(storage.BucketRecordLog, prefix, "", func(k string, v storage.Value) error {
		kk, err := decodeLogValue(v)
		if err != nil {
			return err
		}
		kind, _, _ := strings.Cut(kk, "/")
		if !dataKinds[kind] {
			return nil
		}
		sr, ok, err := getStoredAt(tx, name+"/"+kk)
		if err != nil || !ok {
			return err
		}
		version := binary.BigEndian.Uint64([]byte(k[len(prefix):]))
		c := chunkOf(version)
		chunks[c] = append(chunks[c], manifestEntry{version: version, sum: sha256.Sum256(sr.E)})
		last = max(last, version)
		return nil
	})
	return chunks, last, err
}

// listedInManifest is the set of entries origin's stored manifest of
// chunk c lists (empty when there is none).
func listedInManifest(tx *storage.Tx, origin peer.ID, c uint64) (map[manifestEntry]bool, error) {
	r, _, ok, err := loadStored(tx, origin, KindManifest, manifestKey(c))
	if err != nil || !ok || r.Deleted {
		return nil, err
	}
	entries, err := decodeManifest(&r)
	if err != nil {
		return nil, fmt.Errorf("federation: own manifest %d: %w", c, err)
	}
	listed := make(map[manifestEntry]bool, len(entries))
	for _, e := range entries {
		listed[e] = true
	}
	return listed, nil
}

// manifestsAhead reads the envelopes of origin's manifests a requester
// whose watermark is after needs before origin's log: those newer than
// after, and those of chunks reaching above it. It returns them and their
// versions (the log stream skips those).
func (f *Federation) manifestsAhead(origin peer.ID, after uint64) ([][]byte, map[uint64]bool, error) {
	var envs [][]byte
	versions := make(map[uint64]bool)
	err := f.db.View(func(tx *storage.Tx) error {
		name := f.names.of(origin)
		prefix := kindPrefix(KindManifest) + name + "/"
		return tx.Scan(storage.BucketRecordKinds, prefix, "", func(k string, v storage.Value) error {
			c, ok := parseManifestKey(k[len(prefix):])
			if !ok {
				return nil
			}
			var version uint64
			if err := v.Decode(&version); err != nil {
				return err
			}
			if version <= after && (c+1)*manifestSpan <= after {
				return nil
			}
			sr, ok, err := getStoredAt(tx, name+"/"+KindManifest+"/"+k[len(prefix):])
			if err != nil || !ok || sr.D {
				return err
			}
			envs = append(envs, sr.E)
			versions[sr.V] = true
			return nil
		})
	})
	return envs, versions, err
}

// manifestTrust is what one sync round learnt from verified manifests:
// which envelope hashes their origins signed, and each such origin's
// public key as its envelopes carry it.
type manifestTrust struct {
	sums map[[sha256.Size]byte]peer.ID
	keys map[peer.ID][]byte
}

func newManifestTrust() *manifestTrust {
	return &manifestTrust{sums: make(map[[sha256.Size]byte]peer.ID), keys: make(map[peer.ID][]byte)}
}

// learn adds the entries of the verified manifest record in.
func (t *manifestTrust) learn(in *incoming) {
	entries, err := decodeManifest(&in.rec)
	if err != nil {
		return // the writer rejects it as malformed
	}
	if pe, ok := parseEnvelope(in.env); ok {
		t.keys[in.rec.Origin] = pe.publicKey
	}
	for _, e := range entries {
		t.sums[e.sum] = in.rec.Origin
	}
}

// listed is what decodeListed needs for env, if a manifest lists it: the
// origin and its public key (nil if unknown).
func (t *manifestTrust) listed(env []byte) (peer.ID, []byte) {
	o := t.sums[sha256.Sum256(env)]
	if o == "" {
		return "", nil
	}
	return o, t.keys[o]
}

// rawEnvelope is the fields of a marshalled libp2p envelope (core/record's
// protobuf), sliced from it.
type rawEnvelope struct {
	publicKey, payloadType, payload, signature []byte
}

// parseEnvelope reads a marshalled envelope as libp2p's Seal writes it:
// the four fields (1 public key, 2 payload type, 3 payload, 5 signature),
// each once, length-delimited, nothing else. Anything else is not ok (the
// caller then takes libp2p's own decoder).
func parseEnvelope(b []byte) (rawEnvelope, bool) {
	var e rawEnvelope
	seen := 0
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 || tag&7 != 2 {
			return e, false
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return e, false
		}
		field := b[n : n+int(size) : n+int(size)]
		b = b[n+int(size):]
		num := tag >> 3
		if num > 5 || num == 4 || num == 0 || seen&(1<<num) != 0 {
			return e, false
		}
		seen |= 1 << num
		switch num {
		case 1:
			e.publicKey = field
		case 2:
			e.payloadType = field
		case 3:
			e.payload = field
		case 5:
			e.signature = field
		}
	}
	return e, seen == 1<<1|1<<2|1<<3|1<<5
}

// decodeListed opens an envelope whose hash origin's verified manifest
// lists: everything decodeIncoming checks except the signature itself,
// which the manifest's signature stands for. The signer must still be the
// record's origin, and that origin the manifest's. key, when known, is
// origin's public key as its manifest's envelope carries it: an envelope
// carrying the same bytes is signed by origin, without decoding the key.
func decodeListed(env []byte, origin peer.ID, key []byte) (*incoming, string) {
	if len(env) > maxEnvelope {
		return nil, reasonOversize
	}
	var payloadType, payload []byte
	var signer peer.ID
	if pe, ok := parseEnvelope(env); ok && key != nil && bytes.Equal(pe.publicKey, key) {
		payloadType, payload, signer = pe.payloadType, pe.payload, origin
	} else {
		e, err := record.UnmarshalEnvelope(env)
		if err != nil {
			return nil, reasonMalformed
		}
		payloadType, payload = e.PayloadType, e.RawPayload
		if signer, err = peer.IDFromPublicKey(e.PublicKey); err != nil {
			return nil, reasonBadSignature
		}
	}
	if !bytes.Equal(payloadType, recordCodec) {
		return nil, reasonMalformed
	}
	r, err := decodeRecord(payload)
	switch {
	case errors.Is(err, errOversize):
		return nil, reasonOversize
	case err != nil:
		return nil, reasonMalformed
	case signer != r.Origin || r.Origin != origin:
		return nil, reasonBadSignature
	}
	return &incoming{rec: r, env: env}, ""
}
