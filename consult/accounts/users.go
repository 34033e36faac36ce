package accounts

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

var usernameRE = regexp.MustCompile(`^[a-z0-9._-]{3,32}$`)

const maxFacilityLen = 64

// ValidUsername reports whether name is a well-formed username: 3 to 32 of
// a-z, 0-9, '.', '_' and '-'.
func ValidUsername(name string) bool { return usernameRE.MatchString(name) }

func userSubject(name string) string { return "user:" + name }

// AddUser creates the user, or updates an existing user's role, facility
// and password (which also clears a lockout and ends the user's sessions).
// actor is who does it (a username, "init", "operator"), for the audit
// log. The returned User carries no password hash.
func (s *Service) AddUser(ctx context.Context, actor, username, password string, role consult.Role, facility string) (User, error) {
	if !ValidUsername(username) {
		return User{}, consult.Invalid("username", "use 3 to 32 characters: a-z, 0-9, '.', '_' or '-'")
	}
	if !consult.ValidRole(role) {
		return User{}, consult.Invalid("role", "must be admin, staff, doctor or observer")
	}
	if len(facility) > maxFacilityLen || strings.ContainsFunc(facility, unicode.IsControl) || !utf8.ValidString(facility) {
		return User{}, consult.Invalid("facility", "not a facility ID")
	}
	if !utf8.ValidString(password) {
		return User{}, consult.Invalid("password", "must be valid UTF-8 text")
	}
	pw := normalize(password)
	if err := checkPassword(username, pw); err != nil {
		return User{}, err
	}
	var hash string
	err := s.withHashSlot(ctx, s.params.Memory, func() (err error) {
		hash, err = hashPassword(pw, s.params)
		return err
	})
	if err != nil {
		return User{}, err
	}

	now := s.now().UTC()
	var out User
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		var u User
		existed, err := tx.Get(storage.BucketUsers, username, &u)
		if err != nil {
			return err
		}
		action := "user.create"
		if existed {
			action = "user.update"
			if err := deleteSessionsOf(tx, username); err != nil {
				return err
			}
		} else {
			u = User{Username: username, Created: now}
		}
		u.Role, u.Facility, u.PasswordHash = role, facility, hash
		u.Failures, u.LockedUntil, u.Updated = 0, time.Time{}, now
		if err := tx.Put(storage.BucketUsers, username, &u); err != nil {
			return err
		}
		if err := tx.Audit(actor, action, userSubject(username), "role="+string(role)); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return User{}, err
	}
	out.PasswordHash = ""
	return out, nil
}

// GetUser returns the user (without the password hash), or an error with
// Kind consult.ErrNotFound.
func (s *Service) GetUser(username string) (User, error) {
	var u User
	var ok bool
	err := s.db.View(func(tx *storage.Tx) (err error) {
		ok, err = tx.Get(storage.BucketUsers, username, &u)
		return err
	})
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, errUserNotFound()
	}
	u.PasswordHash = ""
	return u, nil
}

// ListUsers returns every user, by username, without password hashes.
func (s *Service) ListUsers() ([]User, error) {
	var out []User
	err := s.db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketUsers, "", "", func(_ string, v storage.Value) error {
			var u User
			if err := v.Decode(&u); err != nil {
				return err
			}
			u.PasswordHash = ""
			out = append(out, u)
			return nil
		})
	})
	return out, err
}

// DeleteUser removes the user and ends their sessions; actor is recorded
// in the audit log.
func (s *Service) DeleteUser(ctx context.Context, actor, username string) error {
	errMissing := errors.New("missing")
	err := s.db.Update(ctx, func(tx *storage.Tx) error {
		if !tx.Has(storage.BucketUsers, username) {
			return errMissing
		}
		if err := tx.Delete(storage.BucketUsers, username); err != nil {
			return err
		}
		if err := deleteSessionsOf(tx, username); err != nil {
			return err
		}
		return tx.Audit(actor, "user.delete", userSubject(username), "")
	})
	if errors.Is(err, errMissing) {
		return errUserNotFound()
	}
	return err
}

// deleteSessionsOf ends every session of username. Sessions are keyed by
// token hash, so this scans them all (a node has a few thousand at most);
// keys are collected first because deleting during a scan skips keys.
func deleteSessionsOf(tx *storage.Tx, username string) error {
	var keys []string
	err := tx.Scan(storage.BucketSessions, "", "", func(k string, v storage.Value) error {
		var sess Session
		if err := v.Decode(&sess); err != nil {
			return err
		}
		if sess.Username == username {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(storage.BucketSessions, k); err != nil {
			return err
		}
	}
	return nil
}
