package calls

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/moinha/moinha/consult/calls/internal/mailbox"
	"github.com/moinha/moinha/consult/calls/sfu"
	"github.com/moinha/moinha/storage"
)

// room is one call while anyone is connected to it on this node. On the
// hosting node it is the call's authority: who is in, who waits, who
// offers, the SFU room of a group call. On an invitee's node it is a proxy
// that relays its local users' messages to the hosting node and back.
// One goroutine (run) owns all of its state; everything else posts to its
// mailbox.
type room struct {
	s        *Service
	id       string
	hosted   bool
	box      *mailbox.Mailbox
	stop     chan struct{}
	stopOnce sync.Once

	// Owned by the loop.
	call      Call
	conns     map[*wsConn]bool   // local connections attached
	members   map[string]*member // hosted: who joined or waits, by User.Key
	local     map[string]*wsConn // proxy: this node's users' connections, by User.Key
	admitted  map[string]bool    // hosted group call: admitted this session
	seq       int
	startedAt time.Time
	media     *sfu.Room
	ended     bool
	liveIn    int // hosted: how many were in when last told to s.live
}

// member is one participant of a hosted call.
type member struct {
	user    User
	role    Role
	conn    *wsConn // nil: connected through their own province's node
	in      bool    // in the call (consult: joined; group: admitted)
	waiting bool    // in the waiting room
	seq     int     // order of entry
}

func newRoom(s *Service, c *Call) *room {
	return &room{s: s, id: c.ID, call: *c, hosted: !c.Remote && c.Host.Province == s.opts.Province,
		box: mailbox.New(), stop: make(chan struct{}),
		conns: map[*wsConn]bool{}, members: map[string]*member{}, local: map[string]*wsConn{}, admitted: map[string]bool{}}
}

// shutdown makes the loop disconnect everyone (reason shutting_down) and
// exit.
func (r *room) shutdown() { r.stopOnce.Do(func() { close(r.stop) }) }

func (r *room) run() {
	for {
		select {
		case <-r.stop:
			r.shutdownAll()
			r.syncLive()
			r.s.retireNow(r)
			r.closeMedia()
			return
		case <-r.box.Wake:
			for _, fn := range r.box.Drain() {
				fn()
			}
			r.syncLive()
			if len(r.conns) == 0 && len(r.members) == 0 && r.s.retire(r) {
				r.closeMedia()
				return
			}
		}
	}
}

// syncLive tells the Service's live counts how many are in this hosted
// call now.
func (r *room) syncLive() {
	if !r.hosted {
		return
	}
	if n := r.inCount(); n != r.liveIn {
		r.s.live.change(r.call.Kind, r.liveIn, n)
		r.liveIn = n
	}
}

func (r *room) closeMedia() {
	if r.media != nil {
		r.media.Close()
		r.media = nil
	}
}

// deliver sends msg to a member, on its WebSocket or through its node.
func (r *room) deliver(m *member, msg Message) {
	if m.conn != nil {
		m.conn.send(msg)
		return
	}
	r.s.relay.send(m.user.Province, relayMsg{Kind: relayDown, Call: r.id, User: m.user.Key(), Msg: &msg})
}

// up sends a local user's message to the hosting node.
func (r *room) up(u User, msg Message) {
	r.s.relay.send(r.call.Host.Province, relayMsg{Kind: relayUp, Call: r.id, User: u.Key(), Msg: &msg})
}

func (r *room) event(typ string, m *member, reason string) {
	if !r.hosted {
		return
	}
	e := pendingEvent{Event: Event{Call: r.id, Time: r.s.now().UTC(), Type: typ, Reason: reason}, kind: r.call.Kind}
	if m != nil {
		e.User = m.user.Key()
	}
	r.s.evw.add(e)
}

// attach registers a new local connection.
func (r *room) attach(c *wsConn) {
	key := c.user.Key()
	if r.ended {
		c.send(Message{Type: MsgEnded, Reason: ReasonEnded})
		c.close(CloseEnded, ReasonEnded)
		return
	}
	r.conns[c] = true
	if !r.hosted {
		if old := r.local[key]; old != nil && old != c {
			delete(r.conns, old)
			old.close(CloseReplaced, ReasonReplaced)
			r.up(c.user, Message{Type: MsgLeave})
		}
		r.local[key] = c
		return
	}
	if m := r.members[key]; m != nil && m.conn != c {
		old := m.conn
		r.leave(m, ReasonReplaced, false)
		if old != nil {
			delete(r.conns, old)
			old.close(CloseReplaced, ReasonReplaced)
		}
	}
}

