package directory_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/sample"
)

// foldReference is Fold by its definition (directory's foldSlow: NFD,
// marks dropped, rune by rune): what the table-driven fast path must
// reproduce byte for byte.
var foldReference = directory.FoldSlow

func checkFold(t *testing.T, s string) bool {
	t.Helper()
	got, want := directory.Fold(s), foldReference(s)
	if got != want {
		t.Errorf("Fold(%+q) = %+q, reference %+q", s, got, want)
		return false
	}
	return true
}

func TestFoldMatchesReferenceBMP(t *testing.T) {
	bad := 0
	for r := range rune(0x10000) {
		c := string(r)
		for _, s := range []string{c, "a" + c, "a" + c + "b", "a " + c + c} {
			if !checkFold(t, s) {
				bad++
			}
		}
		if bad > 20 {
			t.Fatal("too many differences")
		}
	}
}

func TestFoldMatchesReferenceSample(t *testing.T) {
	n := 0
	check := func(ss ...string) {
		for _, s := range ss {
			n++
			checkFold(t, s)
		}
	}
	for i, p := range sample.Provinces() {
		size := sample.Small
		if i == 0 {
			size = sample.Full
		}
		d := sample.Province(p.Code, int64(i), size)
		check(d.Province.Name)
		for _, f := range d.Facilities {
			check(f.Name, f.NameEN, f.Commune, f.Address, f.Code)
			check(f.Services...)
		}
		for _, p := range d.Practitioners {
			check(p.Name, p.Licence, p.Scope)
		}
	}
	t.Logf("%d strings compared", n)
}

// foldAlphabet mixes what Fold meets in names with what is hard for a
// rune-by-rune fold: combining marks of several classes (some not Mn, such
// as the Balinese adeg adeg, Mc with class 9), Hangul, ligatures, invalid
// UTF-8 and runs long enough for norm's stream-safe CGJ insertion.
var foldAlphabet = []string{
	"a", "Z", "9", " ", "-", ".", "'", "\u2019", "\u02bc", "\t", "Đ", "đ", "ắ", "Ầ", "ờ", "ư", "Ơ", "İ", "ß", "Ⱥ",
	"\u0301", "\u0323", "\u0309", "\u093c", "\u0915", "\u094d", "\u1b44", "\u1b05", "\u0f71", "\u0f72", "\u0f73",
	"\u09cb", "\u0345", "\u20dd", "\u034f", "가", "\u1100", "\u1161", "ﬁ", "Ω", "\u2126", "é", "\ufffd", "\xff",
	"\xe1\xba", "\u2028", "\u00a0", "½", "²", "٣", "\U0001d165", "\U0001d16e", "\U0001f600", "A\u030a",
	strings.Repeat("\u0301", 35), strings.Repeat("\u1b44\u0301", 20),
}

func TestFoldMatchesReferenceRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(foldAlphabet[rng.IntN(len(foldAlphabet))])
		}
		if !checkFold(t, b.String()) {
			return
		}
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range foldAlphabet {
		f.Add(s)
	}
	f.Add("Bệnh viện Đa khoa tỉnh Đắk Lắk 1")
	f.Fuzz(func(t *testing.T, s string) {
		got := directory.Fold(s)
		if want := foldReference(s); got != want {
			t.Fatalf("Fold(%+q) = %+q, reference %+q", s, got, want)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Fold(%+q) = %+q is not UTF-8", s, got)
		}
	})
}
