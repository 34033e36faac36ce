package federation

import (
	"errors"
	"fmt"
	"os"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// LoadIdentity reads the node's Ed25519 private key from path.
func LoadIdentity(path string) (crypto.PrivKey, peer.ID, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("federation: read node key: %w", err)
	}
	key, err := crypto.UnmarshalPrivateKey(raw)
	if err != nil {
		return nil, "", fmt.Errorf("federation: node key %s is not a libp2p private key: %w", path, err)
	}
	if key.Type() != crypto.Ed25519 {
		return nil, "", fmt.Errorf("federation: node key %s is not Ed25519", path)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, "", err
	}
	return key, id, nil
}

// CreateIdentity generates a new Ed25519 key and writes it to path (mode
// 0600). It refuses to overwrite an existing key.
func CreateIdentity(path string) (crypto.PrivKey, peer.ID, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, "", fmt.Errorf("federation: %s already exists; refusing to replace the node's identity", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, "", err
	}
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, "", err
	}
	raw, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return nil, "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, "", err
	}
	if _, err := f.Write(raw); err != nil {
		f.Close()
		return nil, "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, "", err
	}
	if err := f.Close(); err != nil {
		return nil, "", err
	}
	id, err := peer.IDFromPrivateKey(key)
	return key, id, err
}
