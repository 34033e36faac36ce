package calls

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/calls/sfu"
	"github.com/moinha/moinha/consult/calls/turnserver"
	"github.com/moinha/moinha/storage"
)

// Service is one node's calls: records and events in storage, signalling
// WebSockets, the SFU for group sessions, the embedded TURN server, and the
// relay of signalling to and from other provinces' nodes. It is safe for
// concurrent use; Close ends every live call's connections and waits for
// their goroutines.
type Service struct {
	db   *storage.DB
	opts Options
	log  *slog.Logger
	now  func() time.Time

	sfu   *sfu.SFU
	turn  *turnserver.Server // nil when disabled
	relay *relayOut          // nil without Options.Relay
	evw   *eventWriter
	live  liveCounts

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // rooms' loops and connections' goroutines

	// mu guards rooms and closed.
	mu     sync.Mutex
	rooms  map[string]*room
	closed bool

	closeOnce sync.Once
}

// New starts a Service: it opens the SFU's media socket and the TURN
// server's sockets.
func New(db *storage.DB, opts Options) (*Service, error) {
	opts.withDefaults()
	if !validProvince(opts.Province) {
		return nil, fmt.Errorf("calls: Options.Province %q is not a province code", opts.Province)
	}
	s := &Service{db: db, opts: opts, log: opts.Logger, now: opts.Now, rooms: map[string]*room{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	var err error
	s.sfu, err = sfu.New(sfu.Config{
		Addr: opts.MediaAddr, ReadBuffer: opts.MediaReadBuffer, Loopback: opts.Loopback,
		NAT1To1IPs:          opts.PublicIPs,
		DisconnectedTimeout: opts.ICEDisconnectedTimeout, FailedTimeout: opts.ICEFailedTimeout, KeepAlive: opts.ICEKeepAlive,
		Logger: opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	if opts.TURNAddr != "off" {
		tc := turnserver.Config{Addr: opts.TURNAddr, Secret: opts.TURNSecret, AllowLoopbackPeers: opts.Loopback, Logger: opts.Logger}
		if len(opts.PublicIPs) > 0 {
			tc.PublicIP = net.ParseIP(opts.PublicIPs[0])
		}
		if s.turn, err = turnserver.New(tc); err != nil {
			s.sfu.Close()
			return nil, err
		}
	}
	if opts.Relay != nil {
		s.relay = newRelayOut(s)
	}
	s.evw = newEventWriter(s)
	s.log.Info("calls: started", "media", s.sfu.Addr().String(), "rcvbuf", s.sfu.ReadBuffer(), "turn", s.turnAddr())
	return s, nil
}

func (s *Service) turnAddr() string {
	if s.turn == nil {
		return ""
	}
	return s.turn.Addr().String()
}

// MediaAddr is the SFU's UDP media socket.
func (s *Service) MediaAddr() net.Addr { return s.sfu.Addr() }

// MediaReadBuffer is the receive buffer the kernel granted the media socket.
func (s *Service) MediaReadBuffer() int { return s.sfu.ReadBuffer() }

// MediaStats sums the SFU's forwarding counters over the open group calls.
func (s *Service) MediaStats() sfu.Stats { return s.sfu.Stats() }

// TURN is the embedded TURN server (nil when disabled).
func (s *Service) TURN() *turnserver.Server { return s.turn }

// Close ends every live call's connections on this node (close reason
// shutting_down; the calls themselves stay open to rejoin), stops the SFU
// and TURN, and waits for every goroutine. It is idempotent.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		rooms := make([]*room, 0, len(s.rooms))
		for _, r := range s.rooms {
			rooms = append(rooms, r)
		}
		s.mu.Unlock()
		for _, r := range rooms {
			r.shutdown()
		}
		s.wg.Wait()
		// Tell other provinces' nodes (their users' connections close with
		// a reason), but give up on unreachable ones after a moment.
		stop := time.AfterFunc(2*time.Second, s.cancel)
		if s.relay != nil {
			s.relay.close()
		}
		stop.Stop()
		s.cancel()
		s.evw.close()
		s.sfu.Close()
		if s.turn != nil {
			s.turn.Close()
		}
		s.log.Info("calls: stopped")
	})
	return nil
}

// newCallID returns 128 random bits in lower-case base32: the call ID is
// the unguessable part of a join link.
func newCallID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// JoinURL is the web app's call room for id on this node.
func (s *Service) JoinURL(id string) string {
	base := ""
	if s.opts.BaseURL != nil {
		base = strings.TrimSuffix(s.opts.BaseURL(), "/")
	}
	return base + "/call/" + id
}

// Create opens a call hosted by the caller on this node, records a ringing
// event per invitee and sends the invitations to other provinces' nodes.
func (s *Service) Create(ctx context.Context, caller Caller, req CreateRequest) (Created, error) {
	host := User{Province: s.opts.Province, Username: caller.Username}
	if caller.Role == consult.RoleObserver {
		return Created{}, errObserver()
	}
	if err := s.validateCreate(host, &req); err != nil {
		return Created{}, err
	}
	if err := s.checkReferral(ctx, caller, req.Referral); err != nil {
		return Created{}, err
	}
	now := s.now().UTC()
	c := &Call{ID: newCallID(), Kind: req.Kind, Host: host, Invitees: req.Invite, Referral: req.Referral,
		State: StateRinging, Created: now, Facility: s.facilityOf(caller.Username)}
	err := s.db.Update(ctx, func(tx *storage.Tx) error {
		if err := putCall(tx, c, s.opts.Province); err != nil {
			return err
		}
		for i, u := range c.Invitees {
			if err := putEvent(tx, Event{Call: c.ID, Time: now, Type: EventRinging, User: u.Key()}, uint64(i)); err != nil {
				return err
			}
		}
		return addCounts(tx, c.Kind, func(k *Counters) { k.Calls++ })
	})
	if err != nil {
		return Created{}, err
	}
	invite := *c
	invite.Facility = "" // the host's node's business
	for _, p := range c.remoteProvinces(s.opts.Province) {
		s.relay.send(p, relayMsg{Kind: relayInvite, Call: c.ID, Invite: &invite})
	}
	s.log.Info("calls: created", "call", c.ID, "kind", c.Kind, "invitees", len(c.Invitees))
	return Created{ID: c.ID, JoinURL: s.JoinURL(c.ID)}, nil
}

// checkReferral asks Options.Referrals whether caller may open a call
// about referral ("" names none).
func (s *Service) checkReferral(ctx context.Context, caller Caller, referral string) error {
	if referral == "" || s.opts.Referrals == nil {
		return nil
	}
	err := s.opts.Referrals.CanOpenCall(ctx, caller.Username, s.opts.Province, referral)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrReferralNotFound):
		return consult.Errorf(consult.ErrNotFound, ReasonReferralNotFound, "no such referral or consult request on this node")
	case errors.Is(err, ErrNotReferralParty):
		return consult.Errorf(consult.ErrForbidden, ReasonNotReferralParty, "you are not a party to this referral")
	}
	return fmt.Errorf("calls: check referral: %w", err)
}

