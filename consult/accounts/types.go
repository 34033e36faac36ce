package accounts

import (
	"time"

	"github.com/moinha/moinha/consult"
)

// User is a staff account of this node. The Service's methods return it
// without PasswordHash; only the stored record has it.
type User struct {
	Username     string       `json:"username"`
	Role         consult.Role `json:"role"`
	Facility     string       `json:"facility,omitempty"`
	DisplayName  string       `json:"display_name,omitempty"`
	PasswordHash string       `json:"password_hash"` // argon2id, PHC string format
	Failures     int          `json:"failures"`      // consecutive failed logins
	LockedUntil  time.Time    `json:"locked_until"`
	Created      time.Time    `json:"created"`
	Updated      time.Time    `json:"updated"`
}

// Session is what a valid token stands for. It is stored under the
// SHA-256 of the token, never the token itself.
type Session struct {
	Username string       `json:"username"`
	Role     consult.Role `json:"role"`
	Facility string       `json:"facility,omitempty"`
	Created  time.Time    `json:"created"`
	Expires  time.Time    `json:"expires"`
}
