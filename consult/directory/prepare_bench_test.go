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

// benchByKind runs bench once for the facilities and once for the health
// workers of benchRecords.
func benchByKind(b *testing.B, bench func(b *testing.B, recs []remoteInput)) {
	facilities, practitioners := benchRecords(b, 500)
	b.Run("facility", func(b *testing.B) { bench(b, facilities) })
	b.Run("practitioner", func(b *testing.B) { bench(b, practitioners) })
}

// benchInTx runs step for every loop of b inside one transaction of a new
// data file (commit excluded), i counting the loops.
func benchInTx(b *testing.B, db *storage.DB, step func(tx *storage.Tx, i int) error) {
	require.NoError(b, db.Update(context.Background(), func(tx *storage.Tx) error {
		i := 0
		for b.Loop() {
			if err := step(tx, i); err != nil {
				return err
			}
			i++
		}
		return nil
	}))
}

// BenchmarkApplyRemote is the cost of one replicated record to the
// transaction that stores it (the writer goroutine), commit excluded:
// records cycle through 500 keys inside one transaction.
func BenchmarkApplyRemote(b *testing.B) {
	benchByKind(b, func(b *testing.B, recs []remoteInput) {
		db := openDB(b, &storage.Options{NoSync: true})
		s := directory.New(db, "00", nil)
		benchInTx(b, db, func(tx *storage.Tx, i int) error {
			r := recs[i%len(recs)]
			return s.ApplyRemote(tx, r.kind, r.key, r.payload, false)
		})
	})
}

// BenchmarkPrepareRemote is the part of BenchmarkApplyRemote that runs
// before the transaction, and BenchmarkApplyPrepared the part left in it.
func BenchmarkPrepareRemote(b *testing.B) {
	s := directory.New(openDB(b, &storage.Options{NoSync: true}), "00", nil)
	benchByKind(b, func(b *testing.B, recs []remoteInput) {
		i := 0
		for b.Loop() {
			r := recs[i%len(recs)]
			i++
			if _, err := s.PrepareRemote(r.kind, r.key, r.payload, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkApplyPrepared(b *testing.B) {
	benchByKind(b, func(b *testing.B, recs []remoteInput) {
		db := openDB(b, &storage.Options{NoSync: true})
		s := directory.New(db, "00", nil)
		changes := make([]*directory.RemoteChange, len(recs))
		for i, r := range recs {
			var err error
			changes[i], err = s.PrepareRemote(r.kind, r.key, r.payload, false)
			require.NoError(b, err)
		}
		benchInTx(b, db, func(tx *storage.Tx, i int) error {
			return s.ApplyPrepared(tx, changes[i%len(changes)])
		})
	})
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
