package directory

import (
	"strings"
	"time"

	"github.com/moinha/moinha/storage"
)

// Deletions. The directory's buckets hold only live records, so a reader
// that pulls changes (the FHIR views' _history, mCSD ITI-91) could not
// learn that a record went away. Each deletion — an own delete, a
// replicated tombstone, a departed province's records — leaves a mark in
// BucketDirGone (key "<bucket>/<ID>", value the deletion time in Unix
// nanoseconds), written in the transaction of the delete; storing the
// record again clears its mark. The bucket grows with the number of
// distinct IDs ever deleted, which is small beside the directory.

func goneKey(b storage.Bucket, id string) string { return string(b) + "/" + id }

// markGone deletes id from b and records when, if it was there.
func markGone(tx *storage.Tx, b storage.Bucket, id string, at time.Time) error {
	if !tx.Has(b, id) {
		return nil
	}
	if err := tx.Delete(b, id); err != nil {
		return err
	}
	return tx.Put(storage.BucketDirGone, goneKey(b, id), at.UTC().UnixNano())
}

// clearGone forgets an earlier deletion of id from b (it is stored again).
func clearGone(tx *storage.Tx, b storage.Bucket, id string) error {
	if !tx.Has(storage.BucketDirGone, goneKey(b, id)) {
		return nil
	}
	return tx.Delete(storage.BucketDirGone, goneKey(b, id))
}

// Deletion is a directory record this node deleted, and when.
type Deletion struct {
	Facility bool // a facility; otherwise a health worker
	ID       string
	At       time.Time
}

// ScanDeleted calls fn with every facility (facilities true) or health
// worker (false) deleted at or after since and not stored again since, in
// ID order. fn returns false to stop.
func (s *Service) ScanDeleted(facilities bool, since time.Time, fn func(Deletion) bool) error {
	b := storage.BucketPractitioners
	if facilities {
		b = storage.BucketFacilities
	}
	prefix := string(b) + "/"
	return s.db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketDirGone, prefix, "", func(k string, v storage.Value) error {
			var ns int64
			if err := v.Decode(&ns); err != nil {
				return err
			}
			at := time.Unix(0, ns).UTC()
			if at.Before(since) {
				return nil
			}
			if !fn(Deletion{Facility: facilities, ID: strings.TrimPrefix(k, prefix), At: at}) {
				return storage.ErrStop
			}
			return nil
		})
	})
}
