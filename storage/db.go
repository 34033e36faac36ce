package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Options tune Open. A nil *Options means all defaults.
type Options struct {
	// Timeout is how long Open waits for another process to release the
	// file lock. Zero means one second.
	Timeout time.Duration
	// NoSync skips fsync on commit. Only for benchmarks and tests that do
	// not test durability; zero (false) means every commit is synced.
	NoSync bool
	// MaxBatch caps how many Update calls share one commit. Zero means 256.
	MaxBatch int
	// ReadOnly opens the file read-only (for inspecting and restoring).
	ReadOnly bool
	// InitialMmapSize pre-sizes the memory map. Zero means 64 MiB.
	InitialMmapSize int
}

// DB is an open data file. It is safe for concurrent use.
type DB struct {
	bolt     *bolt.DB
	path     string
	maxBatch int
	readOnly bool

	ops       chan *op      // pending writes, drained by the writer goroutine
	closing   chan struct{} // closed by Close, after closed is set
	writerWG  sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	// closeMu guards closed. Update holds it shared while it queues an op,
	// so that once Close has set closed (exclusively) no op can be queued
	// after the writer's final drain and wait forever for its result.
	closeMu sync.RWMutex
	closed  bool
}

// Open opens or creates the data file at path (mode 0600), checks that it
// is a Mọi Nhà file, runs pending migrations, and starts the group-commit
// writer.
func Open(path string, opts *Options) (db *DB, err error) {
	if opts == nil {
		opts = &Options{}
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = time.Second
	}
	mmap := opts.InitialMmapSize
	if mmap == 0 {
		mmap = 64 << 20
	}
	if opts.ReadOnly {
		fi, statErr := os.Stat(path)
		if statErr != nil {
			return nil, fmt.Errorf("storage: open %s: %w", path, statErr)
		}
		if fi.Size() == 0 {
			return nil, fmt.Errorf("%w: %s is empty", ErrCorrupt, path)
		}
	}
	// A damaged file can make bbolt panic, or fault on a page of the memory
	// map that lies past the end of the file; both are a corrupt file, never
	// a crash of the node.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var b *bolt.DB
	defer func() {
		if r := recover(); r != nil {
			if b != nil {
				closeQuietly(b)
			}
			db, err = nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, r)
		}
	}()
	if !opts.ReadOnly {
		// bbolt reads pages when it opens a file read-write; check first,
		// read-only, that the file holds every page its meta page counts.
		if err := checkFile(path, timeout); err != nil {
			return nil, err
		}
	}
	b, err = bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         timeout,
		FreelistType:    bolt.FreelistMapType,
		NoSync:          opts.NoSync,
		ReadOnly:        opts.ReadOnly,
		InitialMmapSize: mmap,
	})
	if err != nil {
		return nil, openError(path, err, opts.ReadOnly)
	}
	if opts.ReadOnly {
		if err := checkSize(b, path); err != nil {
			_ = b.Close()
			return nil, err
		}
	}
	db = &DB{
		bolt:     b,
		path:     path,
		maxBatch: opts.MaxBatch,
		readOnly: opts.ReadOnly,
		ops:      make(chan *op, 1024),
		closing:  make(chan struct{}),
	}
	if db.maxBatch <= 0 {
		db.maxBatch = 256
	}
	if err := db.prepare(opts.ReadOnly); err != nil {
		_ = b.Close()
		return nil, err
	}
	if !opts.ReadOnly {
		db.writerWG.Add(1)
		go db.writer()
	}
	return db, nil
}

// checkFile opens an existing, non-empty file read-only (which reads only
// its two meta pages) and checks its size. It is a corrupt file if bbolt
// cannot read it at all, or if it is shorter than its high-water mark (a
// truncated file: reading the missing pages through the memory map would
// kill the process with SIGBUS).
func checkFile(path string, timeout time.Duration) error {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() == 0 {
		return nil // a new file; bbolt creates or initialises it
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return openError(path, err, true)
	}
	defer closeQuietly(b)
	return checkSize(b, path)
}

// checkSize reports ErrCorrupt if the file is shorter than the pages its
// current meta page says are in use.
func checkSize(b *bolt.DB, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("storage: open %s: %w", path, err)
	}
	var need int64
	if err := b.View(func(tx *bolt.Tx) error { need = tx.Size(); return nil }); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	if fi.Size() < need {
		return fmt.Errorf("%w: %s is truncated (%d bytes, %d in use)", ErrCorrupt, path, fi.Size(), need)
	}
	return nil
}

// openError maps an error of bolt.Open to this package's errors. A
// read-only open writes nothing, so any failure of it that is not the
// operating system's is the file's format ("file size too small" has no
// sentinel in bbolt).
func openError(path string, err error, readOnly bool) error {
	var pathErr *fs.PathError
	var errno syscall.Errno
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("%w: %s", ErrLocked, path)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
		errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrInvalidMapping):
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	case readOnly && !errors.As(err, &pathErr) && !errors.As(err, &errno):
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	return fmt.Errorf("storage: open %s: %w", path, err)
}

// closeQuietly closes b after a failure, when b may itself be damaged.
func closeQuietly(b *bolt.DB) {
	defer func() { _ = recover() }()
	_ = b.Close()
}

// Path is the file this DB was opened from.
func (db *DB) Path() string { return db.path }

// Close stops the writer after the writes already queued and closes the
// file. It is idempotent.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.closeMu.Lock()
		db.closed = true
		db.closeMu.Unlock()
		close(db.closing)
		db.writerWG.Wait()
		db.closeErr = db.bolt.Close()
	})
	return db.closeErr
}

// View runs fn in a read-only transaction.
func (db *DB) View(fn func(*Tx) error) (err error) {
	// A damaged page can make bbolt panic or fault; report it as corrupt.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	err = db.bolt.View(func(btx *bolt.Tx) error {
		return fn(&Tx{tx: btx})
	})
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// Update runs fn in a write transaction that it may share with other
// concurrent Update calls (group commit: one fsync for all). When Update
// returns nil, fn's writes are durable. fn may run more than once (when a
// batch is retried), so it must not have effects outside the transaction
// other than setting its own results. An error returned by fn aborts fn's
// writes only; its siblings in the batch still commit.
func (db *DB) Update(ctx context.Context, fn func(*Tx) error) error {
	if db.readOnly {
		return ErrReadOnly
	}
	o := &op{fn: fn, done: make(chan error, 1)}
	// Holding closeMu shared while queueing cannot block Close for long: the
	// writer keeps draining ops until Close has taken closeMu.
	db.closeMu.RLock()
	if db.closed {
		db.closeMu.RUnlock()
		return ErrClosed
	}
	select {
	case db.ops <- o:
	case <-ctx.Done():
		db.closeMu.RUnlock()
		return ctx.Err()
	}
	db.closeMu.RUnlock()
	// Once queued, the write will be decided; wait for the decision so a
	// caller never reports failure for something that committed.
	return <-o.done
}