// facilityOf is a local user's facility ("" if none or unknown).
func (s *Service) facilityOf(username string) string {
	if s.opts.Users == nil {
		return ""
	}
	u, err := s.opts.Users.GetUser(username)
	if err != nil {
		return ""
	}
	return u.Facility
}

func (c *Call) remoteProvinces(local string) []string {
	var ps []string
	for _, u := range c.Invitees {
		if u.Province != local && !slices.Contains(ps, u.Province) {
			ps = append(ps, u.Province)
		}
	}
	return ps
}

func (s *Service) validateCreate(host User, req *CreateRequest) error {
	if !req.Kind.Valid() {
		return consult.Invalid("kind", "must be consult, conference, briefing or training")
	}
	if len(req.Referral) > 128 {
		return consult.Invalid("referral", "too long")
	}
	switch {
	case len(req.Invite) == 0:
		return consult.Invalid("invite", "invite at least one person")
	case req.Kind == KindConsult && len(req.Invite) != 1:
		return consult.Invalid("invite", "a consult is between two people: invite exactly one")
	case len(req.Invite) > s.opts.MaxInvitees:
		return consult.Invalid("invite", "at most %d invitees", s.opts.MaxInvitees)
	}
	seen := map[User]bool{host: true}
	for i := range req.Invite {
		u := &req.Invite[i]
		if u.Province == "" {
			u.Province = s.opts.Province
		}
		if !validProvince(u.Province) || !validUsername(u.Username) {
			return consult.Invalid("invite", "each invitee needs a province code and a username")
		}
		if seen[*u] {
			return consult.Errorf(consult.ErrInvalid, ReasonAlreadyInvited, "%s is invited twice (or is the host)", u.Key())
		}
		seen[*u] = true
		if u.Province != s.opts.Province {
			if s.relay == nil {
				return consult.Errorf(consult.ErrConflict, ReasonNoFederation, "this node is not connected to other provinces")
			}
			if op, ok := s.opts.Relay.(ObserverProvinces); ok && op.ObserverProvince(u.Province) {
				return consult.Errorf(consult.ErrInvalid, ReasonObserver, "observers cannot be invited to calls")
			}
			continue
		}
		if s.opts.Users != nil {
			acct, err := s.opts.Users.GetUser(u.Username)
			if err != nil {
				return consult.Errorf(consult.ErrInvalid, ReasonUnknownUser, "no user %s on this node", u.Username)
			}
			if acct.Role == consult.RoleObserver {
				return consult.Errorf(consult.ErrInvalid, ReasonObserver, "observers cannot be invited to calls")
			}
		}
	}
	return nil
}

