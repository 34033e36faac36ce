package federation

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// eventQueue is an unbounded queue of membership events: the membership
// table pushes from inside transactions, where nothing may block.
type eventQueue struct {
	mu     sync.Mutex // guards items
	items  []memberEvent
	signal chan struct{} // capacity 1
}

func (q *eventQueue) init() { q.signal = make(chan struct{}, 1) }

func (q *eventQueue) push(ev memberEvent) {
	q.mu.Lock()
	q.items = append(q.items, ev)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *eventQueue) take() []memberEvent {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}

// eventLoop acts on membership changes: dial new members, drop revoked and
// departed ones, tell the node a province left.
func (f *Federation) eventLoop() {
	for {
		select {
		case <-f.events.signal:
		case <-f.ctx.Done():
			return
		}
		for _, ev := range f.events.take() {
			f.handleEvent(ev)
		}
	}
}

func (f *Federation) handleEvent(ev memberEvent) {
	if ev.peer == f.self {
		return
	}
	switch ev.kind {
	case evJoined:
		f.forgetBackoff(ev.peer)
		f.host.Peerstore().AddAddrs(ev.peer, ev.addrs, memberAddrTTL)
		f.cm.Protect(ev.peer, protectTag)
		if f.shouldDial() && f.host.Network().Connectedness(ev.peer) != network.Connected {
			f.enqueueDial(ev.peer)
		}
		f.log.Debug("member learnt", "peer", ev.peer, "province", ev.province)
	case evRevoked, evLeft:
		f.cm.Unprotect(ev.peer, protectTag)
		_ = f.host.Network().ClosePeer(ev.peer)
		f.log.Info("member gone", "peer", ev.peer, "province", ev.province, "revoked", ev.kind == evRevoked)
		if f.cfg.OnLeave != nil && ev.province != "" && !f.members.provinceHasOther(ev.peer, ev.province, time.Now()) {
			f.cfg.OnLeave(f.ctx, ev.province)
		}
	}
}

// shouldDial applies Config.ConnectMembers.
func (f *Federation) shouldDial() bool {
	if _, _, left, revoked := f.members.cert(f.self); left || revoked {
		return false
	}
	switch n := f.cfg.ConnectMembers; {
	case n == 0:
		return true
	case n < 0:
		return false
	default:
		return f.ConnectedPeers() < n
	}
}

func (f *Federation) enqueueDial(p peer.ID) { f.enqueue(f.dialQ, f.dialPending, p) }
func (f *Federation) enqueueSync(p peer.ID) { f.enqueue(f.syncQ, f.syncPending, p) }

// enqueue queues p once on q (pending dedupes); a full queue drops it: the
// maintenance loop asks again.
func (f *Federation) enqueue(q chan peer.ID, pending map[peer.ID]bool, p peer.ID) {
	if p == f.self {
		return
	}
	f.queueMu.Lock()
	defer f.queueMu.Unlock()
	if pending[p] {
		return
	}
	select {
	case q <- p:
		pending[p] = true
	default:
	}
}

func (f *Federation) dequeued(pending map[peer.ID]bool, p peer.ID) {
	f.queueMu.Lock()
	delete(pending, p)
	f.queueMu.Unlock()
}

// Redial backoff: a member that cannot be reached is tried again after
// SyncInterval, then twice as long each time, up to 8 SyncIntervals or
// maxRedialDelay, whichever is shorter.
const maxRedialDelay = 5 * time.Minute

type backoff struct {
	next  time.Time
	delay time.Duration
}

// dialDue reports whether a redial of p is due (no recent failure).
func (f *Federation) dialDue(p peer.ID, now time.Time) bool {
	f.queueMu.Lock()
	defer f.queueMu.Unlock()
	b, ok := f.dialBackoff[p]
	return !ok || !now.Before(b.next)
}

