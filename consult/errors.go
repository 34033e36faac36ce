package consult

import (
	"errors"
	"fmt"
)

// Kinds of user-facing failure. node maps each to an HTTP status.
var (
	ErrInvalid      = errors.New("invalid input")      // 400 / 422
	ErrNotFound     = errors.New("not found")          // 404
	ErrConflict     = errors.New("conflict")           // 409 (e.g. a full slot)
	ErrUnauthorized = errors.New("unauthorized")       // 401
	ErrForbidden    = errors.New("forbidden")          // 403
	ErrLocked       = errors.New("locked")             // 429 / 423 (login lockout)
	ErrGone         = errors.New("no longer possible") // 409/410 (e.g. a slot in the past)
)

// Error is a failure that is safe to show to the person who caused it: a
// stable machine Code ("slot_full"), a Kind from the list above, and a
// human Message that never contains another person's data.
type Error struct {
	Kind    error
	Code    string
	Message string
	// RetryAfter, when non-zero, tells the client when to try again (seconds).
	RetryAfter int
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Unwrap lets errors.Is(err, consult.ErrConflict) work.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf builds an *Error.
func Errorf(kind error, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is shorthand for a validation failure on one field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: ErrInvalid, Code: "invalid_" + field, Message: field + ": " + fmt.Sprintf(format, args...)}
}
