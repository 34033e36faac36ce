package storage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Backup writes a consistent copy of the whole file to w while the node
// keeps running (a read transaction; writers are not blocked).
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return 0, ErrClosed
	}
	return n, err
}

// BackupFile writes a backup to path atomically (temp file, fsync, rename).
func (db *DB) BackupFile(path string) (int64, error) {
	return writeAtomic(path, func(f *os.File) (int64, error) { return db.Backup(f) })
}

// Restore replaces the data file at dst with the backup at src. src must be
// a Mọi Nhà data file; dst must not be open by a running node.
func Restore(src, dst string) error {
	check, err := Open(src, &Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("storage: backup %s: %w", src, err)
	}
	if _, err := check.VerifyAudit(); err != nil {
		_ = check.Close()
		return fmt.Errorf("storage: backup %s: %w", src, err)
	}
	_ = check.Close()
	if _, err := os.Stat(dst); err == nil {
		// Taking the lock proves no node is running on dst.
		cur, err := Open(dst, &Options{})
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrForeign) {
			return fmt.Errorf("storage: restore over %s: %w", dst, err)
		}
		if cur != nil {
			_ = cur.Close()
		}
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = writeAtomic(dst, func(f *os.File) (int64, error) { return io.Copy(f, in) })
	return err
}

func writeAtomic(path string, fill func(*os.File) (int64, error)) (int64, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".moinha-tmp-*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return 0, err
	}
	n, err := fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return n, nil
}
