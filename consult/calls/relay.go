package calls

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/moinha/moinha/storage"
)

// relayMsg is what one node sends another about a call, over Relay
// (/moinha/signal/1). Version 1 is JSON.
type relayMsg struct {
	V    int    `json:"v"`
	Kind string `json:"kind"`
	Call string `json:"call"`
	// Invite is the call record (relayInvite).
	Invite *Call `json:"invite,omitempty"`
	// User is who a signalling message is from (relayUp) or for
	// (relayDown; empty: every user of the receiving node in the call).
	User string   `json:"user,omitempty"`
	Msg  *Message `json:"msg,omitempty"`
}

// Relay message kinds.
const (
	relayInvite = "invite" // host node → invitee's node: the call exists, your users are invited
	relayUp     = "up"     // invitee's node → host node: a client's message
	relayDown   = "down"   // host node → invitee's node: a message for a client (or all)
)

const relayVersion = 1

// relayOut sends relay messages, one goroutine and queue per destination
// province, so messages to one province keep their order and a slow
// province delays no other.
type relayOut struct {
	s *Service

	// mu guards queues and closed.
	mu     sync.Mutex
	queues map[string]chan []byte
	closed bool
	wg     sync.WaitGroup
}

func newRelayOut(s *Service) *relayOut {
	return &relayOut{s: s, queues: map[string]chan []byte{}}
}

