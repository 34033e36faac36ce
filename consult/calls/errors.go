package calls

import (
	"errors"

	"github.com/moinha/moinha/consult"
)

// Reason codes: in API errors, in signalling "error" and "ended" messages,
// and as WebSocket close reasons (docs/signalling.md).
const (
	ReasonNotFound       = "call_not_found"
	ReasonNotInvited     = "not_invited"
	ReasonObserver       = "observer"
	ReasonEnded          = "call_ended"
	ReasonHostEnded      = "host_ended"
	ReasonAllLeft        = "all_left"
	ReasonReplaced       = "replaced"
	ReasonDenied         = "denied"
	ReasonBadMessage     = "bad_message"
	ReasonTooLarge       = "too_large"
	ReasonRateLimited    = "rate_limited"
	ReasonSlowConsumer   = "slow_consumer"
	ReasonTimeout        = "timeout"
	ReasonShutdown       = "shutting_down"
	ReasonNotHost        = "not_host"
	ReasonNotAdmitted    = "not_admitted"
	ReasonNoPeer         = "no_peer"
	ReasonFull           = "call_full"
	ReasonUnreachable    = "host_unreachable"
	ReasonMedia          = "media_unavailable"
	ReasonNegotiation    = "negotiation_failed"
	ReasonLeft           = "left"
	ReasonNoFederation   = "no_federation"
	ReasonUnknownUser    = "unknown_user"
	ReasonNotJoined      = "not_joined"
	ReasonAlreadyInvited = "duplicate_invitee"
	// A call about a referral: not on this node, or the caller is not a
	// party to it (Options.Referrals).
	ReasonReferralNotFound = "referral_not_found"
	ReasonNotReferralParty = "not_referral_party"
)

// ErrClosed is returned by a closed Service.
var ErrClosed = errors.New("calls: service closed")

// ErrReferralNotFound and ErrNotReferralParty are what a Referrals
// implementation refuses a call with (wrapped or as they are); Create
// answers them with the API errors referral_not_found (404) and
// not_referral_party (403).
var (
	ErrReferralNotFound = errors.New("calls: no such referral on this node")
	ErrNotReferralParty = errors.New("calls: the caller is not a party to the referral")
)

// ErrBadRelay is returned by HandleRelay for a message that is malformed or
// that the sending province has no right to send; the caller should drop
// it (and may count it against the peer).
var ErrBadRelay = errors.New("calls: bad relay message")

func errNotFound() *consult.Error {
	return consult.Errorf(consult.ErrNotFound, ReasonNotFound, "no such call")
}

func errNotInvited() *consult.Error {
	return consult.Errorf(consult.ErrForbidden, ReasonNotInvited, "you are not invited to this call")
}

func errObserver() *consult.Error {
	return consult.Errorf(consult.ErrForbidden, ReasonObserver, "observers never join calls")
}

func errEnded() *consult.Error {
	return consult.Errorf(consult.ErrGone, ReasonEnded, "this call has ended")
}