// Get returns a call the caller may see (host or invitee).
func (s *Service) Get(caller Caller, id string) (View, error) {
	u := User{Province: s.opts.Province, Username: caller.Username}
	c, err := s.load(id)
	if err != nil {
		return View{}, err
	}
	if !c.Invited(u) {
		return View{}, errNotFound()
	}
	return s.view(c, u), nil
}

func (s *Service) view(c *Call, u User) View {
	v := View{Call: *c, Role: c.RoleOf(u), JoinURL: s.JoinURL(c.ID)}
	v.Facility = ""
	return v
}

func (s *Service) load(id string) (*Call, error) {
	if !ValidID(id) {
		return nil, errNotFound()
	}
	var c *Call
	err := s.db.View(func(tx *storage.Tx) (err error) {
		c, err = getCall(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errNotFound()
	}
	return c, nil
}

// List returns the calls the caller hosts or is invited to, newest first,
// and a cursor for the next page ("" at the end).
func (s *Service) List(caller Caller, limit int, cursor string) ([]View, string, error) {
	u := User{Province: s.opts.Province, Username: caller.Username}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	prefix := prefixUser + u.Key() + "/"
	after := ""
	if cursor != "" {
		after = prefix + cursor
	}
	var out []View
	next := ""
	err := s.db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketCalls, prefix, after, func(k string, _ storage.Value) error {
			if len(out) == limit {
				next = strings.TrimPrefix(out[len(out)-1].indexKey, prefix)
				return storage.ErrStop
			}
			c, err := getCall(tx, callIDFromUserKey(k))
			if err != nil || c == nil {
				return err
			}
			v := s.view(c, u)
			v.indexKey = k
			out = append(out, v)
			return nil
		})
	})
	return out, next, err
}

