package accounts

import (
	"errors"
	"math"
	"time"

	"github.com/moinha/moinha/consult"
)

// The user-facing failures of this package. Each call returns a new value,
// so no caller can alter another's.

func errBadCredentials() *consult.Error {
	return consult.Errorf(consult.ErrUnauthorized, "bad_credentials", "wrong username or password")
}

func errInvalidToken() *consult.Error {
	return consult.Errorf(consult.ErrUnauthorized, "invalid_token", "the session has expired or is not valid; log in again")
}

func errLocked(retry time.Duration) *consult.Error {
	e := consult.Errorf(consult.ErrLocked, "account_locked", "too many failed logins; try again later")
	e.RetryAfter = max(1, int(math.Ceil(retry.Seconds())))
	return e
}

func errUserNotFound() *consult.Error {
	return consult.Errorf(consult.ErrNotFound, "user_not_found", "no such user")
}

// errHashChanged is internal to Login: the user's hash changed between the
// check of the password and the commit of the login.
var errHashChanged = errors.New("accounts: password hash changed during login")
