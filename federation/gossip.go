package federation

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/moinha/moinha/storage"
)

// Gossip carries each new record at once on one topic,
// /moinha/<net>/records/1, over a gossipsub router whose protocol ID also
// names the network. Records are signed envelopes already, so pubsub's own
// signing is off (StrictNoSign) and message IDs are content hashes.
//
// Admission reaches into pubsub through peer scoring: a peer that is not an
// admitted member scores below the publish and gossip thresholds, so
// nothing is flood-published, forwarded or gossiped to it, and it is never
// grafted; once its hello (or a gossiped member record) admits it, it
// scores zero like every member.

const (
	queueSize       = 4096 // outbound, validation and subscription queues
	maxMessageSize  = maxEnvelope + 4096
	nonMemberScore  = -1000
	publishBatchMax = 256
	// publishWaitMax is how long the publisher waits for a staged version
	// to commit before deciding it was rolled back.
	publishWaitMax = 2 * time.Second
)

func (f *Federation) startGossip() error {
	params := pubsub.DefaultGossipSubParams()
	if hb := f.cfg.GossipHeartbeat; hb > 0 {
		params.HeartbeatInterval = hb
		params.HeartbeatInitialDelay = min(hb, params.HeartbeatInitialDelay)
	}
	// A peer still in its hello scores below zero, and gossipsub answers
	// its GRAFT with a PRUNE and a backoff (a minute by default) that
	// outlives the hello: a new member could stay out of every mesh for
	// that minute, reached only by flood publish and chance IHAVEs. Ten
	// heartbeats (at least the 1 s the PRUNE message can carry) are
	// enough against graft-prune flapping in a network of tens of members.
	params.PruneBackoff = max(10*params.HeartbeatInterval, time.Second)
	features := func(feat pubsub.GossipSubFeature, proto protocol.ID) bool {
		if proto != f.protoMesh {
			return false
		}
		switch feat {
		case pubsub.GossipSubFeatureMesh, pubsub.GossipSubFeaturePX, pubsub.GossipSubFeatureIdontwant:
			return true
		}
		return false
	}
	ps, err := pubsub.NewGossipSub(f.ctx, f.host,
		pubsub.WithGossipSubProtocols([]protocol.ID{f.protoMesh}, features),
		pubsub.WithGossipSubParams(params),
		pubsub.WithFloodPublish(true),
		pubsub.WithPeerExchange(false),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(contentID),
		pubsub.WithPeerOutboundQueueSize(queueSize),
		pubsub.WithValidateQueueSize(queueSize),
		pubsub.WithMaxMessageSize(maxMessageSize),
		pubsub.WithRawTracer(dropTracer{f.metrics}),
		pubsub.WithRawTracer(&f.mesh),
		pubsub.WithLogger(f.log.With("component", "pubsub")),
		pubsub.WithPeerScore(&pubsub.PeerScoreParams{
			SkipAtomicValidation: true,
			AppSpecificScore:     f.appScore,
			AppSpecificWeight:    1,
			DecayInterval:        time.Second,
			DecayToZero:          0.01,
		}, &pubsub.PeerScoreThresholds{
			SkipAtomicValidation: true,
			GossipThreshold:      -10,
			PublishThreshold:     -100,
			// Never graylist: a peer still in its hello must have its
			// subscriptions heard, or it would never get messages once
			// admitted.
			GraylistThreshold: 100 * nonMemberScore,
			AcceptPXThreshold: 1e9,
		}),
	)
	if err != nil {
		return err
	}
	// Inline: the check runs on pubsub's validation workers (one per
	// core) instead of a new goroutine per message.
	if err := ps.RegisterTopicValidator(f.topicName, pubsub.ValidatorEx(f.validate), pubsub.WithValidatorInline(true)); err != nil {
		return err
	}
	topic, err := ps.Join(f.topicName)
	if err != nil {
		return err
	}
	sub, err := topic.Subscribe(pubsub.WithBufferSize(queueSize))
	if err != nil {
		return err
	}
	f.ps, f.topic, f.sub = ps, topic, sub
	return nil
}

// contentID is the message ID: a hash of the data, so the same record
// relayed by different peers is one message.
func contentID(m *pb.Message) string {
	sum := sha256.Sum256(m.GetData())
	return string(sum[:20])
}

// appScore is the application-specific peer score: zero for admitted
// members, far below every threshold otherwise.
func (f *Federation) appScore(p peer.ID) float64 {
	if f.members.admitted(p, time.Now()) {
		return 0
	}
	return nonMemberScore
}

