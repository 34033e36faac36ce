package booking

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCodeEntropy(t *testing.T) {
	bits := float64(codeLen) * math.Log2(float64(len(codeAlphabet)))
	assert.GreaterOrEqual(t, bits, 60.0)
	for _, c := range "0O1IL" {
		assert.NotContains(t, codeAlphabet, string(c))
	}
}

func TestNewCode(t *testing.T) {
	seen := make(map[string]bool)
	counts := make(map[rune]int)
	const n = 20000
	for range n {
		c := newCode()
		require.Len(t, c, codeLen)
		for _, r := range c {
			require.Contains(t, codeAlphabet, string(r))
			counts[r]++
		}
		require.False(t, seen[c], "duplicate code")
		seen[c] = true
	}
	// Every symbol is used, none grossly more than another (uniform: n*13/31 ≈ 8400 each).
	require.Len(t, counts, len(codeAlphabet))
	for r, k := range counts {
		assert.InDelta(t, n*codeLen/len(codeAlphabet), k, 600, string(r))
	}
}

func TestCanonicalCode(t *testing.T) {
	c := newCode()
	f := formatCode(c)
	assert.Equal(t, c[:4]+"-"+c[4:8]+"-"+c[8:], f)
	for _, typed := range []string{c, f, strings.ToLower(f), " " + c[:4] + " " + c[4:] + " ", strings.ReplaceAll(f, "-", "--")} {
		got, ok := canonicalCode(typed)
		assert.True(t, ok, typed)
		assert.Equal(t, c, got, typed)
	}
	for _, bad := range []string{"", c[:12], c + "2", "0" + c[1:], "o" + c[1:], "I" + c[1:], "l" + c[1:], c[:12] + "é", strings.Repeat("-", 100)} {
		_, ok := canonicalCode(bad)
		assert.False(t, ok, bad)
	}
}

func TestClock(t *testing.T) {
	for _, tc := range []struct {
		in      string
		allow24 bool
		want    int
		ok      bool
	}{
		{"00:00", false, 0, true},
		{"07:30", false, 450, true},
		{"23:59", false, 1439, true},
		{"24:00", true, 1440, true},
		{"24:00", false, 0, false},
		{"24:01", true, 0, false},
		{"25:00", true, 0, false},
		{"12:60", false, 0, false},
		{"7:30", false, 0, false},
		{"07.30", false, 0, false},
		{"07:3a", false, 0, false},
		{"", false, 0, false},
	} {
		got, ok := clock(tc.in, tc.allow24)
		assert.Equal(t, tc.ok, ok, tc.in)
		if tc.ok {
			assert.Equal(t, tc.want, got, tc.in)
			assert.Equal(t, tc.in, hhmm(got))
		}
	}
}

// FuzzBookRequestJSON decodes a resident's request as the HTTP handler
// would and validates it: it must never panic, and what passes must be
// within the limits.
func FuzzBookRequestJSON(f *testing.F) {
	f.Add([]byte(`{"facility":"66-TYT001","start":"2030-03-05T08:00:00+07:00","name":"Nguyễn Văn A","phone":"0912345678","reason":"ho","birth_year":1980}`))
	f.Add([]byte(`{"facility":"x","start":"2030-03-05T08:00:00Z","name":"\u0000","phone":"+84 (28) 3812-3456"}`))
	f.Add([]byte(`{"start":"0001-01-01T00:00:00Z","birth_year":-1}`))
	f.Add([]byte(`{"name":"` + strings.Repeat("ệ", 101) + `","phone":"++84"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"start":"9999-12-31T23:59:59.999999999-23:59","phone":"+8"}`))
	now := time.Date(2030, 3, 4, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		var r BookRequest
		if err := json.Unmarshal(data, &r); err != nil {
			return
		}
		if err := checkRequest(&r, now); err != nil {
			return
		}
		if r.Facility == "" || r.Start.IsZero() || r.Name == "" || len([]rune(r.Name)) > MaxNameRunes ||
			len([]rune(r.Reason)) > MaxReasonRunes {
			t.Fatalf("accepted out of limits: %+v", r)
		}
		if p, ok := normalizePhone(r.Phone); !ok || p != r.Phone {
			t.Fatalf("phone not normalized: %q", r.Phone)
		}
	})
}
