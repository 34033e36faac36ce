package federation

import "errors"

// Errors returned by this package; match them with errors.Is.
var (
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("federation: closed")
	// ErrNotStarted is returned by calls that need the network before Start.
	ErrNotStarted = errors.New("federation: not started")
	// ErrObserver is returned when an observer node is asked to write a
	// replicated record: observers are read-only by construction.
	ErrObserver = errors.New("federation: an observer writes no records")
	// ErrLeft is returned when a node that has left the network is asked to
	// write a record.
	ErrLeft = errors.New("federation: this node has left the network")
	// ErrRevoked is returned when this node's membership is revoked.
	ErrRevoked = errors.New("federation: this node's membership is revoked")
	// ErrTooLarge means a record payload is over MaxPayload.
	ErrTooLarge = errors.New("federation: record payload too large")
	// ErrBadKind means a record kind is unknown or not writable by Stage.
	ErrBadKind = errors.New("federation: bad record kind")
	// ErrBadKey means a record key is empty, too long, or not owned by this
	// node's province.
	ErrBadKey = errors.New("federation: bad record key")
	// ErrConfig means the Config is incomplete or inconsistent.
	ErrConfig = errors.New("federation: bad config")
)
