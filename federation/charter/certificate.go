package charter

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Role is what a member may do in the network.
type Role string

// Member roles.
const (
	RoleProvince Role = "province" // a province health department's node
	RoleHospital Role = "hospital" // a central hospital's node
	RoleObserver Role = "observer" // read-only (the ministry): writes nothing
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleProvince || r == RoleHospital || r == RoleObserver
}

// DefaultValidity is how long a certificate is valid when Admit is given
// no duration.
const DefaultValidity = 365 * 24 * time.Hour

// clockSkew is how far before its issue a certificate becomes valid, so a
// node whose clock is a little behind the authority's accepts it.
const clockSkew = 5 * time.Minute

const certDomain = "moinha/certificate/v1\n"

// Certificate admits one peer to one network. An authority of the
// network's charter signs it.
type Certificate struct {
	Network   string    `json:"network"` // the charter's NetworkID
	Peer      string    `json:"peer"`    // the member's peer ID
	Province  string    `json:"province"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Authority string    `json:"authority"` // the signer, as listed in the charter
	Signature []byte    `json:"signature,omitempty"`
}

// Admit signs a certificate admitting p to the network of ch as province
// code province, display name name and role role, valid from now for
// validFor (zero means DefaultValidity). authKey must be one of the
// charter's authorities.
func Admit(ch Charter, authKey crypto.PrivKey, p peer.ID, province, name string, role Role, validFor time.Duration) (Certificate, error) {
	if err := ch.Validate(); err != nil {
		return Certificate{}, err
	}
	auth, err := ch.authorityOf(authKey)
	if err != nil {
		return Certificate{}, err
	}
	if validFor == 0 {
		validFor = DefaultValidity
	}
	if validFor < 0 {
		return Certificate{}, fmt.Errorf("%w: negative validity", ErrMalformed)
	}
	now := normTime(time.Now())
	c := Certificate{
		Network:   ch.NetworkID(),
		Peer:      p.String(),
		Province:  province,
		Name:      name,
		Role:      role,
		NotBefore: now.Add(-clockSkew),
		NotAfter:  now.Add(validFor),
		Authority: auth,
	}
	if err := c.check(); err != nil {
		return Certificate{}, err
	}
	sig, err := authKey.Sign(c.signedBytes())
	if err != nil {
		return Certificate{}, err
	}
	c.Signature = sig
	return c, nil
}

// signedBytes is what the authority signs: the domain and the canonical
// JSON of the certificate without its signature.
func (c Certificate) signedBytes() []byte {
	c.Signature = nil
	c.NotBefore = normTime(c.NotBefore)
	c.NotAfter = normTime(c.NotAfter)
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // strings and times always marshal
	}
	return append([]byte(certDomain), b...)
}

// ID is a short fingerprint of the signed certificate (hex, 32
// characters). A leave names the certificate it ends by this ID.
func (c Certificate) ID() string {
	h := sha256.New()
	h.Write(c.signedBytes())
	h.Write(c.Signature)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// PeerID decodes the certificate's peer.
func (c Certificate) PeerID() (peer.ID, error) {
	p, err := peer.Decode(c.Peer)
	if err != nil {
		return "", fmt.Errorf("%w: peer: %v", ErrMalformed, err)
	}
	return p, nil
}

// check is the structural validation, without the charter or the clock.
func (c Certificate) check() error {
	if len(c.Network) != 64 {
		return fmt.Errorf("%w: network is not a network ID", ErrMalformed)
	}
	if _, err := hex.DecodeString(c.Network); err != nil {
		return fmt.Errorf("%w: network is not hex", ErrMalformed)
	}
	if len(c.Peer) > 128 {
		return fmt.Errorf("%w: peer too long", ErrMalformed)
	}
	if _, err := c.PeerID(); err != nil {
		return err
	}
	if err := CheckProvince(c.Province); err != nil {
		return err
	}
	if err := checkText("name", c.Name, 200); err != nil {
		return err
	}
	if !c.Role.Valid() {
		return fmt.Errorf("%w: %q", ErrBadRole, c.Role)
	}
	if c.NotBefore.IsZero() || c.NotAfter.IsZero() || !c.NotAfter.After(c.NotBefore) {
		return fmt.Errorf("%w: validity period is empty", ErrMalformed)
	}
	if c.Authority == "" || len(c.Authority) > 200 {
		return fmt.Errorf("%w: authority", ErrMalformed)
	}
	if len(c.Signature) > 512 {
		return fmt.Errorf("%w: signature too long", ErrMalformed)
	}
	return nil
}

// Verify checks that c was signed by an authority of ch for ch's network
// and is valid at now.
func (c Certificate) Verify(ch Charter, now time.Time) error {
	if err := c.check(); err != nil {
		return err
	}
	if c.Network != ch.NetworkID() {
		return ErrWrongNetwork
	}
	pub, err := ch.Authority(c.Authority)
	if err != nil {
		return err
	}
	if len(c.Signature) == 0 {
		return fmt.Errorf("%w: unsigned", ErrBadSignature)
	}
	ok, err := pub.Verify(c.signedBytes(), c.Signature)
	if err != nil || !ok {
		return ErrBadSignature
	}
	if now.Before(c.NotBefore) {
		return fmt.Errorf("%w: valid from %s", ErrNotYetValid, c.NotBefore.Format(time.RFC3339))
	}
	if !now.Before(c.NotAfter) {
		return fmt.Errorf("%w: at %s", ErrExpired, c.NotAfter.Format(time.RFC3339))
	}
	return nil
}

// VerifyPeer is Verify and also checks that the certificate names p.
func (c Certificate) VerifyPeer(ch Charter, p peer.ID, now time.Time) error {
	if err := c.Verify(ch, now); err != nil {
		return err
	}
	if c.Peer != p.String() {
		return ErrPeerMismatch
	}
	return nil
}

// CheckProvince checks a province (or hospital) code: 1 to 32 ASCII
// letters, digits or underscores. Record keys of a province start with its
// code and "-", so the code itself has no "-".
func CheckProvince(code string) error {
	if code == "" || len(code) > 32 {
		return fmt.Errorf("%w: province code must be 1 to 32 characters", ErrMalformed)
	}
	for _, r := range code {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
		if !ok {
			return fmt.Errorf("%w: province code may hold only letters, digits and _", ErrMalformed)
		}
	}
	return nil
}

// ParseCertificate decodes a certificate and checks its structure (not its
// signature: that needs the charter, see Verify).
func ParseCertificate(data []byte) (Certificate, error) {
	var c Certificate
	if err := decodeStrict(data, &c); err != nil {
		return Certificate{}, err
	}
	if err := c.check(); err != nil {
		return Certificate{}, err
	}
	if len(c.Signature) == 0 {
		return Certificate{}, fmt.Errorf("%w: unsigned certificate", ErrMalformed)
	}
	return c, nil
}

// MarshalCertificate renders c as the indented JSON of a certificate file.
func MarshalCertificate(c Certificate) ([]byte, error) { return indent(c) }

// WriteCertificate writes c to path (mode 0644; a certificate is public),
// replacing any file there.
func WriteCertificate(path string, c Certificate) error {
	if err := c.check(); err != nil {
		return err
	}
	data, err := MarshalCertificate(c)
	if err != nil {
		return err
	}
	return writeFile(path, data, 0o644, false)
}

// ReadCertificate reads the certificate at path (see ParseCertificate).
func ReadCertificate(path string) (Certificate, error) {
	data, err := readLimited(path)
	if err != nil {
		return Certificate{}, fmt.Errorf("charter: read %s: %w", path, err)
	}
	c, err := ParseCertificate(data)
	if err != nil {
		return Certificate{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
