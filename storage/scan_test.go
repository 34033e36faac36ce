package storage_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/storage"
)

func TestScanPrefixAndCursor(t *testing.T) {
	db, _ := openTemp(t, nil)
	keys := []string{"a", "a/1", "a/2", "a/3", "a0", "b/1", "b/2"}
	require.NoError(t, db.Update(testCtx(t), func(tx *storage.Tx) error {
		for _, k := range keys {
			if err := tx.Put(storage.BucketRecords, k, k); err != nil {
				return err
			}
		}
		return nil
	}))
	scan := func(prefix, after string, limit int) []string {
		t.Helper()
		var got []string
		require.NoError(t, db.View(func(tx *storage.Tx) error {
			return tx.Scan(storage.BucketRecords, prefix, after, func(k string, v storage.Value) error {
				var s string
				require.NoError(t, v.Decode(&s))
				require.Equal(t, k, s)
				got = append(got, k)
				if limit > 0 && len(got) == limit {
					return storage.ErrStop
				}
				return nil
			})
		}))
		return got
	}
	tests := []struct {
		name, prefix, after string
		limit               int
		want                []string
	}{
		{"all", "", "", 0, keys},
		{"prefix", "a/", "", 0, []string{"a/1", "a/2", "a/3"}},
		{"after inside prefix", "a/", "a/1", 0, []string{"a/2", "a/3"}},
		{"after a missing key", "a/", "a/15", 0, []string{"a/2", "a/3"}},
		{"after the last", "a/", "a/3", 0, nil},
		{"after sorts before prefix", "a/", "a", 0, []string{"a/1", "a/2", "a/3"}},
		{"after sorts past prefix", "a/", "a0", 0, nil},
		{"no prefix, after", "", "a0", 0, []string{"b/1", "b/2"}},
		{"stop early", "", "", 2, []string{"a", "a/1"}},
		{"no match", "c/", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, scan(tt.prefix, tt.after, tt.limit))
		})
	}

	// Paging with the cursor visits every key once.
	var paged []string
	after := ""
	for {
		var page []string
		require.NoError(t, db.View(func(tx *storage.Tx) error {
			return tx.Scan(storage.BucketRecords, "", after, func(k string, _ storage.Value) error {
				page = append(page, k)
				if len(page) == 3 {
					return storage.ErrStop
				}
				return nil
			})
		}))
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1]
	}
	assert.Equal(t, keys, paged)
	var n int
	require.NoError(t, db.View(func(tx *storage.Tx) error {
		var err error
		n, err = tx.Count(storage.BucketRecords, "b/")
		return err
	}))
	assert.Equal(t, 2, n)
}

func TestScanErrorPassesThrough(t *testing.T) {
	db, _ := openTemp(t, nil)
	put(t, db, storage.BucketRecords, "k", 1)
	err := db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketRecords, "", "", func(string, storage.Value) error { return storage.ErrBadValue })
	})
	require.ErrorIs(t, err, storage.ErrBadValue)
}

func TestUnknownBucket(t *testing.T) {
	db, _ := openTemp(t, nil)
	err := db.Update(testCtx(t), func(tx *storage.Tx) error { return tx.Put("nope", "k", 1) })
	require.ErrorContains(t, err, "unknown bucket")
}

func TestValueDecode(t *testing.T) {
	var v struct{ A int }
	require.NoError(t, storage.Value(append([]byte{1}, `{"A":3}`...)).Decode(&v))
	assert.Equal(t, 3, v.A)

	for name, raw := range map[string][]byte{
		"empty":         nil,
		"codec 0":       append([]byte{0}, `{"A":3}`...),
		"codec 2":       append([]byte{2}, `{"A":3}`...),
		"bare JSON":     []byte(`{"A":3}`),
		"bad JSON":      append([]byte{1}, `{"A":`...),
		"wrong type":    append([]byte{1}, `{"A":"x"}`...),
		"just a prefix": {1},
	} {
		assert.ErrorIs(t, storage.Value(raw).Decode(&v), storage.ErrBadValue, name)
	}
}

func TestNextSeqAndSeqKeyOrder(t *testing.T) {
	db, _ := openTemp(t, nil)
	var seqs []uint64
	for range 3 {
		require.NoError(t, db.Update(testCtx(t), func(tx *storage.Tx) error {
			s, err := tx.NextSeq(storage.BucketStats)
			seqs = append(seqs, s)
			return err
		}))
	}
	assert.Equal(t, []uint64{1, 2, 3}, seqs)
	assert.Less(t, storage.SeqKey(255), storage.SeqKey(256))
	assert.Less(t, storage.SeqKey(1<<32), storage.SeqKey(1<<32+1))
}
