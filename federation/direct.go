package federation

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

// Durable direct messages (/moinha/<net>/referral/1) carry what must reach
// one member and nobody else — a referral offer, the consult record after
// acceptance — without knowing what they hold. The sender stores each
// message in the storage outbox inside the transaction of the change it
// announces (EnqueueDirect); a delivery loop per destination sends what is
// queued over a stream, in order, and removes a message once the receiver
// acknowledged it. The receiver checks that the sender is a current member
// and not an observer, then, in one transaction, records the message ID in
// storage.BucketInboxSeen and runs the handler registered for its kind, and
// only then acknowledges: a message is handled exactly once however often
// it is sent. The libp2p connection authenticates the peer; a message
// carries its ID and the sender's province, which must match the sender's
// certificate. Failed deliveries back off exponentially with jitter, capped
// at directRetryMax, and are retried at once when the peer reconnects.

// Payload limits of direct messages.
const (
	// MaxDirectPayload is the largest payload of a kind registered with
	// Handle (64 KiB).
	MaxDirectPayload = 64 << 10
	// MaxDirectLarge is the largest payload of a kind registered with
	// HandleLarge (4 MiB): records with attachments.
	MaxDirectLarge = 4 << 20
)

// Delivery timing.
const (
	directRetryBase  = 250 * time.Millisecond // first retry delay
	directRetryMax   = 60 * time.Second       // backoff cap
	directHintWait   = 3 * time.Second        // how long to poll for a message whose transaction may still commit
	directSweepEvery = 30 * time.Second       // rescan of the outbox for destinations with no loop
	directDialTime   = 10 * time.Second       // one dial attempt
)

// Errors of direct messaging; match them with errors.Is.
var (
	// ErrNoMember means no current member holds the destination province
	// (or peer).
	ErrNoMember = errors.New("federation: no current member to send to")
	// ErrObserverDest means the destination is an observer: observers
	// receive nothing patient-related, so nothing direct.
	ErrObserverDest = errors.New("federation: observers receive no direct messages")
	// ErrBadMessage means a direct message's ID or kind is malformed, or
	// its payload is over the kind's limit.
	ErrBadMessage = errors.New("federation: bad direct message")
)

// DirectHandler handles one received message inside the transaction that
// also records its ID: both commit, or neither. It may run more than once
// for the same delivery (storage retries batches), so it must only write
// through tx. An error returned as a *RefusedError (see Refuse) refuses the
// message for good (the sender drops it); any other error makes the sender
// retry later.
type DirectHandler func(tx *storage.Tx, from Member, id string, payload []byte) error

// RefusedError is a handler's final refusal of a message, with a short
// machine reason (no patient data: it travels back to the sender).
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "federation: message refused: " + e.Reason }

// Refuse returns a *RefusedError with reason (at most 64 bytes are sent).
func Refuse(reason string) error { return &RefusedError{Reason: reason} }

// DirectAck is the receiver's answer to a message sent with SendNow.
type DirectAck struct {
	Status string // "stored", "duplicate", "retry" or "refused"
	Reason string // why, when refused or retry
}

// DirectStats counts direct messaging since the node started.
type DirectStats struct {
	Enqueued   uint64 // messages stored in the outbox (by committed or not transactions)
	Delivered  uint64 // acknowledged as stored or duplicate by the receiver
	RefusedOut uint64 // refused by the receiver, dropped from the outbox
	Dropped    uint64 // dropped because the destination left or was revoked
	Attempts   uint64 // streams opened to deliver
	Failures   uint64 // delivery attempts that failed (dial, stream, retry acks)
	Received   uint64 // messages handled and stored
	Duplicates uint64 // messages received again and ignored
	RefusedIn  uint64 // messages this node refused
}

type directKind struct {
	fn  DirectHandler
	max int
}

// directState is the Federation's direct-messaging state.
type directState struct {
	proto     protocol.ID
	collector *directCollector

	// kindsMu guards kinds (registration may happen at any time).
	kindsMu sync.RWMutex
	kinds   map[string]directKind

	// outMu guards workers and every worker's hints.
	outMu   sync.Mutex
	workers map[peer.ID]*directWorker

	enqueued, delivered, refusedOut, dropped, attempts, failures atomic.Uint64
	received, duplicates, refusedIn                              atomic.Uint64
}

