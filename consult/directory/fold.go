package directory

import (
	"encoding/json"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold returns s in the form searches compare: lower case, Vietnamese
// diacritics removed ("Đ" → "d", "ắ" → "a"), apostrophes dropped ("M'gar"
// → "mgar"), and every other run of spaces or punctuation turned into one
// space. Fold("TP. Hồ Chí Minh") == "tp ho chi minh".
//
// The definition is foldSlow's: decompose s (NFD), drop the nonspacing
// marks (Mn), map đ/Đ to d, drop apostrophes, turn other non-letters and
// non-digits into gaps and lower-case the rest. Fold computes the same
// rune by rune, from tables: decomposition works per rune except for the
// canonical reordering of combining characters, which cannot change the
// result when every combining character is an Mn (all are dropped). A
// string holding a combining character of another category (e.g. some
// viramas, Mc) takes foldSlow.
func Fold(s string) string {
	var buf [128]byte
	b, ok := appendFold(buf[:0], s)
	if !ok {
		return foldSlow(s)
	}
	return string(b)
}

// foldSlow is Fold by its definition.
func foldSlow(s string) string {
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

// appendFold appends Fold(s) to dst. ok is false, and dst unusable, when
// s holds a rune that needs foldSlow.
func appendFold(dst []byte, s string) (_ []byte, ok bool) {
	start := len(dst)
	gap := false
	var table *[foldTableSize]string
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			i++
			switch f := foldASCII[c]; f {
			case foldGap:
				gap = true
			case foldDrop:
			default:
				if gap && len(dst) > start {
					dst = append(dst, ' ')
				}
				gap = false
				dst = append(dst, f)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		var out string
		if r < foldTableSize {
			if table == nil {
				table = foldTable()
			}
			out = table[r]
		} else {
			out = foldRune(r)
		}
		if out == foldSlowMark {
			return dst, false
		}
		for j := 0; j < len(out); j++ {
			c := out[j]
			if c == foldGap {
				gap = true
				continue
			}
			if gap && len(dst) > start {
				dst = append(dst, ' ')
			}
			gap = false // a rune's continuation bytes never see a gap
			dst = append(dst, c)
		}
	}
	return dst, true
}

const (
	foldGap  = ' '  // in foldASCII and foldRune's result: a gap
	foldDrop = 0xff // in foldASCII: a rune that is dropped
	// foldSlowMark is foldRune's result for a rune that needs foldSlow
	// (never valid UTF-8, so never a real result).
	foldSlowMark = "\xff"
	// foldTableSize bounds the runes whose folding is tabulated: Latin,
	// the combining diacritics, Greek, Cyrillic, Vietnamese (Latin
	// Extended Additional) and General Punctuation.
	foldTableSize = 0x2100
)

// foldASCII is what Fold makes of each ASCII byte: itself lower-cased,
// foldGap or foldDrop.
var foldASCII = func() (t [utf8.RuneSelf]byte) {
	for c := range t {
		t[c] = foldGap
		if out := foldRune(rune(c)); out != "" && out != " " {
			t[c] = out[0]
		} else if out == "" {
			t[c] = foldDrop
		}
	}
	return t
}()

// foldTable holds foldRune(r) for every r below foldTableSize, built on
// first use.
var foldTable = sync.OnceValue(func() *[foldTableSize]string {
	t := new([foldTableSize]string)
	for r := range rune(foldTableSize) {
		t[r] = foldRune(r)
	}
	return t
})

// foldRune returns what foldSlow makes of r on its own: the folded runes
// of its decomposition, with foldGap where a gap starts, or foldSlowMark
// when the decomposition holds a combining character (non-zero combining
// class) that is not an Mn, whose canonical reordering with neighbouring
// runes could change the result.
func foldRune(r rune) string {
	var buf [64]byte
	var out []byte
	for _, d := range string(norm.NFD.AppendString(buf[:0], string(r))) {
		mn := unicode.Is(unicode.Mn, d)
		if !mn && norm.NFD.PropertiesString(string(d)).CCC() != 0 {
			return foldSlowMark
		}
		switch {
		case mn:
			continue
		case d == 'đ' || d == 'Đ':
			d = 'd'
		case d == '\'' || d == '\u2019' || d == '\u02bc':
			continue
		case !unicode.IsLetter(d) && !unicode.IsDigit(d):
			out = append(out, foldGap)
			continue
		}
		out = utf8.AppendRune(out, unicode.ToLower(d))
	}
	return string(out)
}

// searchText joins the folded parts with '\n', which Fold never produces,
// so a query cannot match across two fields.
func searchText(parts ...string) string {
	var buf [256]byte
	b := buf[:0]
	for _, p := range parts {
		start := len(b)
		if start > 0 {
			b = append(b, '\n')
		}
		folded, ok := appendFold(b, p)
		if !ok {
			folded = append(b, foldSlow(p)...)
		}
		if len(folded) == len(b) { // nothing: no separator either
			folded = b[:start]
		}
		b = folded
	}
	return string(b)
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
