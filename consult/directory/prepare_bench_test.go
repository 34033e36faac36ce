package directory_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/sample"
	"github.com/moinha/moinha/storage"
)

// remoteInput is one replicated record as federation hands it over.
type remoteInput struct {
	kind, key string
	payload   []byte
}

// benchRecords returns n facilities and n health workers of province 79's
// full sample directory, encoded as their origin sends them.
func benchRecords(b *testing.B, n int) (facilities, practitioners []remoteInput) {
	b.Helper()
	d := sample.Province("79", 1, sample.Full)
	require.GreaterOrEqual(b, len(d.Facilities), n)
	require.GreaterOrEqual(b, len(d.Practitioners), n)
	for _, f := range d.Facilities[:n] {
		facilities = append(facilities, remoteInput{directory.KindFacility, f.ID, mustJSON(b, f)})
	}
	for _, p := range d.Practitioners[:n] {
		practitioners = append(practitioners, remoteInput{directory.KindPractitioner, p.ID, mustJSON(b, p)})
	}
	return facilities, practitioners
}

// BenchmarkApplyRemote is the cost of one replicated record to the
// transaction that stores it (the writer goroutine), commit excluded:
// records cycle through 500 keys inside one transaction.
func BenchmarkApplyRemote(b *testing.B) {
	facilities, practitioners := benchRecords(b, 500)
	for _, tc := range []struct {
		name string
		recs []remoteInput
	}{{"facility", facilities}, {"practitioner", practitioners}} {
		b.Run(tc.name, func(b *testing.B) {
			db := openDB(b, &storage.Options{NoSync: true})
			s := directory.New(db, "00", nil)
			require.NoError(b, db.Update(context.Background(), func(tx *storage.Tx) error {
				i := 0
				for b.Loop() {
					r := tc.recs[i%len(tc.recs)]
					i++
					if err := s.ApplyRemote(tx, r.kind, r.key, r.payload, false); err != nil {
						return err
					}
				}
				return nil
			}))
		})
	}
}

// foldInputs are the strings searchText folds for a province's sample
// directory, in order.
func foldInputs(b *testing.B) []string {
	d := sample.Province("79", 1, sample.Full)
	var in []string
	for _, f := range d.Facilities {
		in = append(in, f.Name, f.NameEN, f.Commune, f.Address, f.Code)
	}
	for _, p := range d.Practitioners {
		in = append(in, p.Name, p.Licence, p.Scope)
	}
	return in
}

// BenchmarkFold folds the sample directory's strings; ns/op is per string.
func BenchmarkFold(b *testing.B) {
	in := foldInputs(b)
	i := 0
	for b.Loop() {
		directory.Fold(in[i%len(in)])
		i++
	}
}
