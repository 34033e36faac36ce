package federation

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/moinha/moinha/storage"
)

// directWorker is the delivery loop of one destination. Its goroutine
// (deliverLoop) owns the delivery state; others only signal it. It ends
// when the destination's outbox is empty and nothing more is expected, and
// wakeDirect starts a new one when needed.
type directWorker struct {
	peer peer.ID
	dest string        // peer.String(), the outbox key prefix (base58 is costly)
	wake chan struct{} // capacity 1
	// reconnected is set by a Connected notification: retry now, whatever
	// the backoff. Guarded by directState.outMu.
	reconnected bool
	// hints are IDs of messages enqueued by transactions that may not have
	// committed yet, with how long to look for them. Guarded by
	// directState.outMu.
	hints map[string]time.Time
	// cancelDial ends the loop's dial in progress, if any: the peer
	// connected by itself (it dialled us). Guarded by directState.outMu.
	cancelDial context.CancelFunc
}

func (w *directWorker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// wakeDirect makes sure p's delivery loop runs and signals it. hint is the
// ID of a message just enqueued ("" for none); connected says p just
// connected. Before Start and after Close it does nothing (Start's sweep
// picks up what the outbox holds).
func (f *Federation) wakeDirect(p peer.ID, hint string, connected bool) {
	d := f.direct
	d.outMu.Lock()
	w := d.workers[p]
	if w == nil {
		if connected {
			// Most connections have nothing queued: let the sweeper's
			// check decide instead of starting a loop per connection.
			d.outMu.Unlock()
			f.spawn(func() { f.wakeIfQueued(p) })
			return
		}
		w = &directWorker{peer: p, dest: p.String(), wake: make(chan struct{}, 1), hints: make(map[string]time.Time)}
		if !f.spawn(func() { f.deliverLoop(w) }) {
			d.outMu.Unlock()
			return
		}
		d.workers[p] = w
	}
	if hint != "" {
		w.hints[hint] = time.Now().Add(directHintWait)
	}
	if connected {
		w.reconnected = true
		if w.cancelDial != nil {
			w.cancelDial()
		}
	}
	d.outMu.Unlock()
	w.signal()
}

// wakeIfQueued starts p's loop if the outbox holds messages for it.
func (f *Federation) wakeIfQueued(p peer.ID) {
	var n int
	err := f.db.View(func(tx *storage.Tx) error {
		msgs, err := tx.Outbox(p.String(), time.Time{}, 1)
		n = len(msgs)
		return err
	})
	if err == nil && n > 0 {
		f.wakeDirect(p, "", false)
	}
}

// directSweepLoop starts the loops of destinations with queued messages:
// at start, and every directSweepEvery in case a loop retired while a
// slow transaction was still committing its message.
func (f *Federation) directSweepLoop() {
	for {
		dests, err := f.outboxDests()
		if err != nil && f.ctx.Err() == nil {
			f.log.Warn("direct: scan outbox", "err", err)
		}
		for _, p := range dests {
			f.wakeDirect(p, "", false)
		}
		t := time.NewTimer(directSweepEvery)
		select {
		case <-t.C:
		case <-f.ctx.Done():
			t.Stop()
			return
		}
	}
}

// retire removes w from the table unless something is pending for it; it
// reports whether the loop should end.
func (f *Federation) retire(w *directWorker) bool {
	d := f.direct
	d.outMu.Lock()
	defer d.outMu.Unlock()
	if len(w.wake) > 0 || len(w.hints) > 0 {
		return false
	}
	delete(d.workers, w.peer)
	return true
}

// noteSeen drops the hints of messages found in the outbox (their
// transactions committed) and of hints past their time; it reports whether
// hints remain.
func (f *Federation) noteSeen(w *directWorker, msgs []storage.OutboxMessage, now time.Time) bool {
	d := f.direct
	d.outMu.Lock()
	defer d.outMu.Unlock()
	for _, m := range msgs {
		delete(w.hints, m.ID)
	}
	for id, until := range w.hints {
		if now.After(until) {
			delete(w.hints, id)
		}
	}
	return len(w.hints) > 0
}

func (f *Federation) takeReconnected(w *directWorker) bool {
	d := f.direct
	d.outMu.Lock()
	defer d.outMu.Unlock()
	r := w.reconnected
	w.reconnected = false
	return r
}

// Polling for a message whose transaction has not committed yet: Flush
// normally ends the wait at once; the poll is for callers that do not call
// it.
const (
	directPollMin = time.Millisecond
	directPollMax = 20 * time.Millisecond
)

// directSettleDelay is how long acknowledged messages may stay in the
// outbox before they are removed, so that removals coalesce into one
// commit instead of each costing an fsync on the path of the next message.
// Until then the loop remembers them and never resends them; after a
// crash they are resent and the receiver answers "duplicate".
const directSettleDelay = 25 * time.Millisecond

// settleState is a delivery loop's acknowledged messages not yet removed
// from the outbox, owned by the loop's goroutine.
type settleState struct {
	keys []string        // outbox keys, in acknowledgement order
	set  map[string]bool // the same keys
	due  time.Time       // when to remove them (zero: none pending)
}

func (st *settleState) add(key string) {
	if st.set[key] {
		return
	}
	st.keys = append(st.keys, key)
	st.set[key] = true
	if st.due.IsZero() {
		st.due = time.Now().Add(directSettleDelay)
	}
}

// settle removes the acknowledged messages from the outbox (one commit).
// On failure they stay pending and are tried again later.
func (f *Federation) settle(st *settleState) {
	if len(st.keys) == 0 {
		return
	}
	err := f.db.Update(f.ctx, func(tx *storage.Tx) error {
		for _, k := range st.keys {
			if err := tx.AckOutbox(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if f.ctx.Err() == nil {
			f.log.Warn("direct: settle outbox", "messages", len(st.keys), "err", err)
		}
		st.due = time.Now().Add(time.Second)
		return
	}
	st.keys, st.due = st.keys[:0], time.Time{}
	clear(st.set)
}

// deliverLoop sends p's queued messages in order until none are left.
func (f *Federation) deliverLoop(w *directWorker) {
	attempts := 0
	poll := directPollMin
	st := &settleState{set: make(map[string]bool)}
	// untilSettle bounds a wait so that pending removals happen on time.
	untilSettle := func(d time.Duration) time.Duration {
		if st.due.IsZero() {
			return d
		}
		return max(min(d, time.Until(st.due)), 0)
	}
	for f.ctx.Err() == nil {
		// Sending comes first: removals wait until the loop is idle, unless
		// many pile up or they are long overdue.
		if len(st.keys) >= maxDirectBatch || (!st.due.IsZero() && time.Since(st.due) > 20*directSettleDelay) {
			f.settle(st)
		}
		msgs, err := f.queued(w.dest, st.set)
		if err != nil {
			if f.ctx.Err() == nil {
				f.log.Warn("direct: read outbox", "peer", w.peer, "err", err)
			}
			if !f.sleepDirect(w, time.Second, false) {
				return
			}
			continue
		}
		hinted := f.noteSeen(w, msgs, time.Now())
		if len(msgs) == 0 {
			if !hinted {
				if len(st.keys) > 0 {
					// Idle: remove the acknowledged messages when due,
					// unless work arrives first (it goes first).
					t := time.NewTimer(untilSettle(directSettleDelay))
					select {
					case <-f.ctx.Done():
						t.Stop()
						return
					case <-w.wake:
						t.Stop()
						continue
					case <-t.C:
					}
					f.settle(st)
					continue
				}
				if f.retire(w) {
					return
				}
				// Something arrived meanwhile: take its signal and look again.
				select {
				case <-w.wake:
				default:
				}
				continue
			}
			// A transaction that enqueued a message has not committed yet
			// (or rolled back): look again shortly, or when Flush says so.
			if !f.sleepDirect(w, poll, true) {
				return
			}
			poll = min(2*poll, directPollMax)
			continue
		}
		poll = directPollMin
		if _, _, left, revoked := f.members.cert(w.peer); left || revoked {
			f.dropQueued(w.peer, msgs, left, revoked)
			continue
		}
		if err := f.deliver(w, msgs, st); err != nil {
			attempts++
			f.direct.failures.Add(1)
			delay := retryDelay(attempts)
			if f.ctx.Err() == nil {
				f.log.Debug("direct: delivery failed", "peer", w.peer, "messages", len(msgs),
					"attempt", attempts, "retry_in", delay, "err", err)
			}
			f.settle(st) // before a long wait
			if !f.sleepDirect(w, delay, false) {
				return
			}
			continue
		}
		attempts = 0
	}
}

// sleepDirect waits for d, ctx, or a signal. During a backoff (anyWake
// false) only a reconnection of the peer ends the wait early: a new
// message for a peer that is unreachable, or that asked to retry later,
// must not cause a retry storm. It reports false when the federation is
// closing.
func (f *Federation) sleepDirect(w *directWorker, d time.Duration, anyWake bool) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return false
		case <-t.C:
			return true
		case <-w.wake:
			if anyWake || f.takeReconnected(w) {
				return true
			}
		}
	}
}

// retryDelay is the backoff before attempt n+1: exponential from
// directRetryBase, capped at directRetryMax, with full jitter in its upper
// half.
func retryDelay(n int) time.Duration {
	d := directRetryMax
	if n < 20 {
		d = min(directRetryBase<<(n-1), directRetryMax)
	}
	return d/2 + rand.N(d/2+1)
}

// queued reads the next batch for dest (a peer ID string): up to
// maxDirectBatch messages and maxDirectBatchBytes of payload (always at
// least one message), leaving out those already acknowledged (skip).
func (f *Federation) queued(dest string, skip map[string]bool) ([]storage.OutboxMessage, error) {
	var msgs []storage.OutboxMessage
	err := f.db.View(func(tx *storage.Tx) error {
		var err error
		msgs, err = tx.Outbox(dest, time.Time{}, maxDirectBatch+len(skip))
		return err
	})
	if err != nil {
		return nil, err
	}
	msgs = slices.DeleteFunc(msgs, func(m storage.OutboxMessage) bool { return skip[m.Key] })
	msgs = msgs[:min(len(msgs), maxDirectBatch)]
	total := 0
	for i, m := range msgs {
		total += len(m.Payload)
		if i > 0 && total > maxDirectBatchBytes {
			return msgs[:i], nil
		}
	}
	return msgs, nil
}

// dropQueued removes messages for a peer that left or was revoked: no one
// will ever acknowledge them. The domain learns of the departure through
// Config.OnLeave and re-routes its work.
func (f *Federation) dropQueued(p peer.ID, msgs []storage.OutboxMessage, left, revoked bool) {
	err := f.db.Update(f.ctx, func(tx *storage.Tx) error {
		for _, m := range msgs {
			if err := tx.AckOutbox(m.Key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return
	}
	f.direct.dropped.Add(uint64(len(msgs)))
	f.log.Warn("direct: destination gone, messages dropped", "peer", p, "messages", len(msgs),
		"left", left, "revoked", revoked)
}

// errRetryLater means the receiver asked for some messages again later.
var errRetryLater = errors.New("receiver asked to retry")

// deliver sends msgs to w's peer over one stream; stored, duplicate and
// refused messages are handed to st, to leave the outbox shortly.
func (f *Federation) deliver(w *directWorker, msgs []storage.OutboxMessage, st *settleState) error {
	p := w.peer
	size := 0
	for _, m := range msgs {
		size += len(m.Payload) + directHeaderMax
	}
	if err := f.dialDirect(w); err != nil {
		return err
	}
	if err := f.awaitHello(p); err != nil {
		return err
	}
	acks, err := f.exchange(p, size, func(bw *bufio.Writer) error {
		for _, m := range msgs {
			body := encodeDirectMsg(directMsg{id: m.ID, kind: m.Kind, province: f.cert.Province, payload: m.Payload})
			if _, err := bw.Write(appendDirectFrame(nil, frameDirectMsg, body)); err != nil {
				return err
			}
		}
		return nil
	}, len(msgs))
	if err != nil {
		return err
	}
	retry := 0
	for _, m := range msgs {
		a, ok := acks[m.ID]
		switch {
		case !ok || a.status == ackRetry:
			retry++
		case a.status == ackRefused:
			st.add(m.Key)
			f.direct.refusedOut.Add(1)
			f.log.Warn("direct: message refused by receiver", "peer", p, "id", m.ID, "kind", m.Kind, "reason", a.reason)
		default:
			st.add(m.Key)
			f.direct.delivered.Add(1)
		}
	}
	if retry > 0 {
		return fmt.Errorf("%w: %d of %d messages", errRetryLater, retry, len(msgs))
	}
	return nil
}

// dialDirect connects to w's peer unless connected. A dial to addresses
// that no longer answer can take long (QUIC waits for its handshake
// timeout); it is cut short when the peer connects by itself.
func (f *Federation) dialDirect(w *directWorker) error {
	if f.host.Network().Connectedness(w.peer) == network.Connected {
		return nil
	}
	ctx, cancel := context.WithTimeout(f.ctx, directDialTime)
	defer cancel()
	f.direct.outMu.Lock()
	w.cancelDial = cancel
	f.direct.outMu.Unlock()
	err := f.host.Connect(ctx, peer.AddrInfo{ID: w.peer, Addrs: f.members.addrs(w.peer)})
	f.direct.outMu.Lock()
	w.cancelDial = nil
	f.direct.outMu.Unlock()
	if err != nil && f.host.Network().Connectedness(w.peer) != network.Connected {
		return fmt.Errorf("dial: %w", err)
	}
	return nil
}

// awaitHello waits until p passed the hello on this connection, so that it
// knows this node's membership before it gets a message.
func (f *Federation) awaitHello(p peer.ID) error {
	sess := f.session(p)
	t := time.NewTimer(f.cfg.HelloTimeout)
	defer t.Stop()
	select {
	case <-sess.verified:
		return nil
	case <-t.C:
		return errors.New("peer did not complete the hello")
	case <-f.ctx.Done():
		return f.ctx.Err()
	}
}

// exchange opens a direct stream to p, lets write fill it, closes the
// write side and reads up to n acks, all within deadlines for size bytes.
func (f *Federation) exchange(p peer.ID, size int, write func(*bufio.Writer) error, n int) (map[string]directAck, error) {
	f.direct.attempts.Add(1)
	timeout := transferTimeout(size)
	ctx, cancel := context.WithTimeout(f.ctx, timeout)
	defer cancel()
	s, err := f.host.NewStream(network.WithNoDial(ctx, "direct"), p, f.direct.proto)
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(timeout))
	bw := bufio.NewWriterSize(s, 64<<10)
	if err := write(bw); err != nil {
		s.Reset()
		return nil, fmt.Errorf("write: %w", err)
	}
	if err := bw.Flush(); err != nil {
		s.Reset()
		return nil, fmt.Errorf("write: %w", err)
	}
	if err := s.CloseWrite(); err != nil {
		s.Reset()
		return nil, fmt.Errorf("close write: %w", err)
	}
	acks := make(map[string]directAck, n)
	rd := bufio.NewReader(s)
	for len(acks) < n {
		typ, body, err := readDirectFrame(rd, maxAckFrame)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.Reset()
			return acks, fmt.Errorf("read ack: %w", err)
		}
		if typ != frameDirectAck {
			s.Reset()
			return acks, fmt.Errorf("%w: frame type %q", errDirectFrame, typ)
		}
		a, err := decodeDirectAck(body)
		if err != nil {
			s.Reset()
			return acks, err
		}
		acks[a.id] = a
	}
	return acks, nil
}

// SendNow sends one message to p at once, without the outbox and without
// this node's own checks (observer, membership, size), and returns the
// receiver's answer. It is for tests and diagnostics — forged, replayed
// and observer messages must be refused by the receiver whatever the
// sender does — and production code has no reason to call it.
func (f *Federation) SendNow(ctx context.Context, p peer.ID, kind, id string, payload []byte) (DirectAck, error) {
	if f.host == nil {
		return DirectAck{}, ErrNotStarted
	}
	if f.host.Network().Connectedness(p) != network.Connected {
		if err := f.host.Connect(ctx, peer.AddrInfo{ID: p, Addrs: f.members.addrs(p)}); err != nil {
			return DirectAck{}, err
		}
	}
	if err := f.awaitHello(p); err != nil {
		return DirectAck{}, err
	}
	acks, err := f.exchange(p, len(payload), func(bw *bufio.Writer) error {
		body := encodeDirectMsg(directMsg{id: id, kind: kind, province: f.cert.Province, payload: payload})
		_, err := bw.Write(appendDirectFrame(nil, frameDirectMsg, body))
		return err
	}, 1)
	if err != nil {
		return DirectAck{}, err
	}
	a, ok := acks[id]
	if !ok {
		return DirectAck{}, errors.New("federation: no ack")
	}
	return DirectAck{Status: ackName(a.status), Reason: a.reason}, nil
}

func ackName(s byte) string {
	switch s {
	case ackStored:
		return "stored"
	case ackDuplicate:
		return "duplicate"
	case ackRetry:
		return "retry"
	default:
		return "refused"
	}
}
