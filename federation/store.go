package federation

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/moinha/moinha/storage"
)

// The storage layout of replicated records (one bbolt file per node):
//
//	BucketRecords      origin/kind/key           → storedRecord (latest version only)
//	BucketRecordLog    origin/version (8 B, BE)  → kind/key, one entry per stored record
//	BucketRecordKinds  kind/origin/key           → version
//	BucketOrigins      origin                    → originState
//
// Origins are peer IDs in their string (base58) form, which holds no "/";
// kinds hold no "/" either, so keys split unambiguously. When a newer
// version of a record arrives, the old one's log entry is removed, so the
// log of an origin lists exactly its latest records in version order: what
// sync streams to a peer that has seen the origin up to some version.

// storedRecord is a record as kept on disk: its version, its tombstone
// flag, and the signed envelope it arrived in (re-sent verbatim by sync).
type storedRecord struct {
	V uint64 `json:"v"`
	D bool   `json:"d,omitempty"`
	E []byte `json:"e"`
}

// originState is what a node knows of one origin's versions.
type originState struct {
	// Max is the highest version stored from the origin. For this node's
	// own origin it is the version counter: the next own record gets Max+1.
	Max uint64 `json:"max"`
	// Synced is a watermark: every record the origin wrote up to this
	// version is here (or was superseded by a later one). Sync asks peers
	// for what lies above it. Gossip advances it only over contiguous
	// versions; sync advances it to what the peer that answered had.
	Synced uint64 `json:"synced"`
}

func recordKey(origin peer.ID, kind, key string) string {
	return origin.String() + "/" + kind + "/" + key
}

func logPrefix(origin peer.ID) string { return origin.String() + "/" }

func logKey(origin peer.ID, v uint64) string { return logPrefix(origin) + storage.SeqKey(v) }

func kindPrefix(kind string) string { return kind + "/" }

func kindKey(kind string, origin peer.ID, key string) string {
	return kindPrefix(kind) + origin.String() + "/" + key
}

// splitKindKey parses a BucketRecordKinds key of kind into origin and key.
func splitKindKey(kind, k string) (peer.ID, string, error) {
	rest := strings.TrimPrefix(k, kindPrefix(kind))
	o, key, ok := strings.Cut(rest, "/")
	if !ok {
		return "", "", fmt.Errorf("federation: bad index key %q", k)
	}
	origin, err := peer.Decode(o)
	if err != nil {
		return "", "", fmt.Errorf("federation: bad index key %q: %w", k, err)
	}
	return origin, key, nil
}

func getOrigin(tx *storage.Tx, origin peer.ID) (originState, error) {
	var st originState
	_, err := tx.Get(storage.BucketOrigins, origin.String(), &st)
	return st, err
}

// allOrigins returns the state of every origin this node has records of.
func allOrigins(tx *storage.Tx) (map[peer.ID]originState, error) {
	out := make(map[peer.ID]originState)
	err := tx.Scan(storage.BucketOrigins, "", "", func(k string, v storage.Value) error {
		p, err := peer.Decode(k)
		if err != nil {
			return nil // not an origin key; skip
		}
		var st originState
		if err := v.Decode(&st); err != nil {
			return err
		}
		out[p] = st
		return nil
	})
	return out, err
}

func getStored(tx *storage.Tx, origin peer.ID, kind, key string) (storedRecord, bool, error) {
	return getStoredAt(tx, recordKey(origin, kind, key))
}

// getStoredAt reads the stored record at a BucketRecords key.
func getStoredAt(tx *storage.Tx, k string) (storedRecord, bool, error) {
	v, ok, err := tx.GetValue(storage.BucketRecords, k)
	if err != nil || !ok {
		return storedRecord{}, ok, err
	}
	sr, err := decodeStored(v)
	return sr, true, err
}

// decodeStored decodes a BucketRecords value. Every value putRecord
// writes has one shape — encoding/json's {"v":N,"e":"<base64>"}, with
// "d":true between them for a tombstone, after storage's codec byte — and
// a sync of the national directory decodes 165,000 of them on the
// responder, so that shape is parsed here directly (several times faster
// than encoding/json); anything else goes to encoding/json.
func decodeStored(v storage.Value) (storedRecord, error) {
	if sr, ok := parseStored(v); ok {
		return sr, nil
	}
	var sr storedRecord
	err := v.Decode(&sr)
	return sr, err
}

