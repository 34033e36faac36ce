package directory_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/sample"
	"github.com/moinha/moinha/storage"
)

// Differential tests of the fast JSON paths of replicated health workers
// (fastjson.go): whenever one accepts an input, its result must be exactly
// encoding/json's; when it declines, encoding/json runs as before.

// checkFastDecode compares the fast decoder with encoding/json on payload
// and reports whether the fast one accepted it.
func checkFastDecode(t testing.TB, payload []byte) bool {
	t.Helper()
	got, ok := directory.FastDecodePractitioner(payload)
	want, err := directory.JSONDecodePractitioner(payload)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("fast decoder accepted %q, which encoding/json refuses: %v", payload, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fast decoder and encoding/json differ on %q:\n fast %#v\n json %#v", payload, got, want)
	}
	return true
}

// checkFastEncode compares the fast encoder with json.Marshal on the
// stored form of p and reports whether the fast one accepted it.
func checkFastEncode(t testing.TB, search string, p directory.Practitioner, applied time.Time) bool {
	t.Helper()
	got, ok := directory.FastEncodeStoredPractitioner(search, p, applied)
	want, err := directory.JSONEncodeStoredPractitioner(search, p, applied)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("fast encoder accepted %#v, which json.Marshal refuses: %v", p, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("fast encoder and json.Marshal differ:\n fast %s\n json %s", got, want)
	}
	return true
}

// checkFastPrepare compares what PrepareRemote's practitioner part gives
// (body or error) with the encoding/json-only path, and returns the
// latter's result for further checks.
func checkFastPrepare(t testing.TB, key, province string, payload []byte) (body []byte, search string, p directory.Practitioner, err error) {
	t.Helper()
	got, gotErr := directory.FastPrepareBody(key, province, payload)
	body, search, p, err = directory.JSONPrepareBody(key, province, payload)
	switch {
	case (gotErr == nil) != (err == nil):
		t.Fatalf("prepare of %q: error %v with the fast paths, %v without", payload, gotErr, err)
	case err != nil && gotErr.Error() != err.Error():
		t.Fatalf("prepare of %q: error %q with the fast paths, %q without", payload, gotErr, err)
	case !bytes.Equal(got, body):
		t.Fatalf("prepare of %q stores\n %s\nwith the fast paths, and\n %s\nwithout", payload, got, body)
	}
	return body, search, p, err
}

// goodPractitioner is the payload an origin sends for a typical record.
const goodPractitioner = `{"id":"79-nv1","name":"Nguyễn Văn Ánh","role":"doctor","facility":"79-BVCR","province":"79",` +
	`"specialties":["cardiology"],"languages":["vi","en"],"licence":"000123/HCM-CCHN","scope":"Nội khoa",` +
	`"updated":"2026-11-23T08:00:00.123456789Z"}`

// TestFastJSONKnowsEveryField fails when a field of the stored health
// worker changes: the fast decoder and encoder spell out these fields
// (in this order) and must change with them.
func TestFastJSONKnowsEveryField(t *testing.T) {
	assert.Equal(t, []string{
		"Search string `json:\"search\"`",
		"ID string `json:\"id\"`",
		"Name string `json:\"name\"`",
		"Role string `json:\"role\"`",
		"Facility string `json:\"facility\"`",
		"Province string `json:\"province\"`",
		"Specialties []string `json:\"specialties\"`",
		"Languages []string `json:\"languages\"`",
		"Licence string `json:\"licence,omitempty\"`",
		"Scope string `json:\"scope,omitempty\"`",
		"Updated time.Time `json:\"updated\"`",
		"Applied time.Time `json:\"applied,omitzero\"`",
	}, directory.StoredPractitionerFields())
}

