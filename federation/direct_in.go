package federation

import (
	"bufio"
	"context"
	"errors"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

// Reasons a received direct message is refused (sent back in the ack).
const (
	refuseObserverNode = "observer_node"     // this node is an observer: it takes no direct messages
	refuseNonMember    = "non_member"        // the sender is not a current member
	refuseObserver     = "observer"          // the sender is an observer
	refuseProvince     = "province_mismatch" // the message names another province than the sender's certificate
	refuseUnknownKind  = "unknown_kind"
	refuseOversize     = "oversize"
)

// inboxSeen is what BucketInboxSeen keeps per received message, under
// "<sender peer ID>/<message ID>".
type inboxSeen struct {
	Time time.Time `json:"time"`
	Kind string    `json:"kind"`
}

func seenKey(from Member, id string) string { return from.Peer.String() + "/" + id }

// directReceiveTimeout bounds the receiver's transaction for one stream.
const directReceiveTimeout = 30 * time.Second

// handleDirect serves one direct stream: it reads every message frame
// (bounded in count, size and time), handles the messages, and answers an
// ack per message. A malformed stream is reset without acks: the sender
// retries and nothing was stored.
func (f *Federation) handleDirect(s network.Stream) {
	if !f.enter() {
		s.Reset()
		return
	}
	defer f.wg.Done()
	p := s.Conn().RemotePeer()
	rd := bufio.NewReaderSize(s, 64<<10)
	var msgs []directMsg
	total := 0
	for {
		_ = s.SetReadDeadline(time.Now().Add(transferTimeout(MaxDirectLarge)))
		typ, body, err := readDirectFrame(rd, maxDirectFrame)
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil && typ != frameDirectMsg {
			err = errDirectFrame
		}
		var m directMsg
		if err == nil {
			m, err = decodeDirectMsg(body)
		}
		if err == nil && (len(msgs) >= maxDirectBatch || (len(msgs) > 0 && total+len(m.payload) > maxDirectBatchBytes)) {
			err = errors.New("batch too large")
		}
		if err != nil {
			f.direct.refusedIn.Add(1)
			f.log.Debug("direct: bad stream", "peer", p, "err", err)
			s.Reset()
			return
		}
		total += len(m.payload)
		msgs = append(msgs, m)
	}
	acks := f.receive(p, msgs)
	var out []byte
	for _, a := range acks {
		out = appendDirectFrame(out, frameDirectAck, encodeDirectAck(a))
	}
	_ = s.SetWriteDeadline(time.Now().Add(directStreamBaseTime))
	if _, err := s.Write(out); err != nil {
		s.Reset()
		return
	}
	_ = s.Close()
}

// enter registers a stream handler with the WaitGroup Close waits for; it
// reports false once the federation is closing.
func (f *Federation) enter() bool {
	f.goMu.Lock()
	defer f.goMu.Unlock()
	if f.state != stateStarted {
		return false
	}
	f.wg.Add(1)
	return true
}

// receive checks and handles the messages of one stream from p and returns
// their acks.
func (f *Federation) receive(p peer.ID, msgs []directMsg) []directAck {
	now := time.Now()
	from, member := f.memberOf(p, now)
	acks := make([]directAck, len(msgs))
	var todo []int
	for i, m := range msgs {
		acks[i].id = m.id
		reason := ""
		k, known := f.directKind(m.kind)
		switch {
		case f.observer:
			reason = refuseObserverNode
		case !member:
			reason = refuseNonMember
		case from.Role == charter.RoleObserver:
			reason = refuseObserver
		case m.province != from.Province:
			reason = refuseProvince
		case !known:
			reason = refuseUnknownKind
		case len(m.payload) > k.max:
			reason = refuseOversize
		}
		if reason != "" {
			acks[i].status, acks[i].reason = ackRefused, reason
			continue
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		f.countRefused(p, acks)
		return acks
	}
	ctx, cancel := context.WithTimeout(f.ctx, directReceiveTimeout)
	defer cancel()
	// Fast path: the whole stream in one transaction. Any handler error
	// aborts it (no write of it commits), and the slow path then handles
	// each message in its own transaction to tell which one failed.
	status := make([]byte, len(msgs))
	err := f.db.Update(ctx, func(tx *storage.Tx) error {
		for _, i := range todo {
			st, err := f.applyDirect(tx, from, msgs[i], now)
			if err != nil {
				return err
			}
			status[i] = st
		}
		return nil
	})
	if err == nil {
		for _, i := range todo {
			acks[i].status = status[i]
		}
	} else {
		for _, i := range todo {
			var st byte
			err := f.db.Update(ctx, func(tx *storage.Tx) error {
				var err error
				st, err = f.applyDirect(tx, from, msgs[i], now)
				return err
			})
			var refused *RefusedError
			switch {
			case err == nil:
				acks[i].status = st
			case errors.As(err, &refused):
				acks[i].status, acks[i].reason = ackRefused, refused.Reason
			default:
				acks[i].status, acks[i].reason = ackRetry, "try_later"
				if f.ctx.Err() == nil {
					f.log.Warn("direct: handler failed", "peer", p, "id", msgs[i].id, "kind", msgs[i].kind, "err", err)
				}
			}
		}
	}
	for _, i := range todo {
		switch acks[i].status {
		case ackStored:
			f.direct.received.Add(1)
		case ackDuplicate:
			f.direct.duplicates.Add(1)
		}
	}
	f.countRefused(p, acks)
	// Handlers may have enqueued answers; their transaction committed.
	f.Flush()
	return acks
}

func (f *Federation) countRefused(p peer.ID, acks []directAck) {
	for _, a := range acks {
		if a.status == ackRefused {
			f.direct.refusedIn.Add(1)
			f.log.Info("direct: message refused", "peer", p, "id", a.id, "reason", a.reason)
		}
	}
}

// applyDirect handles one message in tx: a duplicate is acknowledged
// without running the handler; otherwise the handler runs and the ID is
// recorded with it.
func (f *Federation) applyDirect(tx *storage.Tx, from Member, m directMsg, now time.Time) (byte, error) {
	key := seenKey(from, m.id)
	if tx.Has(storage.BucketInboxSeen, key) {
		return ackDuplicate, nil
	}
	k, ok := f.directKind(m.kind)
	if !ok {
		return 0, Refuse(refuseUnknownKind)
	}
	if err := k.fn(tx, from, m.id, m.payload); err != nil {
		return 0, err
	}
	if err := tx.Put(storage.BucketInboxSeen, key, inboxSeen{Time: now.UTC(), Kind: m.kind}); err != nil {
		return 0, err
	}
	return ackStored, nil
}