// detach forgets a local connection that closed.
func (r *room) detach(c *wsConn) {
	if !r.conns[c] {
		return
	}
	delete(r.conns, c)
	key := c.user.Key()
	if !r.hosted {
		if r.local[key] == c {
			delete(r.local, key)
			r.up(c.user, Message{Type: MsgLeave})
		}
		return
	}
	if m := r.members[key]; m != nil && m.conn == c {
		r.leave(m, ReasonLeft, true)
	}
}

// fromConn handles a local client's message.
func (r *room) fromConn(c *wsConn, msg Message) {
	if !r.conns[c] {
		return
	}
	key := c.user.Key()
	if !r.hosted {
		if msg.Type == MsgLeave {
			delete(r.conns, c)
			if r.local[key] == c {
				delete(r.local, key)
			}
			c.close(CloseNormal, ReasonLeft)
		}
		r.up(c.user, msg)
		return
	}
	m := r.members[key]
	if msg.Type == MsgJoin {
		if m == nil {
			m = &member{user: c.user, role: r.call.RoleOf(c.user), conn: c}
			r.members[key] = m
		}
		r.join(m)
		return
	}
	if m == nil {
		c.send(Message{Type: MsgError, Reason: ReasonNotJoined, Text: "send join first"})
		return
	}
	if msg.Type == MsgLeave {
		r.leave(m, ReasonLeft, true)
		delete(r.conns, c)
		c.close(CloseNormal, ReasonLeft)
		return
	}
	r.handle(m, msg)
}

// fromRemote handles a message of a user connected through their own
// province's node.
func (r *room) fromRemote(u User, msg Message) {
	if !r.hosted || r.ended {
		return
	}
	key := u.Key()
	m := r.members[key]
	if msg.Type == MsgJoin {
		if m != nil && m.conn != nil { // connected here as well: the newer wins
			old := m.conn
			r.leave(m, ReasonReplaced, false)
			delete(r.conns, old)
			old.close(CloseReplaced, ReasonReplaced)
			m = nil
		}
		if m == nil {
			m = &member{user: u, role: r.call.RoleOf(u)}
			r.members[key] = m
		}
		r.join(m)
		return
	}
	if m == nil || m.conn != nil {
		return // stale
	}
	if msg.Type == MsgLeave {
		r.leave(m, ReasonLeft, true)
		return
	}
	r.handle(m, msg)
}

// fromHost delivers the hosting node's message to a local user (proxy).
func (r *room) fromHost(userKey string, msg Message) {
	if r.hosted {
		return
	}
	if userKey == "" {
		if msg.Type == MsgEnded {
			r.ended = true
			for c := range r.conns {
				c.send(msg)
				c.close(CloseEnded, msg.Reason)
			}
			clear(r.conns)
			clear(r.local)
		}
		return
	}
	c := r.local[userKey]
	if c == nil {
		return
	}
	c.send(msg)
	if code, terminal := terminalCode(msg); terminal {
		delete(r.conns, c)
		delete(r.local, userKey)
		c.close(code, msg.Reason)
	}
}

// terminalCode tells whether a message from the host ends the client's
// connection, and with which close code.
func terminalCode(m Message) (int, bool) {
	if m.Type == MsgEnded {
		return CloseEnded, true
	}
	if m.Type != MsgError {
		return 0, false
	}
	switch m.Reason {
	case ReasonDenied, ReasonNotInvited, ReasonFull:
		return CloseForbidden, true
	case ReasonShutdown:
		return CloseUnreachable, true
	case ReasonReplaced:
		return CloseReplaced, true
	}
	return 0, false
}

func (r *room) inCount() int {
	n := 0
	for _, m := range r.members {
		if m.in {
			n++
		}
	}
	return n
}

// peerOf is the other member in a consult.
func (r *room) peerOf(m *member) *member {
	for _, o := range r.members {
		if o != m && o.in {
			return o
		}
	}
	return nil
}