// decodeShapes are payloads the fast decoder must accept (true) or leave
// to encoding/json (false).
var decodeShapes = []struct {
	name    string
	payload string
	accept  bool
}{
	{"typical", goodPractitioner, true},
	{"whitespace everywhere", " \t\n\r{ \"id\" :\t\"79-nv1\" ,\n\"name\"\r: \"A\" , \"specialties\" : [ \"cardiology\" , \"surgery\" ] ,\"languages\":[ ], \"updated\" : \"2026-01-02T03:04:05Z\" } \n\t", true},
	{"empty object", `{}`, true},
	{"empty arrays", `{"specialties":[],"languages":[]}`, true},
	{"other key order", `{"updated":"2026-01-02T03:04:05+07:00","scope":"x","languages":["vi"],"id":"79-a","province":"79"}`, true},
	{"empty strings", `{"id":"","name":"","licence":"","scope":""}`, true},
	{"Vietnamese, Ede and Thai script", `{"name":"Đặng Thị Ửng H'Linh Niê ภาษาไทย 한국어 😀"}`, true},
	{"HTML characters raw", `{"name":"<b>&amp;</b>"}`, true},
	{"U+2028 and U+2029 raw", "{\"name\":\"a\u2028b\u2029c\"}", true},
	{"DEL raw", "{\"name\":\"a\x7fb\"}", true},
	{"U+FFFD raw", "{\"name\":\"\ufffd\"}", true},
	{"negative zone, no fraction", `{"updated":"1999-12-31T23:59:59-03:30"}`, true},
	{"zero time", `{"updated":"0001-01-01T00:00:00Z"}`, true},

	{"escaped quote", `{"name":"a\"b"}`, false},
	{"escaped solidus", `{"id":"79\/nv1"}`, false},
	{"unicode escape", `{"name":"\u00e1"}`, false},
	{"escape in a key", `{"n\u0061me":"x"}`, false},
	{"escape in a time", `{"updated":"2026-01-02T03:04:05\u005a"}`, false},
	{"newline escape", `{"scope":"a\nb"}`, false},
	{"raw tab in a string", "{\"name\":\"a\tb\"}", false},
	{"raw newline in a string", "{\"name\":\"a\nb\"}", false},
	{"raw control character", "{\"name\":\"a\x01b\"}", false},
	{"NUL", "{\"name\":\"a\x00b\"}", false},
	{"invalid UTF-8", "{\"name\":\"Tr\xffm\"}", false},
	{"truncated UTF-8", "{\"name\":\"Tr\xe1\xba\"}", false},
	{"UTF-8 surrogate", "{\"name\":\"\xed\xa0\x80\"}", false},
	{"overlong UTF-8", "{\"name\":\"\xc0\xaf\"}", false},
	{"invalid UTF-8 in an array", "{\"languages\":[\"v\xffi\"]}", false},
	{"invalid UTF-8 in a key", "{\"n\xffame\":\"x\"}", false},
	{"unknown key", `{"id":"79-nv1","search":"x"}`, false},
	{"upper-case key", `{"ID":"79-nv1"}`, false},
	{"mixed-case key", `{"Name":"x"}`, false},
	{"upper-case time key", `{"UPDATED":"2026-01-02T03:04:05Z"}`, false},
	{"key folding to scope (long s)", `{"ſcope":"x"}`, false},
	{"key with a trailing space", `{"licence":"a","licence ":"b"}`, false},
	{"duplicate id", `{"id":"79-a","id":"79-b"}`, false},
	{"duplicate array", `{"specialties":["surgery"],"specialties":[]}`, false},
	{"duplicate time", `{"updated":"2026-01-02T03:04:05Z","updated":"2027-01-02T03:04:05Z"}`, false},
	{"duplicate through case", `{"name":"a","Name":"b"}`, false},
	{"null string", `{"name":null}`, false},
	{"null array", `{"languages":null}`, false},
	{"null time", `{"updated":null}`, false},
	{"null element", `{"languages":[null]}`, false},
	{"null payload", `null`, false},
	{"number", `{"name":1}`, false},
	{"number element", `{"languages":[1]}`, false},
	{"boolean", `{"name":true}`, false},
	{"nested object", `{"name":{"vi":"x"}}`, false},
	{"nested array", `{"languages":[["vi"]]}`, false},
	{"string for an array", `{"languages":"vi"}`, false},
	{"array for a string", `{"name":["x"]}`, false},
	{"bad time", `{"updated":"2026-13-01T00:00:00Z"}`, false},
	{"time without zone", `{"updated":"2026-01-02T03:04:05"}`, false},
	{"time as a number", `{"updated":1767323045}`, false},
	{"trailing garbage", goodPractitioner + ` x`, false},
	{"trailing brace", goodPractitioner + `}`, false},
	{"trailing bracket", goodPractitioner + `]`, false},
	{"second object", goodPractitioner + `{}`, false},
	{"trailing comma", `{"id":"79-nv1",}`, false},
	{"trailing comma in an array", `{"languages":["vi",]}`, false},
	{"missing colon", `{"id" "79-nv1"}`, false},
	{"missing comma", `{"id":"79-nv1" "name":"x"}`, false},
	{"unterminated string", `{"id":"79-nv1`, false},
	{"unterminated object", `{"id":"79-nv1"`, false},
	{"unterminated array", `{"languages":["vi"`, false},
	{"single quotes", `{'id':'79-nv1'}`, false},
	{"byte order mark", "\ufeff{}", false},
	{"empty", ``, false},
	{"only whitespace", " \n", false},
	{"top-level array", `[]`, false},
	{"top-level string", `"x"`, false},
	{"form feed is not JSON whitespace", "{\f}", false},
}

