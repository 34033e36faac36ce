package charter

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

const revocationDomain = "moinha/revocation/v1\n"

// Revocation expels a peer from a network for good. An authority of the
// network's charter signs it; any member may relay it.
type Revocation struct {
	Network   string    `json:"network"`
	Peer      string    `json:"peer"`
	Reason    string    `json:"reason"`
	Time      time.Time `json:"time"`
	Authority string    `json:"authority"`
	Signature []byte    `json:"signature,omitempty"`
}

// Revoke signs a revocation of p in the network of ch. authKey must be one
// of the charter's authorities. reason is free text for people (no patient
// data); it may be empty.
func Revoke(ch Charter, authKey crypto.PrivKey, p peer.ID, reason string) (Revocation, error) {
	if err := ch.Validate(); err != nil {
		return Revocation{}, err
	}
	auth, err := ch.authorityOf(authKey)
	if err != nil {
		return Revocation{}, err
	}
	r := Revocation{
		Network:   ch.NetworkID(),
		Peer:      p.String(),
		Reason:    reason,
		Time:      normTime(time.Now()),
		Authority: auth,
	}
	if err := r.check(); err != nil {
		return Revocation{}, err
	}
	sig, err := authKey.Sign(r.signedBytes())
	if err != nil {
		return Revocation{}, err
	}
	r.Signature = sig
	return r, nil
}

func (r Revocation) signedBytes() []byte {
	r.Signature = nil
	r.Time = normTime(r.Time)
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // strings and a time always marshal
	}
	return append([]byte(revocationDomain), b...)
}

// PeerID decodes the revoked peer.
func (r Revocation) PeerID() (peer.ID, error) {
	p, err := peer.Decode(r.Peer)
	if err != nil {
		return "", fmt.Errorf("%w: peer: %v", ErrMalformed, err)
	}
	return p, nil
}

func (r Revocation) check() error {
	if len(r.Network) != 64 {
		return fmt.Errorf("%w: network is not a network ID", ErrMalformed)
	}
	if _, err := hex.DecodeString(r.Network); err != nil {
		return fmt.Errorf("%w: network is not hex", ErrMalformed)
	}
	if len(r.Peer) > 128 {
		return fmt.Errorf("%w: peer too long", ErrMalformed)
	}
	if _, err := r.PeerID(); err != nil {
		return err
	}
	if r.Reason != "" {
		if err := checkText("reason", r.Reason, 500); err != nil {
			return err
		}
	}
	if r.Time.IsZero() {
		return fmt.Errorf("%w: no time", ErrMalformed)
	}
	if r.Authority == "" || len(r.Authority) > 200 {
		return fmt.Errorf("%w: authority", ErrMalformed)
	}
	if len(r.Signature) > 512 {
		return fmt.Errorf("%w: signature too long", ErrMalformed)
	}
	return nil
}

// Verify checks that r was signed by an authority of ch for ch's network.
// A revocation does not expire.
func (r Revocation) Verify(ch Charter) error {
	if err := r.check(); err != nil {
		return err
	}
	if r.Network != ch.NetworkID() {
		return ErrWrongNetwork
	}
	pub, err := ch.Authority(r.Authority)
	if err != nil {
		return err
	}
	if len(r.Signature) == 0 {
		return fmt.Errorf("%w: unsigned", ErrBadSignature)
	}
	ok, err := pub.Verify(r.signedBytes(), r.Signature)
	if err != nil || !ok {
		return ErrBadSignature
	}
	return nil
}

// ParseRevocation decodes a revocation and checks its structure (not its
// signature: see Verify).
func ParseRevocation(data []byte) (Revocation, error) {
	var r Revocation
	if err := decodeStrict(data, &r); err != nil {
		return Revocation{}, err
	}
	if err := r.check(); err != nil {
		return Revocation{}, err
	}
	if len(r.Signature) == 0 {
		return Revocation{}, fmt.Errorf("%w: unsigned revocation", ErrMalformed)
	}
	return r, nil
}

// MarshalRevocation renders r as the indented JSON of a revocation file.
func MarshalRevocation(r Revocation) ([]byte, error) { return indent(r) }

// WriteRevocation writes r to path (mode 0644), replacing any file there.
func WriteRevocation(path string, r Revocation) error {
	if err := r.check(); err != nil {
		return err
	}
	data, err := MarshalRevocation(r)
	if err != nil {
		return err
	}
	return writeFile(path, data, 0o644, false)
}

// ReadRevocation reads the revocation at path (see ParseRevocation).
func ReadRevocation(path string) (Revocation, error) {
	data, err := readLimited(path)
	if err != nil {
		return Revocation{}, fmt.Errorf("charter: read %s: %w", path, err)
	}
	r, err := ParseRevocation(data)
	if err != nil {
		return Revocation{}, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}
