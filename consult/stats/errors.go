package stats

import "errors"

// Errors returned by this package; match them with errors.Is.
var (
	// ErrMalformed means a received report does not decode or breaks a
	// rule (its province, day, levels, metric names or values).
	ErrMalformed = errors.New("stats: malformed report")
	// ErrTooLarge means a report is over MaxPayload.
	ErrTooLarge = errors.New("stats: report too large")
)