// validate is the topic validator: Reject what breaks a rule (bad
// signature, non-member, observer, wrong ownership, oversize, malformed),
// Ignore what is stale, Accept the rest with the decoded record attached.
func (f *Federation) validate(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if from == f.self {
		return pubsub.ValidationAccept // our own record, read from our data file
	}
	in, reason := decodeIncoming(f.netID, msg.GetData())
	if reason == "" {
		reason = f.check(in, time.Now())
	}
	if reason != "" {
		inc(f.metrics.gossipRejected, reason)
		f.log.Debug("gossip rejected", "from", from, "reason", reason)
		return pubsub.ValidationReject
	}
	if f.isStale(in) {
		f.metrics.gossipIgnored.Add(1)
		return pubsub.ValidationIgnore
	}
	msg.ValidatorData = in
	return pubsub.ValidationAccept
}

// isStale reports whether a version at least as new as in's is stored.
func (f *Federation) isStale(in *incoming) bool {
	stale := false
	_ = f.db.View(func(tx *storage.Tx) error {
		v, ok, err := storedVersion(tx, f.names.of(in.rec.Origin), in.rec.Kind, in.rec.Key)
		stale = err == nil && ok && v >= in.rec.Version
		return nil
	})
	return stale
}

// readLoop hands validated records from the subscription to applyLoop.
func (f *Federation) readLoop() {
	for {
		msg, err := f.sub.Next(f.ctx)
		if err != nil {
			return
		}
		if msg.ReceivedFrom == f.self {
			continue
		}
		in, ok := msg.ValidatorData.(*incoming)
		if !ok {
			continue
		}
		select {
		case f.applyCh <- in:
		case <-f.ctx.Done():
			return
		}
	}
}

// applyLoop stores gossiped records, as many per transaction as are
// waiting.
func (f *Federation) applyLoop() {
	batch := make([]*incoming, 0, publishBatchMax)
	for {
		select {
		case in := <-f.applyCh:
			batch = append(batch[:0], in)
		case <-f.ctx.Done():
			return
		}
	drain:
		for len(batch) < cap(batch) {
			select {
			case in := <-f.applyCh:
				batch = append(batch, in)
			default:
				break drain
			}
		}
		for _, o := range f.applyBatch(f.ctx, batch) {
			switch {
			case o.stored:
				f.metrics.gossipReceived.Add(1)
			case o.reason != "":
				inc(f.metrics.gossipRejected, o.reason)
			case o.err == nil:
				f.metrics.gossipIgnored.Add(1)
			}
		}
	}
}

// publishLoop gossips this node's new records whenever Stage pokes it.
// Stage pokes from inside its transaction, before the commit, so when the
// data file does not yet show the version Stage hinted at, the loop looks
// again with backoff until it does, or until the hint looks rolled back.
func (f *Federation) publishLoop() {
	for {
		select {
		case <-f.pokeCh:
		case <-f.ctx.Done():
			return
		}
		// A commit takes from ~0.1 ms (no fsync) to a few ms, and Stage
		// pokes before it ends: look again every 25–200 µs for the first
		// 5 ms (a look is one read transaction), so that the record goes
		// out at most ~200 µs after its commit; then every 1 ms, and after
		// 100 ms every 50 ms, until the hint is published or looks
		// rolled back.
		wait := 25 * time.Microsecond
		start := time.Now()
		deadline := start.Add(publishWaitMax)
		for {
			f.publishPending(f.ctx)
			if f.publishedUpTo() >= f.stagedHint.Load() || time.Now().After(deadline) {
				break
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-f.ctx.Done():
				t.Stop()
				return
			}
			switch since := time.Since(start); {
			case since < 5*time.Millisecond:
				wait = min(2*wait, 200*time.Microsecond)
			case since < 100*time.Millisecond:
				wait = time.Millisecond
			default:
				wait = 50 * time.Millisecond
			}
		}
	}
}

func (f *Federation) publishedUpTo() uint64 {
	f.pubMu.Lock()
	defer f.pubMu.Unlock()
	return f.lastPublished
}

