package directory

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// Applying a replicated record is split in two so that the single writer
// goroutine of the data file does only the writes: PrepareRemote checks,
// decodes, validates, folds the search text and encodes the stored record
// on the caller's goroutine, and ApplyPrepared, inside the transaction,
// stamps the time of storing (Applied) and writes.
//
// Applied cannot be encoded ahead: it must not be earlier than the
// commit that makes the record visible (readers of changes since a time
// rely on it). It is the last field of the stored structs and is omitted
// when zero, so the record is encoded with Applied zero, and ApplyPrepared
// splices `,"applied":"<time>"` before the final '}', which gives the very
// bytes json.Marshal writes for the struct with Applied set
// (TestSpliceApplied).

// RemoteChange is a replicated record checked and encoded by PrepareRemote
// for ApplyPrepared. It is immutable, so it may be applied any number of
// times (an Update function may run more than once) and from any
// goroutine.
type RemoteChange struct {
	kind, key string
	bucket    storage.Bucket
	deleted   bool
	// body is the stored record's JSON with Applied zero (so omitted),
	// ending in '}'; nil for a deletion.
	body []byte
}

// PrepareRemote does all of ApplyRemote that needs no transaction: it
// checks kind, key and province, decodes and validates the payload and
// encodes the record as it will be stored. It returns the errors
// ApplyRemote returns for the same input. It is safe for concurrent use.
func (s *Service) PrepareRemote(kind, key string, payload []byte, deleted bool) (*RemoteChange, error) {
	var b storage.Bucket
	switch kind {
	case KindFacility:
		b = storage.BucketFacilities
	case KindPractitioner:
		b = storage.BucketPractitioners
	default:
		return nil, fmt.Errorf("%w: %.40q", ErrUnknownKind, kind)
	}
	province, ok := provinceOf(key)
	if !ok || !validID(key) {
		return nil, remoteInvalid("remote_bad_key", "%s key %.80q is not a record ID", kind, key)
	}
	if province == s.province {
		return nil, consult.Errorf(consult.ErrForbidden, "remote_own_province",
			"%s %s belongs to this node's own province %s; only this node writes it", kind, key, province)
	}
	c := &RemoteChange{kind: kind, key: key, bucket: b, deleted: deleted}
	if deleted {
		return c, nil
	}
	if len(payload) > maxRecordBytes {
		return nil, remoteInvalid("remote_too_large", "%s %s: payload of %d bytes exceeds %d", kind, key, len(payload), maxRecordBytes)
	}
	var rec any
	var err error
	switch kind {
	case KindFacility:
		rec, err = remoteFacility(key, province, payload)
	default:
		rec, err = remotePractitioner(key, province, payload)
	}
	if err != nil {
		return nil, err
	}
	if c.body, err = encodeRecord(rec); err != nil {
		return nil, fmt.Errorf("directory: encode %s %s: %w", kind, key, err)
	}
	return c, nil
}

// encodeRecord is json.Marshal(rec), done without reflection for a health
// worker whose strings need no escaping (appendStoredPractitioner).
func encodeRecord(rec any) ([]byte, error) {
	if sp, ok := rec.(*storedPractitioner); ok {
		if b, ok := appendStoredPractitioner(nil, sp); ok {
			return b, nil
		}
	}
	return json.Marshal(rec)
}

// ApplyPrepared stores (or removes) the record of c inside tx, stamping
// it with the time of storing: the transaction's part of ApplyRemote. It
// is for records prepared in bulk, in order (a joiner pulls a province's
// records in runs of increasing IDs): their pages are packed full, which
// halves what a joiner writes.
func (s *Service) ApplyPrepared(tx *storage.Tx, c *RemoteChange) error {
	return s.applyPrepared(tx, c, tx.Append)
}

// applyPrepared is ApplyPrepared storing with put (Put for one record
// that lands anywhere, Append for runs).
func (s *Service) applyPrepared(tx *storage.Tx, c *RemoteChange, put func(storage.Bucket, string, any) error) error {
	if c == nil || c.bucket == "" {
		return errors.New("directory: apply of a RemoteChange not made by PrepareRemote")
	}
	if c.deleted {
		if err := markGone(tx, c.bucket, c.key, time.Now()); err != nil {
			return fmt.Errorf("directory: apply %s %s: %w", c.kind, c.key, err)
		}
		return nil
	}
	var stamp [48]byte
	v := storage.EncodedJSON(c.body[:len(c.body)-1], appliedField(stamp[:0], time.Now().UTC()), closeBrace)
	if err := put(c.bucket, c.key, v); err != nil {
		return fmt.Errorf("directory: apply %s %s: %w", c.kind, c.key, err)
	}
	if err := clearGone(tx, c.bucket, c.key); err != nil {
		return fmt.Errorf("directory: apply %s %s: %w", c.kind, c.key, err)
	}
	return nil
}

var closeBrace = []byte{'}'}

// appliedField appends `,"applied":"<t>"` as json.Marshal writes the
// Applied field of a stored record (time.Time's MarshalJSON: RFC 3339
// with nanoseconds, no HTML-escaped characters).
func appliedField(dst []byte, t time.Time) []byte {
	dst = append(dst, `,"applied":"`...)
	dst, _ = t.AppendText(dst) // fails only for years outside 0-9999
	return append(dst, '"')
}
