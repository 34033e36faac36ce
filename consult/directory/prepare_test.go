package directory_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/sample"
	"github.com/moinha/moinha/storage"
)

// TestPrepareRemoteRejects runs the rejects of TestApplyRemoteRejects
// through PrepareRemote: the same errors, and nothing to apply.
func TestPrepareRemoteRejects(t *testing.T) {
	s, _, db := newService(t)
	cases := remoteRejects(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := s.PrepareRemote(tc.kind, tc.key, tc.payload, tc.deleted)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Equal(t, tc.code, consultCode(err), "error: %v", err)
			applyErr := applyRemote(s, db, tc.kind, tc.key, tc.payload, tc.deleted)
			assert.Equal(t, applyErr.Error(), err.Error())
			assert.Equal(t, errors.Is(applyErr, directory.ErrUnknownKind), errors.Is(err, directory.ErrUnknownKind))
			assert.Equal(t, errors.Is(applyErr, consult.ErrForbidden), errors.Is(err, consult.ErrForbidden))
			assert.Equal(t, errors.Is(applyErr, consult.ErrInvalid), errors.Is(err, consult.ErrInvalid))
		})
	}
}

func TestApplyPreparedTwice(t *testing.T) {
	ctx := context.Background()
	s, _, db := newService(t)
	fac, err := s.PrepareRemote(directory.KindFacility, "79-CHORAY", remoteFacilityJSON(t, "79", "CHORAY", "Bệnh viện Chợ Rẫy"), false)
	require.NoError(t, err)
	prac, err := s.PrepareRemote(directory.KindPractitioner, "79-bs1", mustMarshal(t, directory.Practitioner{ID: "79-bs1",
		Name: "Phạm Minh Đức", Role: "doctor", Facility: "79-CHORAY", Province: "79"}), false)
	require.NoError(t, err)
	gone, err := s.PrepareRemote(directory.KindPractitioner, "79-bs1", nil, true)
	require.NoError(t, err)

	// Twice in one transaction, as a batch function that runs again does.
	start := time.Now()
	require.NoError(t, db.Update(ctx, func(tx *storage.Tx) error {
		for range 2 {
			for _, c := range []*directory.RemoteChange{fac, prac} {
				if err := s.ApplyPrepared(tx, c); err != nil {
					return err
				}
			}
		}
		return nil
	}))
	f, changed1, err := s.FacilityChanged("79-CHORAY")
	require.NoError(t, err)
	assert.Equal(t, "Bệnh viện Chợ Rẫy", f.Name)
	assert.False(t, changed1.Before(start.Truncate(0)), "applied %v, before the transaction began %v", changed1, start)
	got, _, err := s.ListFacilities(directory.FacilityFilter{Q: "cho ray"}, 0, "")
	require.NoError(t, err)
	assert.Len(t, got, 1, "the search text was stored")

	// Again in a later transaction: stamped anew.
	require.NoError(t, db.Update(ctx, func(tx *storage.Tx) error { return s.ApplyPrepared(tx, fac) }))
	_, changed2, err := s.FacilityChanged("79-CHORAY")
	require.NoError(t, err)
	assert.True(t, changed2.After(changed1) || changed2.Equal(changed1))

	// A deletion twice, then the record back: its deletion mark goes.
	for range 2 {
		require.NoError(t, db.Update(ctx, func(tx *storage.Tx) error { return s.ApplyPrepared(tx, gone) }))
	}
	_, err = s.GetPractitioner("79-bs1")
	assert.ErrorIs(t, err, consult.ErrNotFound)
	assert.Equal(t, []string{"79-bs1"}, deletedPractitioners(t, s))
	require.NoError(t, db.Update(ctx, func(tx *storage.Tx) error { return s.ApplyPrepared(tx, prac) }))
	_, err = s.GetPractitioner("79-bs1")
	require.NoError(t, err)
	assert.Empty(t, deletedPractitioners(t, s))
}

func deletedPractitioners(t *testing.T, s *directory.Service) []string {
	t.Helper()
	var ids []string
	require.NoError(t, s.ScanDeleted(false, time.Time{}, func(d directory.Deletion) bool {
		ids = append(ids, d.ID)
		return true
	}))
	return ids
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestPrepareRemoteConcurrent prepares a province's sample directory on
// several goroutines at once (run it with -race) and applies it: the
// result is that of ApplyRemote, record by record.
func TestPrepareRemoteConcurrent(t *testing.T) {
	ctx := context.Background()
	s, _, db := newService(t)
	ref, _, refDB := newService(t)
	d := sample.Province("79", 7, sample.Small)
	type in struct {
		kind, key string
		payload   []byte
	}
	var ins []in
	for _, f := range d.Facilities {
		ins = append(ins, in{directory.KindFacility, f.ID, mustMarshal(t, f)})
	}
	for _, p := range d.Practitioners {
		ins = append(ins, in{directory.KindPractitioner, p.ID, mustMarshal(t, p)})
	}
	require.Greater(t, len(ins), 50)

	const workers = 4
	changes := make([]*directory.RemoteChange, len(ins))
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(ins); i += workers {
				changes[i], errs[i] = s.PrepareRemote(ins[i].kind, ins[i].key, ins[i].payload, false)
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.NoError(t, db.Update(ctx, func(tx *storage.Tx) error {
		for _, c := range changes {
			if err := s.ApplyPrepared(tx, c); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, refDB.Update(ctx, func(tx *storage.Tx) error {
		for _, r := range ins {
			if err := ref.ApplyRemote(tx, r.kind, r.key, r.payload, false); err != nil {
				return err
			}
		}
		return nil
	}))

	for _, f := range d.Facilities {
		got, err := s.GetFacility(f.ID)
		require.NoError(t, err)
		want, err := ref.GetFacility(f.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	for _, q := range []string{"tram y te", "benh vien", "xa"} {
		want, _, err := ref.ListFacilities(directory.FacilityFilter{Q: q}, 0, "")
		require.NoError(t, err)
		got, _, err := s.ListFacilities(directory.FacilityFilter{Q: q}, 0, "")
		require.NoError(t, err)
		assert.Equal(t, want, got, q)
	}
	wantP, _, err := ref.ListPractitioners(directory.PractitionerFilter{}, 0, "")
	require.NoError(t, err)
	gotP, _, err := s.ListPractitioners(directory.PractitionerFilter{}, 0, "")
	require.NoError(t, err)
	assert.Equal(t, wantP, gotP)
	fs, ps, err := s.Counts("79")
	require.NoError(t, err)
	assert.Equal(t, [2]int{len(d.Facilities), len(d.Practitioners)}, [2]int{fs, ps})
}

func TestApplyPreparedZeroChange(t *testing.T) {
	s, _, db := newService(t)
	for _, c := range []*directory.RemoteChange{nil, {}} {
		err := db.Update(context.Background(), func(tx *storage.Tx) error { return s.ApplyPrepared(tx, c) })
		assert.ErrorContains(t, err, "not made by PrepareRemote")
	}
}
