package charter

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/crypto"
)

// ProtocolVersion is the protocol version this binary speaks; a charter
// names the version its network runs.
const ProtocolVersion = 1

// ShortIDLen is how many hex characters of the network ID go into protocol
// IDs and topic names.
const ShortIDLen = 16

// maxAuthorities bounds the authority list of a charter.
const maxAuthorities = 16

// Charter defines a network. Its canonical JSON hashes to the network ID,
// so changing any field makes another network.
type Charter struct {
	Name        string    `json:"name"`
	Authorities []string  `json:"authorities"` // base64 of crypto.MarshalPublicKey, see AuthorityID
	Protocol    int       `json:"protocol"`
	Created     time.Time `json:"created"`
}

// NewCharter makes a charter for a network named name whose one admission
// authority is authKey. More authorities can be added with AddAuthority
// before the charter is written and handed out.
func NewCharter(name string, authKey crypto.PrivKey) (Charter, error) {
	ch := Charter{Name: name, Protocol: ProtocolVersion, Created: normTime(time.Now())}
	if err := ch.AddAuthority(authKey.GetPublic()); err != nil {
		return Charter{}, err
	}
	return ch, ch.Validate()
}

// AddAuthority adds pub to the charter's authorities (no-op if present).
// It changes the network ID.
func (ch *Charter) AddAuthority(pub crypto.PubKey) error {
	if pub.Type() != crypto.Ed25519 {
		return fmt.Errorf("%w: authority key is not Ed25519", ErrMalformed)
	}
	id, err := AuthorityID(pub)
	if err != nil {
		return err
	}
	if !slices.Contains(ch.Authorities, id) {
		ch.Authorities = append(ch.Authorities, id)
	}
	return nil
}

// Canonical is the byte string the network ID is computed over: compact
// JSON of the charter with its time in UTC to the second.
func (ch Charter) Canonical() []byte {
	c := ch
	c.Created = normTime(c.Created)
	if c.Authorities == nil {
		c.Authorities = []string{}
	}
	b, err := json.Marshal(c)
	if err != nil {
		// A struct of strings, an int and a time cannot fail to marshal.
		panic(err)
	}
	return b
}

// NetworkID is the hex SHA-256 of the canonical charter.
func (ch Charter) NetworkID() string {
	sum := sha256.Sum256(ch.Canonical())
	return hex.EncodeToString(sum[:])
}

// ShortID is the first ShortIDLen hex characters of the network ID, as used
// in protocol IDs and topic names.
func (ch Charter) ShortID() string { return ch.NetworkID()[:ShortIDLen] }

// Authority returns the public key of the authority id if the charter
// names it.
func (ch Charter) Authority(id string) (crypto.PubKey, error) {
	if !slices.Contains(ch.Authorities, id) {
		return nil, ErrUnknownAuthority
	}
	return parseAuthorityID(id)
}

// isAuthority reports the authority ID of key if key is one of the
// charter's authorities.
func (ch Charter) authorityOf(key crypto.PrivKey) (string, error) {
	id, err := AuthorityID(key.GetPublic())
	if err != nil {
		return "", err
	}
	if !slices.Contains(ch.Authorities, id) {
		return "", ErrNotAuthority
	}
	return id, nil
}

// Validate checks that the charter is well-formed and of a protocol version
// this binary speaks.
func (ch Charter) Validate() error {
	if err := checkText("name", ch.Name, 200); err != nil {
		return err
	}
	if ch.Protocol != ProtocolVersion {
		return fmt.Errorf("%w: protocol version %d, this binary speaks %d", ErrMalformed, ch.Protocol, ProtocolVersion)
	}
	if len(ch.Authorities) == 0 || len(ch.Authorities) > maxAuthorities {
		return fmt.Errorf("%w: a charter needs 1 to %d authorities", ErrMalformed, maxAuthorities)
	}
	for i, a := range ch.Authorities {
		if _, err := parseAuthorityID(a); err != nil {
			return err
		}
		if slices.Contains(ch.Authorities[:i], a) {
			return fmt.Errorf("%w: authority listed twice", ErrMalformed)
		}
	}
	if ch.Created.IsZero() {
		return fmt.Errorf("%w: no creation time", ErrMalformed)
	}
	return nil
}

// ParseCharter decodes and validates a charter.
func ParseCharter(data []byte) (Charter, error) {
	var ch Charter
	if err := decodeStrict(data, &ch); err != nil {
		return Charter{}, err
	}
	ch.Created = normTime(ch.Created)
	if err := ch.Validate(); err != nil {
		return Charter{}, err
	}
	return ch, nil
}

// WriteCharter writes ch to path (indented JSON, mode 0644). It refuses to
// replace an existing file (ErrExists): a changed charter is another
// network.
func WriteCharter(path string, ch Charter) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	ch.Created = normTime(ch.Created)
	data, err := indent(ch)
	if err != nil {
		return err
	}
	return writeFile(path, data, 0o644, true)
}

// ReadCharter reads and validates the charter at path.
func ReadCharter(path string) (Charter, error) {
	data, err := readLimited(path)
	if err != nil {
		return Charter{}, fmt.Errorf("charter: read %s: %w", path, err)
	}
	ch, err := ParseCharter(data)
	if err != nil {
		return Charter{}, fmt.Errorf("%s: %w", path, err)
	}
	return ch, nil
}

// normTime is the canonical form of a time in a signed value: UTC, whole
// seconds.
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// checkText checks a human-readable field: present, valid UTF-8, no
// control characters, at most max bytes.
func checkText(field, s string, max int) error {
	if s == "" {
		return fmt.Errorf("%w: %s is empty", ErrMalformed, field)
	}
	if len(s) > max {
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrMalformed, field, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not UTF-8", ErrMalformed, field)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s has a control character", ErrMalformed, field)
		}
	}
	return nil
}
