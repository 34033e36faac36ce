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

// Redial backoff: a member that went away (or cannot be reached) is
// tried again soon, then less and less often: after a failed dial, the
// next waits an eighth of the time since it was lost (±20%), at least
// redialMin and at most 8 SyncIntervals or maxRedialDelay. So a partition
// of 30 s is noticed within ~4 s of healing, and a member offline for a
// day costs one dial every few minutes.
const (
	maxRedialDelay = 5 * time.Minute
	redialMin      = 250 * time.Millisecond
	redialTick     = 250 * time.Millisecond
)

type backoff struct {
	lost time.Time // first failure since the peer was last connected
	next time.Time // no dial before this
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
	now := time.Now()
	b := f.dialBackoff[p]
	if b.lost.IsZero() {
		b.lost = now
	}
	delay := min(max(now.Sub(b.lost)/8, redialMin), 8*f.cfg.SyncInterval, maxRedialDelay)
	b.next = now.Add(time.Duration(float64(delay) * (0.8 + 0.4*rand.Float64())))
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
		stored, err := f.syncWith(f.ctx, p)
		if err != nil && f.ctx.Err() == nil {
			f.log.Debug("sync", "peer", p, "err", err)
			f.retrySync(p)
		} else {
			f.queueMu.Lock()
			delete(f.syncRetried, p)
			f.queueMu.Unlock()
		}
		if stored > 0 {
			f.log.Debug("synced", "peer", p, "stored", stored)
			f.pokeOthers(p)
		}
	}
}

// retrySync pulls from p again after syncRetryDelay, up to syncRetries
// times in a row, while p stays connected: a pull that failed (the peer
// was busy, or a connection dropped) is not left for the next interval.
func (f *Federation) retrySync(p peer.ID) {
	f.queueMu.Lock()
	n := f.syncRetried[p]
	if n >= syncRetries {
		delete(f.syncRetried, p)
		f.queueMu.Unlock()
		return
	}
	f.syncRetried[p] = n + 1
	f.queueMu.Unlock()
	f.spawn(func() {
		t := time.NewTimer(syncRetryDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-f.ctx.Done():
			return
		}
		if f.host.Network().Connectedness(p) == network.Connected {
			f.enqueueSync(p)
		}
	})
}

// pokeOthers asks every connected member but p to pull from this node.
// Member records do not call for it: the hello that admits a member
// relays its record by gossip, so after a start every node would
// otherwise poke every neighbour for each member it learns.
func (f *Federation) pokeOthers(p peer.ID) {
	for _, m := range f.members.list() {
		if m.Online && m.Peer != f.self && m.Peer != p {
			q := m.Peer
			f.spawn(func() { f.pokeSync(q) })
		}
	}
}

// redialLoop, every redialTick, dials the members (or, with
// ConnectMembers < 0, the bootstrap peers) that are not connected and
// whose backoff has passed.
func (f *Federation) redialLoop() {
	t := time.NewTicker(redialTick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-f.ctx.Done():
			return
		}
		f.redial(time.Now())
	}
}

func (f *Federation) redial(now time.Time) {
	online := f.ConnectedPeers()
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
		if online == 0 || f.cfg.ConnectMembers < 0 {
			f.enqueueDial(ai.ID)
		}
	}
}

// maintainLoop, every SyncInterval ± 20%, pulls from a random connected
// member, drops members whose certificate expired and signs manifests of
// this node's new records. (Redials are redialLoop's.)
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
	if n, err := f.WriteManifests(f.ctx); err != nil {
		f.log.Warn("sign manifests", "err", err)
	} else if n > 0 {
		f.log.Debug("manifests signed", "chunks", n)
	}
	if left := time.Until(f.cert.NotAfter); left < certWarnBefore {
		f.log.Warn("this node's certificate expires soon", "in", left.Round(time.Hour))
	}
}

// certWarnBefore is how long before its certificate expires a node warns.
const certWarnBefore = 14 * 24 * time.Hour
