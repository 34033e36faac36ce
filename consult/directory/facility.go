package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// PutFacility creates or updates a facility of this province and returns
// it as stored. The province is always this node's; the ID is
// "<province>-<code>", so a facility keeps its ID for as long as it keeps
// its code. A non-empty f.ID must equal that ID. Validation failures are
// *consult.Error of kind consult.ErrInvalid naming the field. actor is
// accepted for symmetry with the audited services; directory data is not
// patient data and is not audited.
func (s *Service) PutFacility(ctx context.Context, actor string, f Facility) (Facility, error) {
	if err := s.checkOwn(); err != nil {
		return Facility{}, err
	}
	if e := checkFacility(&f); e != nil {
		return Facility{}, e.consult()
	}
	id := s.province + "-" + f.Code
	if f.ID != "" && f.ID != id {
		return Facility{}, consult.Invalid("id", "%.80q does not match this province and code; expected %q", f.ID, id)
	}
	f.ID, f.Province, f.Updated = id, s.province, time.Now().UTC()
	payload, err := json.Marshal(&f)
	if err != nil {
		return Facility{}, fmt.Errorf("directory: encode facility %s: %w", id, err)
	}
	rec := newStoredFacility(&f)
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.Put(storage.BucketFacilities, id, rec); err != nil {
			return err
		}
		if err := clearGone(tx, storage.BucketFacilities, id); err != nil {
			return err
		}
		return s.stage(tx, KindFacility, id, payload, false)
	})
	s.zones.forget(id)
	if err != nil {
		return Facility{}, storeErr("put facility "+id, err)
	}
	return f, nil
}

// GetFacility returns any facility in the directory, own or replicated, or
// a *consult.Error of kind consult.ErrNotFound, code "facility_not_found".
func (s *Service) GetFacility(id string) (Facility, error) {
	f, _, err := s.FacilityChanged(id)
	return f, err
}

// DeleteFacility removes a facility of this province and stages its
// deletion. A facility that still has health workers is refused with a
// consult.ErrConflict error ("facility_in_use"): move or remove them first.
func (s *Service) DeleteFacility(ctx context.Context, actor string, id string) error {
	if err := s.checkOwn(); err != nil {
		return err
	}
	p, ok := provinceOf(id)
	switch {
	case !ok || !validID(id):
		return errFacilityNotFound(id)
	case p != s.province:
		return errNotOwn("facility", id)
	}
	payload, err := s.tombstone(id)
	if err != nil {
		return fmt.Errorf("directory: encode tombstone %s: %w", id, err)
	}
	staff := jsonField("facility", id)
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		if !tx.Has(storage.BucketFacilities, id) {
			return errFacilityNotFound(id)
		}
		n := 0
		err := tx.Scan(storage.BucketPractitioners, s.province+"-", "", func(_ string, v storage.Value) error {
			if !containsAll(v, staff) {
				return nil
			}
			var rec storedPractitioner
			if err := v.Decode(&rec); err != nil {
				return err
			}
			if rec.Facility == id {
				n++
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n > 0 {
			return consult.Errorf(consult.ErrConflict, "facility_in_use",
				"facility %s still has %d health workers; move or remove them first", id, n)
		}
		if err := markGone(tx, storage.BucketFacilities, id, time.Now()); err != nil {
			return err
		}
		return s.stage(tx, KindFacility, id, payload, true)
	})
	s.zones.forget(id)
	return storeErr("delete facility "+id, err)
}

// BookableFacility returns the time zone of a facility that exists and
// belongs to this province (Asia/Ho_Chi_Minh unless the facility names
// another); otherwise a *consult.Error of kind consult.ErrNotFound, code
// "facility_not_found". booking uses it to decide which facilities take
// appointments on this node.
//
// The zones of this province's facilities are cached (only this node
// changes them, and it forgets a facility's zone after every change), so a
// booking costs no read of the facility.
func (s *Service) BookableFacility(id string) (*time.Location, error) {
	if p, ok := provinceOf(id); !ok || p != s.province {
		return nil, errFacilityNotFound(id)
	}
	loc, gen := s.zones.get(id)
	if loc != nil {
		return loc, nil
	}
	f, err := s.GetFacility(id)
	if err != nil {
		return nil, err
	}
	loc = s.vietnam
	if f.TZ != "" && f.TZ != defaultTZ {
		if loc, err = time.LoadLocation(f.TZ); err != nil {
			return nil, fmt.Errorf("directory: facility %s: zone %q: %w", id, f.TZ, err)
		}
	}
	s.zones.put(id, loc, gen)
	return loc, nil
}

// ListFacilities returns up to limit facilities matching f, in ID order,
// starting after cursor (the next value of the previous page; empty for the
// first). next is empty on the last page. limit is clamped to 1..500; zero
// or less means 50. It lists the whole federated directory; f.Province
// narrows it to one province.
func (s *Service) ListFacilities(f FacilityFilter, limit int, cursor string) ([]Facility, string, error) {
	var needles [][]byte
	prefix := ""
	if f.Province != "" {
		if !ValidProvinceCode(f.Province) {
			return nil, "", consult.Invalid("province", "%.20q is not a province code", f.Province)
		}
		prefix = f.Province + "-"
	}
	if f.Level != "" {
		if !consult.ValidLevel(f.Level) {
			return nil, "", consult.Invalid("level", "%.40q is not one of %s", f.Level, levelList())
		}
		needles = append(needles, jsonField("level", string(f.Level)))
	}
	if f.Specialty != "" {
		if !consult.ValidSpecialty(f.Specialty) {
			return nil, "", consult.Invalid("specialty", "unknown specialty %.40q", f.Specialty)
		}
		needles = append(needles, jsonString(f.Specialty))
	}
	q, err := foldQuery(f.Q)
	if err != nil {
		return nil, "", err
	}
	recs, next, err := scanPage(s.db, storage.BucketFacilities, prefix, needles, jsonInner(q), limit, cursor,
		func(r *storedFacility) bool {
			return (f.Province == "" || r.Province == f.Province) &&
				(f.Level == "" || r.Level == f.Level) &&
				(f.Specialty == "" || containsString(r.Specialties, f.Specialty)) &&
				(q == "" || strings.Contains(r.Search, q))
		})
	if err != nil {
		return nil, "", err
	}
	out := make([]Facility, len(recs))
	for i := range recs {
		out[i] = recs[i].Facility
	}
	return out, next, nil
}
