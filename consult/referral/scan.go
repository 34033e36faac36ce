package referral

import (
	"errors"

	"github.com/moinha/moinha/storage"
)

// Scan calls fn with every referral and consult request this node holds
// (those it referred and those offered to it), in ID order starting after
// the ID after, as List shows them: without patient data, so nothing is
// audited. fn returns false to stop. The FHIR views page over it.
func (s *Service) Scan(after string, fn func(v View) bool) error {
	err := s.db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketReferrals, "", after, func(_ string, v storage.Value) error {
			var r Referral
			if err := v.Decode(&r); err != nil {
				return err
			}
			if !fn(view(&r, s.opts.Province, s.boxOf(&r), nil)) {
				return storage.ErrStop
			}
			return nil
		})
	})
	if errors.Is(err, storage.ErrStop) {
		return nil
	}
	return err
}
