package directory

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/moinha/moinha/consult"
)

// Limits of directory records.
const (
	MaxCodeLen      = 32  // facility code, [A-Za-z0-9_-]
	MaxLocalIDLen   = 40  // practitioner local ID, [A-Za-z0-9_-]
	MaxProvinceLen  = 16  // province code, [A-Za-z0-9_]
	MaxNameRunes    = 200 // facility and practitioner names
	MaxCommuneRunes = 100
	MaxAddressRunes = 300
	MaxServices     = 20
	MaxServiceRunes = 100
	MaxPhoneLen     = 20
	MaxEmailLen     = 254
	MaxLicenceRunes = 40
	MaxScopeRunes   = 500
	MaxLanguages    = 10
	MaxQueryRunes   = 200
	maxIDLen        = MaxProvinceLen + 1 + MaxLocalIDLen
	maxRecordBytes  = 64 << 10
	defaultTZ       = "Asia/Ho_Chi_Minh"
	geoMinLat       = 6.0 // Trường Sa stations lie south of the mainland
	geoMaxLat       = 24.0
	geoMinLon       = 102.0
	geoMaxLon       = 118.0 // Trường Sa and Hoàng Sa lie east of the mainland
)

// Practitioner roles.
const (
	RoleDoctor             = "doctor"
	RoleNurse              = "nurse"
	RoleMidwife            = "midwife"
	RolePhysicianAssistant = "physician_assistant" // y sĩ
	RolePharmacist         = "pharmacist"
	RoleTechnician         = "technician"
)

// Roles returns the practitioner roles, in a fresh slice.
func Roles() []string {
	return []string{RoleDoctor, RoleNurse, RoleMidwife, RolePhysicianAssistant, RolePharmacist, RoleTechnician}
}

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool { return slices.Contains(Roles(), r) }

// fieldErr is one validation failure; Field is the JSON (and CSV column)
// name of the field.
type fieldErr struct {
	Field, Msg string
}

func (e *fieldErr) consult() error { return consult.Invalid(e.Field, "%s", e.Msg) }

func bad(field, format string, args ...any) *fieldErr {
	return &fieldErr{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func isCodeChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}

// validCode reports whether s is 1..max of [A-Za-z0-9_-].
func validCode(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		if !isCodeChar(r) {
			return false
		}
	}
	return true
}

// ValidProvinceCode reports whether s can be a province code: 1..16 of
// [A-Za-z0-9_] (no '-', which separates it from the rest of an ID).
func ValidProvinceCode(s string) bool {
	return validCode(s, MaxProvinceLen) && !strings.Contains(s, "-")
}

// provinceOf returns the province part of a record ID ("66-TYT01" → "66").
func provinceOf(id string) (string, bool) {
	p, rest, ok := strings.Cut(id, "-")
	if !ok || rest == "" || !ValidProvinceCode(p) {
		return "", false
	}
	return p, true
}

// validID reports whether id is "<province>-<local>" with a valid local part.
func validID(id string) bool {
	_, rest, ok := strings.Cut(id, "-")
	_, pok := provinceOf(id)
	return ok && pok && validCode(rest, MaxLocalIDLen)
}

// text trims and NFC-normalises *s, then checks it is valid UTF-8 without
// control characters and has between min and max runes.
func text(field string, s *string, min, max int) *fieldErr {
	if !utf8.ValidString(*s) {
		return bad(field, "is not valid UTF-8 text")
	}
	*s = norm.NFC.String(strings.TrimSpace(*s))
	n := utf8.RuneCountInString(*s)
	switch {
	case n < min && min == 1:
		return bad(field, "is required")
	case n < min:
		return bad(field, "needs at least %d characters", min)
	case n > max:
		return bad(field, "is longer than %d characters", max)
	}
	if strings.ContainsFunc(*s, unicode.IsControl) {
		return bad(field, "contains control characters")
	}
	return nil
}

// specialties trims and de-duplicates *list and checks every code.
func specialties(list *[]string) *fieldErr {
	out := make([]string, 0, len(*list))
	for _, s := range *list {
		s = strings.TrimSpace(s)
		if s == "" || slices.Contains(out, s) {
			continue
		}
		if !consult.ValidSpecialty(s) {
			return bad("specialties", "unknown specialty %.40q (see the specialty list in docs/api.md)", s)
		}
		out = append(out, s)
	}
	*list = out
	return nil
}

func checkPhone(p string) *fieldErr {
	if p == "" {
		return nil
	}
	if len(p) > MaxPhoneLen {
		return bad("phone", "is longer than %d characters", MaxPhoneLen)
	}
	digits := 0
	for i, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ':
		case r == '+' && i == 0:
		default:
			return bad("phone", "may hold only digits, spaces and a leading '+'")
		}
	}
	if digits < 3 {
		return bad("phone", "needs at least 3 digits")
	}
	return nil
}

