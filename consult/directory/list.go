package directory

import (
	"bytes"
	"slices"
	"unicode/utf8"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// Page sizes of the List verbs.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

func clampLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultLimit
	case limit > MaxLimit:
		return MaxLimit
	}
	return limit
}

// foldQuery checks a free-text query and returns it folded.
func foldQuery(q string) (string, error) {
	if !utf8.ValidString(q) || utf8.RuneCountInString(q) > MaxQueryRunes {
		return "", consult.Invalid("q", "must be valid text of at most %d characters", MaxQueryRunes)
	}
	return Fold(q), nil
}

func containsAll(v []byte, needles ...[]byte) bool {
	for _, n := range needles {
		if !bytes.Contains(v, n) {
			return false
		}
	}
	return true
}

func containsString(list []string, s string) bool { return slices.Contains(list, s) }

// searchMarker opens a stored record: the search field comes first (see
// storedFacility), and folded text never contains '"', so the field's value
// runs to the next '"'.
const searchMarker = `{"search":"`

// inSearch reports whether the search field of stored value v contains q
// (JSON-escaped), looking only at that field. A value that does not start
// with the field (which this package never writes) is searched whole.
func inSearch(v, q []byte) bool {
	head := v[:min(len(v), len(searchMarker)+8)] // room for the codec's prefix
	i := bytes.Index(head, []byte(searchMarker))
	if i < 0 {
		return bytes.Contains(v, q)
	}
	text := v[i+len(searchMarker):]
	if end := bytes.IndexByte(text, '"'); end >= 0 {
		text = text[:end]
	}
	return bytes.Contains(text, q)
}

// scanPage walks bucket b in key order from after cursor, within prefix,
// and returns up to limit decoded records that match. A record is decoded
// only if its raw bytes contain every needle and its search field contains
// q (when q is not empty); needles must be chosen so that every record that
// matches contains them (false positives are fine: match decides). next is
// the key of the last record returned when at least one more matching
// record follows, else empty.
func scanPage[R any](db *storage.DB, b storage.Bucket, prefix string, needles [][]byte, q []byte,
	limit int, cursor string, match func(*R) bool) (recs []R, next string, err error) {
	limit = clampLimit(limit)
	if len(cursor) > maxIDLen || !utf8.ValidString(cursor) {
		return nil, "", consult.Invalid("cursor", "is not a cursor returned by this list")
	}
	var lastKey string
	more := false
	err = db.View(func(tx *storage.Tx) error {
		recs, more = recs[:0], false
		return tx.Scan(b, prefix, cursor, func(key string, v storage.Value) error {
			if !containsAll(v, needles...) || len(q) > 0 && !inSearch(v, q) {
				return nil
			}
			var r R
			if err := v.Decode(&r); err != nil {
				return err
			}
			if !match(&r) {
				return nil
			}
			if len(recs) == limit {
				more = true
				return storage.ErrStop
			}
			recs = append(recs, r)
			lastKey = key
			return nil
		})
	})
	if err != nil {
		return nil, "", storeErr("list "+string(b), err)
	}
	if more {
		next = lastKey
	}
	return recs, next, nil
}
