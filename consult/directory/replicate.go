package directory

import (
	"encoding/json"

	"github.com/moinha/moinha/storage"
)

// OwnRecords calls fn with every facility and health worker of this
// province as the record payload Stage would carry (the same JSON as a
// write stages). node uses it to share, on joining a network, what was
// entered while the node ran alone.
func (s *Service) OwnRecords(fn func(kind, key string, payload []byte) error) error {
	return s.db.View(func(tx *storage.Tx) error {
		prefix := s.province + "-"
		err := tx.Scan(storage.BucketFacilities, prefix, "", func(key string, v storage.Value) error {
			var f Facility
			if err := v.Decode(&f); err != nil {
				return err
			}
			payload, err := json.Marshal(&f)
			if err != nil {
				return err
			}
			return fn(KindFacility, f.ID, payload)
		})
		if err != nil {
			return err
		}
		return tx.Scan(storage.BucketPractitioners, prefix, "", func(key string, v storage.Value) error {
			var p Practitioner
			if err := v.Decode(&p); err != nil {
				return err
			}
			payload, err := json.Marshal(p)
			if err != nil {
				return err
			}
			return fn(KindPractitioner, p.ID, payload)
		})
	})
}
