package referral

import (
	"errors"

	"github.com/moinha/moinha/consult"
)

// ErrUnreachable is what a Sender returns (wrapped) when the destination
// province has no current member that may receive: the candidate is
// skipped.
var ErrUnreachable = errors.New("referral: province unreachable")

// RefusedError is Receive's final refusal of a message: it is malformed,
// or its sender is not a party to the referral. The network layer tells
// the sender and never retries it. Code is a short machine reason.
type RefusedError struct{ Code string }

func (e *RefusedError) Error() string { return "referral: message refused: " + e.Code }

func refuse(code string) error { return &RefusedError{Code: code} }

// Refusal codes.
const (
	refuseMalformed   = "malformed"
	refuseNotParty    = "not_a_party"
	refuseUnknown     = "unknown_referral"
	refuseNotOwner    = "not_the_owner"
	refuseObserver    = "observer"
	refuseUnknownKind = "unknown_kind"
)

// User-facing errors.

func errNotFound() error {
	return consult.Errorf(consult.ErrNotFound, "referral_not_found", "no such referral or consult request here")
}

func errTransition(from Status, to string) error {
	return consult.Errorf(consult.ErrConflict, "invalid_transition", "not possible while the referral is %s (wanted: %s)", from, to)
}

func errNotParty(what string) error {
	return consult.Errorf(consult.ErrForbidden, "not_a_party", "this node may not %s this referral", what)
}

func errNoCandidate() error {
	return consult.Errorf(consult.ErrConflict, "no_candidate",
		"no province accepts this specialty now; name a target_province or try later")
}

// isTransition reports whether err is an invalid_transition error.
func isTransition(err error) bool {
	var ce *consult.Error
	return errors.As(err, &ce) && ce.Code == "invalid_transition"
}
