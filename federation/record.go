package federation

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
)

// Record kinds. Membership kinds (member, revocation, leave) are the
// federation's own; the others carry the domain's public data and are
// handed to Config.Apply.
const (
	KindMember       = "member"       // key: the origin's peer ID; payload: MemberInfo
	KindRevocation   = "revocation"   // key: the revoked peer ID; payload: charter.Revocation
	KindLeave        = "leave"        // key: the origin's peer ID; payload: LeaveInfo
	KindFacility     = "facility"     // key: "<province>-…"
	KindPractitioner = "practitioner" // key: "<province>-…"
	KindService      = "service"      // key: "<province>-…"
	KindAvailability = "availability" // key: "<province>" or "<province>-…"
	KindStats        = "stats"        // key: free; about the origin itself
)

// Limits on a record.
const (
	// MaxPayload is the largest record payload (64 KiB). Bigger data goes
	// over direct streams, never gossip.
	MaxPayload = 64 << 10
	// MaxKeyLen is the longest record key.
	MaxKeyLen = 256
	// maxKindLen is the longest kind name.
	maxKindLen = 32
	// maxEnvelope bounds a sealed record on the wire: payload plus the
	// envelope's key, signature, type and the record header.
	maxEnvelope = MaxPayload + 2048
)

// dataKinds are the kinds whose records go to Config.Apply.
var dataKinds = map[string]bool{
	KindFacility: true, KindPractitioner: true, KindService: true,
	KindAvailability: true, KindStats: true,
}

// provinceKinds are the kinds whose key must start with the origin's
// province code.
var provinceKinds = map[string]bool{
	KindFacility: true, KindPractitioner: true, KindService: true, KindAvailability: true,
}

// membershipKinds are the kinds about membership itself.
var membershipKinds = map[string]bool{KindMember: true, KindRevocation: true, KindLeave: true}

// KnownKind reports whether kind is one this version replicates.
func KnownKind(kind string) bool {
	return dataKinds[kind] || membershipKinds[kind] || kind == KindManifest
}

// Record is one replicated value: the latest Version of (Origin, Kind, Key)
// wins everywhere. The origin signs it.
type Record struct {
	Origin  peer.ID
	Kind    string
	Key     string
	Version uint64
	Deleted bool
	Payload []byte
}

// recordCodec is the envelope payload type of a sealed Record.
var recordCodec = []byte("/moinha/record/1")

// recordFormat is the first byte of an encoded record.
const recordFormat = 1

// recordDomain is the signature domain of records in one network: a record
// signed for another network never verifies in this one.
func recordDomain(networkID string) string { return "moinha-record:" + networkID }

// wireRecord adapts a Record to libp2p's record.Record for sealing in a
// signed envelope. It is not registered with libp2p's global type registry;
// envelopes are opened with record.ConsumeTypedEnvelope.
type wireRecord struct {
	domain string
	r      Record
}

func (w *wireRecord) Domain() string { return w.domain }
func (w *wireRecord) Codec() []byte  { return recordCodec }

func (w *wireRecord) MarshalRecord() ([]byte, error) { return encodeRecord(&w.r) }

func (w *wireRecord) UnmarshalRecord(b []byte) error {
	r, err := decodeRecord(b)
	if err != nil {
		return err
	}
	w.r = r
	return nil
}

// errMalformed marks a record or frame that does not decode.
var errMalformed = errors.New("malformed")

// encodeRecord renders r as: format byte, origin, kind, key (each a
// uvarint length and bytes), uvarint version, flags byte (bit 0: deleted),
// payload (uvarint length and bytes).
func encodeRecord(r *Record) ([]byte, error) {
	if err := checkShape(r); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, 64+len(r.Origin)+len(r.Kind)+len(r.Key)+len(r.Payload))
	buf = append(buf, recordFormat)
	buf = appendBytes(buf, []byte(r.Origin))
	buf = appendBytes(buf, []byte(r.Kind))
	buf = appendBytes(buf, []byte(r.Key))
	buf = binary.AppendUvarint(buf, r.Version)
	var flags byte
	if r.Deleted {
		flags |= 1
	}
	buf = append(buf, flags)
	buf = appendBytes(buf, r.Payload)
	return buf, nil
}

func appendBytes(buf, b []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(b)))
	return append(buf, b...)
}

