package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
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

	ops       chan *op      // pending writes, drained by the writer goroutine
	closing   chan struct{} // closed by Close
	writerWG  sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
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
		if _, statErr := os.Stat(path); statErr != nil {
			return nil, fmt.Errorf("storage: open %s: %w", path, statErr)
		}
	}
	defer func() {
		// bbolt may panic on some damaged files; that is a corrupt file,
		// never a crash of the node.
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, r)
		}
	}()
	b, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         timeout,
		FreelistType:    bolt.FreelistMapType,
		NoSync:          opts.NoSync,
		ReadOnly:        opts.ReadOnly,
		InitialMmapSize: mmap,
	})
	if err != nil {
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
			errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrInvalidMapping):
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
		}
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	db = &DB{
		bolt:     b,
		path:     path,
		maxBatch: opts.MaxBatch,
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

// Path is the file this DB was opened from.
func (db *DB) Path() string { return db.path }

// Close stops the writer after the writes already queued and closes the
// file. It is idempotent.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.closing)
		db.writerWG.Wait()
		db.closeErr = db.bolt.Close()
	})
	return db.closeErr
}

// View runs fn in a read-only transaction.
func (db *DB) View(fn func(*Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	return db.bolt.View(func(btx *bolt.Tx) error {
		return fn(&Tx{tx: btx})
	})
}

// Update runs fn in a write transaction that it may share with other
// concurrent Update calls (group commit: one fsync for all). When Update
// returns nil, fn's writes are durable. fn may run more than once (when a
// batch is retried), so it must not have effects outside the transaction
// other than setting its own results. An error returned by fn aborts fn's
// writes only; its siblings in the batch still commit.
func (db *DB) Update(ctx context.Context, fn func(*Tx) error) error {
	o := &op{fn: fn, done: make(chan error, 1)}
	select {
	case <-db.closing:
		return ErrClosed
	default:
	}
	select {
	case db.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.closing:
		return ErrClosed
	}
	// Once queued, the write will be decided; wait for the decision so a
	// caller never reports failure for something that committed.
	return <-o.done
}