func (r *room) join(m *member) {
	if m.in || m.waiting { // a rejoin on the same connection
		r.dropFromCall(m, ReasonReplaced)
	}
	limit := r.s.opts.MaxParticipants
	if !r.call.Kind.Group() {
		limit = 2
	}
	if r.inCount() >= limit {
		r.deliver(m, Message{Type: MsgError, Reason: ReasonFull, Text: "the call is full"})
		delete(r.members, m.user.Key())
		if m.conn != nil {
			delete(r.conns, m.conn)
			m.conn.close(CloseForbidden, ReasonFull)
		}
		return
	}
	if !r.call.Kind.Group() {
		r.enter(m)
		if p := r.peerOf(m); p != nil {
			// The newcomer offers: it has just built its connection.
			r.deliver(m, Message{Type: MsgReady, User: p.user.Key(), Offerer: true})
			r.deliver(p, Message{Type: MsgReady, User: m.user.Key(), Offerer: false})
		}
		return
	}
	if m.role == RoleHost || r.admitted[m.user.Key()] {
		r.admit(m)
		return
	}
	m.waiting = true
	r.event(EventWaiting, m, "")
	r.deliver(m, Message{Type: MsgWaiting})
	for _, h := range r.members {
		if h.role == RoleHost && h.in {
			r.deliver(h, Message{Type: MsgKnock, User: m.user.Key()})
		}
	}
	r.broadcastParticipants()
}

// enter puts m in the call.
func (r *room) enter(m *member) {
	m.in, m.waiting = true, false
	r.seq++
	m.seq = r.seq
	r.event(EventJoined, m, "")
	if r.startedAt.IsZero() && r.inCount() >= 2 {
		r.startedAt = r.s.now().UTC()
		if r.hosted {
			r.s.evw.add(pendingEvent{Event: Event{Call: r.id, Time: r.startedAt}, kind: r.call.Kind, started: true})
		}
	}
	r.broadcastParticipants()
}

// admit lets m into a group call: the SFU prepares its connections and m
// is told to offer its upload.
func (r *room) admit(m *member) {
	if r.media == nil {
		var err error
		r.media, err = r.s.sfu.NewRoom(r.id, func(pid string, sg sfu.Signal) {
			r.box.Post(func() { r.fromMedia(pid, sg) })
		})
		if err != nil {
			r.deliver(m, Message{Type: MsgError, Reason: ReasonMedia, Text: "media unavailable"})
			return
		}
	}
	r.admitted[m.user.Key()] = true
	r.media.Join(m.user.Key())
	r.enter(m)
	r.deliver(m, Message{Type: MsgAdmitted})
}

// fromMedia delivers the SFU's negotiation message to a participant.
func (r *room) fromMedia(pid string, sg sfu.Signal) {
	m := r.members[pid]
	if m == nil || !m.in {
		return
	}
	r.deliver(m, Message{Type: sg.Type, PC: sg.PC, SDP: sg.SDP, Candidate: sg.Candidate, Reason: sg.Reason})
}

func (r *room) handle(m *member, msg Message) {
	switch msg.Type {
	case MsgOffer, MsgAnswer, MsgCand, MsgRestart:
		if !m.in {
			r.deliver(m, Message{Type: MsgError, Reason: ReasonNotAdmitted, Text: "not in the call yet"})
			return
		}
		if r.call.Kind.Group() {
			if r.media != nil {
				r.media.Signal(m.user.Key(), sfu.Signal{Type: msg.Type, PC: msg.PC, SDP: msg.SDP, Candidate: msg.Candidate})
			}
			return
		}
		p := r.peerOf(m)
		if p == nil {
			r.deliver(m, Message{Type: MsgError, Reason: ReasonNoPeer, Text: "nobody to send it to yet"})
			return
		}
		r.deliver(p, Message{Type: msg.Type, SDP: msg.SDP, Candidate: msg.Candidate, From: m.user.Key()})
	case MsgAdmit, MsgDeny:
		if m.role != RoleHost || !m.in {
			r.deliver(m, Message{Type: MsgError, Reason: ReasonNotHost, Text: "only the host admits"})
			return
		}
		t := r.members[msg.User]
		if t == nil || !t.waiting {
			r.deliver(m, Message{Type: MsgError, Reason: ReasonNotJoined, Text: "nobody by that name is waiting"})
			return
		}
		if msg.Type == MsgAdmit {
			r.event(EventAdmitted, t, "")
			r.admit(t)
			return
		}
		r.event(EventDenied, t, "")
		r.deliver(t, Message{Type: MsgError, Reason: ReasonDenied, Text: "the host did not admit you"})
		delete(r.members, t.user.Key())
		if t.conn != nil {
			delete(r.conns, t.conn)
			t.conn.close(CloseForbidden, ReasonDenied)
		}
		r.broadcastParticipants()
	case MsgEnd:
		if m.role != RoleHost {
			r.deliver(m, Message{Type: MsgError, Reason: ReasonNotHost, Text: "only the host ends the call"})
			return
		}
		r.end(ReasonHostEnded)
	}
}

