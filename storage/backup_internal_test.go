package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// dump returns every key and value of every bucket (and each bucket's
// sequence), to compare two files for equality.
func dump(t *testing.T, db *DB) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	require.NoError(t, db.bolt.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			m := map[string]string{"\x00seq": fmt.Sprint(b.Sequence())}
			out[string(name)] = m
			return b.ForEach(func(k, v []byte) error { m[string(k)] = string(v); return nil })
		})
	}))
	return out
}

func openPath(t *testing.T, path string, opts *Options) *DB {
	t.Helper()
	db, err := Open(path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestBackupWhileWritingThenRestore(t *testing.T) {
	dir := t.TempDir()
	live := openPath(t, filepath.Join(dir, "live.db"), nil)

	// Writers run throughout the backup.
	stop := make(chan struct{})
	var committed atomic.Int64
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// Not t.Context(): it ends before the cleanup stops the
				// writers, and a write cut short is no failure here.
				err := live.Update(context.Background(), func(tx *Tx) error {
					key := fmt.Sprintf("w%d/%06d", w, i)
					if err := tx.Put(BucketRecords, key, bytes.Repeat([]byte{byte(i)}, 200)); err != nil {
						return err
					}
					return tx.Audit("writer", "record.write", "record:"+key, "")
				})
				if !assert.NoError(t, err) {
					return
				}
				if committed.Add(1) == 200 {
					once.Do(func() { close(enough) })
				}
			}
		})
	}
	t.Cleanup(func() { close(stop); wg.Wait() })

	<-enough
	backup := filepath.Join(dir, "backup.db")
	n, err := live.BackupFile(backup)
	require.NoError(t, err)
	fi, err := os.Stat(backup)
	require.NoError(t, err)
	assert.Equal(t, n, fi.Size())
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// The backup is a consistent snapshot: its chain verifies and every
	// record in it is in the live file with the same value.
	bk := openPath(t, backup, &Options{ReadOnly: true})
	entries, err := bk.VerifyAudit()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, int64(entries), int64(200))
	snap := dump(t, bk)
	assert.Len(t, snap[string(BucketRecords)], entries+1, "one record per audit entry (plus the sequence)")
	require.NoError(t, bk.Close())

	cur := dump(t, live)
	for k, v := range snap[string(BucketRecords)] {
		if k != "\x00seq" {
			require.Equal(t, v, cur[string(BucketRecords)][k], k)
		}
	}

	// Restore to a new path gives the same file, byte for byte and key for key.
	restored := filepath.Join(dir, "restored", "node.db")
	require.NoError(t, os.MkdirAll(filepath.Dir(restored), 0o700))
	require.NoError(t, Restore(backup, restored))
	a, err := os.ReadFile(backup)
	require.NoError(t, err)
	b, err := os.ReadFile(restored)
	require.NoError(t, err)
	require.True(t, bytes.Equal(a, b))
	fi, err = os.Stat(restored)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	rdb := openPath(t, restored, nil)
	assert.Equal(t, snap, dump(t, rdb))
	got, err := rdb.VerifyAudit()
	require.NoError(t, err)
	assert.Equal(t, entries, got)
	// The restored file is a working node file: the chain continues.
	require.NoError(t, rdb.Update(t.Context(), func(tx *Tx) error { return tx.Audit("admin", "restore.check", "node", "") }))
	got, err = rdb.VerifyAudit()
	require.NoError(t, err)
	assert.Equal(t, entries+1, got)
}

func TestBackupToWriterAndAfterClose(t *testing.T) {
	db := openInternal(t)
	require.NoError(t, db.Update(t.Context(), func(tx *Tx) error { return tx.Put(BucketSettings, "k", "v") }))
	var buf bytes.Buffer
	n, err := db.Backup(&buf)
	require.NoError(t, err)
	assert.Equal(t, int64(buf.Len()), n)
	require.NoError(t, db.Close())
	_, err = db.Backup(&buf)
	require.ErrorIs(t, err, ErrClosed)
	_, err = db.BackupFile(filepath.Join(t.TempDir(), "b.db"))
	require.ErrorIs(t, err, ErrClosed)
}

func TestRestoreOverExistingClosedFile(t *testing.T) {
	dir := t.TempDir()
	src := openPath(t, filepath.Join(dir, "src.db"), nil)
	require.NoError(t, src.Update(t.Context(), func(tx *Tx) error { return tx.Put(BucketSettings, "who", "src") }))
	backup := filepath.Join(dir, "backup.db")
	_, err := src.BackupFile(backup)
	require.NoError(t, err)

	dst := filepath.Join(dir, "dst.db")
	d := openPath(t, dst, nil)
	require.NoError(t, d.Update(t.Context(), func(tx *Tx) error { return tx.Put(BucketSettings, "who", "dst") }))
	require.NoError(t, d.Close())

	require.NoError(t, Restore(backup, dst))
	d = openPath(t, dst, nil)
	var who string
	require.NoError(t, d.View(func(tx *Tx) error { _, err := tx.Get(BucketSettings, "who", &who); return err }))
	assert.Equal(t, "src", who)
}

func TestRestoreRefuses(t *testing.T) {
	dir := t.TempDir()
	good := openPath(t, filepath.Join(dir, "good.db"), nil)
	require.NoError(t, good.Update(t.Context(), func(tx *Tx) error { return tx.Audit("a", "b", "c", "") }))
	backup := filepath.Join(dir, "backup.db")
	_, err := good.BackupFile(backup)
	require.NoError(t, err)
	backupBytes, err := os.ReadFile(backup)
	require.NoError(t, err)

	dst := filepath.Join(dir, "dst.db")
	writeFile := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}

	random := make([]byte, 64<<10)
	_, _ = rand.Read(random)
	foreign := filepath.Join(dir, "foreign.db")
	fb, err := bolt.Open(foreign, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, fb.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err }))
	require.NoError(t, fb.Close())

	// A backup whose audit chain is broken.
	broken := writeFile("broken.db", backupBytes)
	bdb := openPath(t, broken, nil)
	require.NoError(t, bdb.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(BucketAudit)).Delete([]byte(SeqKey(1)))
	}))
	require.NoError(t, bdb.Close())

	for name, tc := range map[string]struct {
		src  string
		want error
	}{
		"random bytes": {writeFile("random.db", random), ErrCorrupt},
		"truncated":    {writeFile("truncated.db", backupBytes[:3*4096]), ErrCorrupt},
		"empty":        {writeFile("empty.db", nil), ErrCorrupt},
		"foreign":      {foreign, ErrForeign},
		"broken chain": {broken, ErrAuditBroken},
		"missing":      {filepath.Join(dir, "missing.db"), os.ErrNotExist},
	} {
		require.ErrorIs(t, Restore(tc.src, dst), tc.want, name)
		_, err := os.Stat(dst)
		require.ErrorIs(t, err, os.ErrNotExist, "%s: nothing written", name)
	}

	// Not while a node has the destination open; the open file is untouched.
	open := openPath(t, dst, nil)
	require.NoError(t, open.Update(t.Context(), func(tx *Tx) error { return tx.Put(BucketSettings, "mine", 1) }))
	require.ErrorIs(t, Restore(backup, dst), ErrLocked)
	require.NoError(t, open.View(func(tx *Tx) error {
		assert.True(t, tx.Has(BucketSettings, "mine"))
		return nil
	}))
	require.NoError(t, open.Close())
	require.NoError(t, Restore(backup, dst))

	// No temporary files are left behind.
	left, err := filepath.Glob(filepath.Join(dir, ".moinha-tmp-*"))
	require.NoError(t, err)
	assert.Empty(t, left)
}
