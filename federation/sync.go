package federation

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/moinha/moinha/storage"
)

// The sync protocol (/moinha/<net>/sync/1) is anti-entropy: gossip alone
// loses what a node missed while away or partitioned. The requester sends
// one request frame listing, for every origin it knows, its watermark (see
// originState.Synced). The responder streams every record it has above
// each watermark: first the membership records (revocations, members,
// leaves — later records need them), then each origin's log in version
// order, one record per frame, reading the data file one page (≤ 1 MiB) per
// read transaction. After the last record of an origin it sends a mark
// frame with the watermark the requester may adopt, and it ends with an end
// frame whose "more" flag says the response stopped at its size budget and
// the requester should ask again. Records are checked exactly as gossiped
// ones are. Both sides of a new connection pull, and every SyncInterval a
// node pulls from one random connected member.
//
// Trust: a mark is the responder's word that it sent everything of the
// origin up to that version. Members are admitted by an authority and a
// mark is capped at the highest version the requester has actually seen
// from the origin, but a lying member could still hide a record from a
// requester until the origin itself is asked.

const (
	syncPageBytes     = 1 << 20  // records read per transaction
	syncResponseBytes = 16 << 20 // records per response before "more"
	syncBatch         = 256      // records applied per transaction
	syncMaxRounds     = 64       // rounds per sync before giving up for now
	syncFrameTimeout  = 15 * time.Second
	maxSyncServing    = 8 // concurrent responses served
	maxOrigins        = 100_000
	syncWorkers       = 2
	dialWorkers       = 4
)

