package directory

import (
	"encoding/json"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold returns s in the form searches compare: lower case, Vietnamese
// diacritics removed ("Đ" → "d", "ắ" → "a"), apostrophes dropped ("M'gar"
// → "mgar"), and every other run of spaces or punctuation turned into one
// space. Fold("TP. Hồ Chí Minh") == "tp ho chi minh".
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	gap := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		case r == '\'' || r == '\u2019' || r == '\u02bc':
			continue
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			gap = true
			continue
		}
		if gap && b.Len() > 0 {
			b.WriteByte(' ')
		}
		gap = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// searchText joins the folded parts with '\n', which Fold never produces,
// so a query cannot match across two fields.
func searchText(parts ...string) string {
	folded := make([]string, 0, len(parts))
	for _, p := range parts {
		if f := Fold(p); f != "" {
			folded = append(folded, f)
		}
	}
	return strings.Join(folded, "\n")
}

// jsonInner returns s as encoding/json writes it inside a string literal,
// without the quotes. JSON escaping works rune by rune, so if s is a
// substring of t then jsonInner(s) is a substring of t's encoding.
func jsonInner(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b[1 : len(b)-1]
}

// jsonField returns the bytes `"name":"value"` as encoding/json writes them.
func jsonField(name, value string) []byte {
	b, _ := json.Marshal(value)
	return append([]byte(`"`+name+`":`), b...)
}

// jsonString returns the bytes `"value"`.
func jsonString(value string) []byte {
	b, _ := json.Marshal(value)
	return b
}
