package directory_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/storage"
)

// staged is one call to Replicator.Stage.
type staged struct {
	Kind, Key string
	Payload   []byte
	Deleted   bool
}

// recorder is a Replicator that remembers what it was given.
type recorder struct {
	mu   sync.Mutex // guards log
	log  []staged
	fail error // returned by Stage when set
}

func (r *recorder) Stage(_ *storage.Tx, kind, key string, payload []byte, deleted bool) error {
	if r.fail != nil {
		return r.fail
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, staged{kind, key, append([]byte(nil), payload...), deleted})
	return nil
}

func (r *recorder) all() []staged {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]staged(nil), r.log...)
}

func openDB(t testing.TB, opts *storage.Options) *storage.DB {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "node.db"), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// newService returns a directory for province 66 (Đắk Lắk) on a fresh file.
func newService(t testing.TB) (*directory.Service, *recorder, *storage.DB) {
	t.Helper()
	db := openDB(t, nil)
	rec := &recorder{}
	return directory.New(db, "66", rec), rec, db
}

func station(code, name string) directory.Facility {
	return directory.Facility{
		Code: code, Name: name, Level: consult.CommuneHealthStation,
		Commune: "Ea Kao", Address: "Thôn 3", Specialties: []string{"general_practice"},
		Services: []string{"Tiêm chủng mở rộng"}, Phone: "0262 3852 123",
		Geo: &directory.Geo{Lat: 12.67, Lon: 108.05},
	}
}

func mustPutFacility(t testing.TB, s *directory.Service, f directory.Facility) directory.Facility {
	t.Helper()
	out, err := s.PutFacility(context.Background(), "admin", f)
	require.NoError(t, err)
	return out
}

func mustPutPractitioner(t testing.TB, s *directory.Service, p directory.Practitioner) directory.Practitioner {
	t.Helper()
	out, err := s.PutPractitioner(context.Background(), "admin", p)
	require.NoError(t, err)
	return out
}

// consultCode returns the Code of a *consult.Error, or "" for other errors.
func consultCode(err error) string {
	var ce *consult.Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}

// applyRemote runs ApplyRemote in its own transaction.
func applyRemote(s *directory.Service, db *storage.DB, kind, key string, payload []byte, deleted bool) error {
	return db.Update(context.Background(), func(tx *storage.Tx) error {
		return s.ApplyRemote(tx, kind, key, payload, deleted)
	})
}
