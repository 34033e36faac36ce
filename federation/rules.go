package federation

import (
	"errors"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

// Reasons a record is rejected; they label the *_rejected metrics.
const (
	reasonMalformed    = "malformed"
	reasonBadSignature = "bad_signature"
	reasonOversize     = "oversize"
	reasonUnknownKind  = "unknown_kind"
	reasonNonMember    = "non_member"
	reasonBadCert      = "bad_certificate"
	reasonRevoked      = "revoked"
	reasonLeft         = "left"
	reasonObserver     = "observer"
	reasonOwnership    = "ownership"
	reasonBadRevoke    = "bad_revocation"
	reasonApply        = "apply_error"
)

// rejectReasons lists every reason, so metrics show zeros too.
var rejectReasons = []string{
	reasonMalformed, reasonBadSignature, reasonOversize, reasonUnknownKind,
	reasonNonMember, reasonBadCert, reasonRevoked, reasonLeft, reasonObserver,
	reasonOwnership, reasonBadRevoke, reasonApply,
}

// incoming is a record that arrived from a peer, with what checking it
// learnt: the envelope to store and, for membership kinds, the decoded
// payload.
type incoming struct {
	rec Record
	env []byte

	cert    charter.Certificate // KindMember
	addrs   []ma.Multiaddr      // KindMember
	leave   LeaveInfo           // KindLeave
	revPeer peer.ID             // KindRevocation

	// Filled in ahead of the write transaction by sync's verifiers.
	bulk   bool                    // pulled by sync, in order with many others
	stored storage.Encoded         // the BucketRecords value (zero: encode when stored)
	apply  func(*storage.Tx) error // Config.Prepare's result (nil: Config.Apply)
}

// decodeIncoming opens an envelope; the error is a reject reason.
func decodeIncoming(networkID string, env []byte) (*incoming, string) {
	r, err := open(networkID, env)
	switch {
	case errors.Is(err, errOversize):
		return nil, reasonOversize
	case errors.Is(err, errBadSignature):
		return nil, reasonBadSignature
	case err != nil:
		return nil, reasonMalformed
	}
	return &incoming{rec: r, env: env}, ""
}

// check applies the rules every record must pass, other than staleness,
// and fills in in's decoded payload. It returns "" or a reject reason.
func (f *Federation) check(in *incoming, now time.Time) string {
	r := &in.rec
	if !KnownKind(r.Kind) {
		return reasonUnknownKind
	}
	cert, hasCert, left, revoked := f.members.cert(r.Origin)
	if hasCert && cert.Role == charter.RoleObserver && r.Kind != KindMember && r.Kind != KindLeave {
		return reasonObserver
	}
	switch r.Kind {
	case KindMember:
		if r.Key != r.Origin.String() {
			return reasonMalformed
		}
		mi, addrs, err := decodeMemberInfo(r.Payload)
		if err != nil {
			return reasonMalformed
		}
		if hasCert && cert.ID() == mi.Certificate.ID() {
			// Verified when first learnt: only the clock can have changed.
			if now.Before(cert.NotBefore) || !now.Before(cert.NotAfter) {
				return reasonBadCert
			}
		} else if err := mi.Certificate.VerifyPeer(f.charter, r.Origin, now); err != nil {
			return reasonBadCert
		}
		if revoked {
			return reasonRevoked
		}
		if f.members.leftCert(r.Origin) == mi.Certificate.ID() {
			return reasonLeft
		}
		in.cert, in.addrs = mi.Certificate, addrs
		return ""
	case KindRevocation:
		rev, err := decodeRevocation(r.Payload)
		if err != nil || r.Key != rev.Peer {
			return reasonMalformed
		}
		if err := rev.Verify(f.charter); err != nil {
			return reasonBadRevoke
		}
		in.revPeer, _ = rev.PeerID()
		return ""
	case KindLeave:
		if r.Key != r.Origin.String() {
			return reasonMalformed
		}
		li, err := decodeLeaveInfo(r.Payload)
		if err != nil {
			return reasonMalformed
		}
		if !hasCert {
			return reasonNonMember
		}
		if revoked {
			return reasonRevoked
		}
		in.leave = li
		return ""
	}
	// Data kinds: only a current member writes, and only about itself.
	switch {
	case revoked:
		return reasonRevoked
	case left:
		return reasonLeft
	case !f.members.admitted(r.Origin, now):
		return reasonNonMember
	}
	if provinceKinds[r.Kind] && !ownsKey(cert.Province, r.Key) {
		return reasonOwnership
	}
	if r.Kind == KindManifest {
		if _, err := decodeManifest(r); err != nil {
			return reasonMalformed
		}
	}
	return ""
}

// ownsKey reports whether a record key belongs to province: the code itself
// or the code followed by "-".
func ownsKey(province, key string) bool {
	return key == province || strings.HasPrefix(key, province+"-")
}

// learn records the membership facts of an accepted record. It is
// idempotent and never blocks (events go to a queue).
func (f *Federation) learn(in *incoming, now time.Time) {
	switch in.rec.Kind {
	case KindMember:
		f.members.learnMember(in.rec.Origin, in.cert, in.rec.Version, in.addrs, now)
	case KindRevocation:
		f.members.learnRevocation(in.revPeer)
	case KindLeave:
		f.members.learnLeave(in.rec.Origin, in.leave.Cert)
	}
}
