package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

// Stage implements consult.Replicator: inside tx, it gives the record
// (kind, key) the next version of this node's counter, signs it, and
// stores it, so it commits with the change it describes. After the commit
// the publisher gossips it. Stage has no other effect (it may run more
// than once, or be rolled back), except waking the publisher, which reads
// what to publish from the data file.
//
// kind must be a data kind; for facility, practitioner, service and
// availability the key must be this node's province code or start with it
// and "-". payload is at most MaxPayload bytes.
func (f *Federation) Stage(tx *storage.Tx, kind, key string, payload []byte, deleted bool) error {
	switch {
	case f.observer:
		return ErrObserver
	case !dataKinds[kind]:
		return fmt.Errorf("%w: %q", ErrBadKind, kind)
	case len(payload) > MaxPayload:
		return fmt.Errorf("%w: %d bytes", ErrTooLarge, len(payload))
	case key == "" || len(key) > MaxKeyLen:
		return fmt.Errorf("%w: %d bytes", ErrBadKey, len(key))
	case provinceKinds[kind] && !ownsKey(f.cert.Province, key):
		return fmt.Errorf("%w: %q is not a key of province %s", ErrBadKey, key, f.cert.Province)
	}
	if err := f.writable(); err != nil {
		return err
	}
	_, _, err := f.stage(tx, Record{Kind: kind, Key: key, Deleted: deleted, Payload: payload})
	return err
}

// writable reports whether this node may still write records.
func (f *Federation) writable() error {
	_, _, left, revoked := f.members.cert(f.self)
	switch {
	case revoked:
		return ErrRevoked
	case left:
		return ErrLeft
	}
	return nil
}

// stage assigns r this node's next version, seals and stores it.
func (f *Federation) stage(tx *storage.Tx, r Record) (Record, []byte, error) {
	og := newOrigins(tx, f.self, &f.names)
	st, err := og.get(f.self)
	if err != nil {
		return Record{}, nil, err
	}
	r.Origin = f.self
	r.Version = st.Max + 1
	env, err := seal(f.netID, f.key, r)
	if err != nil {
		return Record{}, nil, err
	}
	if _, err := putRecord(og, r, env, storage.Encoded{}, false); err != nil {
		return Record{}, nil, err
	}
	if err := og.flush(); err != nil {
		return Record{}, nil, err
	}
	// A hint only: the publisher trusts the data file, not this.
	hintMax(&f.stagedHint, r.Version)
	f.poke()
	return r, env, nil
}

// poke wakes the publisher without blocking.
func (f *Federation) poke() {
	select {
	case f.pokeCh <- struct{}{}:
	default:
	}
}

// StageLeave stages, inside tx, this node's signed leave: it ends its
// membership under its current certificate. It works whether or not the
// node is running; a leave staged offline goes out by sync on the next
// start. Leave is the one-call form for a running node.
func (f *Federation) StageLeave(tx *storage.Tx) error {
	if f.members.revoked(f.self) {
		return ErrRevoked
	}
	payload, err := jsonMarshal(LeaveInfo{
		Cert:     f.cert.ID(),
		Province: f.cert.Province,
		Time:     time.Now().UTC().Truncate(time.Second),
	})
	if err != nil {
		return err
	}
	_, _, err = f.stage(tx, Record{Kind: KindLeave, Key: f.self.String(), Payload: payload})
	return err
}

// Leave stages and publishes this node's leave. Members that receive it
// mark this node left, drop their connections to it and call their
// OnLeave. If the node is running, Leave waits (up to 5 s, or ctx) until
// the connected members have dropped it, so the leave has spread before
// the caller closes the node. Afterwards Stage fails with ErrLeft; the
// node is admitted again only with a new certificate.
func (f *Federation) Leave(ctx context.Context) error {
	if err := f.db.Update(ctx, f.StageLeave); err != nil {
		return err
	}
	f.members.learnLeave(f.self, f.cert.ID())
	if !f.running() {
		return nil
	}
	f.publishPending(ctx)
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	f.waitFor(wait, func() bool { return f.ConnectedPeers() == 0 })
	return nil
}

// Revoke stores and publishes rev, an authority's revocation (from
// charter.Revoke, e.g. read from a file with charter.ReadRevocation). Any
// member may relay one. Every node that receives it drops its connections
// to the revoked peer, refuses it from then on, and keeps the revocation.
func (f *Federation) Revoke(ctx context.Context, rev charter.Revocation) error {
	if f.observer {
		return ErrObserver
	}
	if err := rev.Verify(f.charter); err != nil {
		return fmt.Errorf("federation: revocation: %w", err)
	}
	p, err := rev.PeerID()
	if err != nil {
		return err
	}
	payload, err := charter.MarshalRevocation(rev)
	if err != nil {
		return err
	}
	err = f.db.Update(ctx, func(tx *storage.Tx) error {
		_, _, err := f.stage(tx, Record{Kind: KindRevocation, Key: rev.Peer, Payload: payload})
		return err
	})
	if err != nil {
		return err
	}
	f.members.learnRevocation(p)
	if f.running() {
		f.publishPending(ctx)
	}
	return nil
}

// running reports whether Start succeeded and Close has not been called.
func (f *Federation) running() bool {
	f.goMu.Lock()
	defer f.goMu.Unlock()
	return f.state == stateStarted
}

// waitFor polls cond until it holds or ctx ends.
func (f *Federation) waitFor(ctx context.Context, cond func() bool) bool {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

func jsonMarshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("federation: encode: %w", err)
	}
	return b, nil
}

// hintMax raises h to v.
func hintMax(h *atomic.Uint64, v uint64) {
	for {
		old := h.Load()
		if v <= old || h.CompareAndSwap(old, v) {
			return
		}
	}
}