func TestFastDecodePractitionerShapes(t *testing.T) {
	for _, tc := range decodeShapes {
		accepted := checkFastDecode(t, []byte(tc.payload))
		assert.Equal(t, tc.accept, accepted, "%s: %q", tc.name, tc.payload)
		checkFastPrepare(t, "79-nv1", "79", []byte(tc.payload))
	}
}

// encodeShapes are stored records the fast encoder must accept (true) or
// leave to json.Marshal (false).
func encodeShapes() []struct {
	name    string
	search  string
	p       directory.Practitioner
	applied time.Time
	accept  bool
} {
	typical := directory.Practitioner{ID: "79-nv1", Name: "Nguyễn Văn Ánh", Role: "doctor", Facility: "79-BVCR", Province: "79",
		Specialties: []string{"cardiology"}, Languages: []string{"vi", "en"}, Licence: "000123/HCM-CCHN", Scope: "Nội khoa",
		Updated: time.Date(2026, 11, 23, 8, 0, 0, 123456789, time.UTC)}
	with := func(f func(p *directory.Practitioner)) directory.Practitioner {
		p := typical
		p.Specialties = append([]string(nil), typical.Specialties...)
		p.Languages = append([]string(nil), typical.Languages...)
		f(&p)
		return p
	}
	named := func(name string) directory.Practitioner {
		return with(func(p *directory.Practitioner) { p.Name = name })
	}
	const search = "nguyen van anh\n000123/hcm-cchn\nnoi khoa"
	return []struct {
		name    string
		search  string
		p       directory.Practitioner
		applied time.Time
		accept  bool
	}{
		{"typical", search, typical, time.Time{}, true},
		{"zero record", "", directory.Practitioner{}, time.Time{}, true},
		{"nil slices", search, with(func(p *directory.Practitioner) { p.Specialties, p.Languages = nil, nil }), time.Time{}, true},
		{"empty slices", search, with(func(p *directory.Practitioner) { p.Specialties, p.Languages = []string{}, []string{} }), time.Time{}, true},
		{"no licence or scope", "nguyen van anh", with(func(p *directory.Practitioner) { p.Licence, p.Scope = "", "" }), time.Time{}, true},
		{"only newlines in search", "\n\n", typical, time.Time{}, true},
		{"zone offset", search, with(func(p *directory.Practitioner) { p.Updated = p.Updated.In(time.FixedZone("ICT", 7*3600)) }), time.Time{}, true},
		{"no fraction", search, with(func(p *directory.Practitioner) { p.Updated = p.Updated.Truncate(time.Second) }), time.Time{}, true},
		{"year 9999", search, with(func(p *directory.Practitioner) { p.Updated = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC) }), time.Time{}, true},
		{"DEL", search, named("a\x7fb"), time.Time{}, true},
		{"U+FFFD", search, named("\ufffd"), time.Time{}, true},
		{"emoji and Thai", search, named("😀 ภาษาไทย"), time.Time{}, true},

		{"applied set", search, typical, time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), false},
		{"quote", search, named(`a"b`), time.Time{}, false},
		{"backslash", search, named(`a\b`), time.Time{}, false},
		{"less than", search, named("a<b"), time.Time{}, false},
		{"greater than", search, named("a>b"), time.Time{}, false},
		{"ampersand", search, named("a&b"), time.Time{}, false},
		{"tab", search, named("a\tb"), time.Time{}, false},
		{"carriage return", search, named("a\rb"), time.Time{}, false},
		{"control character", search, named("a\x01b"), time.Time{}, false},
		{"NUL", search, named("a\x00b"), time.Time{}, false},
		{"newline outside search", search, named("a\nb"), time.Time{}, true},
		{"U+2028", search, named("a\u2028b"), time.Time{}, false},
		{"U+2029", search, named("a\u2029b"), time.Time{}, false},
		{"invalid UTF-8", search, named("Tr\xffm"), time.Time{}, false},
		{"truncated UTF-8 at the end", search, named("Tr\xe1\xba"), time.Time{}, false},
		{"UTF-8 surrogate", search, named("\xed\xa0\x80"), time.Time{}, false},
		{"HTML character in search", "a<b", typical, time.Time{}, false},
		{"HTML character in a specialty", search, with(func(p *directory.Practitioner) { p.Specialties = []string{"a", "<"} }), time.Time{}, false},
		{"invalid UTF-8 in a language", search, with(func(p *directory.Practitioner) { p.Languages = []string{"\xff"} }), time.Time{}, false},
		{"quote in licence", search, with(func(p *directory.Practitioner) { p.Licence = `"` }), time.Time{}, false},
		{"quote in scope", search, with(func(p *directory.Practitioner) { p.Scope = `"` }), time.Time{}, false},
		{"year 10000", search, with(func(p *directory.Practitioner) { p.Updated = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), time.Time{}, false},
		{"year -1", search, with(func(p *directory.Practitioner) { p.Updated = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) }), time.Time{}, false},
		{"zone offset of 24 hours", search, with(func(p *directory.Practitioner) { p.Updated = p.Updated.In(time.FixedZone("", 24*3600)) }), time.Time{}, false},
	}
}

