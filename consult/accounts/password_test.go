package accounts

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testParams = Params{Time: 1, Memory: 64, Threads: 1}

func TestPHCRoundTrip(t *testing.T) {
	for _, p := range []Params{testParams, {Time: 3, Memory: 256, Threads: 4}, Params{}.withDefaults()} {
		h, err := hashPassword("Mật khẩu 2026", p)
		require.NoError(t, err)
		parsed, err := parsePHC(h)
		require.NoError(t, err)
		assert.Equal(t, p, parsed.params)
		assert.Len(t, parsed.salt, saltLen)
		assert.Len(t, parsed.key, keyLen)
		assert.Equal(t, h, parsed.String(), "canonical form round-trips")

		ok, stale, err := verifyPassword("Mật khẩu 2026", h, p)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.False(t, stale)
		ok, _, err = verifyPassword("Mật khẩu 2027", h, p)
		require.NoError(t, err)
		assert.False(t, ok)
		_, stale, _ = verifyPassword("Mật khẩu 2026", h, Params{Time: 9, Memory: 64, Threads: 1})
		assert.True(t, stale, "other current params: rehash")
	}
	a, _ := hashPassword("same password", testParams)
	b, _ := hashPassword("same password", testParams)
	assert.NotEqual(t, a, b, "fresh salt each time")
	assert.Equal(t, Params{Time: 4, Memory: 9216, Threads: 1}, Params{}.withDefaults())
}

// A known answer from the argon2 reference implementation (the vector
// x/crypto's tests use: "password", salt "somesalt", t=1, m=64, p=1, 24-byte
// key), written as a PHC string: parsing and verifying need nothing else.
func TestPHCKnownAnswer(t *testing.T) {
	key, err := hex.DecodeString("655ad15eac652dc59f7170a7332bf49b8469be1fdb9c28bb")
	require.NoError(t, err)
	stored := "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$" + base64.RawStdEncoding.EncodeToString(key)
	ok, stale, err := verifyPassword("password", stored, testParams)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, stale, "8-byte salt and 24-byte key: rehash to the current sizes")
	ok, _, err = verifyPassword("passwore", stored, testParams)
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestParsePHCRejects(t *testing.T) {
	good, err := hashPassword("password!!", testParams)
	require.NoError(t, err)
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for name, s := range map[string]string{
		"empty":           "",
		"bcrypt":          "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":         "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"version 16":      "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"no version":      "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"params order":    "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"extra param":     "$argon2id$v=19$m=64,t=1,p=1,k=2$" + salt + "$" + key,
		"zero time":       "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"zero threads":    "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"256 threads":     "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key,
		"memory < 8p":     "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key,
		"huge memory":     "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"huge time":       "$argon2id$v=19$m=64,t=100000,p=1$" + salt + "$" + key,
		"negative":        "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key,
		"leading zero":    "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,
		"plus sign":       "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key,
		"padded salt":     "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"short salt":      "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key,
		"short key":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$c2FsdA",
		"url alphabet":    "$argon2id$v=19$m=64,t=1,p=1$" + strings.NewReplacer("+", "-", "/", "_").Replace(salt) + "-_$" + key,
		"trailing dollar": good + "$",
		"missing key":     "$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"no leading $":    good[1:],
		"overflow":        "$argon2id$v=19$m=99999999999999999999,t=1,p=1$" + salt + "$" + key,
	} {
		_, err := parsePHC(s)
		assert.ErrorIs(t, err, errPHC, name)
		_, _, err = verifyPassword("password!!", s, testParams)
		assert.Error(t, err, name)
	}
}

func TestPasswordPolicy(t *testing.T) {
	for _, tt := range []struct {
		user, password string
		ok             bool
	}{
		{"lan", "0123456789", true},
		{"lan", "012345678", false},
		{"lan", strings.Repeat("a", 128), true},
		{"lan", strings.Repeat("a", 129), false},
		{"lan", strings.Repeat("Đ", 10), true},
		{"administrator", "administrator", false},
		{"administrator", "Administrator", false},
		{"administrator", "administrator1", true},
	} {
		err := checkPassword(tt.user, normalize(tt.password))
		assert.Equal(t, tt.ok, err == nil, "%q/%q: %v", tt.user, tt.password, err)
	}
	// NFKC: compatibility forms count as their plain letters.
	assert.Equal(t, "ABC123", normalize("ＡＢＣ１２３"))
}

func TestLockFor(t *testing.T) {
	want := map[int]time.Duration{
		0: 0, 1: 0, 4: 0,
		5: 30 * time.Second, 6: time.Minute, 7: 2 * time.Minute, 11: 32 * time.Minute,
		12: time.Hour, 13: time.Hour, 100: time.Hour, 1 << 30: time.Hour,
	}
	for failures, d := range want {
		assert.Equal(t, d, lockFor(failures), "failures %d", failures)
	}
}

// FuzzVerifyPHC: a stored hash string of any shape must not panic the
// parser or the verifier, and what parses must render back unchanged.
func FuzzVerifyPHC(f *testing.F) {
	good, err := hashPassword("password!!", testParams)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "password!!")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"+strings.Repeat("A", 43), "x")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "")
	f.Add("$argon2id$v=19$m=64,t=1,p=255$$", "")
	f.Add("$$$$$", "")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, stored, password string) {
		h, err := parsePHC(stored)
		if err != nil {
			return
		}
		if h.String() != stored {
			t.Fatalf("%q parsed but renders as %q", stored, h.String())
		}
		// Verify only what is cheap enough to run many times.
		if h.params.Memory <= 256 && h.params.Time <= 2 {
			_, _, err := verifyPassword(password, stored, testParams)
			if err != nil {
				t.Fatalf("parsed but does not verify: %v", err)
			}
		}
	})
}
