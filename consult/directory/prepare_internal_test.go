package directory

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

func spliceFacilities() []Facility {
	return []Facility{
		{ID: "79-CHORAY", Code: "CHORAY", Name: "Bệnh viện Chợ Rẫy", NameEN: "Cho Ray Hospital", Level: consult.CentralHospital,
			Province: "79", Commune: "Phường 12", Address: "201B Nguyễn Chí Thanh", Specialties: []string{"cardiology", "surgery"},
			Services: []string{"Cấp cứu 24/7"}, Phone: "028 3855 4137", Email: "bv@choray.vn",
			Geo: &Geo{Lat: 10.7578, Lon: 106.6594}, TZ: "Asia/Ho_Chi_Minh", Updated: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)},
		// Zero and empty fields, nil slices, no geo.
		{ID: "01-X", Code: "X", Name: "X", Level: consult.CommuneHealthStation, Province: "01",
			Specialties: []string{"general_practice"}, Services: []string{}},
		// Characters json.Marshal escapes.
		{ID: "48-Q", Code: "Q", Name: "Trạm \"Q\" <1> & 2 H\u2019Linh\u2028", Commune: "Ea Kao", Address: `Thôn 3 \ 5 ½`,
			Level: consult.CommuneHealthStation, Province: "48", Specialties: []string{"general_practice"},
			Geo: &Geo{Lat: 12, Lon: 108}, Updated: time.Date(2025, 12, 31, 23, 59, 59, 123456789, time.FixedZone("ICT", 7*3600))},
	}
}

func splicePractitioners() []Practitioner {
	return []Practitioner{
		{ID: "79-bs1", Name: "Phạm Minh Đức", Role: "doctor", Facility: "79-CHORAY", Province: "79",
			Specialties: []string{"cardiology"}, Languages: []string{"vi", "en"}, Licence: "000123/HCM-CCHN", Scope: "Nội khoa",
			Updated: time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)},
		{ID: "01-p", Name: "Ý", Role: "nurse", Facility: "01-X", Province: "01"},
		{ID: "48-h", Name: "H'Linh Niê <&>", Role: "midwife", Facility: "48-Q", Province: "48", Languages: []string{}},
	}
}

// stored returns codec byte + json.Marshal(v): what storage writes for v
// (and what ApplyRemote stored before it was split in two: the record of
// remoteFacility or remotePractitioner, stamped, put as it is).
func stored(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return append([]byte{1}, b...)
}

// TestSpliceApplied shows that the bytes ApplyPrepared stores are those
// storage writes for the stored struct with Applied set.
func TestSpliceApplied(t *testing.T) {
	db, err := storage.Open(filepath.Join(t.TempDir(), "node.db"), &storage.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	s := New(db, "66", nil)

	stamps := []time.Time{
		time.Date(2026, 11, 23, 22, 50, 51, 123456789, time.UTC),
		time.Date(2026, 11, 23, 22, 50, 51, 0, time.UTC),         // no fraction
		time.Date(2026, 11, 23, 22, 50, 51, 120000000, time.UTC), // trailing zeros dropped
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),                 // barely non-zero
		time.Now().UTC(),
	}
	type rec struct {
		kind, key string
		payload   []byte
		want      func(applied time.Time) any
	}
	var recs []rec
	for _, f := range spliceFacilities() {
		payload, err := json.Marshal(f)
		require.NoError(t, err)
		recs = append(recs, rec{KindFacility, f.ID, payload, func(at time.Time) any {
			sf, err := remoteFacility(f.ID, f.Province, payload)
			require.NoError(t, err)
			sf.Applied = at
			return sf
		}})
	}
	for _, p := range splicePractitioners() {
		payload, err := json.Marshal(p)
		require.NoError(t, err)
		recs = append(recs, rec{KindPractitioner, p.ID, payload, func(at time.Time) any {
			sp, err := remotePractitioner(p.ID, p.Province, payload)
			require.NoError(t, err)
			sp.Applied = at
			return sp
		}})
	}
	for _, r := range recs {
		c, err := s.PrepareRemote(r.kind, r.key, r.payload, false)
		require.NoError(t, err, r.key)
		b := storage.BucketFacilities
		if r.kind == KindPractitioner {
			b = storage.BucketPractitioners
		}
		read := func() []byte {
			var raw []byte
			require.NoError(t, db.View(func(tx *storage.Tx) error {
				return tx.Scan(b, r.key, "", func(k string, v storage.Value) error {
					if k == r.key {
						raw = append([]byte(nil), v...)
					}
					return nil
				})
			}))
			require.NotNil(t, raw, r.key)
			return raw
		}
		for _, at := range stamps {
			got := storage.EncodedJSON(c.body[:len(c.body)-1], appliedField(nil, at), closeBrace)
			require.NoError(t, db.Update(context.Background(), func(tx *storage.Tx) error { return tx.Put(b, r.key, got) }))
			assert.Equal(t, string(stored(t, r.want(at))), string(read()), "%s at %v", r.key, at)
		}

		// Through ApplyPrepared: the stored bytes re-encode to themselves
		// with the Applied they hold, which lies within the transaction.
		before := time.Now()
		require.NoError(t, db.Update(context.Background(), func(tx *storage.Tx) error { return s.ApplyPrepared(tx, c) }))
		after := time.Now()
		raw := read()
		var applied struct {
			Applied time.Time `json:"applied"`
		}
		require.NoError(t, json.Unmarshal(raw[1:], &applied))
		assert.False(t, applied.Applied.Before(before.Truncate(0)) || applied.Applied.After(after), "applied %v not in [%v, %v]", applied.Applied, before, after)
		assert.Equal(t, string(stored(t, r.want(applied.Applied))), string(raw), r.key)
	}
}

func TestSearchTextMatchesFold(t *testing.T) {
	cases := [][]string{
		{}, {""}, {"", ""}, {"...", "Đắk Lắk"}, {"Đắk Lắk", "", "...", "TP. Hồ Chí Minh"},
		{"Trạm Y tế xã Cư M'gar", "Cu Mgar station", "Ea Kao", "Thôn 3", "TYT-001"},
		{"a\u1b44b", "Nguyễn"}, // a rune that needs foldSlow
		{strings.Repeat("Bệnh viện Đa khoa ", 40), "x"},
	}
	for _, parts := range cases {
		var folded []string
		for _, p := range parts {
			if f := foldSlow(p); f != "" {
				folded = append(folded, f)
			}
		}
		assert.Equal(t, strings.Join(folded, "\n"), searchText(parts...), "%q", parts)
	}
}

func TestFoldRune(t *testing.T) {
	assert.Equal(t, "a", foldRune('ắ'))
	assert.Equal(t, "d", foldRune('Đ'))
	assert.Equal(t, "", foldRune('\u0301'))
	assert.Equal(t, "", foldRune('\u2019'))
	assert.Equal(t, " ", foldRune('–'))
	assert.Equal(t, "\u1100\u1161\u11a8", foldRune('각'))
	assert.Equal(t, foldSlowMark, foldRune('\u1b44'), "Mc of combining class 9")
	assert.Equal(t, foldSlowMark, foldRune('\U0001d165'), "Mc of combining class 216")
	assert.Equal(t, foldSlow("a\u1b44\u093cb"), Fold("a\u1b44\u093cb"))
}