func checkEmail(e string) *fieldErr {
	if e == "" {
		return nil
	}
	local, domain, ok := strings.Cut(e, "@")
	switch {
	case len(e) > MaxEmailLen:
		return bad("email", "is longer than %d characters", MaxEmailLen)
	case !ok || local == "" || domain == "" || strings.Contains(domain, "@") ||
		!strings.Contains(domain, ".") || strings.ContainsFunc(e, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return bad("email", "is not an e-mail address")
	}
	return nil
}

func checkGeo(g *Geo) *fieldErr {
	if g == nil {
		return nil
	}
	// Written so that NaN fails every comparison and is rejected.
	if !(g.Lat >= geoMinLat && g.Lat <= geoMaxLat) || !(g.Lon >= geoMinLon && g.Lon <= geoMaxLon) ||
		math.IsInf(g.Lat, 0) || math.IsInf(g.Lon, 0) {
		return bad("geo", "lat %s, lon %s is outside Viet Nam (lat %g..%g, lon %g..%g)",
			strconv.FormatFloat(g.Lat, 'f', -1, 64), strconv.FormatFloat(g.Lon, 'f', -1, 64),
			geoMinLat, geoMaxLat, geoMinLon, geoMaxLon)
	}
	return nil
}

func checkTZ(tz string) *fieldErr {
	if tz == "" {
		return nil
	}
	if len(tz) > 64 || tz == "Local" {
		return bad("tz", "%.64q is not an IANA time zone", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return bad("tz", "%.64q is not an IANA time zone", tz)
	}
	return nil
}

// checkFacility normalises f in place (trimmed, NFC text; de-duplicated
// specialties; non-nil lists) and validates everything that does not depend
// on the node: ID and Province are left to the caller.
func checkFacility(f *Facility) *fieldErr {
	f.Code = strings.TrimSpace(f.Code)
	if f.Code == "" {
		return bad("code", "is required")
	}
	if !validCode(f.Code, MaxCodeLen) {
		return bad("code", "must be 1 to %d letters, digits, '_' or '-'", MaxCodeLen)
	}
	if e := text("name", &f.Name, 1, MaxNameRunes); e != nil {
		return e
	}
	if e := text("name_en", &f.NameEN, 0, MaxNameRunes); e != nil {
		return e
	}
	f.Level = consult.Level(strings.TrimSpace(string(f.Level)))
	if f.Level == "" {
		return bad("level", "is required")
	}
	if !consult.ValidLevel(f.Level) {
		return bad("level", "%.40q is not one of %s", f.Level, levelList())
	}
	if e := text("commune", &f.Commune, 0, MaxCommuneRunes); e != nil {
		return e
	}
	if e := text("address", &f.Address, 0, MaxAddressRunes); e != nil {
		return e
	}
	if e := specialties(&f.Specialties); e != nil {
		return e
	}
	services := make([]string, 0, len(f.Services))
	for _, s := range f.Services {
		if e := text("services", &s, 0, MaxServiceRunes); e != nil {
			return e
		}
		if s != "" && !slices.Contains(services, s) {
			services = append(services, s)
		}
	}
	if len(services) > MaxServices {
		return bad("services", "at most %d services", MaxServices)
	}
	f.Services = services
	f.Phone = strings.TrimSpace(f.Phone)
	if e := checkPhone(f.Phone); e != nil {
		return e
	}
	f.Email = strings.TrimSpace(f.Email)
	if e := checkEmail(f.Email); e != nil {
		return e
	}
	if e := checkGeo(f.Geo); e != nil {
		return e
	}
	f.TZ = strings.TrimSpace(f.TZ)
	return checkTZ(f.TZ)
}

// checkPractitioner normalises and validates p except for its ID, Province
// and whether its facility exists.
func checkPractitioner(p *Practitioner) *fieldErr {
	if e := text("name", &p.Name, 1, MaxNameRunes); e != nil {
		return e
	}
	p.Role = strings.TrimSpace(p.Role)
	if p.Role == "" {
		return bad("role", "is required")
	}
	if !ValidRole(p.Role) {
		return bad("role", "%.40q is not one of %s", p.Role, strings.Join(Roles(), ", "))
	}
	p.Facility = strings.TrimSpace(p.Facility)
	if p.Facility == "" {
		return bad("facility", "is required")
	}
	if !validID(p.Facility) {
		return bad("facility", "%.80q is not a facility ID", p.Facility)
	}
	if e := specialties(&p.Specialties); e != nil {
		return e
	}
	langs := make([]string, 0, len(p.Languages))
	for _, l := range p.Languages {
		l = strings.ToLower(strings.TrimSpace(l))
		if len(l) < 2 || len(l) > 3 || strings.ContainsFunc(l, func(r rune) bool { return r < 'a' || r > 'z' }) {
			return bad("languages", "%.20q is not an ISO 639 language code such as vi, en or rad", l)
		}
		if !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	if len(langs) > MaxLanguages {
		return bad("languages", "at most %d languages", MaxLanguages)
	}
	p.Languages = langs
	if e := text("licence", &p.Licence, 0, MaxLicenceRunes); e != nil {
		return e
	}
	return text("scope", &p.Scope, 0, MaxScopeRunes)
}

func levelList() string {
	s := make([]string, len(consult.Levels))
	for i, l := range consult.Levels {
		s[i] = string(l)
	}
	return strings.Join(s, ", ")
}