// dialFailed backs off redials of p: a dial failed, or p refused our
// hello. Admission (onAdmitted) clears the backoff.
func (f *Federation) dialFailed(p peer.ID) {
	f.queueMu.Lock()
	defer f.queueMu.Unlock()
	b := f.dialBackoff[p]
	b.delay = min(max(2*b.delay, f.cfg.SyncInterval), 8*f.cfg.SyncInterval, maxRedialDelay)
	b.next = time.Now().Add(b.delay)
	f.dialBackoff[p] = b
}

// forgetBackoff lets p be dialled at once (it announced new addresses).
func (f *Federation) forgetBackoff(p peer.ID) {
	f.queueMu.Lock()
	defer f.queueMu.Unlock()
	delete(f.dialBackoff, p)
}

// dialLoop is one of dialWorkers dialers (bounded concurrency).
func (f *Federation) dialLoop() {
	for {
		var p peer.ID
		select {
		case p = <-f.dialQ:
		case <-f.ctx.Done():
			return
		}
		f.dequeued(f.dialPending, p)
		if f.host.Network().Connectedness(p) == network.Connected {
			continue
		}
		if sw, ok := f.host.Network().(*swarm.Swarm); ok {
			sw.Backoff().Clear(p) // we pace redials ourselves
		}
		ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
		// The member's announced addresses (the peerstore may not have
		// them yet) plus whatever the peerstore knows (Bootstrap).
		err := f.host.Connect(ctx, peer.AddrInfo{ID: p, Addrs: f.members.addrs(p)})
		cancel()
		if err != nil {
			f.dialFailed(p)
			f.log.Debug("dial", "peer", p, "err", err)
		}
	}
}

// syncLoop is one of syncWorkers pullers.
func (f *Federation) syncLoop() {
	for {
		var p peer.ID
		select {
		case p = <-f.syncQ:
		case <-f.ctx.Done():
			return
		}
		f.dequeued(f.syncPending, p)
		if err := f.syncWith(f.ctx, p); err != nil && f.ctx.Err() == nil {
			f.log.Debug("sync", "peer", p, "err", err)
		}
	}
}

// maintainLoop, every SyncInterval ± 20%, pulls from a random connected
// member, redials members it lost, and retries Bootstrap when alone.
func (f *Federation) maintainLoop() {
	for {
		jitter := 0.8 + 0.4*rand.Float64()
		t := time.NewTimer(time.Duration(float64(f.cfg.SyncInterval) * jitter))
		select {
		case <-t.C:
		case <-f.ctx.Done():
			t.Stop()
			return
		}
		f.maintain()
	}
}

func (f *Federation) maintain() {
	now := time.Now()
	var online []peer.ID
	for _, m := range f.members.list() {
		if !m.Online || m.Peer == f.self {
			continue
		}
		if !f.members.admitted(m.Peer, now) {
			// Its certificate expired since its hello.
			f.refuse(m.Peer, refusedBadCert, errors.New("certificate no longer valid"))
			continue
		}
		online = append(online, m.Peer)
	}
	if len(online) > 0 {
		f.enqueueSync(online[rand.IntN(len(online))])
	}
	if f.shouldDial() {
		for _, p := range f.members.admittedPeers(f.self, now) {
			if f.host.Network().Connectedness(p) != network.Connected && f.dialDue(p, now) {
				f.enqueueDial(p)
			}
		}
	}
	for _, ai := range f.boot {
		if f.host.Network().Connectedness(ai.ID) == network.Connected || !f.dialDue(ai.ID, now) {
			continue
		}
		if len(online) == 0 || f.cfg.ConnectMembers < 0 {
			f.enqueueDial(ai.ID)
		}
	}
	if left := time.Until(f.cert.NotAfter); left < certWarnBefore {
		f.log.Warn("this node's certificate expires soon", "in", left.Round(time.Hour))
	}
}

// certWarnBefore is how long before its certificate expires a node warns.
const certWarnBefore = 14 * 24 * time.Hour