// send queues m for province to. It never blocks: a full queue drops the
// message (signalling is retried by its clients; invitations by the
// federation's outbox behind Relay).
func (o *relayOut) send(to string, m relayMsg) {
	if o == nil {
		return
	}
	m.V = relayVersion
	raw, err := json.Marshal(m)
	if err != nil || len(raw) > MaxMessageBytes+4096 {
		o.s.log.Error("calls: relay message", "call", m.Call, "kind", m.Kind, "bytes", len(raw), "err", err)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	q := o.queues[to]
	if q == nil {
		q = make(chan []byte, 1024)
		o.queues[to] = q
		o.wg.Add(1)
		go o.run(to, q)
	}
	select {
	case q <- raw:
	default:
		o.s.log.Warn("calls: relay queue full, message dropped", "to", to, "call", m.Call, "kind", m.Kind)
	}
}

func (o *relayOut) run(to string, q chan []byte) {
	defer o.wg.Done()
	for raw := range q {
		ctx, cancel := context.WithTimeout(o.s.ctx, o.s.opts.RelayTimeout)
		err := o.s.opts.Relay.Send(ctx, to, raw)
		cancel()
		if err != nil {
			o.s.log.Warn("calls: relay send", "to", to, "bytes", len(raw), "err", err)
		}
	}
}

// close sends what is queued (each send bounded by RelayTimeout; sends in
// flight are cancelled with the Service's context) and stops.
func (o *relayOut) close() {
	o.mu.Lock()
	o.closed = true
	for _, q := range o.queues {
		close(q)
	}
	o.mu.Unlock()
	o.wg.Wait()
}

// HandleRelay takes a message another province's node sent this one over
// Relay. fromProvince must be the sender as the federation layer
// authenticated it. It returns ErrBadRelay (wrapped) for a message that is
// malformed or that fromProvince may not send; such messages change
// nothing.
func (s *Service) HandleRelay(ctx context.Context, fromProvince string, raw []byte) error {
	if len(raw) > MaxMessageBytes+4096 {
		return fmt.Errorf("%w: %d bytes", ErrBadRelay, len(raw))
	}
	var m relayMsg
	if err := json.Unmarshal(raw, &m); err != nil || m.V != relayVersion || !ValidID(m.Call) {
		return fmt.Errorf("%w: malformed", ErrBadRelay)
	}
	if fromProvince == s.opts.Province || !validProvince(fromProvince) {
		return fmt.Errorf("%w: from %q", ErrBadRelay, fromProvince)
	}
	switch m.Kind {
	case relayInvite:
		return s.relayInvite(ctx, fromProvince, &m)
	case relayUp:
		return s.relayUp(fromProvince, &m)
	case relayDown:
		return s.relayDown(ctx, fromProvince, &m)
	}
	return fmt.Errorf("%w: kind %q", ErrBadRelay, m.Kind)
}

func (s *Service) relayInvite(ctx context.Context, from string, m *relayMsg) error {
	c := m.Invite
	if c == nil || c.ID != m.Call || c.Host.Province != from || !c.Kind.Valid() ||
		len(c.Invitees) == 0 || len(c.Invitees) > s.opts.MaxInvitees || len(c.Referral) > 128 {
		return fmt.Errorf("%w: invite", ErrBadRelay)
	}
	local := false
	for _, u := range append([]User{c.Host}, c.Invitees...) {
		if !validProvince(u.Province) || !validUsername(u.Username) {
			return fmt.Errorf("%w: invite user", ErrBadRelay)
		}
		local = local || u.Province == s.opts.Province
	}
	if !local {
		return fmt.Errorf("%w: invite names nobody of this province", ErrBadRelay)
	}
	rc := *c
	rc.Remote = true
	return s.db.Update(ctx, func(tx *storage.Tx) error {
		old, err := getCall(tx, c.ID)
		if err != nil {
			return err
		}
		if old != nil {
			if !old.Remote || old.Host.Province != from {
				return fmt.Errorf("%w: call ID collision", ErrBadRelay)
			}
			return nil // a repeated invitation
		}
		return putCall(tx, &rc, s.opts.Province)
	})
}

func (s *Service) relayUp(from string, m *relayMsg) error {
	u, ok := ParseKey(m.User)
	if !ok || u.Province != from || m.Msg == nil || !validClient(m.Msg) {
		return fmt.Errorf("%w: up", ErrBadRelay)
	}
	c, err := s.load(m.Call)
	if err != nil {
		return fmt.Errorf("%w: up: %v", ErrBadRelay, err)
	}
	if c.Remote || !c.Invited(u) {
		return fmt.Errorf("%w: up: not this node's call, or not invited", ErrBadRelay)
	}
	msg := *m.Msg
	if c.State == StateEnded {
		if msg.Type == MsgJoin {
			s.relay.send(from, relayMsg{Kind: relayDown, Call: c.ID, User: u.Key(),
				Msg: &Message{Type: MsgEnded, Reason: ReasonEnded}})
		}
		return nil
	}
	if msg.Type != MsgJoin {
		// Only a join starts a room; anything else for a call nobody is in
		// is stale.
		s.postLive(c.ID, func(r *room) { r.fromRemote(u, msg) })
		return nil
	}
	return s.post(c, func(r *room) { r.fromRemote(u, msg) })
}

func (s *Service) relayDown(ctx context.Context, from string, m *relayMsg) error {
	if m.Msg == nil {
		return fmt.Errorf("%w: down", ErrBadRelay)
	}
	var u User
	if m.User != "" {
		var ok bool
		if u, ok = ParseKey(m.User); !ok || u.Province != s.opts.Province {
			return fmt.Errorf("%w: down user", ErrBadRelay)
		}
	}
	c, err := s.load(m.Call)
	if err != nil {
		return fmt.Errorf("%w: down: %v", ErrBadRelay, err)
	}
	if !c.Remote || c.Host.Province != from {
		return fmt.Errorf("%w: down: not a call of %s", ErrBadRelay, from)
	}
	msg := *m.Msg
	if msg.Type == MsgEnded && m.User == "" {
		if err := s.db.Update(ctx, func(tx *storage.Tx) error {
			c, err := getCall(tx, m.Call)
			if err != nil || c == nil || c.State == StateEnded {
				return err
			}
			c.State, c.Ended, c.EndReason = StateEnded, s.now().UTC(), msg.Reason
			return tx.Put(storage.BucketCalls, callKey(c.ID), c)
		}); err != nil {
			return err
		}
	}
	s.postLive(c.ID, func(r *room) { r.fromHost(m.User, msg) })
	return nil
}
