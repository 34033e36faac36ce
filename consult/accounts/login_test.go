package accounts_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/accounts"
	"github.com/moinha/moinha/storage"
)

const pw = "mật khẩu của Lan 2026"

func TestLoginOK(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	e.addUser("lan.nguyen", pw, consult.RoleDoctor)

	token, s, err := e.svc.Login(ctx(t), "lan.nguyen", pw)
	require.NoError(t, err)
	assert.Equal(t, "lan.nguyen", s.Username)
	assert.Equal(t, consult.RoleDoctor, s.Role)
	assert.True(t, s.Created.Equal(e.clock.Now()))
	assert.True(t, s.Expires.Equal(e.clock.Now().Add(accounts.DefaultSessionTTL)))

	raw, err := base64.RawURLEncoding.DecodeString(token)
	require.NoError(t, err)
	assert.Len(t, raw, 32)

	// Only the token's SHA-256 is stored.
	sum := sha256.Sum256([]byte(token))
	var keys []string
	require.NoError(t, e.db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketSessions, "", "", func(k string, v storage.Value) error {
			keys = append(keys, k)
			assert.NotContains(t, string(v), token)
			return nil
		})
	}))
	assert.Equal(t, []string{hex.EncodeToString(sum[:])}, keys)

	got, err := e.svc.Authenticate(token)
	require.NoError(t, err)
	assert.Equal(t, s.Username, got.Username)
	assert.Equal(t, s.Role, got.Role)

	// Phones capitalise and pad; the username still matches.
	_, _, err = e.svc.Login(ctx(t), " Lan.Nguyen ", pw)
	require.NoError(t, err)
	assert.Equal(t, 2, e.sessionCount())
	assert.Contains(t, e.auditActions(), "user.login user:lan.nguyen")
}

func TestLoginWithDefaultParams(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	e.svc = accounts.New(e.db, accounts.Options{Now: e.clock.Now}) // zero Params: the defaults
	e.addUser("admin", pw, consult.RoleAdmin)
	assert.True(t, strings.HasPrefix(e.stored("admin").PasswordHash, "$argon2id$v=19$m=9216,t=4,p=1$"), e.stored("admin").PasswordHash)
	_, _, err := e.svc.Login(ctx(t), "admin", pw)
	require.NoError(t, err)
	_, _, err = e.svc.Login(ctx(t), "admin", pw+"x")
	requireCode(t, err, consult.ErrUnauthorized, "bad_credentials")
	_, _, err = e.svc.Login(ctx(t), "nobody", pw)
	requireCode(t, err, consult.ErrUnauthorized, "bad_credentials")
}