func (f *Federation) initDirect() error {
	f.direct = &directState{
		proto:   protocol.ID("/moinha/" + f.charter.ShortID() + "/referral/1"),
		kinds:   make(map[string]directKind),
		workers: make(map[peer.ID]*directWorker),
	}
	f.direct.collector = &directCollector{f: f}
	if f.cfg.Registerer != nil {
		if err := f.cfg.Registerer.Register(f.direct.collector); err != nil {
			return fmt.Errorf("federation: register direct metrics: %w", err)
		}
	}
	return nil
}

// startDirect serves the direct protocol, wakes a destination's loop when
// it connects, and starts the sweeper (which also picks up what the outbox
// held at start).
func (f *Federation) startDirect() {
	f.host.SetStreamHandler(f.direct.proto, f.handleDirect)
	f.host.Network().Notify(&network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) { f.wakeDirect(c.RemotePeer(), "", true) },
	})
	f.spawn(f.directSweepLoop)
}

func (f *Federation) closeDirect() {
	if f.cfg.Registerer != nil && f.direct != nil {
		f.cfg.Registerer.Unregister(f.direct.collector)
	}
}

// DirectProtocol is the protocol ID of direct messages.
func (f *Federation) DirectProtocol() protocol.ID { return f.direct.proto }

// Handle registers fn for received messages of kind, with payloads of at
// most MaxDirectPayload. Registering a kind again replaces its handler.
// Kinds are 1–32 printable ASCII characters without '/'.
func (f *Federation) Handle(kind string, fn DirectHandler) { f.handle(kind, fn, MaxDirectPayload) }

// HandleLarge is Handle for kinds whose payloads may reach MaxDirectLarge
// (records with attachments).
func (f *Federation) HandleLarge(kind string, fn DirectHandler) {
	f.handle(kind, fn, MaxDirectLarge)
}

func (f *Federation) handle(kind string, fn DirectHandler, max int) {
	if !validToken(kind, maxDirectKindLen) || fn == nil {
		panic(fmt.Sprintf("federation: Handle(%q): bad kind or nil handler", kind))
	}
	f.direct.kindsMu.Lock()
	defer f.direct.kindsMu.Unlock()
	f.direct.kinds[kind] = directKind{fn: fn, max: max}
}

func (f *Federation) directKind(kind string) (directKind, bool) {
	f.direct.kindsMu.RLock()
	defer f.direct.kindsMu.RUnlock()
	k, ok := f.direct.kinds[kind]
	return k, ok
}

// sendLimit is the payload limit for kind: its registered limit, or
// MaxDirectPayload for a kind this node does not handle itself.
func (f *Federation) sendLimit(kind string) int {
	if k, ok := f.directKind(kind); ok {
		return k.max
	}
	return MaxDirectPayload
}

// EnqueueDirect stores a message for peer to in the outbox, inside tx, so
// that it is sent if and only if tx commits; the delivery loop then sends
// it until to acknowledges it. id must be unique among this node's
// messages (receivers drop a second message with the same ID); it and kind
// are 1–128 and 1–32 printable ASCII characters without '/'. The payload
// is at most the kind's limit (see Handle). It fails with ErrObserver on an
// observer node, ErrLeft or ErrRevoked when this node may no longer write,
// ErrNoMember when to is not a current member (or is this node), and
// ErrObserverDest when to is an observer. Like Stage it has no effect
// outside tx, except waking the delivery loop, which reads the outbox.
func (f *Federation) EnqueueDirect(tx *storage.Tx, to peer.ID, kind, id string, payload []byte) error {
	if f.observer {
		return ErrObserver
	}
	if err := f.writable(); err != nil {
		return err
	}
	switch {
	case !validToken(id, maxDirectIDLen):
		return fmt.Errorf("%w: id %q", ErrBadMessage, id)
	case !validToken(kind, maxDirectKindLen):
		return fmt.Errorf("%w: kind %q", ErrBadMessage, kind)
	case len(payload) > f.sendLimit(kind):
		return fmt.Errorf("%w: %s payload of %d bytes is over %d", ErrBadMessage, kind, len(payload), f.sendLimit(kind))
	case to == f.self || !f.members.admitted(to, time.Now()):
		return fmt.Errorf("%w: %s", ErrNoMember, to)
	}
	if c, _, _, _ := f.members.cert(to); c.Role == charter.RoleObserver {
		return ErrObserverDest
	}
	err := tx.EnqueueOutbox(&storage.OutboxMessage{
		ID: id, Dest: to.String(), Kind: kind, Payload: payload,
	})
	if err != nil {
		return err
	}
	f.direct.enqueued.Add(1)
	f.wakeDirect(to, id, false)
	return nil
}

