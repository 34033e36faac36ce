package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// removeChunk is how many records RemoveProvince deletes per transaction.
const removeChunk = 1000

func remoteInvalid(code, format string, args ...any) error {
	return consult.Errorf(consult.ErrInvalid, code, format, args...)
}

// ApplyRemote stores (or, with deleted, removes) a facility or practitioner
// record of another province, received through federation, inside the
// caller's transaction. kind is KindFacility or KindPractitioner (other
// kinds return an error wrapping ErrUnknownKind) and key is the record ID.
// A record of this node's own province is refused (only this node writes
// those), and so is a payload whose ID or province does not match the key,
// or that does not pass the same validation as a local write. The payload
// of a deletion is ignored. It is PrepareRemote followed by ApplyPrepared.
func (s *Service) ApplyRemote(tx *storage.Tx, kind, key string, payload []byte, deleted bool) error {
	c, err := s.PrepareRemote(kind, key, payload, deleted)
	if err != nil {
		return err
	}
	return s.applyPrepared(tx, c, tx.Put)
}

func decodeRemote(kind, key string, payload []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(dst); err != nil {
		return remoteInvalid("remote_bad_payload", "%s %s: payload is not a JSON record: %v", kind, key, err)
	}
	if dec.More() {
		return remoteInvalid("remote_bad_payload", "%s %s: trailing data after the record", kind, key)
	}
	return nil
}

func remoteFacility(key, province string, payload []byte) (*storedFacility, error) {
	var f Facility
	if err := decodeRemote(KindFacility, key, payload, &f); err != nil {
		return nil, err
	}
	if f.ID != key || f.Province != province {
		return nil, consult.Errorf(consult.ErrForbidden, "remote_province_mismatch",
			"facility %s: payload names id %.80q, province %.20q", key, f.ID, f.Province)
	}
	if e := checkFacility(&f); e != nil {
		return nil, remoteInvalid("remote_invalid", "facility %s: %s: %s", key, e.Field, e.Msg)
	}
	if f.ID != province+"-"+f.Code {
		return nil, remoteInvalid("remote_invalid", "facility %s: id does not match code %q", key, f.Code)
	}
	return newStoredFacility(&f), nil
}

func remotePractitioner(key, province string, payload []byte) (*storedPractitioner, error) {
	// The fast decoder gives what encoding/json gives, or declines.
	p, ok := decodePractitionerFast(payload)
	if !ok {
		p = Practitioner{}
		if err := decodeRemote(KindPractitioner, key, payload, &p); err != nil {
			return nil, err
		}
	}
	return checkRemotePractitioner(key, province, &p)
}

// checkRemotePractitioner is remotePractitioner after decoding.
func checkRemotePractitioner(key, province string, p *Practitioner) (*storedPractitioner, error) {
	if p.ID != key || p.Province != province {
		return nil, consult.Errorf(consult.ErrForbidden, "remote_province_mismatch",
			"practitioner %s: payload names id %.80q, province %.20q", key, p.ID, p.Province)
	}
	if e := checkPractitioner(p); e != nil {
		return nil, remoteInvalid("remote_invalid", "practitioner %s: %s: %s", key, e.Field, e.Msg)
	}
	if fp, _ := provinceOf(p.Facility); fp != province {
		return nil, consult.Errorf(consult.ErrForbidden, "remote_province_mismatch",
			"practitioner %s: works at %.80q, outside its province %s", key, p.Facility, province)
	}
	return newStoredPractitioner(p), nil
}

// RemoveProvince deletes every facility and health worker of province
// from the replica, in transactions of at most 1,000 records; it is used
// when a province leaves the network. It refuses this node's own province.
// If it fails part way, calling it again finishes the job.
func (s *Service) RemoveProvince(ctx context.Context, province string) error {
	if !ValidProvinceCode(province) {
		return consult.Invalid("province", "%.20q is not a province code", province)
	}
	if province == s.province {
		return consult.Invalid("province", "%s is this node's own province", province)
	}
	prefix := province + "-"
	for _, b := range []storage.Bucket{storage.BucketPractitioners, storage.BucketFacilities} {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := 0
			err := s.db.Update(ctx, func(tx *storage.Tx) error {
				keys := make([]string, 0, removeChunk)
				err := tx.Scan(b, prefix, "", func(k string, _ storage.Value) error {
					keys = append(keys, k)
					if len(keys) == removeChunk {
						return storage.ErrStop
					}
					return nil
				})
				if err != nil {
					return err
				}
				now := time.Now()
				for _, k := range keys {
					if err := markGone(tx, b, k, now); err != nil {
						return err
					}
				}
				n = len(keys)
				return nil
			})
			if err != nil {
				return fmt.Errorf("directory: remove province %s: %w", province, err)
			}
			if n < removeChunk {
				break
			}
		}
	}
	return nil
}
