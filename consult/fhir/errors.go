package fhir

import (
	"fmt"
	"net/http"
)

// Error is a failure a FHIR client is shown: an HTTP status and the
// OperationOutcome issue code (FHIR's IssueType: invalid, not-found,
// security, login, forbidden, not-supported, processing, exception, …).
type Error struct {
	Status int
	Code   string
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("fhir: %d %s: %s", e.Status, e.Code, e.Msg) }

// Errorf returns an *Error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Msg: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "invalid", format, args...)
}

func notSupported(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "not-supported", format, args...)
}

// Outcome is the OperationOutcome of one error issue.
func Outcome(code, diagnostics string) *OperationOutcome {
	return &OperationOutcome{base: base{ResourceType: "OperationOutcome"},
		Issue: []Issue{{Severity: "error", Code: code, Diagnostics: diagnostics}}}
}

// OutcomeOf is the OperationOutcome of e.
func OutcomeOf(e *Error) *OperationOutcome { return Outcome(e.Code, e.Msg) }
