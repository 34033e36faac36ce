package directory

import (
	"time"
	"unicode/utf8"
)

// A joiner decodes and re-encodes every replicated health worker (about
// 150,000 for the whole network), and encoding/json's reflection was most
// of PrepareRemote's cost. The two functions here do the same for the
// common shape of a record only, and decline anything else, which then
// goes through encoding/json as before: so they never change a result or
// an error. The differential tests (fastjson_test.go) hold them to that.

// Bits of seen, one per Practitioner field.
const (
	seenID = 1 << iota
	seenName
	seenRole
	seenFacility
	seenProvince
	seenSpecialties
	seenLanguages
	seenLicence
	seenScope
	seenUpdated
)

// decodePractitionerFast decodes payload as encoding/json decodes it into a
// zero Practitioner (followed by nothing but whitespace), and reports
// whether it did. It accepts only one JSON object whose keys are spelled
// exactly as Practitioner's json tags, each at most once, with string
// values (the updated one decoded by time.Time's UnmarshalJSON) and arrays
// of strings for specialties and languages, holding no escape, control
// character or invalid UTF-8; when it declines, p is meaningless.
//
// The strings of p share the memory of one copy of payload: one
// allocation instead of one per string.
func decodePractitionerFast(payload []byte) (p Practitioner, ok bool) {
	d := fastDecoder{s: string(payload)}
	d.space()
	if !d.byte('{') {
		return p, false
	}
	d.space()
	if d.byte('}') {
		d.space()
		return p, d.i == len(d.s)
	}
	var seen uint
	for {
		key, ok := d.str()
		if !ok {
			return p, false
		}
		d.space()
		if !d.byte(':') {
			return p, false
		}
		d.space()
		var bit uint
		switch key {
		case "id":
			bit = seenID
			p.ID, ok = d.str()
		case "name":
			bit = seenName
			p.Name, ok = d.str()
		case "role":
			bit = seenRole
			p.Role, ok = d.str()
		case "facility":
			bit = seenFacility
			p.Facility, ok = d.str()
		case "province":
			bit = seenProvince
			p.Province, ok = d.str()
		case "specialties":
			bit = seenSpecialties
			p.Specialties, ok = d.strs()
		case "languages":
			bit = seenLanguages
			p.Languages, ok = d.strs()
		case "licence":
			bit = seenLicence
			p.Licence, ok = d.str()
		case "scope":
			bit = seenScope
			p.Scope, ok = d.str()
		case "updated":
			bit = seenUpdated
			start := d.i
			if _, ok = d.str(); ok {
				// What encoding/json hands an Unmarshaler: the value's
				// bytes, quotes included.
				ok = p.Updated.UnmarshalJSON(payload[start:d.i]) == nil
			}
		default: // unknown, or matched only case-insensitively
			return p, false
		}
		if !ok || seen&bit != 0 {
			return p, false
		}
		seen |= bit
		d.space()
		if d.byte(',') {
			d.space()
			continue
		}
		if !d.byte('}') {
			return p, false
		}
		d.space()
		return p, d.i == len(d.s)
	}
}

// fastDecoder reads s from i on.
type fastDecoder struct {
	s string
	i int
}

