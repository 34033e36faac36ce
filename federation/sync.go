package federation

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
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
// ones are (syncpull.go: signatures on every core, stored in large
// transactions). Both sides of a new connection pull, and every
// SyncInterval a node pulls from one random connected member. A node that
// stored records by sync pokes its other connected members (a stream with
// one poke frame) and they pull from it at once, so records that cross a
// healed partition at one link reach every node in a few hops.
//
// Trust: a mark is the responder's word that it sent everything of the
// origin up to that version. Members are admitted by an authority and a
// mark is capped at the highest version the requester has actually seen
// from the origin, but a lying member could still hide a record from a
// requester until the origin itself is asked.

const (
	syncPageBytes     = 1 << 20  // records read per transaction
	syncResponseBytes = 64 << 20 // records per response before "more"
	syncMaxRounds     = 64       // rounds per sync before giving up for now
	syncFrameTimeout  = 15 * time.Second
	maxSyncServing    = 8               // concurrent responses served
	syncSlotWait      = 5 * time.Second // how long a request waits for one
	syncRetries       = 2               // retries of a failed pull, syncRetryDelay apart
	syncRetryDelay    = time.Second
	maxOrigins        = 100_000
	syncWorkers       = 2
	dialWorkers       = 4
)

// syncWith pulls everything p has that this node lacks and reports how
// many records it stored, member records aside.
func (f *Federation) syncWith(ctx context.Context, p peer.ID) (int, error) {
	total := 0
	for range syncMaxRounds {
		more, stored, err := f.syncRound(ctx, p)
		total += stored
		if err != nil {
			return total, err
		}
		if !more {
			return total, nil
		}
	}
	return total, nil
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
	busy := time.NewTimer(syncSlotWait)
	select {
	case f.syncSlots <- struct{}{}:
		busy.Stop()
		defer func() { <-f.syncSlots }()
	case <-busy.C:
		s.Reset() // still busy: the requester tries again later
		return
	case <-f.ctx.Done():
		busy.Stop()
		s.Reset()
		return
	}
	_ = s.SetReadDeadline(time.Now().Add(syncFrameTimeout))
	typ, payload, err := readFrame(bufio.NewReader(s))
	if err == nil && typ == framePoke {
		// p stored records it pulled from elsewhere: pull from it.
		f.enqueueSync(p)
		_ = s.Close()
		return
	}
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
	w := &syncWriter{buf: bufio.NewWriterSize(deadlineWriter{s}, 64<<10)}
	serve := f.serveSync
	if f.hooks.serveSync != nil {
		serve = f.hooks.serveSync
	}
	err = serve(w, have)
	if err == nil {
		err = w.buf.Flush()
	}
	if err != nil {
		f.log.Debug("sync serve", "peer", p, "err", err)
		s.Reset()
		return
	}
	_ = s.Close()
}

// syncWriter buffers frames (one stream write per 64 KiB, not per record)
// and counts bytes.
type syncWriter struct {
	buf   *bufio.Writer
	bytes int
}

func (w *syncWriter) frame(typ byte, payload []byte) error {
	if len(payload)+1 > maxFrame {
		return errFrameTooLarge
	}
	w.bytes += len(payload)
	// Into the buffer as it is: no copy of the record into a frame.
	var head [binary.MaxVarintLen64 + 1]byte
	n := binary.PutUvarint(head[:], uint64(len(payload)+1))
	head[n] = typ
	if _, err := w.buf.Write(head[:n+1]); err != nil {
		return err
	}
	_, err := w.buf.Write(payload)
	return err
}

// deadlineWriter gives every write to a stream its own deadline.
type deadlineWriter struct{ s network.Stream }

func (d deadlineWriter) Write(p []byte) (int, error) {
	_ = d.s.SetWriteDeadline(time.Now().Add(syncFrameTimeout))
	return d.s.Write(p)
}

// pokeSync tells p that this node stored records it pulled from another
// peer, so that p pulls them from here without waiting for its interval:
// after a partition heals, what crosses at one link spreads to every node
// in a few hops.
func (f *Federation) pokeSync(p peer.ID) {
	ctx, cancel := context.WithTimeout(f.ctx, syncFrameTimeout)
	defer cancel()
	s, err := f.host.NewStream(network.WithNoDial(ctx, "sync poke"), p, f.protoSync)
	if err != nil {
		return
	}
	_ = s.SetWriteDeadline(time.Now().Add(syncFrameTimeout))
	if err := writeFrame(s, framePoke, nil); err != nil {
		s.Reset()
		return
	}
	_ = s.Close()
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
		ahead, sent, err := f.manifestsAhead(o, after)
		if err != nil {
			return err
		}
		for _, env := range ahead {
			if err := w.frame(frameManifest, env); err != nil {
				return err
			}
		}
		for {
			page, last, synced, done, err := f.readLogPage(o, after, sent)
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
// origin's records above version after, but the manifests sent ahead
// (versions in skip). It returns them, the last version read, the
// origin's watermark, and whether the log ended.
func (f *Federation) readLogPage(origin peer.ID, after uint64, skip map[uint64]bool) (page [][]byte, last, synced uint64, done bool, err error) {
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
		name := f.names.of(origin)
		return tx.Scan(storage.BucketRecordLog, prefix, logKey(origin, after), func(k string, v storage.Value) error {
			if size >= syncPageBytes {
				done = false
				return storage.ErrStop
			}
			kk, err := decodeLogValue(v)
			if err != nil {
				return err
			}
			version := binary.BigEndian.Uint64([]byte(k[len(prefix):]))
			if skip[version] && strings.HasPrefix(kk, KindManifest+"/") {
				last = version
				return nil
			}
			sr, ok, err := getStoredAt(tx, name+"/"+kk)
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("federation: record log points at nothing")
			}
			page = append(page, sr.E)
			size += len(sr.E)
			last = version
			return nil
		})
	})
	return page, last, synced, done, err
}
