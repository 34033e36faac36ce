package directory

import (
	"bytes"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// This file serves readers that need every record with the time this node
// last changed it (the FHIR views' meta.lastUpdated, _lastUpdated and
// _history): for an own record its Updated time, for a replicated one the
// time ApplyRemote stored it. The latter matters for pull-updates: a
// record changed at its origin before a consumer's last pull but applied
// here after it must still count as new here.

func changedAt(updated, applied time.Time) time.Time {
	if applied.After(updated) {
		return applied
	}
	return updated
}

// ScanFilter narrows a scan cheaply: a record is skipped on its stored
// bytes, before it is decoded, when it cannot match. Zero fields match
// everything. A record that passes may still fail the caller's own
// conditions; one that fails could not have met them.
type ScanFilter struct {
	Province  string        // only this province's records
	Text      string        // folded text (see Fold) the record's search text must contain
	Specialty string        // a specialty code the record must list
	Level     consult.Level // facilities: this level
	Since     time.Time     // only records this node changed at or after Since
}

// ScanFacilities calls fn with every facility that may pass f, own and
// replicated, in ID order starting after the ID after, with the time this
// node last changed it. fn returns false to stop.
func (s *Service) ScanFacilities(f ScanFilter, after string, fn func(f Facility, changed time.Time) bool) error {
	return scanChanged(s, storage.BucketFacilities, f, after, func(v storage.Value) (bool, error) {
		var rec storedFacility
		if err := v.Decode(&rec); err != nil {
			return false, err
		}
		return fn(rec.Facility, changedAt(rec.Updated, rec.Applied)), nil
	})
}

// ScanPractitioners is ScanFacilities for health workers (f.Level is
// ignored).
func (s *Service) ScanPractitioners(f ScanFilter, after string, fn func(p Practitioner, changed time.Time) bool) error {
	f.Level = ""
	return scanChanged(s, storage.BucketPractitioners, f, after, func(v storage.Value) (bool, error) {
		var rec storedPractitioner
		if err := v.Decode(&rec); err != nil {
			return false, err
		}
		return fn(rec.Practitioner, changedAt(rec.Updated, rec.Applied)), nil
	})
}

func scanChanged(s *Service, b storage.Bucket, f ScanFilter, after string, emit func(storage.Value) (bool, error)) error {
	prefix, err := scanPrefix(f.Province, after)
	if err != nil {
		return err
	}
	var needles [][]byte
	if f.Specialty != "" {
		needles = append(needles, jsonString(f.Specialty))
	}
	if f.Level != "" {
		needles = append(needles, jsonField("level", string(f.Level)))
	}
	var text []byte
	if f.Text != "" {
		text = jsonInner(f.Text)
	}
	err = s.db.View(func(tx *storage.Tx) error {
		return tx.Scan(b, prefix, after, func(_ string, v storage.Value) error {
			if !containsAll(v, needles...) || len(text) > 0 && !inSearch(v, text) {
				return nil
			}
			if !f.Since.IsZero() {
				if t, ok := rawChanged(v); ok && t.Before(f.Since) {
					return nil
				}
			}
			more, err := emit(v)
			if err != nil {
				return err
			}
			if !more {
				return storage.ErrStop
			}
			return nil
		})
	})
	if errors.Is(err, storage.ErrStop) {
		err = nil
	}
	return storeErr("scan "+string(b), err)
}

// rawChanged reads a stored record's change time from its bytes without
// decoding it: the top-level "updated" and "applied" fields (a key
// followed by ":" cannot occur inside a JSON string, whose quotes are
// escaped). ok is false when the record does not hold them as expected.
func rawChanged(v []byte) (time.Time, bool) {
	updated, ok := rawTime(v, `"updated":"`)
	if !ok {
		return time.Time{}, false
	}
	applied, _ := rawTime(v, `"applied":"`)
	return changedAt(updated, applied), true
}

func rawTime(v []byte, key string) (time.Time, bool) {
	i := bytes.Index(v, []byte(key))
	if i < 0 {
		return time.Time{}, false
	}
	rest := v[i+len(key):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:end]))
	return t, err == nil
}

// FacilityChanged returns a facility with the time this node last changed
// it (see ScanFacilities); errors as GetFacility.
func (s *Service) FacilityChanged(id string) (Facility, time.Time, error) {
	if !validID(id) {
		return Facility{}, time.Time{}, errFacilityNotFound(id)
	}
	var rec storedFacility
	err := s.db.View(func(tx *storage.Tx) error {
		ok, err := tx.Get(storage.BucketFacilities, id, &rec)
		if err == nil && !ok {
			return errFacilityNotFound(id)
		}
		return err
	})
	if err != nil {
		return Facility{}, time.Time{}, storeErr("get facility "+id, err)
	}
	return rec.Facility, changedAt(rec.Updated, rec.Applied), nil
}

// PractitionerChanged is FacilityChanged for a health worker; an unknown
// ID gives code "practitioner_not_found".
func (s *Service) PractitionerChanged(id string) (Practitioner, time.Time, error) {
	if !validID(id) {
		return Practitioner{}, time.Time{}, errPractitionerNotFound(id)
	}
	var rec storedPractitioner
	err := s.db.View(func(tx *storage.Tx) error {
		ok, err := tx.Get(storage.BucketPractitioners, id, &rec)
		if err == nil && !ok {
			return errPractitionerNotFound(id)
		}
		return err
	})
	if err != nil {
		return Practitioner{}, time.Time{}, storeErr("get practitioner "+id, err)
	}
	return rec.Practitioner, changedAt(rec.Updated, rec.Applied), nil
}

func scanPrefix(province, after string) (string, error) {
	if len(after) > maxIDLen || !utf8.ValidString(after) {
		return "", consult.Invalid("cursor", "is not a record ID")
	}
	if province == "" {
		return "", nil
	}
	if !ValidProvinceCode(province) {
		return "", consult.Invalid("province", "%.20q is not a province code", province)
	}
	return province + "-", nil
}