// publishPending publishes this node's records newer than the last
// published, as read from the data file (never from Stage's memory: a
// staged record may have been rolled back). A record that fails to publish
// is left to sync.
func (f *Federation) publishPending(ctx context.Context) {
	f.pubMu.Lock()
	defer f.pubMu.Unlock()
	for ctx.Err() == nil {
		var envs [][]byte
		last := f.lastPublished
		prefix := logPrefix(f.self)
		err := f.db.View(func(tx *storage.Tx) error {
			return tx.Scan(storage.BucketRecordLog, prefix, logKey(f.self, f.lastPublished), func(k string, v storage.Value) error {
				kindKey, err := decodeLogValue(v)
				if err != nil {
					return err
				}
				sr, _, err := getStoredAt(tx, f.names.of(f.self)+"/"+kindKey)
				if err != nil {
					return err
				}
				envs = append(envs, sr.E)
				last = binary.BigEndian.Uint64([]byte(k[len(prefix):]))
				if len(envs) >= publishBatchMax {
					return storage.ErrStop
				}
				return nil
			})
		})
		if err != nil {
			f.log.Warn("read records to publish", "err", err)
			return
		}
		for _, env := range envs {
			if err := f.topic.Publish(ctx, env); err != nil {
				f.log.Debug("publish", "err", err)
				continue
			}
			f.metrics.gossipSent.Add(1)
		}
		f.lastPublished = last
		if len(envs) < publishBatchMax {
			return
		}
	}
}

// dropTracer counts what pubsub drops because a queue is full.
type dropTracer struct{ m *metrics }

func (t dropTracer) DropRPC(*pubsub.RPC, peer.ID)                         { t.m.gossipDropped.Add(1) }
func (t dropTracer) UndeliverableMessage(*pubsub.Message)                 { t.m.gossipDropped.Add(1) }
func (t dropTracer) AddPeer(peer.ID, protocol.ID)                         {}
func (t dropTracer) RemovePeer(peer.ID)                                   {}
func (t dropTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (t dropTracer) OnClosedOutboundStream(peer.ID)                       {}
func (t dropTracer) Join(string)                                          {}
func (t dropTracer) Leave(string)                                         {}
func (t dropTracer) Graft(peer.ID, string)                                {}
func (t dropTracer) Prune(peer.ID, string)                                {}
func (t dropTracer) ValidateMessage(*pubsub.Message)                      {}
func (t dropTracer) DeliverMessage(*pubsub.Message)                       {}
func (t dropTracer) DuplicateMessage(*pubsub.Message)                     {}
func (t dropTracer) ThrottlePeer(peer.ID)                                 {}
func (t dropTracer) RecvRPC(*pubsub.RPC)                                  {}
func (t dropTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (t dropTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (t dropTracer) RejectMessage(_ *pubsub.Message, reason string) {
	if reason == pubsub.RejectValidationQueueFull || reason == pubsub.RejectValidationThrottled {
		t.m.gossipDropped.Add(1)
	}
}

// meshTracer follows this node's gossipsub mesh on the records topic (the
// only topic) through graft and prune events.
type meshTracer struct {
	mu    sync.Mutex // guards peers
	peers map[peer.ID]bool
}

// MeshPeers lists the members this node's gossipsub mesh holds now: the
// peers it forwards every record to.
func (f *Federation) MeshPeers() []peer.ID {
	f.mesh.mu.Lock()
	defer f.mesh.mu.Unlock()
	out := make([]peer.ID, 0, len(f.mesh.peers))
	for p := range f.mesh.peers {
		out = append(out, p)
	}
	return out
}

func (t *meshTracer) Graft(p peer.ID, _ string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.peers == nil {
		t.peers = make(map[peer.ID]bool)
	}
	t.peers[p] = true
}

func (t *meshTracer) Prune(p peer.ID, _ string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.peers, p)
}

func (t *meshTracer) RemovePeer(p peer.ID)                                 { t.Prune(p, "") }
func (t *meshTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (t *meshTracer) UndeliverableMessage(*pubsub.Message)                 {}
func (t *meshTracer) AddPeer(peer.ID, protocol.ID)                         {}
func (t *meshTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (t *meshTracer) OnClosedOutboundStream(peer.ID)                       {}
func (t *meshTracer) Join(string)                                          {}
func (t *meshTracer) Leave(string)                                         {}
func (t *meshTracer) ValidateMessage(*pubsub.Message)                      {}
func (t *meshTracer) DeliverMessage(*pubsub.Message)                       {}
func (t *meshTracer) DuplicateMessage(*pubsub.Message)                     {}
func (t *meshTracer) ThrottlePeer(peer.ID)                                 {}
func (t *meshTracer) RecvRPC(*pubsub.RPC)                                  {}
func (t *meshTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (t *meshTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (t *meshTracer) RejectMessage(*pubsub.Message, string)                {}

// relay gossips a record of another origin (already checked and stored).
func (f *Federation) relay(env []byte) {
	if err := f.topic.Publish(f.ctx, env); err != nil {
		f.log.Debug("relay", "err", err)
	}
}
