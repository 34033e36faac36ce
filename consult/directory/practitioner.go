package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// localPractitionerID returns the local part of a practitioner ID given to
// PutPractitioner: empty (to generate one), a local ID without '-' ("nv12"),
// or this province's full ID ("66-nv12"; its local part may contain '-').
func (s *Service) localPractitionerID(id string) (string, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return "", nil
	}
	local := id
	if strings.Contains(id, "-") {
		var ok bool
		local, ok = strings.CutPrefix(id, s.province+"-")
		if !ok {
			return "", consult.Invalid("id", "%.80q is neither a local ID without '-' nor an ID of province %s", id, s.province)
		}
	}
	if !validCode(local, MaxLocalIDLen) {
		return "", consult.Invalid("id", "the local part must be 1 to %d letters, digits, '_' or '-'", MaxLocalIDLen)
	}
	return local, nil
}

// PutPractitioner creates or updates a health worker of this province and
// returns it as stored. p.ID may be empty (an ID "<province>-nv<n>" is
// generated), a local ID without '-', or this province's full ID. The
// facility must be one of this province's facilities. Role is one of
// Roles; languages are ISO 639 codes ("vi", "en", "rad" for Ê Đê).
func (s *Service) PutPractitioner(ctx context.Context, actor string, p Practitioner) (Practitioner, error) {
	if err := s.checkOwn(); err != nil {
		return Practitioner{}, err
	}
	local, err := s.localPractitionerID(p.ID)
	if err != nil {
		return Practitioner{}, err
	}
	if e := checkPractitioner(&p); e != nil {
		return Practitioner{}, e.consult()
	}
	if fp, _ := provinceOf(p.Facility); fp != s.province {
		return Practitioner{}, consult.Invalid("facility", "%.80q is not a facility of province %s", p.Facility, s.province)
	}
	p.Province, p.Updated = s.province, time.Now().UTC()
	var out Practitioner
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		if !tx.Has(storage.BucketFacilities, p.Facility) {
			return consult.Invalid("facility", "no facility %.80q in province %s", p.Facility, s.province)
		}
		q := p
		if local == "" {
			id, err := s.newPractitionerID(tx)
			if err != nil {
				return err
			}
			q.ID = id
		} else {
			q.ID = s.province + "-" + local
		}
		if err := s.putPractitioner(tx, &q); err != nil {
			return err
		}
		out = q
		return nil
	})
	if err != nil {
		return Practitioner{}, storeErr("put practitioner", err)
	}
	return out, nil
}

// newPractitionerID draws "<province>-nv<n>" from the bucket's sequence,
// skipping IDs already taken by given local IDs.
func (s *Service) newPractitionerID(tx *storage.Tx) (string, error) {
	for {
		n, err := tx.NextSeq(storage.BucketPractitioners)
		if err != nil {
			return "", err
		}
		id := s.province + "-nv" + strconv.FormatUint(n, 10)
		if !tx.Has(storage.BucketPractitioners, id) {
			return id, nil
		}
	}
}

// putPractitioner stores an own, validated practitioner and stages it.
func (s *Service) putPractitioner(tx *storage.Tx, p *Practitioner) error {
	payload, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode practitioner %s: %w", p.ID, err)
	}
	if err := tx.Put(storage.BucketPractitioners, p.ID, newStoredPractitioner(p)); err != nil {
		return err
	}
	if err := clearGone(tx, storage.BucketPractitioners, p.ID); err != nil {
		return err
	}
	return s.stage(tx, KindPractitioner, p.ID, payload, false)
}

// GetPractitioner returns any health worker in the directory, or a
// *consult.Error of kind consult.ErrNotFound, code "practitioner_not_found".
func (s *Service) GetPractitioner(id string) (Practitioner, error) {
	p, _, err := s.PractitionerChanged(id)
	return p, err
}

// DeletePractitioner removes a health worker of this province and stages
// the deletion.
func (s *Service) DeletePractitioner(ctx context.Context, actor string, id string) error {
	if err := s.checkOwn(); err != nil {
		return err
	}
	p, ok := provinceOf(id)
	switch {
	case !ok || !validID(id):
		return errPractitionerNotFound(id)
	case p != s.province:
		return errNotOwn("practitioner", id)
	}
	payload, err := s.tombstone(id)
	if err != nil {
		return fmt.Errorf("directory: encode tombstone %s: %w", id, err)
	}
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		if !tx.Has(storage.BucketPractitioners, id) {
			return errPractitionerNotFound(id)
		}
		if err := markGone(tx, storage.BucketPractitioners, id, time.Now()); err != nil {
			return err
		}
		return s.stage(tx, KindPractitioner, id, payload, true)
	})
	return storeErr("delete practitioner "+id, err)
}

// ListPractitioners returns up to limit health workers matching f, in ID
// order, after cursor; paging works as in ListFacilities. A Facility or
// Province filter scans only that province's records.
func (s *Service) ListPractitioners(f PractitionerFilter, limit int, cursor string) ([]Practitioner, string, error) {
	var needles [][]byte
	prefix := ""
	if f.Province != "" {
		if !ValidProvinceCode(f.Province) {
			return nil, "", consult.Invalid("province", "%.20q is not a province code", f.Province)
		}
		prefix = f.Province + "-"
	}
	if f.Facility != "" {
		fp, ok := provinceOf(f.Facility)
		if !ok || !validID(f.Facility) {
			return nil, "", consult.Invalid("facility", "%.80q is not a facility ID", f.Facility)
		}
		if f.Province != "" && fp != f.Province {
			return []Practitioner{}, "", nil
		}
		// A practitioner works in its own province, so its key shares
		// the facility's prefix.
		prefix = fp + "-"
		needles = append(needles, jsonField("facility", f.Facility))
	}
	if f.Role != "" {
		if !ValidRole(f.Role) {
			return nil, "", consult.Invalid("role", "%.40q is not one of %s", f.Role, strings.Join(Roles(), ", "))
		}
		needles = append(needles, jsonField("role", f.Role))
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
	recs, next, err := scanPage(s.db, storage.BucketPractitioners, prefix, needles, jsonInner(q), limit, cursor,
		func(r *storedPractitioner) bool {
			return (f.Province == "" || r.Province == f.Province) &&
				(f.Facility == "" || r.Facility == f.Facility) &&
				(f.Role == "" || r.Role == f.Role) &&
				(f.Specialty == "" || containsString(r.Specialties, f.Specialty)) &&
				(q == "" || strings.Contains(r.Search, q))
		})
	if err != nil {
		return nil, "", err
	}
	out := make([]Practitioner, len(recs))
	for i := range recs {
		out[i] = recs[i].Practitioner
	}
	return out, next, nil
}

// Counts returns how many facilities and health workers of province the
// directory holds (without decoding them).
func (s *Service) Counts(province string) (facilities, practitioners int, err error) {
	if !ValidProvinceCode(province) {
		return 0, 0, consult.Invalid("province", "%.20q is not a province code", province)
	}
	err = s.db.View(func(tx *storage.Tx) error {
		var err error
		if facilities, err = tx.Count(storage.BucketFacilities, province+"-"); err != nil {
			return err
		}
		practitioners, err = tx.Count(storage.BucketPractitioners, province+"-")
		return err
	})
	return facilities, practitioners, storeErr("count", err)
}