// Hashes made by earlier binaries (m=19456, t=2) still verify under the
// current defaults and are upgraded to them by the first login.
func TestLoginUpgradesEarlierDefaults(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	e.svc = accounts.New(e.db, accounts.Options{Now: e.clock.Now, Params: accounts.Params{Time: 2, Memory: 19456, Threads: 1}})
	e.addUser("admin", pw, consult.RoleAdmin)
	require.True(t, strings.HasPrefix(e.stored("admin").PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$"))

	e.svc = accounts.New(e.db, accounts.Options{Now: e.clock.Now})
	_, _, err := e.svc.Login(ctx(t), "admin", pw)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(e.stored("admin").PasswordHash, "$argon2id$v=19$m=9216,t=4,p=1$"), e.stored("admin").PasswordHash)
	_, _, err = e.svc.Login(ctx(t), "admin", pw)
	require.NoError(t, err)
}

func TestWrongPasswordAndUnknownUserLookAlike(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	e.addUser("staff", pw, consult.RoleStaff)

	_, _, wrong := e.svc.Login(ctx(t), "staff", "not the password")
	_, _, unknown := e.svc.Login(ctx(t), "nobody", pw)
	_, _, malformed := e.svc.Login(ctx(t), "../etc", pw)
	_, _, long := e.svc.Login(ctx(t), "staff", strings.Repeat("x", 10000))
	_, _, badUTF8 := e.svc.Login(ctx(t), "staff", "\xff\xfe password")
	for _, err := range []error{wrong, unknown, malformed, long, badUTF8} {
		ce := requireCode(t, err, consult.ErrUnauthorized, "bad_credentials")
		assert.Equal(t, wrong.Error(), ce.Error())
		assert.Zero(t, ce.RetryAfter)
	}
	assert.Zero(t, e.sessionCount())
	assert.Equal(t, 1, e.stored("staff").Failures)
	users, err := e.svc.ListUsers()
	require.NoError(t, err)
	assert.Len(t, users, 1, "a failed login of an unknown user stores nothing")
}

func TestLockoutBackoffAndReset(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	e.addUser("doctor", pw, consult.RoleDoctor)
	login := func(p string) error {
		t.Helper()
		_, _, err := e.svc.Login(ctx(t), "doctor", p)
		return err
	}
	locked := func(err error, retry int) {
		t.Helper()
		ce := requireCode(t, err, consult.ErrLocked, "account_locked")
		assert.Equal(t, retry, ce.RetryAfter)
	}

	for range accounts.LockAfter - 1 {
		requireCode(t, login("wrong password"), consult.ErrUnauthorized, "bad_credentials")
	}
	locked(login("wrong password"), 30) // the fifth failure locks
	locked(login(pw), 30)               // even the right password waits
	e.clock.Advance(29*time.Second + 500*time.Millisecond)
	locked(login(pw), 1) // rounded up
	assert.Equal(t, 5, e.stored("doctor").Failures, "attempts while locked are not counted")

	// Each further failure doubles the lock, up to an hour.
	e.clock.Advance(time.Second)
	wait := 30 * time.Second
	for _, want := range []int{60, 120, 240, 480, 960, 1920, 3600, 3600} {
		e.clock.Advance(wait)
		locked(login("wrong again"), want)
		wait = time.Duration(want) * time.Second
	}

	// After the lock, the right password resets the count.
	e.clock.Advance(time.Hour)
	require.NoError(t, login(pw))
	u := e.stored("doctor")
	assert.Zero(t, u.Failures)
	assert.True(t, u.LockedUntil.IsZero())
	requireCode(t, login("wrong"), consult.ErrUnauthorized, "bad_credentials")
	assert.Contains(t, e.auditActions(), "user.lock user:doctor")
}

func TestLockoutSurvivesRestart(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	e.addUser("doctor", pw, consult.RoleDoctor)
	for range accounts.LockAfter {
		_, _, _ = e.svc.Login(ctx(t), "doctor", "wrong password")
	}
	e.reopen()
	_, _, err := e.svc.Login(ctx(t), "doctor", pw)
	ce := requireCode(t, err, consult.ErrLocked, "account_locked")
	assert.Equal(t, 30, ce.RetryAfter)
	e.clock.Advance(30 * time.Second)
	e.reopen()
	_, _, err = e.svc.Login(ctx(t), "doctor", "wrong password")
	ce = requireCode(t, err, consult.ErrLocked, "account_locked")
	assert.Equal(t, 60, ce.RetryAfter, "the count survived too")
}

// Guesses sent in parallel all pass the first lock check before any is
// counted; the count must still be exact and the lock must hold.
func TestConcurrentGuessesAreCounted(t *testing.T) {
	e := newEnv(t, accounts.Options{MaxConcurrentHashes: 8})
	e.addUser("doctor", pw, consult.RoleDoctor)
	const n = 24
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, _, errs[i] = e.svc.Login(ctx(t), "doctor", fmt.Sprintf("guess number %d", i)) })
	}
	wg.Wait()

	var bad, locked int
	for _, err := range errs {
		var ce *consult.Error
		require.ErrorAs(t, err, &ce)
		switch ce.Code {
		case "bad_credentials":
			bad++
		case "account_locked":
			locked++
		}
	}
	assert.Equal(t, accounts.LockAfter-1, bad)
	assert.Equal(t, n-bad, locked)
	u := e.stored("doctor")
	assert.Equal(t, accounts.LockAfter, u.Failures)
	assert.True(t, u.LockedUntil.Equal(e.clock.Now().Add(accounts.LockFirst)))
	_, _, err := e.svc.Login(ctx(t), "doctor", pw)
	requireCode(t, err, consult.ErrLocked, "account_locked")
}

