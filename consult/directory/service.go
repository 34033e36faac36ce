package directory

import (
	"encoding/json"
	"fmt"
	"time"

	_ "time/tzdata" // facility zones load on machines without zoneinfo

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// Service is one node's directory: its own province's records, which it
// writes and replicates, and the replica of every other member's. It is
// safe for concurrent use. Its only state outside the data file is the
// zones of its own facilities, cached for BookableFacility (zones.go).
type Service struct {
	db       *storage.DB
	province string             // this node's province code
	repl     consult.Replicator // nil: nothing is replicated
	vietnam  *time.Location     // Asia/Ho_Chi_Minh, the default facility zone
	zones    zoneCache
}

// New returns the directory of the node for province over db. repl is told
// about every change to an own record; nil means a node that shares
// nothing. province must satisfy ValidProvinceCode, or every write fails.
func New(db *storage.DB, province string, repl consult.Replicator) *Service {
	vn, err := time.LoadLocation(defaultTZ)
	if err != nil { // cannot happen: time/tzdata is linked in
		vn = time.FixedZone("ICT", 7*60*60)
	}
	return &Service{db: db, province: province, repl: repl, vietnam: vn}
}

// Province is the code of the province this directory writes for.
func (s *Service) Province() string { return s.province }

func (s *Service) checkOwn() error {
	if !ValidProvinceCode(s.province) {
		return fmt.Errorf("directory: node province %.20q is not a valid province code", s.province)
	}
	return nil
}

// stage hands a change of an own record to the replicator, in tx.
func (s *Service) stage(tx *storage.Tx, kind, key string, payload []byte, deleted bool) error {
	if s.repl == nil {
		return nil
	}
	if err := s.repl.Stage(tx, kind, key, payload, deleted); err != nil {
		return fmt.Errorf("directory: stage %s %s: %w", kind, key, err)
	}
	return nil
}

// storedFacility is a facility as kept in BucketFacilities: the API shape
// plus the folded text that Q searches (see Fold). Search is declared first
// so that it is the first field of the stored JSON, where a query finds it
// without scanning the record (see inSearch).
type storedFacility struct {
	Search string `json:"search"`
	Facility
	// Applied is when this node stored a replicated record (zero for own
	// records, whose Updated says when they changed): see changed.go. It
	// must stay the last field: ApplyPrepared splices it into bytes
	// encoded without it (prepare.go).
	Applied time.Time `json:"applied,omitzero"`
}

func newStoredFacility(f *Facility) *storedFacility {
	return &storedFacility{Facility: *f, Search: searchText(f.Name, f.NameEN, f.Commune, f.Address, f.Code)}
}

// storedPractitioner is a practitioner as kept in BucketPractitioners,
// laid out like storedFacility.
type storedPractitioner struct {
	Search string `json:"search"`
	Practitioner
	Applied time.Time `json:"applied,omitzero"` // as in storedFacility
}

func newStoredPractitioner(p *Practitioner) *storedPractitioner {
	return &storedPractitioner{Practitioner: *p, Search: searchText(p.Name, p.Licence, p.Scope)}
}

// tombstone is the payload staged when an own record is deleted.
type tombstone struct {
	ID       string    `json:"id"`
	Province string    `json:"province"`
	Deleted  time.Time `json:"deleted"`
}

func (s *Service) tombstone(id string) ([]byte, error) {
	return json.Marshal(tombstone{ID: id, Province: s.province, Deleted: time.Now().UTC()})
}

// storeErr wraps a failure of the data file, passing user-facing errors
// through unchanged.
func storeErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*consult.Error); ok {
		return err
	}
	return fmt.Errorf("directory: %s: %w", op, err)
}
