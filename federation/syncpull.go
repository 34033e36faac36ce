package federation

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/moinha/moinha/storage"
)

// Pulling a sync response is a pipeline, so that a national directory
// (165,000 records) arrives at the speed of signature checking on every
// core rather than of one record at a time:
//
//	reader (syncRound) ─ chunks of frames ─┬─> verifiers (one per core, shared by all rounds)
//	                                       └─> writer (in order): large transactions
//
// The reader cuts the stream into chunks of up to pullChunk records; a mark
// or the end closes a chunk early. It checks each manifest itself, as it
// comes (manifest.go), and marks the records whose envelope hash a checked
// manifest lists. Each chunk goes both to the verifiers, which open each
// record and check its signature unless it is listed, and run the domain's
// Config.Prepare, and, in stream order,
// to the round's writer, which waits for each chunk to be verified and
// stores the records (rules checked again, in order, against the
// membership the records before them taught) and the marks in transactions
// of up to pullTxRecords records. Only one round pulls at a time, so two
// peers never send the same records at once; a round's watermarks are
// read after the previous round committed.

const (
	pullChunk     = 64   // records per verification chunk
	pullAhead     = 64   // chunks the reader may run ahead of the writer
	pullTxRecords = 4096 // records per write transaction
	// pullRoundTimeout bounds one round, so that a slow or stalling peer
	// cannot keep other peers' rounds waiting for ever.
	pullRoundTimeout = 10 * time.Minute
)

// pullChunkT is a run of consecutive response frames.
type pullChunkT struct {
	steps  []step
	envs   [][]byte  // per step: the record envelope (nil for a mark or a manifest)
	listed []peer.ID // per step: the origin whose verified manifest lists the envelope, or ""
	keys   [][]byte  // per step: that origin's public key as its envelopes carry it, if known
	reason []string  // per step: why verification rejected the record
	done   chan struct{}
}

// verifyLoop is one of the verifiers: it opens the envelopes of chunks
// (checking the signature of each, unless a verified manifest lists it)
// and prepares what the writer will store.
func (f *Federation) verifyLoop() {
	for {
		select {
		case c := <-f.verifyQ:
			for i, env := range c.envs {
				if env == nil {
					continue
				}
				if c.listed[i] != "" {
					c.steps[i].in, c.reason[i] = decodeListed(env, c.listed[i], c.keys[i])
				} else {
					c.steps[i].in, c.reason[i] = decodeIncoming(f.netID, env)
				}
				if in := c.steps[i].in; in != nil {
					f.prepare(in)
				}
			}
			close(c.done)
		case <-f.ctx.Done():
			return
		}
	}
}

// prepare does, ahead of the write transaction, what storing in needs
// and no transaction: the encoding of its stored value and the domain's
// Config.Prepare.
func (f *Federation) prepare(in *incoming) {
	in.bulk = true
	in.stored = encodeStored(storedRecord{V: in.rec.Version, D: in.rec.Deleted, E: in.env})
	if f.cfg.Prepare != nil && dataKinds[in.rec.Kind] {
		in.apply = f.cfg.Prepare(in.rec)
	}
}

// verifiers is how many verifyLoops a node runs.
func verifiers() int { return max(runtime.GOMAXPROCS(0), 1) }

// pullStats is what one round stored.
type pullStats struct {
	stored int
	news   int              // stored records other than member records
	failed map[peer.ID]bool // origins with a record that could not be stored
}

