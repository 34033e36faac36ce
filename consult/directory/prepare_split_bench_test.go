package directory_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/storage"
)

// BenchmarkPrepareRemote is the part of BenchmarkApplyRemote that runs
// before the transaction, and BenchmarkApplyPrepared the part left in it.
func BenchmarkPrepareRemote(b *testing.B) {
	facilities, practitioners := benchRecords(b, 500)
	db := openDB(b, &storage.Options{NoSync: true})
	s := directory.New(db, "00", nil)
	for _, tc := range []struct {
		name string
		recs []remoteInput
	}{{"facility", facilities}, {"practitioner", practitioners}} {
		b.Run(tc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				r := tc.recs[i%len(tc.recs)]
				i++
				if _, err := s.PrepareRemote(r.kind, r.key, r.payload, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkApplyPrepared(b *testing.B) {
	facilities, practitioners := benchRecords(b, 500)
	for _, tc := range []struct {
		name string
		recs []remoteInput
	}{{"facility", facilities}, {"practitioner", practitioners}} {
		b.Run(tc.name, func(b *testing.B) {
			db := openDB(b, &storage.Options{NoSync: true})
			s := directory.New(db, "00", nil)
			changes := make([]*directory.RemoteChange, len(tc.recs))
			for i, r := range tc.recs {
				var err error
				changes[i], err = s.PrepareRemote(r.kind, r.key, r.payload, false)
				require.NoError(b, err)
			}
			require.NoError(b, db.Update(context.Background(), func(tx *storage.Tx) error {
				i := 0
				for b.Loop() {
					if err := s.ApplyPrepared(tx, changes[i%len(changes)]); err != nil {
						return err
					}
					i++
				}
				return nil
			}))
		})
	}
}
