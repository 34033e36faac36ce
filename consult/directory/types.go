package directory

import (
	"time"

	"github.com/moinha/moinha/consult"
)

// Geo is a WGS84 point.
type Geo struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Facility is a health facility (API.md "Facility"). ID is unique across the
// network: "<province code>-<facility code>".
type Facility struct {
	ID          string        `json:"id"`
	Code        string        `json:"code"`
	Name        string        `json:"name"`              // Vietnamese name
	NameEN      string        `json:"name_en,omitempty"` // English name
	Level       consult.Level `json:"level"`
	Province    string        `json:"province"`
	Commune     string        `json:"commune"`
	Address     string        `json:"address"`
	Specialties []string      `json:"specialties"`
	Services    []string      `json:"services"`
	Phone       string        `json:"phone"`
	Email       string        `json:"email,omitempty"`
	Geo         *Geo          `json:"geo,omitempty"`
	TZ          string        `json:"tz,omitempty"` // IANA zone; empty means Asia/Ho_Chi_Minh
	Updated     time.Time     `json:"updated"`
}

// Practitioner is a health worker (API.md "Practitioner"). ID is unique
// across the network: "<province code>-<local id>".
type Practitioner struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Role        string    `json:"role"` // one of Roles
	Facility    string    `json:"facility"`
	Province    string    `json:"province"`
	Specialties []string  `json:"specialties"`
	Languages   []string  `json:"languages"`
	Licence     string    `json:"licence,omitempty"` // practising licence number
	Scope       string    `json:"scope,omitempty"`   // scope of practice
	Updated     time.Time `json:"updated"`
}

// FacilityFilter selects facilities; zero fields match everything.
type FacilityFilter struct {
	Province  string
	Level     consult.Level
	Specialty string
	Q         string // case- and diacritic-insensitive substring of name, name_en, commune, address, code
}

// PractitionerFilter selects practitioners; zero fields match everything.
type PractitionerFilter struct {
	Province  string // the practitioner's province code
	Facility  string // a facility ID
	Role      string // one of Roles
	Specialty string
	Q         string // case- and diacritic-insensitive substring of name, licence, scope
}
