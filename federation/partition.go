package federation

import (
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Block refuses (blocked true) or again admits (false) every connection
// with peer p, closing the open ones. It is the switch testnet uses to
// partition a network; production code has no reason to call it.
func (f *Federation) Block(p peer.ID, blocked bool) {
	f.gater.setBlocked(p, blocked)
	if blocked && f.host != nil {
		_ = f.host.Network().ClosePeer(p)
	}
}

// ListenAddrs are the host's listen addresses without the /p2p/ part (the
// form Config.ListenAddrs takes), so a restarted node can reuse its ports.
func (f *Federation) ListenAddrs() []ma.Multiaddr {
	if f.host == nil {
		return nil
	}
	return f.host.Network().ListenAddresses()
}
