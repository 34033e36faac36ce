package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// importChunk is how many records one Update of an import writes: small
// enough that other writers are not held up for long, large enough that an
// import of the whole province takes few commits.
const importChunk = 500

// ImportFacilities validates every facility as PutFacility would (codes
// must also be unique in fs) and, only if all pass, creates or updates them
// in transactions of 500, staging each for replication. It returns how
// many were written. On a validation problem nothing is written and the
// error (a *consult.Error, code "invalid_import") lists up to 20 problems
// by position and code. If a write fails part way (a cancelled ctx, a full
// disk), the chunks already committed stay; importing again is safe.
func (s *Service) ImportFacilities(ctx context.Context, actor string, fs []Facility) (int, error) {
	if err := s.checkOwn(); err != nil {
		return 0, err
	}
	now := time.Now().UTC()
	recs := make([]*storedFacility, len(fs))
	payloads := make([][]byte, len(fs))
	var problems csvProblems
	seen := make(map[string]int, len(fs))
	for i := range fs {
		f := fs[i]
		e := checkFacility(&f)
		id := s.province + "-" + f.Code
		switch {
		case e != nil:
		case f.ID != "" && f.ID != id:
			e = bad("id", "%.80q does not match this province and code; expected %q", f.ID, id)
		default:
			if first, dup := seen[f.Code]; dup {
				e = bad("code", "also used by facility %d", first+1)
			}
		}
		if e != nil {
			problems.add("facility %d (code %.40q), %s: %s", i+1, f.Code, e.Field, e.Msg)
			continue
		}
		seen[f.Code] = i
		f.ID, f.Province, f.Updated = id, s.province, now
		p, err := json.Marshal(&f)
		if err != nil {
			return 0, fmt.Errorf("directory: encode facility %s: %w", id, err)
		}
		recs[i], payloads[i] = newStoredFacility(&f), p
	}
	if err := problems.err("invalid_import"); err != nil {
		return 0, err
	}
	written := 0
	for start := 0; start < len(recs); start += importChunk {
		end := min(start+importChunk, len(recs))
		err := s.db.Update(ctx, func(tx *storage.Tx) error {
			for i := start; i < end; i++ {
				id := recs[i].ID
				if err := tx.Put(storage.BucketFacilities, id, recs[i]); err != nil {
					return err
				}
				if err := clearGone(tx, storage.BucketFacilities, id); err != nil {
					return err
				}
				if err := s.stage(tx, KindFacility, id, payloads[i], false); err != nil {
					return err
				}
			}
			return nil
		})
		s.zones.forget(ids(recs[start:end])...)
		if err != nil {
			return written, storeErr("import facilities", err)
		}
		written = end
	}
	return written, nil
}

// ids lists the IDs of recs.
func ids(recs []*storedFacility) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// ImportPractitioners validates every practitioner as PutPractitioner
// would (each facility must already exist in this province; given IDs must
// be unique in ps) and, only if all pass, writes them in transactions of
// 500. Practitioners without an ID get generated ones. It returns how many
// were written; failures behave as in ImportFacilities.
func (s *Service) ImportPractitioners(ctx context.Context, actor string, ps []Practitioner) (int, error) {
	if err := s.checkOwn(); err != nil {
		return 0, err
	}
	now := time.Now().UTC()
	list := make([]Practitioner, len(ps))
	var problems csvProblems
	seen := make(map[string]int, len(ps))
	for i, p := range ps {
		local, err := s.localPractitionerID(p.ID)
		var e *fieldErr
		if ce, ok := err.(*consult.Error); ok {
			e = bad("id", "%s", ce.Message)
		} else if err != nil {
			return 0, err
		}
		if e == nil {
			e = checkPractitioner(&p)
		}
		if e == nil {
			if fp, _ := provinceOf(p.Facility); fp != s.province {
				e = bad("facility", "%.80q is not a facility of province %s", p.Facility, s.province)
			}
		}
		if e == nil && local != "" {
			p.ID = s.province + "-" + local
			if first, dup := seen[p.ID]; dup {
				e = bad("id", "also used by practitioner %d", first+1)
			}
			seen[p.ID] = i
		}
		if e != nil {
			problems.add("practitioner %d (id %.40q), %s: %s", i+1, p.ID, e.Field, e.Msg)
			continue
		}
		if local == "" {
			p.ID = ""
		}
		p.Province, p.Updated = s.province, now
		list[i] = p
	}
	if len(problems.list) == 0 {
		err := s.db.View(func(tx *storage.Tx) error {
			for i := range list {
				if !tx.Has(storage.BucketFacilities, list[i].Facility) {
					problems.add("practitioner %d (id %.40q), facility: no facility %.80q in province %s",
						i+1, list[i].ID, list[i].Facility, s.province)
				}
			}
			return nil
		})
		if err != nil {
			return 0, storeErr("import practitioners", err)
		}
	}
	if err := problems.err("invalid_import"); err != nil {
		return 0, err
	}
	written := 0
	for start := 0; start < len(list); start += importChunk {
		end := min(start+importChunk, len(list))
		err := s.db.Update(ctx, func(tx *storage.Tx) error {
			for i := start; i < end; i++ {
				p := list[i]
				if !tx.Has(storage.BucketFacilities, p.Facility) {
					return consult.Invalid("facility", "no facility %.80q in province %s", p.Facility, s.province)
				}
				if p.ID == "" {
					id, err := s.newPractitionerID(tx)
					if err != nil {
						return err
					}
					p.ID = id
				}
				if err := s.putPractitioner(tx, &p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return written, storeErr("import practitioners", err)
		}
		written = end
	}
	return written, nil
}