func parseStored(v []byte) (storedRecord, bool) {
	const head, tomb, env, tail = "\x01{\"v\":", `,"d":true`, `,"e":"`, `"}`
	rest, ok := bytes.CutPrefix(v, []byte(head))
	if !ok {
		return storedRecord{}, false
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	version, err := strconv.ParseUint(string(rest[:n]), 10, 64)
	if err != nil {
		return storedRecord{}, false
	}
	sr := storedRecord{V: version}
	rest = rest[n:]
	if r, ok := bytes.CutPrefix(rest, []byte(tomb)); ok {
		sr.D, rest = true, r
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(env)); !ok {
		return storedRecord{}, false
	}
	b64, ok := bytes.CutSuffix(rest, []byte(tail))
	if !ok || bytes.ContainsAny(b64, `"\`) {
		return storedRecord{}, false
	}
	sr.E = make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	m, err := base64.StdEncoding.Decode(sr.E, b64)
	if err != nil {
		return storedRecord{}, false
	}
	sr.E = sr.E[:m]
	return sr, true
}

// encodeStored renders sr as encoding/json would (the shape parseStored
// reads), without reflection: every record a node stores passes here.
func encodeStored(sr storedRecord) storage.Encoded {
	const head, tomb, env, tail = `{"v":`, `,"d":true`, `,"e":"`, `"}`
	b := make([]byte, 0, len(head)+20+len(tomb)+len(env)+base64.StdEncoding.EncodedLen(len(sr.E))+len(tail))
	b = append(b, head...)
	b = strconv.AppendUint(b, sr.V, 10)
	if sr.D {
		b = append(b, tomb...)
	}
	b = append(b, env...)
	b = base64.StdEncoding.AppendEncode(b, sr.E)
	b = append(b, tail...)
	return storage.EncodedJSON(b)
}

// decodeLogValue decodes a BucketRecordLog value (a JSON string,
// kind/key): directly when it holds no escape, else by encoding/json.
func decodeLogValue(v storage.Value) (string, error) {
	if len(v) >= 3 && v[0] == 1 && v[1] == '"' && v[len(v)-1] == '"' && !bytes.ContainsAny(v[2:len(v)-1], `"\`) {
		return string(v[2 : len(v)-1]), nil
	}
	var s string
	err := v.Decode(&s)
	return s, err
}

// storedVersion reads the stored version of (origin, kind, key) from the
// kind index: a number, cheaper than decoding the stored envelope.
func storedVersion(tx *storage.Tx, origin, kind, key string) (uint64, bool, error) {
	var v uint64
	ok, err := tx.Get(storage.BucketRecordKinds, kind+"/"+origin+"/"+key, &v)
	return v, ok, err
}

// origins caches, within one write transaction, the states of the origins
// it touches, and writes them (with their watermarks advanced over the
// versions now in the log) once, in flush: a batch of records from one
// origin reads and writes its state once, not once per record.
type origins struct {
	tx    *storage.Tx
	self  peer.ID
	names *peerNames
	state map[peer.ID]*originState
}

func newOrigins(tx *storage.Tx, self peer.ID, names *peerNames) *origins {
	return &origins{tx: tx, self: self, names: names, state: make(map[peer.ID]*originState)}
}

func (o *origins) get(origin peer.ID) (*originState, error) {
	if st := o.state[origin]; st != nil {
		return st, nil
	}
	var st originState
	if _, err := o.tx.Get(storage.BucketOrigins, o.names.of(origin), &st); err != nil {
		return nil, err
	}
	o.state[origin] = &st
	return &st, nil
}

// flush writes every touched origin's state.
func (o *origins) flush() error {
	for origin, st := range o.state {
		name := o.names.of(origin)
		if origin == o.self {
			st.Synced = st.Max
		} else {
			for o.tx.Has(storage.BucketRecordLog, name+"/"+storage.SeqKey(st.Synced+1)) {
				st.Synced++
			}
		}
		if err := o.tx.Put(storage.BucketOrigins, name, *st); err != nil {
			return err
		}
	}
	clear(o.state)
	return nil
}

// peerNames caches the text form of peer IDs (base58: a few hundred
// nanoseconds each, and every record's keys need one). Only origins of
// records that passed the rules are named, so it holds one entry per
// member. Safe for concurrent use.
type peerNames struct{ m sync.Map }

func (n *peerNames) of(p peer.ID) string {
	if s, ok := n.m.Load(p); ok {
		return s.(string)
	}
	s := p.String()
	n.m.Store(p, s)
	return s
}

// putRecord stores r (sealed as env) unless a version at least as new is
// stored, and reports whether it stored it. enc is the BucketRecords
// value encoded ahead (encodeStored), or zero to encode it here. bulk
// says r is one of many pulled in order (sync): its keys then pack pages
// full (storage's Append). The origin's state changes in og; the caller
// flushes it before the transaction ends.
func putRecord(og *origins, r Record, env []byte, enc storage.Encoded, bulk bool) (bool, error) {
	tx := og.tx
	o := og.names.of(r.Origin)
	old, ok, err := storedVersion(tx, o, r.Kind, r.Key)
	if err != nil {
		return false, err
	}
	if ok && old >= r.Version {
		return false, nil
	}
	if ok {
		if err := tx.Delete(storage.BucketRecordLog, o+"/"+storage.SeqKey(old)); err != nil {
			return false, err
		}
	}
	if enc.Len() == 0 {
		enc = encodeStored(storedRecord{V: r.Version, D: r.Deleted, E: env})
	}
	// A sync pulls each origin's records in version order, which is
	// mostly key order too: packed pages halve what a joiner writes. One
	// gossiped record lands anywhere: half-full pages leave it room.
	put := tx.Put
	if bulk {
		put = tx.Append
	}
	if err := put(storage.BucketRecords, o+"/"+r.Kind+"/"+r.Key, enc); err != nil {
		return false, err
	}
	if err := put(storage.BucketRecordLog, o+"/"+storage.SeqKey(r.Version), r.Kind+"/"+r.Key); err != nil {
		return false, err
	}
	if err := put(storage.BucketRecordKinds, r.Kind+"/"+o+"/"+r.Key, r.Version); err != nil {
		return false, err
	}
	st, err := og.get(r.Origin)
	if err != nil {
		return false, err
	}
	st.Max = max(st.Max, r.Version)
	return true, nil
}

// adoptSynced raises origin's watermark to w, capped at the highest
// version stored from it: a peer that had every record of origin up to w
// has sent us all of those we lacked.
func adoptSynced(og *origins, origin peer.ID, w uint64) error {
	st, err := og.get(origin)
	if err != nil {
		return err
	}
	st.Synced = max(st.Synced, min(w, st.Max))
	return nil
}

// loadStored reads and decodes the stored record at (origin, kind, key).
func loadStored(tx *storage.Tx, origin peer.ID, kind, key string) (Record, []byte, bool, error) {
	sr, ok, err := getStored(tx, origin, kind, key)
	if err != nil || !ok {
		return Record{}, nil, ok, err
	}
	r, err := openUnverified(sr.E)
	if err != nil {
		return Record{}, nil, true, fmt.Errorf("federation: stored record %s: %w", recordKey(origin, kind, key), err)
	}
	return r, sr.E, true, nil
}

// scanKind calls fn for every stored record of kind (tombstones included),
// ordered by origin and key.
func scanKind(tx *storage.Tx, kind string, fn func(r Record, env []byte) error) error {
	return tx.Scan(storage.BucketRecordKinds, kindPrefix(kind), "", func(k string, _ storage.Value) error {
		origin, key, err := splitKindKey(kind, k)
		if err != nil {
			return err
		}
		r, env, ok, err := loadStored(tx, origin, kind, key)
		if err != nil || !ok {
			return err
		}
		return fn(r, env)
	})
}