func TestFastEncodeStoredPractitionerShapes(t *testing.T) {
	for _, tc := range encodeShapes() {
		accepted := checkFastEncode(t, tc.search, tc.p, tc.applied)
		assert.Equal(t, tc.accept, accepted, "%s: %#v", tc.name, tc.p)
	}
}

// TestFastJSONEveryCharacter puts every byte, and every rune of the
// Basic Multilingual Plane and many beyond it, in a string of a payload
// (raw) and of a stored record, through both paths.
func TestFastJSONEveryCharacter(t *testing.T) {
	check := func(c string) {
		payload := []byte(`{"name":"a` + c + `b","languages":["` + c + `"]}`)
		checkFastDecode(t, payload)
		p := directory.Practitioner{Name: "a" + c + "b", Languages: []string{c}}
		checkFastEncode(t, "x\n"+c, p, time.Time{})
	}
	for b := range 256 {
		check(string([]byte{byte(b)}))
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r > 0xffff {
			r += 96
		}
		check(string(r))
	}
}

// TestFastJSONSampleHealthWorkers sends every health worker of every
// province's full sample directory through PrepareRemote and through the
// encoding/json path: same records, same bytes, and the fast paths take
// every one of them.
func TestFastJSONSampleHealthWorkers(t *testing.T) {
	db := openDB(t, &storage.Options{NoSync: true})
	s := directory.New(db, "00", nil)
	provinces := sample.Provinces()
	var total, decoded, encoded atomic.Int64
	t.Run("provinces", func(t *testing.T) {
		for _, prov := range provinces {
			t.Run(prov.Code, func(t *testing.T) {
				t.Parallel()
				n, dec, enc := checkSampleHealthWorkers(t, s, prov.Code)
				total.Add(n)
				decoded.Add(dec)
				encoded.Add(enc)
			})
		}
	})
	t.Logf("%d health workers of %d provinces: %d decoded and %d encoded by the fast paths",
		total.Load(), len(provinces), decoded.Load(), encoded.Load())
	require.Positive(t, total.Load())
	assert.Equal(t, total.Load(), decoded.Load(), "health workers the fast decoder took")
	assert.Equal(t, total.Load(), encoded.Load(), "health workers the fast encoder took")
}

