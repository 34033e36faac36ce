package charter

import (
	"encoding/base64"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
)

// CreateAuthorityKey generates a new Ed25519 authority key and writes it to
// path (a libp2p private key file, mode 0600). It refuses to replace an
// existing file (ErrExists): losing an authority key cannot be undone.
func CreateAuthorityKey(path string) (crypto.PrivKey, error) {
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, err
	}
	raw, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := writeFile(path, raw, 0o600, true); err != nil {
		return nil, fmt.Errorf("charter: write authority key: %w", err)
	}
	return key, nil
}

// LoadAuthorityKey reads an Ed25519 authority key written by
// CreateAuthorityKey.
func LoadAuthorityKey(path string) (crypto.PrivKey, error) {
	raw, err := readLimited(path)
	if err != nil {
		return nil, fmt.Errorf("charter: read authority key: %w", err)
	}
	key, err := crypto.UnmarshalPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("charter: %s is not a libp2p private key: %w", path, err)
	}
	if key.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("charter: %s is not an Ed25519 key", path)
	}
	return key, nil
}

// AuthorityID renders a public key the way a charter lists it: standard
// base64 of crypto.MarshalPublicKey.
func AuthorityID(pub crypto.PubKey) (string, error) {
	raw, err := crypto.MarshalPublicKey(pub)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// parseAuthorityID is the inverse of AuthorityID; only Ed25519 keys are
// authorities.
func parseAuthorityID(id string) (crypto.PubKey, error) {
	raw, err := base64.StdEncoding.DecodeString(id)
	if err != nil {
		return nil, fmt.Errorf("%w: authority is not base64", ErrMalformed)
	}
	pub, err := crypto.UnmarshalPublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: authority is not a public key: %v", ErrMalformed, err)
	}
	if pub.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("%w: authority key is not Ed25519", ErrMalformed)
	}
	return pub, nil
}
