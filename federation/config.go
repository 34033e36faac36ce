package federation

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

// Config configures a Federation. Fields map one-to-one to node settings;
// each says what its zero value means.
type Config struct {
	// Key is the node's Ed25519 identity (see LoadIdentity). Required.
	Key crypto.PrivKey
	// ListenAddrs are the multiaddrs to listen on. Zero means
	// /ip4/127.0.0.1/tcp/0 and /ip4/127.0.0.1/udp/0/quic-v1.
	ListenAddrs []string
	// Charter defines the network. Required.
	Charter charter.Charter
	// Certificate admits this node; it must name Key's peer and verify
	// against Charter now. Required.
	Certificate charter.Certificate
	// Bootstrap are members' multiaddrs, each ending in /p2p/<peer ID>.
	// One is enough: the others are learnt from member records. Zero means
	// none (the first node, or a restart that knows members from its data).
	Bootstrap []string
	// DB is the node's data file; records, versions and last-seen times
	// live there. Required. The caller closes it after Close.
	DB *storage.DB
	// Observer makes this node read-only: Stage fails with ErrObserver.
	// Zero means it is decided by the certificate: an observer certificate
	// always makes a read-only node (and its records are refused by every
	// peer anyway).
	Observer bool
	// Logger receives structured logs (IDs and counts, never payloads).
	// Zero means discard.
	Logger *slog.Logger
	// Registerer receives the federation's metrics (moinha_federation_*).
	// Nil means none are registered; Stats still counts. libp2p's own
	// metrics are always off: they register globally and collide when
	// several nodes share a process.
	Registerer prometheus.Registerer
	// Apply is called inside the transaction that stores an accepted
	// remote record of a data kind (facility, practitioner, service,
	// availability, stats), tombstones (Deleted) included; an error
	// aborts that record, which sync retries later. Nil means records are
	// stored and listed by Records but handed to nobody.
	Apply func(tx *storage.Tx, r Record) error
	// Prepare, when set, is called for a record of a data kind that sync
	// pulled, after its signature checked out and before its write
	// transaction, on one of the goroutines that check signatures (so
	// concurrently with other calls): the domain decodes and checks the
	// payload there, off the single writer. The function it returns
	// stores the record inside the transaction in place of Apply; it may
	// run more than once. Nil (from Prepare, or no Prepare) means Apply.
	// Prepare must not fail: a payload it cannot take is left to Apply,
	// which reports the error.
	Prepare func(r Record) func(tx *storage.Tx) error
	// Stored is called after a remote record (from gossip, sync or a
	// hello) has committed, outside any transaction, from the goroutine
	// that stored it: it must return quickly. Nil means nothing is told.
	// Benchmarks and tests use it to see records arrive.
	Stored func(r Record)
	// OnLeave is called, outside any transaction, when a member leaves or
	// is revoked and no other current member has its province code: the
	// node removes that province's directory entries. Nil means nothing.
	OnLeave func(ctx context.Context, province string)
	// GossipHeartbeat is the gossipsub heartbeat. Zero means pubsub's
	// default (1 s); tests use 100 ms so meshes form at once.
	GossipHeartbeat time.Duration
	// SyncInterval is how often the node pulls from a random connected
	// member, redials members it lost and retries Bootstrap when alone.
	// Zero means 45 s; each wait is jittered by ±20%.
	SyncInterval time.Duration
	// HelloTimeout is how long an unknown peer has to present a valid
	// membership after connecting. Zero means 5 s.
	HelloTimeout time.Duration
	// ConnectMembers says which members the node dials on its own as it
	// learns them. Zero means all of them (a full mesh: right for the ~64
	// nodes of the national network); a positive n means until n members
	// are connected; negative means none (only Bootstrap, e.g. to build a
	// sparse topology in benchmarks).
	ConnectMembers int
}

// Defaults for zero Config fields.
const (
	defaultSyncInterval = 45 * time.Second
	defaultHelloTimeout = 5 * time.Second
)

var defaultListenAddrs = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}

// withDefaults checks cfg and fills in zero fields.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Key == nil || cfg.Key.Type() != crypto.Ed25519 {
		return cfg, fmt.Errorf("%w: Key must be an Ed25519 private key", ErrConfig)
	}
	if cfg.DB == nil {
		return cfg, fmt.Errorf("%w: no DB", ErrConfig)
	}
	if err := cfg.Charter.Validate(); err != nil {
		return cfg, fmt.Errorf("%w: charter: %v", ErrConfig, err)
	}
	if len(cfg.ListenAddrs) == 0 {
		cfg.ListenAddrs = defaultListenAddrs
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = defaultSyncInterval
	}
	if cfg.HelloTimeout <= 0 {
		cfg.HelloTimeout = defaultHelloTimeout
	}
	return cfg, nil
}