// dropFromCall takes m out of the call (or the waiting room), telling the
// others; m stays a member.
func (r *room) dropFromCall(m *member, reason string) {
	if m.in {
		r.event(EventLeft, m, reason)
		if r.call.Kind.Group() {
			if r.media != nil {
				r.media.Leave(m.user.Key())
			}
		} else if p := r.peerOf(m); p != nil {
			r.deliver(p, Message{Type: MsgPeerLeft, User: m.user.Key()})
		}
	}
	m.in, m.waiting = false, false
}

// leave removes m; when the call had started and nobody is left, it ends.
func (r *room) leave(m *member, reason string, mayEnd bool) {
	r.dropFromCall(m, reason)
	delete(r.members, m.user.Key())
	r.broadcastParticipants()
	if mayEnd && !r.startedAt.IsZero() && len(r.members) == 0 {
		r.end(ReasonAllLeft)
	}
}

func (r *room) broadcastParticipants() {
	var in, waiting []string
	for k, m := range r.members {
		if m.in {
			in = append(in, k)
		} else if m.waiting {
			waiting = append(waiting, k)
		}
	}
	slices.Sort(in)
	slices.Sort(waiting)
	for _, m := range r.members {
		if !m.in {
			continue
		}
		msg := Message{Type: MsgParticipants, Participants: in}
		if m.role == RoleHost {
			msg.Waiting = waiting
		}
		r.deliver(m, msg)
	}
}

// end ends the call for everyone: stored first (so nobody can join after),
// then told to every connection and every invited province's node.
func (r *room) end(reason string) {
	if r.ended {
		return
	}
	r.ended = true
	for _, m := range r.members {
		if m.in {
			r.event(EventLeft, m, reason)
		}
	}
	now := r.s.now().UTC()
	started := r.startedAt
	err := r.s.db.Update(context.Background(), func(tx *storage.Tx) error {
		c, err := getCall(tx, r.id)
		if err != nil || c == nil {
			return err
		}
		if c.State == StateEnded {
			return nil
		}
		c.State, c.Ended, c.EndReason = StateEnded, now, reason
		if c.Started.IsZero() && !started.IsZero() {
			// The start is still on its way to storage (the event writer
			// will find the call ended and leave it): count it here.
			c.Started = started
			if err := countStart(tx, c); err != nil {
				return err
			}
		}
		if err := tx.Put(storage.BucketCalls, callKey(c.ID), c); err != nil {
			return err
		}
		if err := putEvent(tx, Event{Call: r.id, Time: now, Type: EventEnded, Reason: reason}, 999999); err != nil {
			return err
		}
		return countEnd(tx, c)
	})
	if err != nil {
		r.s.log.Error("calls: store end", "call", r.id, "err", err)
	}
	r.call.State, r.call.Ended, r.call.EndReason = StateEnded, now, reason
	for c := range r.conns {
		c.send(Message{Type: MsgEnded, Reason: reason})
		c.close(CloseEnded, reason)
	}
	for _, p := range r.call.remoteProvinces(r.s.opts.Province) {
		r.s.relay.send(p, relayMsg{Kind: relayDown, Call: r.id, Msg: &Message{Type: MsgEnded, Reason: reason}})
	}
	clear(r.members)
	clear(r.conns)
	r.closeMedia()
	r.s.log.Info("calls: ended", "call", r.id, "reason", reason)
}

// shutdownAll disconnects everyone because this node is stopping; the
// call stays open to rejoin.
func (r *room) shutdownAll() {
	for _, m := range r.members {
		if m.in {
			r.event(EventLeft, m, ReasonShutdown)
		}
		if m.conn == nil {
			r.deliver(m, Message{Type: MsgError, Reason: ReasonShutdown, Text: "the hosting node is shutting down"})
		}
	}
	for c := range r.conns {
		if !r.hosted {
			r.up(c.user, Message{Type: MsgLeave})
		}
		c.send(Message{Type: MsgError, Reason: ReasonShutdown, Text: "the node is shutting down"})
		c.close(CloseGoingAway, ReasonShutdown)
	}
	clear(r.members)
	clear(r.conns)
	clear(r.local)
}
