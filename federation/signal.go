package federation

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/moinha/moinha/federation/charter"
)

// Call signalling between nodes (/moinha/<net>/signal/1): one short stream
// per message — a frame with the payload, answered by a one-byte verdict.
// Unlike direct messages it has no outbox: SDP and ICE candidates are only
// useful for seconds, and the call clients retry what matters.
const (
	maxSignalPayload = 64 << 10
	signalTimeout    = 5 * time.Second
	frameSignal      = 'S'
	signalOK         = 'k'
	signalRefused    = 'x'
)

// Errors of Signal.
var (
	ErrSignalRefused = errors.New("federation: signal refused by the receiver")
	ErrNoProvince    = errors.New("federation: no reachable member for that province")
)

// SignalHandler handles one signalling message from a member. ctx ends
// when the federation closes.
type SignalHandler func(ctx context.Context, from Member, payload []byte) error

type signalState struct {
	mu sync.RWMutex // guards fn
	fn SignalHandler
}

func (f *Federation) signalProto() protocol.ID {
	return protocol.ID("/moinha/" + f.charter.ShortID() + "/signal/1")
}

// HandleSignal registers the handler of incoming signalling messages and
// serves the protocol. Call it after Start.
func (f *Federation) HandleSignal(fn SignalHandler) {
	f.signal.mu.Lock()
	f.signal.fn = fn
	f.signal.mu.Unlock()
	if f.host != nil {
		f.host.SetStreamHandler(f.signalProto(), f.serveSignal)
	}
}

// Signal sends payload to the node of province and waits for its verdict.
// Observers neither send nor receive signalling.
func (f *Federation) Signal(ctx context.Context, province string, payload []byte) error {
	if f.observer {
		return ErrObserver
	}
	if len(payload) > maxSignalPayload {
		return ErrTooLarge
	}
	p, ok := f.ProvincePeer(province)
	if !ok || f.host == nil {
		return fmt.Errorf("%w: %s", ErrNoProvince, province)
	}
	ctx, cancel := context.WithTimeout(ctx, signalTimeout)
	defer cancel()
	if f.host.Network().Connectedness(p) != network.Connected {
		if err := f.host.Connect(ctx, peer.AddrInfo{ID: p, Addrs: f.members.addrs(p)}); err != nil {
			return err
		}
	}
	if err := f.awaitHello(p); err != nil {
		return err
	}
	s, err := f.host.NewStream(ctx, p, f.signalProto())
	if err != nil {
		return err
	}
	defer s.Close()
	deadline, _ := ctx.Deadline()
	_ = s.SetDeadline(deadline)
	if err := writeFrame(s, frameSignal, payload); err != nil {
		s.Reset()
		return err
	}
	_ = s.CloseWrite()
	var verdict [1]byte
	if _, err := s.Read(verdict[:]); err != nil {
		s.Reset()
		return err
	}
	if verdict[0] != signalOK {
		return ErrSignalRefused
	}
	return nil
}

func (f *Federation) serveSignal(s network.Stream) {
	if !f.enter() {
		s.Reset()
		return
	}
	defer f.wg.Done()
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(signalTimeout))
	p := s.Conn().RemotePeer()
	refuse := func(why string) {
		f.log.Debug("signal refused", "peer", p, "reason", why)
		_, _ = s.Write([]byte{signalRefused})
	}
	cert, ok, left, revoked := f.members.cert(p)
	switch {
	case f.observer:
		refuse(refuseObserverNode)
		return
	case !ok || left || revoked || !f.members.admitted(p, time.Now()):
		refuse(refuseNonMember)
		return
	case cert.Role == charter.RoleObserver:
		refuse(refuseObserver)
		return
	}
	typ, body, err := readFrame(bufio.NewReaderSize(s, 4<<10))
	if err != nil || typ != frameSignal || len(body) > maxSignalPayload {
		s.Reset()
		return
	}
	f.signal.mu.RLock()
	fn := f.signal.fn
	f.signal.mu.RUnlock()
	if fn == nil {
		refuse("no_handler")
		return
	}
	from := Member{Peer: p, Province: cert.Province, Name: cert.Name, Role: cert.Role, Online: true}
	if err := fn(f.ctx, from, body); err != nil {
		refuse("handler")
		return
	}
	_, _ = s.Write([]byte{signalOK})
}