// decodeRecord is the strict inverse of encodeRecord.
func decodeRecord(b []byte) (Record, error) {
	rd := bytes.NewReader(b)
	f, err := rd.ReadByte()
	if err != nil || f != recordFormat {
		return Record{}, fmt.Errorf("%w: record format", errMalformed)
	}
	origin, err := readBytes(rd, 128)
	if err != nil {
		return Record{}, err
	}
	kind, err := readBytes(rd, maxKindLen)
	if err != nil {
		return Record{}, err
	}
	key, err := readBytes(rd, MaxKeyLen)
	if err != nil {
		return Record{}, err
	}
	version, err := binary.ReadUvarint(rd)
	if err != nil {
		return Record{}, fmt.Errorf("%w: version", errMalformed)
	}
	flags, err := rd.ReadByte()
	if err != nil || flags&^1 != 0 {
		return Record{}, fmt.Errorf("%w: flags", errMalformed)
	}
	payload, err := readBytes(rd, MaxPayload)
	if err != nil {
		return Record{}, err
	}
	if rd.Len() != 0 {
		return Record{}, fmt.Errorf("%w: trailing bytes", errMalformed)
	}
	r := Record{
		Origin:  peer.ID(origin),
		Kind:    string(kind),
		Key:     string(key),
		Version: version,
		Deleted: flags&1 != 0,
		Payload: payload,
	}
	if err := checkShape(&r); err != nil {
		return Record{}, err
	}
	return r, nil
}

// errOversize marks a payload over MaxPayload.
var errOversize = errors.New("oversize")

func readBytes(rd *bytes.Reader, max int) ([]byte, error) {
	n, err := binary.ReadUvarint(rd)
	if err != nil {
		return nil, fmt.Errorf("%w: length", errMalformed)
	}
	if n > uint64(max) {
		if max == MaxPayload {
			return nil, errOversize
		}
		return nil, fmt.Errorf("%w: field of %d bytes", errMalformed, n)
	}
	if n > uint64(rd.Len()) {
		return nil, fmt.Errorf("%w: short field", errMalformed)
	}
	out := make([]byte, n)
	_, _ = rd.Read(out)
	return out, nil
}

// checkShape checks what every record must satisfy whatever its origin.
func checkShape(r *Record) error {
	if _, err := peer.IDFromBytes([]byte(r.Origin)); err != nil {
		return fmt.Errorf("%w: origin", errMalformed)
	}
	if r.Kind == "" || len(r.Kind) > maxKindLen || bytes.ContainsAny([]byte(r.Kind), "/\x00") {
		return fmt.Errorf("%w: kind", errMalformed)
	}
	if r.Key == "" || len(r.Key) > MaxKeyLen || bytes.IndexByte([]byte(r.Key), 0) >= 0 {
		return fmt.Errorf("%w: key", errMalformed)
	}
	if r.Version == 0 {
		return fmt.Errorf("%w: version 0", errMalformed)
	}
	if len(r.Payload) > MaxPayload {
		return errOversize
	}
	return nil
}

// seal signs r with key (which must be r.Origin's) in the network's domain
// and returns the marshalled envelope.
func seal(networkID string, key crypto.PrivKey, r Record) ([]byte, error) {
	if err := checkShape(&r); err != nil {
		return nil, err
	}
	env, err := record.Seal(&wireRecord{domain: recordDomain(networkID), r: r}, key)
	if err != nil {
		return nil, err
	}
	return env.Marshal()
}

// errBadSignature marks an envelope whose signature does not verify or
// whose signer is not the record's origin.
var errBadSignature = errors.New("bad signature")

// open verifies a marshalled envelope in the network's domain and returns
// its record. The signer must be the record's origin.
func open(networkID string, data []byte) (Record, error) {
	if len(data) > maxEnvelope {
		return Record{}, errOversize
	}
	w := &wireRecord{domain: recordDomain(networkID)}
	env, err := record.ConsumeTypedEnvelope(data, w)
	if err != nil {
		switch {
		case env == nil:
			return Record{}, fmt.Errorf("%w: envelope: %v", errMalformed, err)
		case errors.Is(err, errOversize):
			return Record{}, errOversize
		case errors.Is(err, errMalformed):
			return Record{}, err
		}
		return Record{}, fmt.Errorf("%w: %v", errBadSignature, err)
	}
	if !bytes.Equal(env.PayloadType, recordCodec) {
		return Record{}, fmt.Errorf("%w: payload type", errMalformed)
	}
	signer, err := peer.IDFromPublicKey(env.PublicKey)
	if err != nil || signer != w.r.Origin {
		return Record{}, fmt.Errorf("%w: signer is not the origin", errBadSignature)
	}
	return w.r, nil
}

// openUnverified decodes a stored envelope without checking its signature
// (it was checked when stored).
func openUnverified(data []byte) (Record, error) {
	env, err := record.UnmarshalEnvelope(data)
	if err != nil {
		return Record{}, fmt.Errorf("%w: envelope: %v", errMalformed, err)
	}
	return decodeRecord(env.RawPayload)
}
