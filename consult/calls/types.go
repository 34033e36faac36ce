package calls

import (
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
)

// Kind is what a call is for.
type Kind string

// Call kinds (API.md). A consult is two people browser to browser; the
// others are group sessions through the hosting node's SFU, with a waiting
// room the host admits from.
const (
	KindConsult    Kind = "consult"
	KindConference Kind = "conference" // case conference (hội chẩn)
	KindBriefing   Kind = "briefing"   // briefing (giao ban)
	KindTraining   Kind = "training"
)

// Kinds lists every call kind.
var Kinds = []Kind{KindConsult, KindConference, KindBriefing, KindTraining}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	return k == KindConsult || k == KindConference || k == KindBriefing || k == KindTraining
}

// Group reports whether calls of kind k run through the SFU.
func (k Kind) Group() bool { return k != KindConsult }

// User names a health worker anywhere in the network.
type User struct {
	Province string `json:"province"`
	Username string `json:"username"`
}

// Key is the user's ID in signalling and media: "PROVINCE.USERNAME"
// (province codes are letters and digits, so the first dot separates; it
// is a valid WebRTC stream ID).
func (u User) Key() string { return u.Province + "." + u.Username }

// ParseKey is the inverse of User.Key.
func ParseKey(key string) (User, bool) {
	p, n, ok := strings.Cut(key, ".")
	u := User{Province: p, Username: n}
	return u, ok && validProvince(p) && validUsername(n)
}

// Caller is an authenticated user of this node, as the HTTP layer knows it.
type Caller struct {
	Username string
	Role     consult.Role
}

// Role is a user's part in one call.
type Role string

// Call roles.
const (
	RoleHost        Role = "host"
	RoleParticipant Role = "participant"
)

// State is where a call is in its life.
type State string

// Call states.
const (
	StateRinging State = "ringing" // created; invitations out; nobody joined yet
	StateActive  State = "active"  // someone has joined
	StateEnded   State = "ended"
)

// Call is a call's record. The hosting node owns it; each invited
// province's node holds a copy (Remote) so that its users can list and join
// it through their own node.
type Call struct {
	ID        string    `json:"id"`
	Kind      Kind      `json:"kind"`
	Host      User      `json:"host"`
	Invitees  []User    `json:"invitees"`
	Referral  string    `json:"referral,omitempty"`
	State     State     `json:"state"`
	Created   time.Time `json:"created"`
	Started   time.Time `json:"started,omitzero"` // when two were first in the call at once
	Ended     time.Time `json:"ended,omitzero"`
	EndReason string    `json:"end_reason,omitempty"`
	Remote    bool      `json:"remote,omitempty"` // a copy of another province's call
	// Facility is the host's facility (their account's; "" if none) when
	// the call was created: the statistics count the call there. Only the
	// hosting node keeps it; views and invitations leave it out.
	Facility string `json:"facility,omitempty"`
}

// Invited reports whether u is the host or an invitee.
func (c *Call) Invited(u User) bool {
	if u == c.Host {
		return true
	}
	for _, v := range c.Invitees {
		if v == u {
			return true
		}
	}
	return false
}

// RoleOf is u's role in the call.
func (c *Call) RoleOf(u User) Role {
	if u == c.Host {
		return RoleHost
	}
	return RoleParticipant
}

// View is a call as the API shows it to one user: with that user's role
// and a join URL on that user's own node.
type View struct {
	Call
	Role    Role   `json:"role"`
	JoinURL string `json:"join_url"`

	indexKey string // List's cursor position
}

// CreateRequest asks for a new call hosted by the caller.
type CreateRequest struct {
	Kind     Kind   `json:"kind"`
	Referral string `json:"referral,omitempty"`
	Invite   []User `json:"invite"`
}

// Created is Create's answer (API.md: {"id","join_url"}).
type Created struct {
	ID      string `json:"id"`
	JoinURL string `json:"join_url"`
}

// Event is one lifecycle step of a call, kept in storage.BucketCalls. It
// names users and reasons only: never patient data.
type Event struct {
	Call   string    `json:"call"`
	Time   time.Time `json:"time"`
	Type   string    `json:"type"`
	User   string    `json:"user,omitempty"` // User.Key
	Reason string    `json:"reason,omitempty"`
}

// Event types.
const (
	EventRinging  = "ringing"  // an invitation went out (one per invitee)
	EventWaiting  = "waiting"  // a participant entered the waiting room
	EventAdmitted = "admitted" // the host admitted a participant
	EventDenied   = "denied"   // the host turned a participant away
	EventJoined   = "joined"
	EventLeft     = "left"
	EventEnded    = "ended"
)

// Counters are a node's call statistics for one kind: counts and minutes,
// no people and no patients.
type Counters struct {
	Calls   int64 `json:"calls"`   // calls created
	Started int64 `json:"started"` // calls started (two people in them at once)
	Ended   int64 `json:"ended"`   // calls ended
	Joins   int64 `json:"joins"`   // participants joined (rejoins count again)
	Seconds int64 `json:"seconds"` // call time, from start to end
}

// Minutes is Seconds in whole minutes.
func (c Counters) Minutes() int64 { return c.Seconds / 60 }