// syncWith pulls everything p has that this node lacks.
func (f *Federation) syncWith(ctx context.Context, p peer.ID) error {
	for range syncMaxRounds {
		more, err := f.syncRound(ctx, p)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return nil
}

// syncRound is one request and its response.
func (f *Federation) syncRound(ctx context.Context, p peer.ID) (more bool, err error) {
	f.metrics.syncRounds.Add(1)
	var req []byte
	err = f.db.View(func(tx *storage.Tx) error {
		origins, err := allOrigins(tx)
		for o, st := range origins {
			req = appendMark(req, mark{origin: []byte(o), version: st.Synced})
		}
		return err
	})
	if err != nil {
		return false, err
	}
	s, err := f.host.NewStream(network.WithNoDial(ctx, "sync"), p, f.protoSync)
	if err != nil {
		return false, err
	}
	defer s.Close()
	_ = s.SetWriteDeadline(time.Now().Add(syncFrameTimeout))
	if err := writeFrame(s, frameRequest, req); err != nil {
		s.Reset()
		return false, err
	}
	_ = s.CloseWrite()

	rd := bufio.NewReader(s)
	var batch []*incoming
	failed := make(map[peer.ID]bool) // origins with a record we could not store
	flush := func() {
		if len(batch) == 0 {
			return
		}
		for i, o := range f.applyBatch(ctx, batch) {
			switch {
			case o.stored:
				f.metrics.syncPulled.Add(1)
			case o.reason != "":
				inc(f.metrics.syncRejected, o.reason)
			case o.err != nil:
				failed[batch[i].rec.Origin] = true
			}
		}
		batch = batch[:0]
	}
	for {
		_ = s.SetReadDeadline(time.Now().Add(syncFrameTimeout))
		typ, payload, err := readFrame(rd)
		if err != nil {
			flush()
			s.Reset()
			return false, fmt.Errorf("sync from %s: %w", p, err)
		}
		switch typ {
		case frameRecord:
			in, reason := decodeIncoming(f.netID, payload)
			if reason != "" {
				inc(f.metrics.syncRejected, reason)
				continue
			}
			batch = append(batch, in)
			if len(batch) >= syncBatch {
				flush()
			}
		case frameMark:
			flush()
			marks, err := decodeMarks(payload, 1)
			if err != nil || len(marks) != 1 {
				s.Reset()
				return false, fmt.Errorf("sync from %s: bad mark", p)
			}
			origin, err := peer.IDFromBytes(marks[0].origin)
			if err != nil || failed[origin] {
				continue
			}
			err = f.db.Update(ctx, func(tx *storage.Tx) error {
				st, err := getOrigin(tx, origin)
				if err != nil {
					return err
				}
				// Never beyond what we have seen signed by the origin.
				return adoptSynced(tx, origin, min(marks[0].version, st.Max))
			})
			if err != nil {
				return false, err
			}
		case frameEnd:
			flush()
			return len(payload) == 1 && payload[0]&1 != 0, nil
		default:
			s.Reset()
			return false, fmt.Errorf("sync from %s: unexpected frame %q", p, typ)
		}
	}
}

// handleSync serves a sync request.
func (f *Federation) handleSync(s network.Stream) {
	p := s.Conn().RemotePeer()
	if !f.members.admitted(p, time.Now()) {
		// Its hello may still be in flight (it admitted us first and
		// asked at once): give it the hello timeout.
		t := time.NewTimer(f.cfg.HelloTimeout)
		select {
		case <-f.session(p).verified:
		case <-t.C:
		case <-f.ctx.Done():
		}
		t.Stop()
		if !f.members.admitted(p, time.Now()) {
			s.Reset()
			return
		}
	}
	select {
	case f.syncSlots <- struct{}{}:
		defer func() { <-f.syncSlots }()
	default:
		s.Reset() // busy: the requester tries again later
		return
	}
	_ = s.SetReadDeadline(time.Now().Add(syncFrameTimeout))
	typ, payload, err := readFrame(bufio.NewReader(s))
	if err != nil || typ != frameRequest {
		s.Reset()
		return
	}
	marks, err := decodeMarks(payload, maxOrigins)
	if err != nil {
		s.Reset()
		return
	}
	have := make(map[peer.ID]uint64, len(marks))
	for _, m := range marks {
		if o, err := peer.IDFromBytes(m.origin); err == nil {
			have[o] = m.version
		}
	}
	w := &syncWriter{s: s}
	if err := f.serveSync(w, have); err != nil {
		f.log.Debug("sync serve", "peer", p, "err", err)
		s.Reset()
		return
	}
	_ = s.Close()
}

// syncWriter writes frames with a deadline each and counts bytes.
type syncWriter struct {
	s     network.Stream
	bytes int
}

func (w *syncWriter) frame(typ byte, payload []byte) error {
	_ = w.s.SetWriteDeadline(time.Now().Add(syncFrameTimeout))
	w.bytes += len(payload)
	return writeFrame(w.s, typ, payload)
}

// serveSync streams what a requester with watermarks have lacks.
func (f *Federation) serveSync(w *syncWriter, have map[peer.ID]uint64) error {
	// Membership first: revocations, then members, then leaves.
	var envs [][]byte
	err := f.db.View(func(tx *storage.Tx) error {
		for _, kind := range []string{KindRevocation, KindMember, KindLeave} {
			err := scanKind(tx, kind, func(r Record, env []byte) error {
				if r.Version > have[r.Origin] {
					envs = append(envs, env)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, env := range envs {
		if err := w.frame(frameRecord, env); err != nil {
			return err
		}
	}

	var origins map[peer.ID]originState
	if err := f.db.View(func(tx *storage.Tx) (err error) {
		origins, err = allOrigins(tx)
		return err
	}); err != nil {
		return err
	}
	order := make([]peer.ID, 0, len(origins))
	for o, st := range origins {
		// A revoked origin's records would be refused: not worth sending.
		if st.Max > have[o] && !f.members.revoked(o) {
			order = append(order, o)
		}
	}
	slices.SortFunc(order, func(a, b peer.ID) int { return strings.Compare(string(a), string(b)) })

	for _, o := range order {
		after := have[o]
		for {
			page, last, synced, done, err := f.readLogPage(o, after)
			if err != nil {
				return err
			}
			for _, env := range page {
				if err := w.frame(frameRecord, env); err != nil {
					return err
				}
			}
			after = last
			if done {
				if err := w.frame(frameMark, appendMark(nil, mark{origin: []byte(o), version: synced})); err != nil {
					return err
				}
				break
			}
			if w.bytes >= f.syncBudget {
				if err := w.frame(frameMark, appendMark(nil, mark{origin: []byte(o), version: min(synced, last)})); err != nil {
					return err
				}
				return w.frame(frameEnd, []byte{1})
			}
		}
		if w.bytes >= f.syncBudget {
			return w.frame(frameEnd, []byte{1})
		}
	}
	return w.frame(frameEnd, []byte{0})
}

// readLogPage reads, in one read transaction, up to syncPageBytes of
// origin's records above version after. It returns them, the last version
// read, the origin's watermark, and whether the log ended.
func (f *Federation) readLogPage(origin peer.ID, after uint64) (page [][]byte, last, synced uint64, done bool, err error) {
	last = after
	done = true
	err = f.db.View(func(tx *storage.Tx) error {
		st, err := getOrigin(tx, origin)
		if err != nil {
			return err
		}
		synced = st.Synced
		size := 0
		prefix := logPrefix(origin)
		return tx.Scan(storage.BucketRecordLog, prefix, logKey(origin, after), func(k string, v storage.Value) error {
			if size >= syncPageBytes {
				done = false
				return storage.ErrStop
			}
			var kk string
			if err := v.Decode(&kk); err != nil {
				return err
			}
			var sr storedRecord
			ok, err := tx.Get(storage.BucketRecords, origin.String()+"/"+kk, &sr)
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("federation: record log points at nothing")
			}
			page = append(page, sr.E)
			size += len(sr.E)
			last = binary.BigEndian.Uint64([]byte(k[len(prefix):]))
			return nil
		})
	})
	return page, last, synced, done, err
}
