package storage_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/storage"
)

type rec struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

// Values stored from an Encoded, through PutInt or through Put are the
// same bytes, and every read verb reads each of them.
func TestEncodedAndIntValuesAreOrdinaryValues(t *testing.T) {
	db, _ := openTemp(t, &storage.Options{NoSync: true})
	ctx := testCtx(t)
	enc, err := storage.Encode(rec{Name: "Lan <3", N: 7})
	require.NoError(t, err)
	require.Positive(t, enc.Len())
	require.NoError(t, db.Update(ctx, func(tx *storage.Tx) error {
		for _, err := range []error{
			tx.Put(storage.BucketRecords, "plain", rec{Name: "Lan <3", N: 7}),
			tx.Put(storage.BucketRecords, "encoded", enc),
			tx.Put(storage.BucketRecords, "encoded-ptr", &enc),
			tx.Put(storage.BucketRecords, "encoded-json", storage.EncodedJSON([]byte(`{"name":"Lan \u003c3",`), []byte(`"n":7}`))),
			tx.Put(storage.BucketSlotUse, "json", 42),
			tx.PutInt(storage.BucketSlotUse, "int", 42),
			tx.PutInt(storage.BucketSlotUse, "neg", -3),
			tx.PutInt(storage.BucketSlotUse, "zero", 0),
			tx.Put(storage.BucketSlotUse, "float", 2.5),
			tx.Put(storage.BucketSlotUse, "text", "12"),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, db.View(func(tx *storage.Tx) error {
		plain, ok, err := tx.GetValue(storage.BucketRecords, "plain")
		require.NoError(t, err)
		require.True(t, ok)
		for _, k := range []string{"encoded", "encoded-ptr", "encoded-json"} {
			v, ok, err := tx.GetValue(storage.BucketRecords, k)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, []byte(plain), []byte(v), k)
			var r rec
			require.NoError(t, v.Decode(&r))
			assert.Equal(t, rec{Name: "Lan <3", N: 7}, r)
		}
		_, ok, err = tx.GetValue(storage.BucketRecords, "absent")
		require.NoError(t, err)
		assert.False(t, ok)

		j, _, _ := tx.GetValue(storage.BucketSlotUse, "json")
		i, _, _ := tx.GetValue(storage.BucketSlotUse, "int")
		assert.Equal(t, []byte(j), []byte(i), "PutInt writes what Put writes")
		for k, want := range map[string]int64{"json": 42, "int": 42, "neg": -3, "zero": 0} {
			n, ok, err := tx.GetInt(storage.BucketSlotUse, k)
			require.NoError(t, err, k)
			assert.True(t, ok, k)
			assert.Equal(t, want, n, k)
			var viaGet int64
			_, err = tx.Get(storage.BucketSlotUse, k, &viaGet)
			require.NoError(t, err)
			assert.Equal(t, want, viaGet, k)
		}
		n, ok, err := tx.GetInt(storage.BucketSlotUse, "absent")
		assert.NoError(t, err)
		assert.False(t, ok)
		assert.Zero(t, n)
		for _, k := range []string{"float", "text"} {
			_, _, err = tx.GetInt(storage.BucketSlotUse, k)
			assert.ErrorIs(t, err, storage.ErrBadValue, k)
		}
		return nil
	}))
	require.NoError(t, db.View(func(tx *storage.Tx) error {
		assert.ErrorIs(t, tx.PutInt(storage.BucketSlotUse, "x", 1), storage.ErrReadOnly)
		return nil
	}))
	err = db.Update(ctx, func(tx *storage.Tx) error {
		return tx.Put(storage.BucketRecords, "zero", storage.Encoded{})
	})
	assert.Error(t, err, "a zero Encoded is not a value")
}
