package calls

import (
	"regexp"

	"github.com/moinha/moinha/consult/accounts"
)

var provinceRE = regexp.MustCompile(`^[0-9A-Za-z]{1,8}$`) // as node init accepts

func validProvince(p string) bool { return provinceRE.MatchString(p) }

func validUsername(n string) bool { return accounts.ValidUsername(n) }

// callIDLen is the length of a call ID: 128 random bits in base32.
const callIDLen = 26

var callIDRE = regexp.MustCompile(`^[a-z2-7]{26}$`)

// ValidID reports whether id has the shape of a call ID.
func ValidID(id string) bool { return callIDRE.MatchString(id) }