// space skips JSON whitespace.
func (d *fastDecoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// byte consumes c if it is next.
func (d *fastDecoder) byte(c byte) bool {
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str consumes a JSON string that holds no escape, no control character
// and only valid UTF-8, and returns its contents.
func (d *fastDecoder) str() (string, bool) {
	if !d.byte('"') {
		return "", false
	}
	s, start := d.s, d.i
	for i := start; i < len(s); i++ {
		if c := s[i]; !jsonStringByte[c] {
			if c != '"' { // '\\' or a control character
				return "", false
			}
			d.i = i + 1
			return s[start:i], utf8.ValidString(s[start:i])
		}
	}
	return "", false
}

// jsonStringByte holds the bytes that stand for themselves in a JSON
// string (when the whole is valid UTF-8): not '"', '\\' or a control
// character (DEL is not one for JSON).
var jsonStringByte = func() (t [256]bool) {
	for c := 0x20; c < len(t); c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainByte is jsonStringByte without "<>&", which json.Marshal escapes,
// and 0xE2, the first byte of U+2028 and U+2029, which it escapes too.
var plainByte = func() (t [256]bool) {
	t = jsonStringByte
	t['<'], t['>'], t['&'], t[0xe2] = false, false, false, false
	return t
}()

// strs consumes a JSON array of strings as str reads them; [] gives an
// empty, non-nil slice, as encoding/json does.
func (d *fastDecoder) strs() ([]string, bool) {
	if !d.byte('[') {
		return nil, false
	}
	list := make([]string, 0, 2)
	d.space()
	if d.byte(']') {
		return list, true
	}
	for {
		v, ok := d.str()
		if !ok {
			return nil, false
		}
		list = append(list, v)
		d.space()
		if d.byte(']') {
			return list, true
		}
		if !d.byte(',') {
			return nil, false
		}
		d.space()
	}
}

// appendStoredPractitioner appends the bytes json.Marshal writes for r and
// reports whether it did. It declines (and dst is then meaningless) when
// Applied is set or a string holds a character json.Marshal would escape,
// other than the newlines that separate the parts of Search.
func appendStoredPractitioner(dst []byte, r *storedPractitioner) ([]byte, bool) {
	if !r.Applied.IsZero() {
		return dst, false
	}
	p := &r.Practitioner
	n := 160 + len(r.Search) + len(p.ID) + len(p.Name) + len(p.Role) + len(p.Facility) +
		len(p.Province) + len(p.Licence) + len(p.Scope) + len(time.RFC3339Nano)
	for _, s := range p.Specialties {
		n += len(s) + 3
	}
	for _, s := range p.Languages {
		n += len(s) + 3
	}
	if cap(dst)-len(dst) < n {
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	ok := true
	dst = append(dst, `{"search":`...)
	dst, ok = appendPlainString(dst, r.Search, ok)
	dst = append(dst, `,"id":`...)
	dst, ok = appendPlainString(dst, p.ID, ok)
	dst = append(dst, `,"name":`...)
	dst, ok = appendPlainString(dst, p.Name, ok)
	dst = append(dst, `,"role":`...)
	dst, ok = appendPlainString(dst, p.Role, ok)
	dst = append(dst, `,"facility":`...)
	dst, ok = appendPlainString(dst, p.Facility, ok)
	dst = append(dst, `,"province":`...)
	dst, ok = appendPlainString(dst, p.Province, ok)
	dst = append(dst, `,"specialties":`...)
	dst, ok = appendPlainStrings(dst, p.Specialties, ok)
	dst = append(dst, `,"languages":`...)
	dst, ok = appendPlainStrings(dst, p.Languages, ok)
	if p.Licence != "" {
		dst = append(dst, `,"licence":`...)
		dst, ok = appendPlainString(dst, p.Licence, ok)
	}
	if p.Scope != "" {
		dst = append(dst, `,"scope":`...)
		dst, ok = appendPlainString(dst, p.Scope, ok)
	}
	dst = append(dst, `,"updated":"`...)
	// time.Time's MarshalJSON, unquoted; it fails only for years outside
	// 0-9999 and zone offsets of 24 hours or more.
	dst, err := p.Updated.AppendText(dst)
	if err != nil || !ok {
		return dst, false
	}
	return append(dst, `"}`...), true
}

// appendPlainString appends s as json.Marshal quotes it, if ok and s holds
// no character that it escapes other than '\n'; else it reports false.
func appendPlainString(dst []byte, s string, ok bool) ([]byte, bool) {
	if !ok {
		return dst, false
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plainByte[c] {
			continue
		}
		switch {
		case c == '\n':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'n')
			start = i + 1
		case c == 0xe2:
			// U+2028 and U+2029 are E2 80 A8 and E2 80 A9 (in valid
			// UTF-8, E2 only ever starts a character).
			if i+2 < len(s) && s[i+1] == 0x80 && s[i+2]&^1 == 0xa8 {
				return dst, false
			}
		default:
			return dst, false
		}
	}
	if !utf8.ValidString(s) {
		return dst, false
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), true
}

// appendPlainStrings appends list as json.Marshal writes a []string (null
// for nil), under appendPlainString's conditions.
func appendPlainStrings(dst []byte, list []string, ok bool) ([]byte, bool) {
	if !ok {
		return dst, false
	}
	if list == nil {
		return append(dst, "null"...), true
	}
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, ok = appendPlainString(dst, s, ok); !ok {
			return dst, false
		}
	}
	return append(dst, ']'), true
}
