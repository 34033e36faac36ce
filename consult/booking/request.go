package booking

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/moinha/moinha/consult"
)

// Limits of a booking request.
const (
	MaxNameRunes   = 100
	MaxReasonRunes = 500
	MinBirthYear   = 1900
)

// checkRequest validates r and normalizes it in place: name and reason
// trimmed, phone without separators. Messages never echo the values.
func checkRequest(r *BookRequest, now time.Time) error {
	if r.Facility == "" {
		return consult.Invalid("facility", "required")
	}
	if r.Start.IsZero() {
		return consult.Invalid("start", "required")
	}
	r.Name = strings.TrimSpace(r.Name)
	if n := utf8.RuneCountInString(r.Name); n == 0 || n > MaxNameRunes {
		return consult.Invalid("name", "must be 1 to %d characters", MaxNameRunes)
	}
	if !cleanText(r.Name, false) {
		return consult.Invalid("name", "contains characters that are not allowed")
	}
	phone, ok := normalizePhone(r.Phone)
	if !ok {
		return consult.Invalid("phone", "must be a Vietnamese phone number: 9 to 12 digits, optionally starting with +84 or 0")
	}
	r.Phone = phone
	r.Reason = strings.TrimSpace(r.Reason)
	if utf8.RuneCountInString(r.Reason) > MaxReasonRunes {
		return consult.Invalid("reason", "must be at most %d characters", MaxReasonRunes)
	}
	if !cleanText(r.Reason, true) {
		return consult.Invalid("reason", "contains characters that are not allowed")
	}
	if r.BirthYear != 0 && (r.BirthYear < MinBirthYear || r.BirthYear > now.Year()) {
		return consult.Invalid("birth_year", "must be between %d and %d, or left out", MinBirthYear, now.Year())
	}
	return nil
}

// cleanText reports whether s is valid UTF-8 without control characters
// (newlines and tabs allowed when multiline).
func cleanText(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) && !(multiline && (c == '\n' || c == '\t' || c == '\r')) {
			return false
		}
	}
	return true
}

// normalizePhone accepts a Vietnamese-plausible number — 9 to 12 digits,
// optionally written with a leading +84 (or a national 0), with spaces,
// dots, dashes or parentheses between digits — and returns it without the
// separators.
func normalizePhone(s string) (string, bool) {
	if len(s) > 32 {
		return "", false
	}
	var b strings.Builder
	for i, c := range strings.TrimSpace(s) {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == '+' && i == 0:
			b.WriteRune(c)
		case c == ' ' || c == '.' || c == '-' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	p := b.String()
	digits := len(p)
	if strings.HasPrefix(p, "+") {
		if !strings.HasPrefix(p, "+84") {
			return "", false
		}
		digits--
	}
	if digits < 9 || digits > 12 {
		return "", false
	}
	return p, true
}
