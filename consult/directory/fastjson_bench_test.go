package directory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/directory"
)

// BenchmarkPractitionerJSON compares, per health worker of the sample,
// the fast decoder with encoding/json (decode) and the fast encoder of the
// stored record with json.Marshal (encode).
func BenchmarkPractitionerJSON(b *testing.B) {
	_, recs := benchRecords(b, 500)
	type storedRec struct {
		search string
		p      directory.Practitioner
	}
	stored := make([]storedRec, len(recs))
	for i, r := range recs {
		_, search, p, err := directory.JSONPrepareBody(r.key, r.key[:2], r.payload)
		require.NoError(b, err)
		stored[i] = storedRec{search, p}
	}
	b.Run("decode/fast", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, ok := directory.FastDecodePractitioner(recs[i%len(recs)].payload); !ok {
				b.Fatal("declined")
			}
			i++
		}
	})
	b.Run("decode/json", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := directory.JSONDecodePractitioner(recs[i%len(recs)].payload); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("encode/fast", func(b *testing.B) {
		i := 0
		for b.Loop() {
			r := &stored[i%len(stored)]
			if _, ok := directory.FastEncodeStoredPractitioner(r.search, r.p, time.Time{}); !ok {
				b.Fatal("declined")
			}
			i++
		}
	})
	b.Run("encode/json", func(b *testing.B) {
		i := 0
		for b.Loop() {
			r := &stored[i%len(stored)]
			if _, err := directory.JSONEncodeStoredPractitioner(r.search, r.p, time.Time{}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
