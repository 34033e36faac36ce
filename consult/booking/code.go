package booking

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// Booking codes: codeLen symbols from codeAlphabet, which leaves out 0, O,
// 1, I and L so a code survives being read over the phone. 31^13 ≈ 2^64.4
// (12 symbols of 31 would give only 59.5 bits).
const (
	codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	codeLen      = 13
)

// newCode returns a random canonical code (no dashes).
func newCode() string {
	const limit = 256 - 256%len(codeAlphabet) // rejection sampling keeps symbols uniform
	out := make([]byte, 0, codeLen)
	var buf [32]byte
	for len(out) < codeLen {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
		for _, b := range buf {
			if int(b) < limit && len(out) < codeLen {
				out = append(out, codeAlphabet[int(b)%len(codeAlphabet)])
			}
		}
	}
	return string(out)
}

// formatCode renders a canonical code as XXXX-XXXX-XXXXX.
func formatCode(c string) string {
	if len(c) != codeLen {
		return c
	}
	return c[:4] + "-" + c[4:8] + "-" + c[8:]
}

// canonicalCode turns what a person typed into the canonical code: case
// folded, dashes and spaces removed. It reports false when the result
// cannot be a code.
func canonicalCode(s string) (string, bool) {
	if len(s) > 64 {
		return "", false
	}
	out := make([]byte, 0, codeLen)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		if strings.IndexByte(codeAlphabet, c) < 0 || len(out) == codeLen {
			return "", false
		}
		out = append(out, c)
	}
	if len(out) != codeLen {
		return "", false
	}
	return string(out), true
}

// newID returns an appointment ID: 16 bytes, hex, of which the first 6
// are the creation time in milliseconds since 1970 (big-endian) and the
// other 10 random. New appointments thus sort after older ones, so that a
// commit of many bookings appends to a few pages of the appointments
// bucket instead of rewriting one random page per booking. IDs are not
// secrets (the booking code is), and Book checks that an ID is unused.
func newID(now time.Time) string {
	var b [16]byte
	ms := uint64(max(0, now.UnixMilli()))
	for i := range 6 {
		b[i] = byte(ms >> (8 * (5 - i)))
	}
	_, _ = rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}
