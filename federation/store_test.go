package federation

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/storage"
)

// storedValues writes records of every shape to a real data file and
// returns the file and their keys.
func storedValues(t testing.TB) (*storage.DB, map[string]storedRecord) {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "store.db"), &storage.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	rng := rand.New(rand.NewPCG(1, 2))
	want := make(map[string]storedRecord)
	for i := range 500 {
		sr := storedRecord{V: rng.Uint64N(1 << (i % 64)), D: i%3 == 0}
		switch i % 7 {
		case 0:
			sr.E = nil // encodes as null
		case 1:
			sr.E = []byte{}
		default:
			sr.E = make([]byte, rng.IntN(3000))
			for j := range sr.E {
				sr.E[j] = byte(rng.Uint32())
			}
		}
		if i == 1 {
			sr.V = math.MaxUint64
		}
		want[fmt.Sprintf("o/k/%d", i)] = sr
	}
	require.NoError(t, db.Update(context.Background(), func(tx *storage.Tx) error {
		for k, sr := range want {
			if err := tx.Put(storage.BucketRecords, k, sr); err != nil {
				return err
			}
		}
		// Other shapes encoding/json would still read.
		if err := tx.Put(storage.BucketRecords, "o/k/extra", map[string]any{"e": "AQI=", "v": 7, "x": 1}); err != nil {
			return err
		}
		return tx.Put(storage.BucketRecordLog, "o/1", "kind/key \"quoted\" <b>")
	}))
	want["o/k/extra"] = storedRecord{V: 7, E: []byte{1, 2}}
	return db, want
}

// decodeStored reads what putRecord writes exactly as encoding/json does,
// through its own parser or, for any other shape, through encoding/json.
func TestDecodeStored(t *testing.T) {
	db, want := storedValues(t)
	fast := 0
	require.NoError(t, db.View(func(tx *storage.Tx) error {
		for k, sr := range want {
			v, ok, err := tx.GetValue(storage.BucketRecords, k)
			require.NoError(t, err)
			require.True(t, ok)
			got, err := decodeStored(v)
			require.NoError(t, err, k)
			var ref storedRecord
			require.NoError(t, v.Decode(&ref))
			assert.Equal(t, ref.V, got.V, k)
			assert.Equal(t, ref.D, got.D, k)
			assert.Equal(t, len(sr.E), len(got.E), k)
			assert.Equal(t, string(ref.E), string(got.E), k)
			if _, ok := parseStored(v); ok {
				fast++
			}
		}
		v, _, err := tx.GetValue(storage.BucketRecordLog, "o/1")
		require.NoError(t, err)
		s, err := decodeLogValue(v)
		require.NoError(t, err)
		assert.Equal(t, "kind/key \"quoted\" <b>", s)
		return nil
	}))
	// Every value of putRecord's shape took the direct path (not null or
	// the map).
	assert.Equal(t, len(want)-1-(500+6)/7, fast)
}

func BenchmarkDecodeStored(b *testing.B) {
	db, want := storedValues(b)
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	for _, mode := range []string{"direct", "encoding/json"} {
		b.Run(mode, func(b *testing.B) {
			_ = db.View(func(tx *storage.Tx) error {
				for i := 0; b.Loop(); i++ {
					v, _, _ := tx.GetValue(storage.BucketRecords, keys[i%len(keys)])
					if mode == "direct" {
						_, _ = decodeStored(v)
					} else {
						var sr storedRecord
						_ = v.Decode(&sr)
					}
				}
				return nil
			})
		})
	}
}

// TestEncodeStored: the direct encoder writes what storage's JSON codec
// writes, and parseStored reads it back.
func TestEncodeStored(t *testing.T) {
	for _, sr := range []storedRecord{
		{V: 1, E: []byte{}},
		{V: 42, E: []byte("envelope bytes \x00\xff")},
		{V: 1<<64 - 1, D: true, E: make([]byte, 1000)},
		{V: 7, D: true, E: []byte("abc")},
	} {
		want, err := storage.Encode(sr)
		require.NoError(t, err)
		got := encodeStored(sr)
		assert.Equal(t, want, got, "version %d", sr.V)
		back, err := decodeStored(storage.Value(encodedBytes(t, got)))
		require.NoError(t, err)
		assert.Equal(t, sr, back)
	}
}

// encodedBytes reads e back through a data file, as a reader sees it.
func encodedBytes(t *testing.T, e storage.Encoded) []byte {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "x.db"), &storage.Options{NoSync: true})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Update(t.Context(), func(tx *storage.Tx) error { return tx.Put(storage.BucketRecords, "k", e) }))
	var out []byte
	require.NoError(t, db.View(func(tx *storage.Tx) error {
		v, _, err := tx.GetValue(storage.BucketRecords, "k")
		out = append([]byte(nil), v...)
		return err
	}))
	return out
}