// checkSampleHealthWorkers is TestFastJSONSampleHealthWorkers for one
// province: it returns how many health workers it checked, and how many
// of them the fast decoder and the fast encoder took.
func checkSampleHealthWorkers(t *testing.T, s *directory.Service, code string) (n, decoded, encoded int64) {
	ict := time.FixedZone("ICT", 7*3600)
	base := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	d := sample.Province(code, 1, sample.Full)
	require.NotEmpty(t, d.Practitioners)
	for i, p := range d.Practitioners {
		// The sample leaves Updated zero; an origin stamps it when it
		// writes (UTC, nanoseconds). Vary it.
		at := base.Add(time.Duration(i) * 1_234_567_891)
		switch i % 4 {
		case 1:
			p.Updated = at
		case 2:
			p.Updated = at.Truncate(time.Second)
		case 3:
			p.Updated = at.In(ict)
		}
		payload, err := json.Marshal(p)
		require.NoError(t, err)
		n++

		// Decoding: the fast decoder against encoding/json.
		ref, err := directory.JSONDecodePractitioner(payload)
		require.NoError(t, err, p.ID)
		if got, ok := directory.FastDecodePractitioner(payload); ok {
			decoded++
			if !reflect.DeepEqual(got, ref) {
				t.Fatalf("fast decoder and encoding/json differ on %s:\n fast %#v\n json %#v", payload, got, ref)
			}
		}

		// The whole of PrepareRemote against encoding/json both ways.
		want, search, stored, err := directory.JSONStoreBody(p.ID, p.Province, ref)
		require.NoError(t, err, p.ID)
		c, err := s.PrepareRemote(directory.KindPractitioner, p.ID, payload, false)
		require.NoError(t, err, p.ID)
		if got := directory.PreparedBody(c); !bytes.Equal(got, want) {
			t.Fatalf("PrepareRemote of %s stores\n %s\ninstead of\n %s", p.ID, got, want)
		}

		// Encoding alone: the fast encoder against json.Marshal.
		if got, ok := directory.FastEncodeStoredPractitioner(search, stored, time.Time{}); ok {
			encoded++
			if !bytes.Equal(got, want) {
				t.Fatalf("fast encoder and json.Marshal differ:\n fast %s\n json %s", got, want)
			}
		}
	}
	return n, decoded, encoded
}

// fuzzPayloads are sample health workers as origins send them, and the
// decode shapes.
func fuzzPayloads(f *testing.F) [][]byte {
	var out [][]byte
	for _, code := range []string{"79", "66", "01"} {
		d := sample.Province(code, 1, sample.Small)
		for i, p := range d.Practitioners[:min(5, len(d.Practitioners))] {
			p.Updated = time.Date(2026, 11, 23, 8, i, 0, i*123_000_000, time.UTC)
			b, err := json.Marshal(p)
			require.NoError(f, err)
			out = append(out, b)
		}
	}
	for _, tc := range decodeShapes {
		out = append(out, []byte(tc.payload))
	}
	return out
}

// FuzzFastDecodePractitioner: whenever the fast decoder accepts a payload,
// encoding/json gives the same record; and PrepareRemote's practitioner
// part gives the same body or error as with encoding/json alone.
func FuzzFastDecodePractitioner(f *testing.F) {
	for _, b := range fuzzPayloads(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkFastDecode(t, payload)
		// Use the payload's own ID and province when it has them, so
		// that mutated records get past the checks to the encoder.
		key, province := "79-nv1", "79"
		if p, err := directory.JSONDecodePractitioner(payload); err == nil && p.ID != "" {
			key, province = p.ID, p.Province
		}
		checkFastPrepare(t, key, province, payload)
	})
}