func TestSessionExpiryAndPurge(t *testing.T) {
	e := newEnv(t, accounts.Options{SessionTTL: time.Hour})
	e.addUser("staff", pw, consult.RoleStaff)
	early, _, err := e.svc.Login(ctx(t), "staff", pw)
	require.NoError(t, err)
	e.clock.Advance(30 * time.Minute)
	late, s, err := e.svc.Login(ctx(t), "staff", pw)
	require.NoError(t, err)
	assert.True(t, s.Expires.Equal(e.clock.Now().Add(time.Hour)))

	e.clock.Advance(30*time.Minute - time.Nanosecond)
	_, err = e.svc.Authenticate(early)
	require.NoError(t, err)
	e.clock.Advance(time.Nanosecond)
	_, err = e.svc.Authenticate(early)
	requireCode(t, err, consult.ErrUnauthorized, "invalid_token")
	_, err = e.svc.Authenticate(late)
	require.NoError(t, err)

	n, err := e.svc.PurgeExpired(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, 1, e.sessionCount())
	e.clock.Advance(time.Hour)
	n, err = e.svc.PurgeExpired(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Zero(t, e.sessionCount())
}

func TestAuthenticateRejectsJunk(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	e.addUser("staff", pw, consult.RoleStaff)
	token, _, err := e.svc.Login(ctx(t), "staff", pw)
	require.NoError(t, err)
	for _, tok := range []string{
		"", "x", token + "A", token[:42], strings.Repeat("A", 43),
		flipFirst(token), // well formed, unknown
		base64.StdEncoding.EncodeToString(make([]byte, 32)),
		strings.Repeat("+", 43),
	} {
		_, err := e.svc.Authenticate(tok)
		requireCode(t, err, consult.ErrUnauthorized, "invalid_token")
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	e.addUser("staff", pw, consult.RoleStaff)
	a, _, err := e.svc.Login(ctx(t), "staff", pw)
	require.NoError(t, err)
	b, _, err := e.svc.Login(ctx(t), "staff", pw)
	require.NoError(t, err)

	require.NoError(t, e.svc.Logout(ctx(t), a))
	_, err = e.svc.Authenticate(a)
	requireCode(t, err, consult.ErrUnauthorized, "invalid_token")
	_, err = e.svc.Authenticate(b)
	require.NoError(t, err, "other sessions go on")
	require.NoError(t, e.svc.Logout(ctx(t), a), "twice is fine")
	require.NoError(t, e.svc.Logout(ctx(t), "garbage"))
	assert.Contains(t, e.auditActions(), "user.logout user:staff")
}

func TestSessionsFollowTheUser(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	e.addUser("lan", pw, consult.RoleStaff)
	e.addUser("minh", pw, consult.RoleStaff)
	lan, _, err := e.svc.Login(ctx(t), "lan", pw)
	require.NoError(t, err)
	minh, _, err := e.svc.Login(ctx(t), "minh", pw)
	require.NoError(t, err)

	// A new password ends the user's sessions (and only theirs).
	_, err = e.svc.AddUser(ctx(t), "admin", "lan", "một mật khẩu mới", consult.RoleDoctor, "66-BV-01")
	require.NoError(t, err)
	_, err = e.svc.Authenticate(lan)
	requireCode(t, err, consult.ErrUnauthorized, "invalid_token")
	_, err = e.svc.Authenticate(minh)
	require.NoError(t, err)
	_, _, err = e.svc.Login(ctx(t), "lan", pw)
	requireCode(t, err, consult.ErrUnauthorized, "bad_credentials")
	_, s, err := e.svc.Login(ctx(t), "lan", "một mật khẩu mới")
	require.NoError(t, err)
	assert.Equal(t, consult.RoleDoctor, s.Role)
	assert.Equal(t, "66-BV-01", s.Facility)

	// A deleted user's sessions end; the name is then unknown.
	require.NoError(t, e.svc.DeleteUser(ctx(t), "admin", "minh"))
	_, err = e.svc.Authenticate(minh)
	requireCode(t, err, consult.ErrUnauthorized, "invalid_token")
	_, _, err = e.svc.Login(ctx(t), "minh", pw)
	requireCode(t, err, consult.ErrUnauthorized, "bad_credentials")
}

// A login checked against a hash that changed before its commit is not
// counted, and a stale hash is upgraded on a successful login.
func TestRehashOnLogin(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	e.addUser("staff", pw, consult.RoleStaff)
	old := e.stored("staff").PasswordHash
	require.True(t, strings.HasPrefix(old, "$argon2id$v=19$m=64,t=1,p=1$"), old)

	e.svc = accounts.New(e.db, accounts.Options{Now: e.clock.Now, Params: accounts.Params{Time: 2, Memory: 128, Threads: 2}})
	_, _, err := e.svc.Login(ctx(t), "staff", pw)
	require.NoError(t, err, "an old hash still verifies")
	upgraded := e.stored("staff").PasswordHash
	assert.True(t, strings.HasPrefix(upgraded, "$argon2id$v=19$m=128,t=2,p=2$"), upgraded)
	_, _, err = e.svc.Login(ctx(t), "staff", pw)
	require.NoError(t, err)
	assert.Equal(t, upgraded, e.stored("staff").PasswordHash, "no further rehash")
}

// Concurrent logins of a user whose hash is stale all succeed: the one
// that commits its re-hash first changes the hash under the others, which
// check again against the new one (and re-hash no further).
func TestConcurrentLoginsWhileRehashing(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	e.addUser("staff", pw, consult.RoleStaff)
	e.svc = accounts.New(e.db, accounts.Options{Now: e.clock.Now, MaxConcurrentHashes: 8,
		Params: accounts.Params{Time: 2, Memory: 128, Threads: 1}})
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, _, errs[i] = e.svc.Login(ctx(t), "staff", pw) })
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "login %d", i)
	}
	assert.True(t, strings.HasPrefix(e.stored("staff").PasswordHash, "$argon2id$v=19$m=128,t=2,p=1$"))
	assert.Equal(t, n, e.sessionCount())
	assert.Zero(t, e.stored("staff").Failures)

	// A wrong password racing a re-hash still fails.
	e.svc = accounts.New(e.db, accounts.Options{Now: e.clock.Now, MaxConcurrentHashes: 8,
		Params: accounts.Params{Time: 3, Memory: 128, Threads: 1}})
	wg.Go(func() { _, _, errs[0] = e.svc.Login(ctx(t), "staff", pw) })
	wg.Go(func() { _, _, errs[1] = e.svc.Login(ctx(t), "staff", "a wrong password") })
	wg.Wait()
	require.NoError(t, errs[0])
	requireCode(t, errs[1], consult.ErrUnauthorized, "bad_credentials")
}

func TestDamagedHashNeverMatches(t *testing.T) {
	e := newEnv(t, accounts.Options{})
	e.addUser("staff", pw, consult.RoleStaff)
	u := e.stored("staff")
	u.PasswordHash = "$argon2id$v=19$m=64,t=1,p=1$garbage"
	require.NoError(t, e.db.Update(ctx(t), func(tx *storage.Tx) error { return tx.Put(storage.BucketUsers, "staff", &u) }))
	_, _, err := e.svc.Login(ctx(t), "staff", pw)
	requireCode(t, err, consult.ErrUnauthorized, "bad_credentials")
}

func flipFirst(token string) string {
	if token[0] == 'A' {
		return "B" + token[1:]
	}
	return "A" + token[1:]
}