// syncRound is one request and its response. It reports how many
// records it stored other than member records (which every hello relays
// by gossip anyway).
func (f *Federation) syncRound(ctx context.Context, p peer.ID) (more bool, stored int, err error) {
	select {
	case f.pullSem <- struct{}{}:
		defer func() { <-f.pullSem }()
	case <-ctx.Done():
		return false, 0, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(ctx, pullRoundTimeout)
	defer cancel()
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
		return false, 0, err
	}
	s, err := f.host.NewStream(network.WithNoDial(ctx, "sync"), p, f.protoSync)
	if err != nil {
		return false, 0, err
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	_ = s.SetWriteDeadline(time.Now().Add(syncFrameTimeout))
	if err := writeFrame(s, frameRequest, req); err != nil {
		s.Reset()
		return false, 0, err
	}
	_ = s.CloseWrite()

	toWriter := make(chan *pullChunkT, pullAhead)
	written := make(chan pullStats, 1)
	go func() { written <- f.pullWriter(ctx, toWriter) }()

	more, err = f.pullRead(ctx, bufio.NewReaderSize(s, 64<<10), toWriter)
	close(toWriter)
	st := <-written
	if err != nil {
		s.Reset()
		return false, st.news, fmt.Errorf("sync from %s: %w", p, err)
	}
	return more, st.news, nil
}

// pullRead reads the response into chunks, hands each to the verifiers
// and, in order, to the writer, and reports the end frame's "more" flag.
func (f *Federation) pullRead(ctx context.Context, rd *bufio.Reader, toWriter chan<- *pullChunkT) (bool, error) {
	var c *pullChunkT
	trust := newManifestTrust()
	dispatch := func() error {
		if c == nil {
			return nil
		}
		select {
		case f.verifyQ <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case toWriter <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
		c = nil
		return nil
	}
	add := func(s step, env []byte, listed peer.ID, key []byte, reason string) {
		if c == nil {
			c = &pullChunkT{done: make(chan struct{})}
		}
		c.steps = append(c.steps, s)
		c.envs = append(c.envs, env)
		c.listed = append(c.listed, listed)
		c.keys = append(c.keys, key)
		c.reason = append(c.reason, reason)
	}
	for {
		typ, payload, err := readFrame(rd)
		if err != nil {
			_ = dispatch()
			return false, err
		}
		switch typ {
		case frameRecord:
			listed, key := trust.listed(payload)
			if listed != "" {
				f.metrics.syncListed.Add(1)
			}
			add(step{}, payload, listed, key, "")
			if len(c.steps) >= pullChunk {
				if err := dispatch(); err != nil {
					return false, err
				}
			}
		case frameMark:
			marks, err := decodeMarks(payload, 1)
			if err != nil || len(marks) != 1 {
				_ = dispatch()
				return false, errors.New("bad mark")
			}
			origin, err := peer.IDFromBytes(marks[0].origin)
			if err != nil {
				continue
			}
			add(step{mark: &syncMark{origin: origin, version: marks[0].version}}, nil, "", nil, "")
			if err := dispatch(); err != nil {
				return false, err
			}
		case frameManifest:
			// Checked here, in stream order, so that the origin's records
			// after it find their hashes in trust.
			in, reason := decodeIncoming(f.netID, payload)
			switch {
			case reason != "":
			case in.rec.Kind != KindManifest:
				in, reason = nil, reasonMalformed
			default:
				trust.learn(in)
				f.prepare(in)
			}
			add(step{in: in}, nil, "", nil, reason)
			if len(c.steps) >= pullChunk {
				if err := dispatch(); err != nil {
					return false, err
				}
			}
		case frameEnd:
			if err := dispatch(); err != nil {
				return false, err
			}
			return len(payload) == 1 && payload[0]&1 != 0, nil
		default:
			_ = dispatch()
			return false, fmt.Errorf("unexpected frame %q", typ)
		}
	}
}

// pullWriter stores the chunks of one round in order, in transactions of
// up to pullTxRecords records, until toWriter closes.
func (f *Federation) pullWriter(ctx context.Context, toWriter <-chan *pullChunkT) pullStats {
	st := pullStats{failed: make(map[peer.ID]bool)}
	var batch []step
	records := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		for i, o := range f.applySteps(ctx, batch, st.failed) {
			switch {
			case batch[i].in == nil:
			case o.stored:
				st.stored++
				if batch[i].in.rec.Kind != KindMember {
					st.news++
				}
				f.metrics.syncPulled.Add(1)
			case o.reason != "":
				inc(f.metrics.syncRejected, o.reason)
			}
		}
		batch, records = batch[:0], 0
	}
	for c := range toWriter {
		select {
		case <-c.done:
		case <-ctx.Done():
			// Drain: the verifiers may still hold chunks, which they
			// finish; nothing more is stored.
			for range toWriter {
			}
			return st
		}
		for i, s := range c.steps {
			if s.mark == nil && s.in == nil {
				inc(f.metrics.syncRejected, c.reason[i])
				continue
			}
			batch = append(batch, s)
			if s.in != nil {
				records++
			}
		}
		if records >= pullTxRecords {
			flush()
		}
	}
	flush()
	return st
}