// Events returns a call's lifecycle events in order (for its host and
// invitees; tests and audits).
func (s *Service) Events(id string) ([]Event, error) {
	var out []Event
	err := s.db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketCalls, prefixEvent+id+"/", "", func(_ string, v storage.Value) error {
			var e Event
			if err := v.Decode(&e); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// Stats returns the node's call counters per kind (no people, no patients).
func (s *Service) Stats() (map[Kind]Counters, error) {
	out := map[Kind]Counters{}
	err := s.db.View(func(tx *storage.Tx) error {
		for _, k := range Kinds {
			var c Counters
			if _, err := tx.Get(storage.BucketCalls, countsKey(k), &c); err != nil {
				return err
			}
			out[k] = c
		}
		return nil
	})
	return out, err
}

// liveCounts are the hosted calls with someone in them now, and how many
// are in them, by kind; rooms report their changes (room.syncLive).
type liveCounts struct {
	mu           sync.Mutex // guards the maps
	active       map[Kind]int
	participants map[Kind]int
}

// change records that a call of kind k went from before to now people in.
func (l *liveCounts) change(k Kind, before, now int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.active == nil {
		l.active, l.participants = map[Kind]int{}, map[Kind]int{}
	}
	l.participants[k] += now - before
	switch {
	case before == 0 && now > 0:
		l.active[k]++
	case before > 0 && now == 0:
		l.active[k]--
	}
}

// Live is a snapshot of a node's calls for its operator's metrics: counts
// only, no people.
type Live struct {
	// Active and Participants count, by kind, the calls this node hosts
	// that have someone in them now, and the people in them (wherever
	// they connect from). Every kind is listed.
	Active, Participants map[Kind]int
	// Media are the SFU's counters since the node started (monotonic).
	Media sfu.Stats
	// TURN is the embedded TURN server's state; TURNEnabled is false when
	// it is off (and TURN is zero).
	TURNEnabled bool
	TURN        TURNStats
}

// TURNStats are the embedded TURN server's figures.
type TURNStats struct {
	Allocations   int   // live allocations
	AuthSuccesses int64 // credentials accepted since start
	AuthFailures  int64 // malformed or expired usernames since start
}

// Live returns the node's live call figures (for metrics; cheap enough
// to call at every scrape).
func (s *Service) Live() Live {
	out := Live{Active: map[Kind]int{}, Participants: map[Kind]int{}}
	s.live.mu.Lock()
	for _, k := range Kinds {
		out.Active[k], out.Participants[k] = s.live.active[k], s.live.participants[k]
	}
	s.live.mu.Unlock()
	out.Media = s.sfu.Totals()
	if s.turn != nil {
		out.TURNEnabled = true
		out.TURN = TURNStats{Allocations: s.turn.Allocations(), AuthSuccesses: s.turn.AuthSuccesses(), AuthFailures: s.turn.AuthFailures()}
	}
	return out
}

// checkJoin authorises caller for call id: invited, not an observer, the
// call not ended.
func (s *Service) checkJoin(caller Caller, id string) (*Call, User, error) {
	u := User{Province: s.opts.Province, Username: caller.Username}
	if caller.Role == consult.RoleObserver {
		return nil, u, errObserver()
	}
	c, err := s.load(id)
	if err != nil {
		return nil, u, err
	}
	if !c.Invited(u) {
		return nil, u, errNotInvited()
	}
	if c.State == StateEnded {
		return nil, u, errEnded()
	}
	return c, u, nil
}

// post runs fn on call c's room loop, starting the room if none is live.
// Deciding to start a room and a room deciding to exit both happen under
// s.mu, so no posted work is lost to a room that is exiting.
func (s *Service) post(c *Call, fn func(*room)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	r := s.rooms[c.ID]
	if r == nil {
		r = newRoom(s, c)
		s.rooms[c.ID] = r
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			r.run()
		}()
	}
	r.box.Post(func() { fn(r) })
	return nil
}

// postLive runs fn on the call's room loop if a room is live; it reports
// whether one was.
func (s *Service) postLive(id string, fn func(*room)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[id]
	if r == nil {
		return false
	}
	return r.box.Post(func() { fn(r) })
}

// retire removes r from the live rooms if nothing is queued for it; the
// room loop calls it when it has nobody left.
func (s *Service) retire(r *room) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.box.Len() > 0 {
		return false
	}
	if s.rooms[r.id] == r {
		delete(s.rooms, r.id)
	}
	r.box.Close()
	return true
}

// retireNow removes r from the live rooms whatever is queued (the Service
// is closing).
func (s *Service) retireNow(r *room) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[r.id] == r {
		delete(s.rooms, r.id)
	}
	r.box.Close()
}

// spawn runs fn as a goroutine the Service waits for on Close; false once
// closed.
func (s *Service) spawn(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

// iceServers are the ICE servers handed to one authenticated participant,
// with a fresh TURN credential.
func (s *Service) iceServers(subject string) []ICEServer {
	var out []ICEServer
	if s.turn != nil {
		cred := s.turn.Credentials(subject, s.opts.CredentialTTL)
		out = append(out, ICEServer{URLs: s.turn.URLs(), Username: cred.Username, Credential: cred.Password})
	}
	if len(s.opts.ExtraICEServers) > 0 {
		out = append(out, ICEServer{URLs: s.opts.ExtraICEServers})
	}
	return out
}
