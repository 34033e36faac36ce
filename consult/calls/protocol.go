package calls

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/pion/webrtc/v4"
)

// Message is one signalling message, in both directions, on the WebSocket
// and (wrapped) between nodes. docs/signalling.md is its reference.
type Message struct {
	Type string `json:"type"`
	// PC names the connection an SDP or candidate belongs to in a group
	// call: "pub" (the client's upload, which it offers) or "sub" (its
	// download, which the node offers). Empty in a consult.
	PC        string                   `json:"pc,omitempty"`
	SDP       string                   `json:"sdp,omitempty"`
	Candidate *webrtc.ICECandidateInit `json:"candidate,omitempty"`
	// User is the subject of knock, admit, deny, ready and peer_left
	// (User.Key).
	User string `json:"user,omitempty"`
	// From is the sender of a relayed offer, answer, candidate or restart;
	// the node sets it.
	From string `json:"from,omitempty"`
	// Offerer, in ready, tells this side to send the offer.
	Offerer bool   `json:"offerer,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Text    string `json:"message,omitempty"`
	// Hello: the call, your role, and how to reach the node's TURN.
	Call               *View       `json:"call,omitempty"`
	You                string      `json:"you,omitempty"`
	ICEServers         []ICEServer `json:"ice_servers,omitempty"`
	ICETransportPolicy string      `json:"ice_transport_policy,omitempty"`
	// Participants and Waiting list who is in the call and (to the host)
	// who waits to be admitted.
	Participants []string `json:"participants,omitempty"`
	Waiting      []string `json:"waiting,omitempty"`
}

// ICEServer is one entry of RTCConfiguration.iceServers.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Message types (docs/signalling.md).
const (
	// client → node
	MsgJoin    = "join"
	MsgOffer   = "offer"
	MsgAnswer  = "answer"
	MsgCand    = "candidate"
	MsgRestart = "restart" // ask the other side (peer or SFU) for an ICE-restart offer
	MsgAdmit   = "admit"   // host: let User in from the waiting room
	MsgDeny    = "deny"    // host: turn User away
	MsgLeave   = "leave"
	MsgEnd     = "end" // host: end the call for everyone
	// node → client
	MsgHello        = "hello"
	MsgWaiting      = "waiting"  // you are in the waiting room
	MsgKnock        = "knock"    // host: User waits to be admitted
	MsgAdmitted     = "admitted" // you are in: offer "pub" now
	MsgReady        = "ready"    // consult: your peer is here; Offerer says who offers
	MsgPeerLeft     = "peer_left"
	MsgParticipants = "participants"
	MsgEnded        = "ended"
	MsgError        = "error"
)

// Limits of the protocol.
const (
	MaxMessageBytes = 64 << 10 // one WebSocket or relay message
	maxSDPBytes     = 48 << 10
	maxCandBytes    = 1 << 10
)

// clientTypes are the types a client may send.
var clientTypes = map[string]bool{
	MsgJoin: true, MsgOffer: true, MsgAnswer: true, MsgCand: true, MsgRestart: true,
	MsgAdmit: true, MsgDeny: true, MsgLeave: true, MsgEnd: true,
}

// parseClient decodes and checks a client's message; ok is false for
// anything malformed, oversized or not a client type.
func parseClient(data []byte) (Message, bool) {
	var m Message
	if len(data) > MaxMessageBytes || json.Unmarshal(data, &m) != nil {
		return m, false
	}
	return m, validClient(&m)
}

func validClient(m *Message) bool {
	if !clientTypes[m.Type] || !utf8.ValidString(m.SDP) || len(m.SDP) > maxSDPBytes {
		return false
	}
	switch m.PC {
	case "", "pub", "sub":
	default:
		return false
	}
	switch m.Type {
	case MsgOffer, MsgAnswer:
		if m.SDP == "" {
			return false
		}
	case MsgCand:
		if m.Candidate == nil || len(m.Candidate.Candidate) > maxCandBytes ||
			(m.Candidate.SDPMid != nil && len(*m.Candidate.SDPMid) > 64) ||
			(m.Candidate.UsernameFragment != nil && len(*m.Candidate.UsernameFragment) > 256) {
			return false
		}
	case MsgAdmit, MsgDeny:
		if _, ok := ParseKey(m.User); !ok {
			return false
		}
	}
	// Fields only the node sets are dropped.
	m.From, m.Offerer, m.Call, m.ICEServers, m.ICETransportPolicy = "", false, nil, nil, ""
	m.Participants, m.Waiting, m.Reason, m.Text, m.You = nil, nil, "", "", ""
	return true
}
