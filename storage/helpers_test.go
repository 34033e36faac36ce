package storage_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/storage"
)

// openTemp opens a new data file in t's temporary directory and closes it
// at cleanup. opts may be nil.
func openTemp(t testing.TB, opts *storage.Options) (*storage.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "node.db")
	return openAt(t, path, opts), path
}

// openAt opens path and closes it at cleanup.
func openAt(t testing.TB, path string, opts *storage.Options) *storage.DB {
	t.Helper()
	db, err := storage.Open(path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// testCtx is a context that ends with the test (or after a bounded time),
// so a broken writer fails the test instead of hanging it.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// put stores v at key in one Update.
func put(t testing.TB, db *storage.DB, b storage.Bucket, key string, v any) {
	t.Helper()
	require.NoError(t, db.Update(testCtx(t), func(tx *storage.Tx) error {
		return tx.Put(b, key, v)
	}))
}

// get reads key; ok reports whether it exists.
func get[T any](t testing.TB, db *storage.DB, b storage.Bucket, key string) (v T, ok bool) {
	t.Helper()
	require.NoError(t, db.View(func(tx *storage.Tx) error {
		var err error
		ok, err = tx.Get(b, key, &v)
		return err
	}))
	return v, ok
}

// count returns the number of keys in b.
func count(t testing.TB, db *storage.DB, b storage.Bucket) int {
	t.Helper()
	var n int
	require.NoError(t, db.View(func(tx *storage.Tx) error {
		var err error
		n, err = tx.Count(b, "")
		return err
	}))
	return n
}
