package storage

import "errors"

// Errors returned by this package; match them with errors.Is.
var (
	// ErrForeign means the file is a valid bbolt file that is not a Mọi Nhà
	// data file (no or wrong magic).
	ErrForeign = errors.New("storage: not a Mọi Nhà data file")
	// ErrCorrupt means the file cannot be read as a database at all.
	ErrCorrupt = errors.New("storage: data file is corrupt or not a database")
	// ErrTooNew means the file was written by a newer schema than this binary knows.
	ErrTooNew = errors.New("storage: data file schema is newer than this binary")
	// ErrLocked means another process holds the data file open.
	ErrLocked = errors.New("storage: data file is in use by another process")
	// ErrClosed is returned by writes after Close.
	ErrClosed = errors.New("storage: database closed")
	// ErrReadOnly is returned by a write verb inside View.
	ErrReadOnly = errors.New("storage: write in a read-only transaction")
	// ErrBadValue means a stored value has an unknown codec version or bad JSON.
	ErrBadValue = errors.New("storage: undecodable value")
	// ErrAuditBroken means the audit chain does not verify.
	ErrAuditBroken = errors.New("storage: audit chain broken")
	// ErrStop ends a Scan early without error.
	ErrStop = errors.New("storage: stop scan")
)
