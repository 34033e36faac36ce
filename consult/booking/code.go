package booking

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
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

// newID returns a random appointment ID: 16 bytes, hex.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
