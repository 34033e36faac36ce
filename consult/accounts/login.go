package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/moinha/moinha/storage"
)

// Lockout policy: after LockAfter consecutive failures an account is locked
// for LockFirst, doubled for each further failure, at most LockMax.
const (
	LockAfter = 5
	LockFirst = 30 * time.Second
	LockMax   = time.Hour
)

// maxPasswordBytes bounds a login's password before normalising it: no
// stored password is longer (MaxPasswordLen runes of up to 4 bytes, plus
// room for combining marks that NFKC composes).
const maxPasswordBytes = 8 * MaxPasswordLen

// tokenBytes is the entropy of a session token; it is sent base64url
// encoded (tokenLen characters).
const (
	tokenBytes = 32
	tokenLen   = 43
)

// lockFor is how long the failures-th consecutive failure locks the account.
func lockFor(failures int) time.Duration {
	if failures < LockAfter {
		return 0
	}
	d := LockFirst
	for i := LockAfter; i < failures && d < LockMax; i++ {
		d *= 2
	}
	return min(d, LockMax)
}

// Login checks a username and password and, if they match, starts a
// session. The token is returned only here; the node keeps its hash.
//
// Unknown users and wrong passwords get the same error (Kind
// consult.ErrUnauthorized, Code "bad_credentials"); a locked account gets
// Kind consult.ErrLocked, Code "account_locked" and RetryAfter in seconds.
// The username is matched case-insensitively (phones capitalise).
func (s *Service) Login(ctx context.Context, username, password string) (token string, sess Session, err error) {
	name := strings.ToLower(strings.TrimSpace(username))
	now := s.now().UTC()
	// Input that no stored password can match is refused at once: the
	// answer depends only on the input, never on an account.
	if len(password) > maxPasswordBytes || !utf8.ValidString(password) {
		return "", Session{}, errBadCredentials()
	}
	pw := normalize(password)
	if utf8.RuneCountInString(pw) > MaxPasswordLen {
		return "", Session{}, errBadCredentials()
	}
	token, sess, err = s.login(ctx, name, pw, now, true)
	if errors.Is(err, errHashChanged) {
		// The hash changed while this attempt was checked against it,
		// typically because a concurrent login of the same user re-hashed
		// it: check again against the current one, once.
		token, sess, err = s.login(ctx, name, pw, now, false)
	}
	return token, sess, err
}

// login checks pw against the stored hash of name and commits the outcome.
// If the hash changed before the commit, it gives errHashChanged when
// mayRetry (and bad_credentials otherwise), having counted nothing.
func (s *Service) login(ctx context.Context, name, pw string, now time.Time, mayRetry bool) (token string, sess Session, err error) {
	var u User
	var known bool
	if ValidUsername(name) {
		if err := s.db.View(func(tx *storage.Tx) (err error) {
			known, err = tx.Get(storage.BucketUsers, name, &u)
			return err
		}); err != nil {
			return "", Session{}, err
		}
	}
	if known && now.Before(u.LockedUntil) {
		return "", Session{}, errLocked(u.LockedUntil.Sub(now))
	}

	// The slow part, outside any transaction. An unknown user is checked
	// against the dummy, which costs the same as a current hash.
	stored := s.dummy
	if known {
		stored = u.PasswordHash
	}
	var match, stale bool
	if err := s.withHashSlot(ctx, hashMemory(stored), func() error {
		// A damaged stored hash never matches; an admin must reset it.
		match, stale, _ = verifyPassword(pw, stored, s.params)
		return nil
	}); err != nil {
		return "", Session{}, err
	}
	if !known {
		// A failed login of a known user commits its failure count; pay
		// the same commit, so the answer takes as long.
		if err := s.db.Update(ctx, func(*storage.Tx) error { return nil }); err != nil {
			return "", Session{}, err
		}
		return "", Session{}, errBadCredentials()
	}
	var rehash string
	if match && stale {
		// Parameters changed since this hash was made: upgrade it. Best
		// effort; the login succeeds either way.
		_ = s.withHashSlot(ctx, s.params.Memory, func() (err error) {
			rehash, err = hashPassword(pw, s.params)
			return err
		})
	}
	token, key, err := newToken()
	if err != nil {
		return "", Session{}, err
	}

	var result error
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		result = nil // fn may run more than once
		var cur User
		ok, err := tx.Get(storage.BucketUsers, name, &cur)
		if err != nil {
			return err
		}
		if !ok || cur.PasswordHash != u.PasswordHash {
			// Deleted, re-hashed or given a new password since it was
			// read: the attempt was checked against an old hash. Do not
			// count it.
			result = errBadCredentials()
			if ok && mayRetry {
				result = errHashChanged
			}
			return nil
		}
		if now.Before(cur.LockedUntil) {
			// Concurrent failures locked it meanwhile; even a right
			// password waits, so parallel guesses gain nothing.
			result = errLocked(cur.LockedUntil.Sub(now))
			return nil
		}
		if !match {
			cur.Failures++
			result = errBadCredentials()
			if d := lockFor(cur.Failures); d > 0 {
				cur.LockedUntil = now.Add(d)
				result = errLocked(d)
				detail := fmt.Sprintf("failures=%d seconds=%d", cur.Failures, int(d.Seconds()))
				if err := tx.Audit(name, "user.lock", userSubject(name), detail); err != nil {
					return err
				}
			}
			return tx.Put(storage.BucketUsers, name, &cur)
		}
		if cur.Failures != 0 || !cur.LockedUntil.IsZero() || rehash != "" {
			cur.Failures, cur.LockedUntil = 0, time.Time{}
			if rehash != "" {
				cur.PasswordHash = rehash
			}
			if err := tx.Put(storage.BucketUsers, name, &cur); err != nil {
				return err
			}
		}
		sess = Session{Username: name, Role: cur.Role, Facility: cur.Facility, Created: now, Expires: now.Add(s.ttl)}
		if err := tx.Put(storage.BucketSessions, key, &sess); err != nil {
			return err
		}
		return tx.Audit(name, "user.login", userSubject(name), "")
	})
	if err != nil {
		return "", Session{}, err
	}
	if result != nil {
		return "", Session{}, result
	}
	return token, sess, nil
}

