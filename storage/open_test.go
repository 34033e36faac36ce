package storage_test

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/moinha/moinha/storage"
)

func TestOpenCreatesPrivateFile(t *testing.T) {
	_, path := openTemp(t, nil)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestOpenReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.db")
	db, err := storage.Open(path, nil)
	require.NoError(t, err)
	put(t, db, storage.BucketSettings, "k", "v")
	require.NoError(t, db.Close())
	require.NoError(t, db.Close(), "Close is idempotent")

	db = openAt(t, path, nil)
	v, ok := get[string](t, db, storage.BucketSettings, "k")
	require.True(t, ok)
	assert.Equal(t, "v", v)
	assert.Equal(t, path, db.Path())
}

func TestOpenWhileOpenIsLocked(t *testing.T) {
	_, path := openTemp(t, nil)
	start := time.Now()
	_, err := storage.Open(path, &storage.Options{Timeout: 50 * time.Millisecond})
	require.ErrorIs(t, err, storage.ErrLocked)
	assert.Less(t, time.Since(start), 5*time.Second)

	_, err = storage.Open(path, &storage.Options{Timeout: 50 * time.Millisecond, ReadOnly: true})
	require.ErrorIs(t, err, storage.ErrLocked, "a read-only open waits for the writer's lock too")
}

func TestOpenRandomBytesIsCorrupt(t *testing.T) {
	for _, size := range []int{1, 100, 4096, 5000, 8192, 64 << 10, 1 << 20} {
		path := filepath.Join(t.TempDir(), "random.db")
		b := make([]byte, size)
		_, _ = rand.Read(b)
		require.NoError(t, os.WriteFile(path, b, 0o600))
		_, err := storage.Open(path, &storage.Options{Timeout: 50 * time.Millisecond})
		assert.ErrorIs(t, err, storage.ErrCorrupt, "size %d", size)
		_, err = storage.Open(path, &storage.Options{Timeout: 50 * time.Millisecond, ReadOnly: true})
		assert.ErrorIs(t, err, storage.ErrCorrupt, "read-only, size %d", size)
	}
}

func TestOpenEmptyFileReadOnlyIsCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	_, err := storage.Open(path, &storage.Options{ReadOnly: true})
	require.ErrorIs(t, err, storage.ErrCorrupt)
}

func TestOpenReadOnlyMissingFile(t *testing.T) {
	_, err := storage.Open(filepath.Join(t.TempDir(), "nope.db"), &storage.Options{ReadOnly: true})
	require.ErrorIs(t, err, os.ErrNotExist)
}

// A truncated file used to kill the process with SIGBUS inside bbolt
// (reading the freelist page through the memory map past the end of the
// file); it must be reported as corrupt, read-write and read-only.
func TestOpenTruncatedIsCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "full.db")
	db, err := storage.Open(path, &storage.Options{NoSync: true})
	require.NoError(t, err)
	big := strings.Repeat("x", 1000)
	for i := range 20 {
		require.NoError(t, db.Update(testCtx(t), func(tx *storage.Tx) error {
			for j := range 100 {
				if err := tx.Put(storage.BucketRecords, storage.SeqKey(uint64(i*100+j)), big); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	require.NoError(t, db.Close())
	full, err := os.ReadFile(path)
	require.NoError(t, err)

	for _, size := range []int{100, 4096, 5000, 3 * 4096, 256 << 10, 1 << 20} {
		require.Less(t, size, len(full))
		p := filepath.Join(t.TempDir(), "truncated.db")
		require.NoError(t, os.WriteFile(p, full[:size], 0o600))
		_, err := storage.Open(p, &storage.Options{Timeout: 50 * time.Millisecond})
		assert.ErrorIs(t, err, storage.ErrCorrupt, "size %d", size)
		_, err = storage.Open(p, &storage.Options{Timeout: 50 * time.Millisecond, ReadOnly: true})
		assert.ErrorIs(t, err, storage.ErrCorrupt, "read-only, size %d", size)
		// The failed opens released the file.
		require.NoError(t, os.WriteFile(p, full, 0o600))
		db := openAt(t, p, &storage.Options{Timeout: 50 * time.Millisecond})
		assert.Equal(t, 2000, count(t, db, storage.BucketRecords))
		require.NoError(t, db.Close())
	}
}

func TestOpenForeignBoltFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "foreign.db")
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucket([]byte("widgets"))
		if err != nil {
			return err
		}
		return bk.Put([]byte("a"), []byte("b"))
	}))
	require.NoError(t, b.Close())

	_, err = storage.Open(path, nil)
	require.ErrorIs(t, err, storage.ErrForeign)
	_, err = storage.Open(path, &storage.Options{ReadOnly: true})
	require.ErrorIs(t, err, storage.ErrForeign)

	// A meta bucket with the wrong magic is foreign too.
	b, err = bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucket([]byte(storage.BucketMeta))
		if err != nil {
			return err
		}
		return bk.Put([]byte("magic"), []byte("someone-else"))
	}))
	require.NoError(t, b.Close())
	_, err = storage.Open(path, nil)
	require.ErrorIs(t, err, storage.ErrForeign)
}

func TestOpenEmptyBoltFileIsMigrated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty-bolt.db")
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Close())

	db := openAt(t, path, nil)
	put(t, db, storage.BucketUsers, "u", 1)
}

func TestOpenTooNewSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.db")
	db, err := storage.Open(path, nil)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(storage.BucketMeta)).Put([]byte("schema"), []byte{storage.SchemaVersion + 1})
	}))
	require.NoError(t, b.Close())

	_, err = storage.Open(path, nil)
	require.ErrorIs(t, err, storage.ErrTooNew)
	_, err = storage.Open(path, &storage.Options{ReadOnly: true})
	require.ErrorIs(t, err, storage.ErrTooNew)
	// The refusal released the lock.
	b, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: 50 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, b.Close())
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.db")
	db, err := storage.Open(path, nil)
	require.NoError(t, err)
	put(t, db, storage.BucketSettings, "k", "v")
	require.NoError(t, db.Close())

	ro := openAt(t, path, &storage.Options{ReadOnly: true})
	v, ok := get[string](t, ro, storage.BucketSettings, "k")
	require.True(t, ok)
	assert.Equal(t, "v", v)
	// Update on a read-only DB used to block forever (no writer goroutine).
	require.ErrorIs(t, ro.Update(testCtx(t), func(*storage.Tx) error { return nil }), storage.ErrReadOnly)
	require.ErrorIs(t, ro.View(func(tx *storage.Tx) error { return tx.Put(storage.BucketSettings, "k", "w") }), storage.ErrReadOnly)
}
