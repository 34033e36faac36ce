package charter

import "errors"

// Errors returned by this package; match them with errors.Is.
var (
	// ErrMalformed means a charter, certificate or revocation is not
	// well-formed (bad JSON, unknown fields, missing or oversized fields).
	ErrMalformed = errors.New("charter: malformed")
	// ErrUnknownAuthority means the signer is not an authority of the charter.
	ErrUnknownAuthority = errors.New("charter: signed by an unknown authority")
	// ErrBadSignature means the signature does not verify.
	ErrBadSignature = errors.New("charter: bad signature")
	// ErrWrongNetwork means the value was issued for another network.
	ErrWrongNetwork = errors.New("charter: issued for another network")
	// ErrExpired means the certificate's validity has ended.
	ErrExpired = errors.New("charter: certificate expired")
	// ErrNotYetValid means the certificate's validity has not begun.
	ErrNotYetValid = errors.New("charter: certificate not yet valid")
	// ErrBadRole means the role is not province, hospital or observer.
	ErrBadRole = errors.New("charter: bad role")
	// ErrPeerMismatch means the certificate names another peer.
	ErrPeerMismatch = errors.New("charter: certificate is for another peer")
	// ErrNotAuthority means the key given to sign is not one of the
	// charter's authorities.
	ErrNotAuthority = errors.New("charter: key is not an authority of this charter")
	// ErrExists means a file that must not be replaced already exists.
	ErrExists = errors.New("charter: file already exists")
)
