package federation

import (
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

const (
	protectTag       = "moinha-member"
	memberAddrTTL    = 24 * time.Hour
	bootstrapAddrTTL = 24 * time.Hour
	// Connection manager watermarks: the national network is ~64 nodes,
	// all protected; the margin is for peers still in their hello.
	connLow, connHigh = 128, 256
)

// newHost builds the libp2p host: Ed25519 identity, TCP and QUIC, the
// default security (Noise, TLS) and muxer (yamux), our connection gater
// and manager; no relay, NAT port mapping, hole punching, AutoNAT service,
// mDNS or public bootstrap, and no libp2p metrics (they register globally).
func (f *Federation) newHost() (host.Host, error) {
	cm, err := connmgr.NewConnManager(connLow, connHigh, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, err
	}
	f.cm = cm
	h, err := libp2p.New(
		libp2p.Identity(f.key),
		libp2p.ListenAddrStrings(f.cfg.ListenAddrs...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.DisableRelay(),
		libp2p.ConnectionGater(f.gater),
		libp2p.ConnectionManager(cm),
		libp2p.DisableMetrics(),
		libp2p.DisableIdentifyAddressDiscovery(),
		libp2p.UserAgent("moinha"),
	)
	if err != nil {
		cm.Close()
		return nil, fmt.Errorf("federation: libp2p host: %w", err)
	}
	return h, nil
}

// parseBootstrap parses multiaddrs ending in /p2p/<peer ID>.
func parseBootstrap(addrs []string) ([]peer.AddrInfo, error) {
	var mas []ma.Multiaddr
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: bootstrap %q: %v", ErrConfig, s, err)
		}
		mas = append(mas, a)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(mas...)
	if err != nil {
		return nil, fmt.Errorf("%w: bootstrap: %v (each needs /p2p/<peer ID>)", ErrConfig, err)
	}
	return infos, nil
}

// gater admits connections: revoked peers never get past the security
// handshake; unknown peers do, and must then say a valid hello within
// HelloTimeout (see hello.go). Tests block peers to make partitions.
type gater struct {
	f *Federation

	mu      sync.RWMutex // guards blocked
	blocked map[peer.ID]bool
}

func newGater(f *Federation) *gater { return &gater{f: f, blocked: make(map[peer.ID]bool)} }

// setBlocked is the test hook for partitions: a blocked peer is neither
// dialled nor accepted.
func (g *gater) setBlocked(p peer.ID, blocked bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if blocked {
		g.blocked[p] = true
	} else {
		delete(g.blocked, p)
	}
}

func (g *gater) isBlocked(p peer.ID) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.blocked[p]
}

func (g *gater) InterceptPeerDial(p peer.ID) bool {
	return !g.isBlocked(p) && !g.f.members.revoked(p)
}

func (g *gater) InterceptAddrDial(peer.ID, ma.Multiaddr) bool { return true }

func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

func (g *gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	if g.isBlocked(p) {
		return false
	}
	if g.f.members.revoked(p) {
		inc(g.f.metrics.refused, refusedRevoked)
		return false
	}
	return true
}

func (g *gater) InterceptUpgraded(c network.Conn) (bool, control.DisconnectReason) {
	return !g.isBlocked(c.RemotePeer()), 0
}