// FuzzFastDecodePractitionerFields puts raw fuzzed text between the
// quotes of a typical record's strings, in its whitespace and as one key,
// so that the fuzzer works directly on what the fast decoder scans.
func FuzzFastDecodePractitionerFields(f *testing.F) {
	f.Add("79-nv1", "name", "Nguyễn Văn Ánh", "doctor", "cardiology", "vi", "Nội khoa", "2026-11-23T08:00:00.123456789Z", "")
	f.Add("79-nv1", "Name", "H'Linh Niê", "nurse", "surgery", "rad", "", "2026-11-23T08:00:00+07:00", " \n\t\r")
	f.Add("79-nv1", "ſcope", "a\u2028b<&>", "midwife", "", "en", "x", "0001-01-01T00:00:00Z", "\f")
	f.Add("79-nv1", "id", "a\\\"b", "doctor", "a\x01b", "v\xffi", "\x7f", "2026-11-23T08:00:00\\u005a", "\ufeff")
	f.Fuzz(func(t *testing.T, id, key, name, role, spec, lang, scope, updated, ws string) {
		payload := ws + `{` + ws + `"id"` + ws + `:` + ws + `"` + id + `"` + ws + `,` + ws + `"` + key + `":"` + name +
			`","role":"` + role + `","facility":"79-BVCR","province":"79","specialties":[` + ws + `"` + spec + `"` + ws +
			`],"languages":["` + lang + `"],"scope":"` + scope + `","updated":"` + updated + `"` + ws + `}` + ws
		checkFastDecode(t, []byte(payload))
		checkFastPrepare(t, id, "79", []byte(payload))
	})
}

// FuzzFastEncodeStoredPractitioner: whenever the fast encoder accepts a
// stored health worker, json.Marshal writes the same bytes. slices picks
// nil, empty or split (on ',') for specialties (bits 0-1) and languages
// (bits 2-3); zone is the offset of Updated in minutes.
func FuzzFastEncodeStoredPractitioner(f *testing.F) {
	add := func(search string, p directory.Practitioner, applied time.Time) {
		var slices byte
		for i, list := range [][]string{p.Specialties, p.Languages} {
			if list != nil {
				slices |= byte(1+min(len(list), 1)) << (2 * i)
			}
		}
		_, off := p.Updated.Zone()
		var appliedSec int64
		if !applied.IsZero() {
			appliedSec = applied.Unix()
		}
		f.Add(search, p.ID, p.Name, p.Role, p.Facility, p.Province, p.Licence, p.Scope,
			strings.Join(p.Specialties, ","), strings.Join(p.Languages, ","), slices,
			p.Updated.Unix(), int64(p.Updated.Nanosecond()), int32(off/60), appliedSec)
	}
	for _, tc := range encodeShapes() {
		add(tc.search, tc.p, tc.applied)
	}
	for _, payload := range fuzzPayloads(f) {
		var p directory.Practitioner
		if json.Unmarshal(payload, &p) != nil {
			continue
		}
		if _, search, stored, err := directory.JSONPrepareBody(p.ID, p.Province, payload); err == nil {
			add(search, stored, time.Time{})
		}
	}
	f.Fuzz(func(t *testing.T, search, id, name, role, facility, province, licence, scope, specs, langs string,
		slices byte, sec, nsec int64, zone int32, appliedSec int64) {
		list := func(mode byte, s string) []string {
			switch mode & 3 {
			case 0:
				return nil
			case 1:
				return []string{}
			default:
				return strings.Split(s, ",")
			}
		}
		updated := time.Unix(sec, nsec).UTC()
		if zone != 0 {
			updated = updated.In(time.FixedZone("", int(zone)*60))
		}
		var applied time.Time
		if appliedSec != 0 {
			applied = time.Unix(appliedSec, 0).UTC()
		}
		p := directory.Practitioner{ID: id, Name: name, Role: role, Facility: facility, Province: province,
			Specialties: list(slices, specs), Languages: list(slices>>2, langs), Licence: licence, Scope: scope, Updated: updated}
		checkFastEncode(t, search, p, applied)
	})
}
