package calls

import (
	"context"
	"log/slog"
	"time"

	"github.com/moinha/moinha/consult/accounts"
)

// Relay is what calls need from the federation: deliver an opaque message
// to the node of a province over its direct stream (/moinha/signal/1). The
// receiving node hands it to its Service.HandleRelay with the sender's
// province, which the federation layer vouches for (membership
// certificate). Send may return once the message is queued durably; it is
// called from a goroutine per destination province, so messages to one
// province are sent in order and a slow province delays no other.
type Relay interface {
	Send(ctx context.Context, toProvince string, msg []byte) error
}

// ObserverProvinces is optionally implemented by a Relay that knows the
// network's members: ObserverProvince reports whether every known node of
// province is an observer, whose users never join calls (Create refuses
// to invite them). A province it knows nothing about is not one.
type ObserverProvinces interface {
	ObserverProvince(province string) bool
}

// Users looks up this node's accounts (accounts.Service satisfies it).
type Users interface {
	GetUser(username string) (accounts.User, error)
}

// Referrals checks that a call may be opened about a referral or consult
// request (node adapts consult/referral's service to it).
type Referrals interface {
	// CanOpenCall returns nil when username, a user of this node's
	// province, may open a call about referralID: the referral is on this
	// node and the user is a party to it. It refuses with an error
	// wrapping ErrReferralNotFound or ErrNotReferralParty; any other error
	// means it could not tell.
	CanOpenCall(ctx context.Context, username, province, referralID string) error
}

// Options configure a Service. Each field says what zero means.
type Options struct {
	// Province is this node's province code. Required.
	Province string
	// BaseURL returns the node's public base URL ("http://127.0.0.1:8080")
	// for join URLs; it is called at each use, so it may be set before the
	// node listens. Nil means join URLs are paths ("/call/ID").
	BaseURL func() string
	// Relay carries signalling to other provinces' nodes. Nil means a lone
	// node: invitations to other provinces are refused.
	Relay Relay
	// Users checks that local invitees exist and are not observers, and
	// gives the host's facility, where the daily statistics count a call.
	// Nil means local invitees are not checked and calls count under no
	// facility.
	Users Users
	// Referrals checks the referral a new call names. Nil means it is not
	// checked (only its length is).
	Referrals Referrals
	// Logger receives IDs and counts, never payloads. Nil means
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time

	// MediaAddr is the SFU's UDP media socket (one port for every group
	// call). Zero means 127.0.0.1 with a free port.
	MediaAddr string
	// MediaReadBuffer is the media socket's SO_RCVBUF. Zero means 8 MiB.
	MediaReadBuffer int
	// PublicIPs are the node's public addresses, advertised for the media
	// socket and as the TURN relay address. Zero means the listen addresses.
	PublicIPs []string
	// TURNAddr is the embedded STUN/TURN server's address (UDP and TCP on
	// the same port). Zero means 127.0.0.1 with a free port; "off" disables
	// it.
	TURNAddr string
	// TURNSecret is the HMAC key of TURN credentials. Zero means random per
	// start.
	TURNSecret []byte
	// CredentialTTL is how long TURN credentials last. Zero means 3 h
	// (longer than a session: a TURN allocation refreshes with the same
	// credential).
	CredentialTTL time.Duration
	// RelayOnly tells clients to use relay candidates only (networks that
	// block direct UDP). Zero means all candidates.
	RelayOnly bool
	// ExtraICEServers are STUN/TURN URLs handed to clients besides the
	// node's own (without credentials). Zero means none.
	ExtraICEServers []string
	// Loopback keeps all media on 127.0.0.1 (tests). Zero means every
	// address.
	Loopback bool
	// ICEDisconnectedTimeout, ICEFailedTimeout and ICEKeepAlive tune the
	// SFU's ICE. Zero means pion's defaults.
	ICEDisconnectedTimeout, ICEFailedTimeout, ICEKeepAlive time.Duration
	// MaxInvitees caps invitations per call. Zero means 64.
	MaxInvitees int
	// MaxParticipants caps how many are in a group call at once. Zero
	// means 32.
	MaxParticipants int
	// PingInterval is how often the node pings a signalling WebSocket; a
	// connection silent for three intervals is closed. Zero means 10 s.
	PingInterval time.Duration
	// RelayTimeout bounds one Relay.Send. Zero means 10 s.
	RelayTimeout time.Duration
}

func (o *Options) withDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CredentialTTL == 0 {
		o.CredentialTTL = 3 * time.Hour
	}
	if o.MaxInvitees == 0 {
		o.MaxInvitees = 64
	}
	if o.MaxParticipants == 0 {
		o.MaxParticipants = 32
	}
	if o.PingInterval == 0 {
		o.PingInterval = 10 * time.Second
	}
	if o.RelayTimeout == 0 {
		o.RelayTimeout = 10 * time.Second
	}
}
