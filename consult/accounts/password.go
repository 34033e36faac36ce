package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/moinha/moinha/consult"
)

// Params are argon2id cost parameters. Zero fields mean the defaults: of
// OWASP's equivalent minimum settings for argon2id (m=47104 t=1, m=19456
// t=2, m=12288 t=3, m=9216 t=4, m=7168 t=5, all p=1), the one with 9 MiB,
// so that a node can run two logins at once in 18 MiB.
type Params struct {
	Time    uint32 // passes over memory; zero means 4
	Memory  uint32 // KiB; zero means 9216 (9 MiB)
	Threads uint8  // lanes; zero means 1
}

// Defaults for Params, and fixed sizes of a new hash. Hashes made with
// other parameters (earlier binaries used m=19456, t=2) still verify, and
// a successful login re-hashes them with the current ones.
const (
	DefaultTime    = 4
	DefaultMemory  = 9 * 1024
	DefaultThreads = 1
	saltLen        = 16
	keyLen         = 32
)

// Bounds for parsing a stored hash, so that a damaged or forged record can
// neither crash the node nor make one login allocate gigabytes.
const (
	maxTime    = 64
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxThreads = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// Password policy (NIST SP 800-63B: length, not composition rules).
const (
	MinPasswordLen = 10  // characters (runes, after NFKC)
	MaxPasswordLen = 128 // characters
)

func (p Params) withDefaults() Params {
	if p.Time == 0 {
		p.Time = DefaultTime
	}
	if p.Memory == 0 {
		p.Memory = DefaultMemory
	}
	if p.Threads == 0 {
		p.Threads = DefaultThreads
	}
	return p
}

var errPHC = errors.New("accounts: malformed argon2id hash")

// phc is a parsed "$argon2id$v=19$m=…,t=…,p=…$salt$key" string.
type phc struct {
	params Params
	salt   []byte
	key    []byte
}

var b64 = base64.RawStdEncoding.Strict()

// String renders the canonical PHC form.
func (h phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.Memory, h.params.Time, h.params.Threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parsePHC parses and bounds-checks a stored hash. It accepts only the
// canonical form that String produces.
func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, errPHC
	}
	var h phc
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return phc{}, errPHC
	}
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
			return phc{}, errPHC
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return phc{}, errPHC
		}
		switch name {
		case "m":
			h.params.Memory = uint32(n)
		case "t":
			h.params.Time = uint32(n)
		case "p":
			if n > maxThreads {
				return phc{}, errPHC
			}
			h.params.Threads = uint8(n)
		}
	}
	p := h.params
	if p.Time < 1 || p.Time > maxTime || p.Threads < 1 ||
		p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory {
		return phc{}, errPHC
	}
	var ok bool
	if h.salt, ok = decodeB64(parts[4]); !ok || len(h.salt) < minSaltLen || len(h.salt) > maxSaltLen {
		return phc{}, errPHC
	}
	if h.key, ok = decodeB64(parts[5]); !ok || len(h.key) < minKeyLen || len(h.key) > maxKeyLen {
		return phc{}, errPHC
	}
	return h, nil
}

// decodeB64 decodes unpadded standard base64 and accepts only the
// canonical text (the decoder itself skips '\r' and '\n').
func decodeB64(s string) ([]byte, bool) {
	b, err := b64.DecodeString(s)
	return b, err == nil && b64.EncodeToString(b) == s
}

// normalize puts a password in the form that is hashed (NFKC).
func normalize(password string) string { return norm.NFKC.String(password) }

// hashPassword hashes an already normalised password with fresh salt.
func hashPassword(normalized string, p Params) (string, error) {
	h := phc{params: p, salt: make([]byte, saltLen)}
	if _, err := rand.Read(h.salt); err != nil {
		return "", fmt.Errorf("accounts: salt: %w", err)
	}
	h.key = argon2.IDKey([]byte(normalized), h.salt, p.Time, p.Memory, p.Threads, keyLen)
	return h.String(), nil
}

// hashMemory is the argon2 memory (KiB) that verifying stored costs: zero
// for a malformed hash, which verifyPassword refuses without hashing.
func hashMemory(stored string) uint32 {
	h, err := parsePHC(stored)
	if err != nil {
		return 0
	}
	return h.params.Memory
}

// verifyPassword reports whether the normalised password matches the
// stored hash, in time that does not depend on where they differ, and
// whether the hash was made with parameters other than current.
func verifyPassword(normalized, stored string, current Params) (ok, stale bool, err error) {
	h, err := parsePHC(stored)
	if err != nil {
		return false, false, err
	}
	p := h.params
	got := argon2.IDKey([]byte(normalized), h.salt, p.Time, p.Memory, p.Threads, uint32(len(h.key)))
	ok = subtle.ConstantTimeCompare(got, h.key) == 1
	return ok, p != current || len(h.salt) != saltLen || len(h.key) != keyLen, nil
}

// checkPassword applies the policy to a normalised password.
func checkPassword(username, normalized string) error {
	n := utf8.RuneCountInString(normalized)
	switch {
	case n < MinPasswordLen:
		return consult.Invalid("password", "must be at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return consult.Invalid("password", "must be at most %d characters", MaxPasswordLen)
	case strings.EqualFold(normalized, username):
		return consult.Invalid("password", "must not be the username")
	}
	return nil
}