// Authenticate returns the session a token stands for, with the user's
// current role and facility. Expired, unknown and malformed tokens, and
// tokens of deleted users, get Kind consult.ErrUnauthorized, Code
// "invalid_token". It only reads.
func (s *Service) Authenticate(token string) (Session, error) {
	if !wellFormedToken(token) {
		return Session{}, errInvalidToken()
	}
	now := s.now()
	var sess Session
	var u User
	var found, userFound bool
	err := s.db.View(func(tx *storage.Tx) (err error) {
		if found, err = tx.Get(storage.BucketSessions, tokenKey(token), &sess); err != nil || !found {
			return err
		}
		userFound, err = tx.Get(storage.BucketUsers, sess.Username, &u)
		return err
	})
	if err != nil {
		return Session{}, err
	}
	if !found || !userFound || !now.Before(sess.Expires) {
		return Session{}, errInvalidToken()
	}
	sess.Role, sess.Facility = u.Role, u.Facility
	return sess, nil
}

// Logout ends the token's session. Ending an unknown or expired session is
// not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	if !wellFormedToken(token) {
		return nil
	}
	key := tokenKey(token)
	return s.db.Update(ctx, func(tx *storage.Tx) error {
		if !tx.Has(storage.BucketSessions, key) {
			return nil
		}
		var sess Session
		_, _ = tx.Get(storage.BucketSessions, key, &sess) // a damaged one goes all the same
		if err := tx.Delete(storage.BucketSessions, key); err != nil {
			return err
		}
		return tx.Audit(sess.Username, "user.logout", userSubject(sess.Username), "")
	})
}

// purgeChunk bounds how many sessions one PurgeExpired commit deletes.
const purgeChunk = 512

// PurgeExpired deletes expired (and undecodable) sessions and returns how
// many it deleted.
func (s *Service) PurgeExpired(ctx context.Context) (int, error) {
	now := s.now()
	var keys []string
	err := s.db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketSessions, "", "", func(k string, v storage.Value) error {
			var sess Session
			if v.Decode(&sess) != nil || !now.Before(sess.Expires) {
				keys = append(keys, k)
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	total := 0
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), purgeChunk)]
		keys = keys[len(chunk):]
		var n int
		err := s.db.Update(ctx, func(tx *storage.Tx) error {
			n = 0
			for _, k := range chunk {
				var sess Session
				ok, err := tx.Get(storage.BucketSessions, k, &sess)
				if !ok || (err == nil && now.Before(sess.Expires)) {
					continue
				}
				if err := tx.Delete(storage.BucketSessions, k); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

func newToken() (token, key string, err error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("accounts: token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, tokenKey(token), nil
}

// tokenKey is the session's key in storage: the hex SHA-256 of the token,
// so that a copy of the data file does not hold usable tokens.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func wellFormedToken(token string) bool {
	if len(token) != tokenLen {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	return err == nil && len(b) == tokenBytes
}