// Send is EnqueueDirect to the member that holds province (see
// ProvincePeer). It is what the domain's message senders call.
func (f *Federation) Send(tx *storage.Tx, province, kind, id string, payload []byte) error {
	p, ok := f.ProvincePeer(province)
	if !ok {
		return fmt.Errorf("%w: province %s", ErrNoMember, province)
	}
	return f.EnqueueDirect(tx, p, kind, id, payload)
}

// ProvincePeer returns the current member that holds province code
// province, other than observers: the one with role province if there is
// one, else any, the lowest peer ID first. False when there is none.
func (f *Federation) ProvincePeer(province string) (peer.ID, bool) {
	now := time.Now()
	var best peer.ID
	bestRank := 3
	for _, m := range f.members.list() {
		if m.Province != province || m.Peer == f.self || m.Role == charter.RoleObserver ||
			!f.members.admitted(m.Peer, now) {
			continue
		}
		rank := 1
		if m.Role == charter.RoleProvince {
			rank = 0
		}
		if rank < bestRank || (rank == bestRank && m.Peer < best) {
			best, bestRank = m.Peer, rank
		}
	}
	return best, best != ""
}

// memberOf returns p as a Member if it is a current member.
func (f *Federation) memberOf(p peer.ID, now time.Time) (Member, bool) {
	cert, ok, left, revoked := f.members.cert(p)
	if !ok || left || revoked || !f.members.admitted(p, now) {
		return Member{}, false
	}
	return Member{Peer: p, Province: cert.Province, Name: cert.Name, Role: cert.Role}, true
}

// Flush tells the delivery loops that transactions which enqueued
// messages have committed, so they send at once instead of polling for
// them. Calling it is optional (the loops poll briefly after an enqueue)
// and cheap.
func (f *Federation) Flush() {
	f.direct.outMu.Lock()
	var wake []*directWorker
	for _, w := range f.direct.workers {
		if len(w.hints) > 0 {
			wake = append(wake, w)
		}
	}
	f.direct.outMu.Unlock()
	for _, w := range wake {
		w.signal()
	}
}

// DirectStats returns the direct-messaging counters.
func (f *Federation) DirectStats() DirectStats {
	d := f.direct
	return DirectStats{
		Enqueued: d.enqueued.Load(), Delivered: d.delivered.Load(), RefusedOut: d.refusedOut.Load(),
		Dropped: d.dropped.Load(), Attempts: d.attempts.Load(), Failures: d.failures.Load(),
		Received: d.received.Load(), Duplicates: d.duplicates.Load(), RefusedIn: d.refusedIn.Load(),
	}
}

// OutboxStats reports how many direct messages wait for delivery, and when
// the oldest was enqueued (zero when none).
func (f *Federation) OutboxStats() (depth int, oldest time.Time, err error) {
	err = f.db.View(func(tx *storage.Tx) error {
		depth, oldest, err = tx.OutboxStats()
		return err
	})
	return depth, oldest, err
}

// outboxDests lists the destinations that have queued messages.
func (f *Federation) outboxDests() ([]peer.ID, error) {
	var out []peer.ID
	err := f.db.View(func(tx *storage.Tx) error {
		after := ""
		for {
			var next string
			err := tx.Scan(storage.BucketOutbox, "", after, func(k string, _ storage.Value) error {
				next = k
				return storage.ErrStop
			})
			if err != nil || next == "" {
				return err
			}
			dest, _, _ := strings.Cut(next, "/")
			if p, err := peer.Decode(dest); err == nil && !slices.Contains(out, p) {
				out = append(out, p)
			}
			after = dest + "/\xff" // skip the rest of this destination
		}
	})
	return out, err
}
