package federation

import (
	"bufio"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/moinha/moinha/storage"
)

// The hello protocol (/moinha/<net>/hello/1) runs once on every new
// connection: the dialer sends its latest member record (its certificate
// inside, signed by itself), the listener checks it and answers with its
// own, and the dialer checks that. A peer that fails the check, or whose
// side does not complete the exchange within HelloTimeout, is disconnected.
// A valid hello stores the peer's member record like any other.

// session is the hello state of a connected peer.
type session struct {
	verified chan struct{} // closed once the peer passed a hello
	once     sync.Once
}

func (s *session) markVerified() { s.once.Do(func() { close(s.verified) }) }

func (s *session) isVerified() bool {
	select {
	case <-s.verified:
		return true
	default:
		return false
	}
}

func (f *Federation) session(p peer.ID) *session {
	f.sessMu.Lock()
	defer f.sessMu.Unlock()
	s := f.sessions[p]
	if s == nil {
		s = &session{verified: make(chan struct{})}
		f.sessions[p] = s
	}
	return s
}

// onConnected runs for every new connection (a libp2p notification: it
// must not block).
func (f *Federation) onConnected(c network.Conn) {
	p := c.RemotePeer()
	sess := f.session(p)
	outbound := c.Stat().Direction == network.DirOutbound
	f.spawn(func() {
		if outbound {
			ctx, cancel := context.WithTimeout(f.ctx, f.cfg.HelloTimeout)
			defer cancel()
			if reason, err := f.sayHello(ctx, p); err != nil {
				if f.ctx.Err() == nil && !sess.isVerified() {
					f.dialFailed(p)
					f.refuse(p, reason, err)
				}
			}
			return
		}
		t := time.NewTimer(f.cfg.HelloTimeout)
		defer t.Stop()
		select {
		case <-sess.verified:
		case <-f.ctx.Done():
		case <-t.C:
			// Counted even if the peer already hung up: it never said a
			// valid hello.
			f.refuse(p, refusedNoHello, nil)
		}
	})
}

// onDisconnected runs when a connection closes (a notification: must not
// block).
func (f *Federation) onDisconnected(c network.Conn) {
	p := c.RemotePeer()
	if f.host.Network().Connectedness(p) == network.Connected {
		return // another connection remains
	}
	f.sessMu.Lock()
	s := f.sessions[p]
	delete(f.sessions, p)
	f.sessMu.Unlock()
	if s == nil || !s.isVerified() {
		return
	}
	now := time.Now()
	f.members.setOnline(p, false, now)
	f.spawn(func() { f.persistLastSeen(p, now) })
	f.log.Debug("member disconnected", "peer", p)
}

// refuse counts and logs a refused peer and drops its connections.
func (f *Federation) refuse(p peer.ID, reason string, err error) {
	inc(f.metrics.refused, reason)
	f.log.Info("peer refused", "peer", p, "reason", reason, "err", err)
	_ = f.host.Network().ClosePeer(p)
}

// ownMemberEnvelope is this node's latest stored member record (nil if it
// has none).
func (f *Federation) ownMemberEnvelope() []byte {
	var env []byte
	_ = f.db.View(func(tx *storage.Tx) error {
		sr, ok, err := getStored(tx, f.self, KindMember, f.self.String())
		if ok && err == nil {
			env = sr.E
		}
		return err
	})
	return env
}

// sayHello is the dialer's side.
func (f *Federation) sayHello(ctx context.Context, p peer.ID) (string, error) {
	// A peer that is just starting may not serve hello for a few
	// milliseconds yet: try again until the timeout.
	var s network.Stream
	for wait := 50 * time.Millisecond; ; wait *= 2 {
		var err error
		s, err = f.host.NewStream(network.WithNoDial(ctx, "hello"), p, f.protoHello)
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return refusedNoHello, err
		case <-time.After(wait):
		}
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(f.cfg.HelloTimeout))
	if err := writeFrame(s, frameHello, f.ownMemberEnvelope()); err != nil {
		s.Reset()
		return refusedNoHello, err
	}
	typ, env, err := readFrame(bufio.NewReader(s))
	if err != nil || typ != frameHello {
		s.Reset()
		return refusedNoHello, fmt.Errorf("read hello: %v", err)
	}
	if reason := f.acceptHello(ctx, p, env); reason != "" {
		s.Reset()
		return refusedBadCert, fmt.Errorf("hello: %s", reason)
	}
	f.onAdmitted(p)
	return "", nil
}

// handleHello is the listener's side.
func (f *Federation) handleHello(s network.Stream) {
	p := s.Conn().RemotePeer()
	_ = s.SetDeadline(time.Now().Add(f.cfg.HelloTimeout))
	typ, env, err := readFrame(bufio.NewReader(s))
	if err != nil || typ != frameHello {
		s.Reset()
		f.refuse(p, refusedNoHello, fmt.Errorf("read hello: %v", err))
		return
	}
	ctx, cancel := context.WithTimeout(f.ctx, f.cfg.HelloTimeout)
	defer cancel()
	if reason := f.acceptHello(ctx, p, env); reason != "" {
		s.Reset()
		f.refuse(p, refusedBadCert, fmt.Errorf("hello: %s", reason))
		return
	}
	if err := writeFrame(s, frameHello, f.ownMemberEnvelope()); err != nil {
		s.Reset()
		return
	}
	_ = s.Close()
	f.onAdmitted(p)
}

// acceptHello checks a peer's member record and stores it; it returns ""
// if p is now an admitted member, or why not.
func (f *Federation) acceptHello(ctx context.Context, p peer.ID, env []byte) string {
	in, reason := decodeIncoming(f.netID, env)
	if reason != "" {
		return reason
	}
	if in.rec.Origin != p || in.rec.Kind != KindMember {
		return reasonNonMember
	}
	out := f.applyBatch(ctx, []*incoming{in})
	if out[0].reason != "" {
		return out[0].reason
	}
	if out[0].err != nil {
		return reasonApply
	}
	if out[0].stored {
		// A member record learnt first-hand: relay it, so the whole
		// network learns the newcomer's addresses now rather than at the
		// next sync (its own first publish may have reached no one).
		f.spawn(func() { f.relay(in.env) })
	}
	if !f.members.admitted(p, time.Now()) {
		return reasonNonMember
	}
	return ""
}

// onAdmitted runs when p passed a hello: it is online, protected from the
// connection manager, and both sides pull from each other.
func (f *Federation) onAdmitted(p peer.ID) {
	f.session(p).markVerified()
	f.forgetBackoff(p)
	now := time.Now()
	f.members.setOnline(p, true, now)
	if f.host.Network().Connectedness(p) != network.Connected {
		// It hung up while we checked its hello, and onDisconnected may
		// have run before the session was verified: undo.
		f.sessMu.Lock()
		delete(f.sessions, p)
		f.sessMu.Unlock()
		f.members.setOnline(p, false, now)
		return
	}
	f.cm.Protect(p, protectTag)
	f.enqueueSync(p)
	f.spawn(func() { f.persistLastSeen(p, now) })
	f.log.Debug("member connected", "peer", p)
}

func (f *Federation) persistLastSeen(p peer.ID, t time.Time) {
	err := f.db.Update(f.ctx, func(tx *storage.Tx) error {
		return tx.Put(storage.BucketPeers, p.String(), peerInfo{LastSeen: t})
	})
	if err != nil && f.ctx.Err() == nil {
		f.log.Warn("persist last seen", "peer", p, "err", err)
	}
}
