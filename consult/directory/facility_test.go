package directory_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
)

func TestFacilityLifecycle(t *testing.T) {
	ctx := context.Background()
	s, rec, _ := newService(t)

	created := mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	assert.Equal(t, "66-TYT01", created.ID)

	got, err := s.GetFacility("66-TYT01")
	require.NoError(t, err)
	assert.Equal(t, created, got)

	f := station("TYT01", "Trạm Y tế xã Ea Kao (mới)")
	f.Phone = "0262 3000 000"
	updated := mustPutFacility(t, s, f)
	assert.Equal(t, created.ID, updated.ID, "an update keeps the ID")
	got, err = s.GetFacility(created.ID)
	require.NoError(t, err)
	assert.Equal(t, "Trạm Y tế xã Ea Kao (mới)", got.Name)

	// Every change was staged, in its transaction, as the API JSON.
	log := rec.all()
	require.Len(t, log, 2)
	assert.Equal(t, directory.KindFacility, log[1].Kind)
	assert.Equal(t, "66-TYT01", log[1].Key)
	assert.False(t, log[1].Deleted)
	var payload map[string]any
	require.NoError(t, json.Unmarshal(log[1].Payload, &payload))
	assert.Equal(t, "0262 3000 000", payload["phone"])
	assert.NotContains(t, payload, "search", "the search text is local, not replicated")

	require.NoError(t, s.DeleteFacility(ctx, "admin", created.ID))
	_, err = s.GetFacility(created.ID)
	assert.ErrorIs(t, err, consult.ErrNotFound)
	assert.Equal(t, "facility_not_found", consultCode(err))
	log = rec.all()
	require.Len(t, log, 3)
	assert.True(t, log[2].Deleted)
	assert.Equal(t, "66-TYT01", log[2].Key)

	err = s.DeleteFacility(ctx, "admin", created.ID)
	assert.Equal(t, "facility_not_found", consultCode(err))
}

func TestGetFacilityNotFound(t *testing.T) {
	s, _, _ := newService(t)
	for _, id := range []string{"", "66-NOPE", "nodash", "-x", "66-"} {
		_, err := s.GetFacility(id)
		assert.ErrorIs(t, err, consult.ErrNotFound, id)
		assert.Equal(t, "facility_not_found", consultCode(err), id)
	}
}

func TestDeleteFacilityRules(t *testing.T) {
	ctx := context.Background()
	s, _, db := newService(t)
	mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	p := mustPutPractitioner(t, s, directory.Practitioner{Name: "Lê Văn Nam", Role: "doctor", Facility: "66-TYT01"})

	err := s.DeleteFacility(ctx, "admin", "66-TYT01")
	assert.ErrorIs(t, err, consult.ErrConflict)
	assert.Equal(t, "facility_in_use", consultCode(err))

	require.NoError(t, s.DeletePractitioner(ctx, "admin", p.ID))
	require.NoError(t, s.DeleteFacility(ctx, "admin", "66-TYT01"))

	// Another province's facility is read-only here.
	require.NoError(t, applyRemote(s, db, directory.KindFacility, "79-BV01", remoteFacilityJSON(t, "79", "BV01", "Bệnh viện Chợ Rẫy"), false))
	err = s.DeleteFacility(ctx, "admin", "79-BV01")
	assert.ErrorIs(t, err, consult.ErrForbidden)
	assert.Equal(t, "facility_not_own", consultCode(err))
}

func TestStageFailureWritesNothing(t *testing.T) {
	db := openDB(t, nil)
	s := directory.New(db, "66", &recorder{fail: errors.New("signer offline")})
	_, err := s.PutFacility(context.Background(), "admin", station("TYT01", "Trạm Y tế xã Ea Kao"))
	require.Error(t, err)
	_, err = s.GetFacility("66-TYT01")
	assert.ErrorIs(t, err, consult.ErrNotFound, "the record and its replication commit together or not at all")
}

func TestNilReplicatorAndBadProvince(t *testing.T) {
	db := openDB(t, nil)
	s := directory.New(db, "66", nil)
	mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))

	bad := directory.New(db, "6-6", nil)
	_, err := bad.PutFacility(context.Background(), "admin", station("TYT02", "Trạm"))
	assert.Error(t, err)
}

func TestBookableFacility(t *testing.T) {
	s, _, db := newService(t)
	mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	f := station("TYT02", "Trạm Y tế đặc khu Trường Sa")
	f.TZ = "Asia/Bangkok"
	mustPutFacility(t, s, f)
	require.NoError(t, applyRemote(s, db, directory.KindFacility, "79-BV01", remoteFacilityJSON(t, "79", "BV01", "Bệnh viện Chợ Rẫy"), false))

	loc, err := s.BookableFacility("66-TYT01")
	require.NoError(t, err)
	assert.Equal(t, "Asia/Ho_Chi_Minh", loc.String())

	loc, err = s.BookableFacility("66-TYT02")
	require.NoError(t, err)
	assert.Equal(t, "Asia/Bangkok", loc.String())

	for _, id := range []string{"79-BV01", "66-NOPE", ""} {
		_, err := s.BookableFacility(id)
		assert.ErrorIs(t, err, consult.ErrNotFound, id)
		assert.Equal(t, "facility_not_found", consultCode(err), id)
	}
}

// The zones are cached; every change of an own facility shows at once.
func TestBookableFacilityFollowsChanges(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	f := mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	loc, err := s.BookableFacility(f.ID)
	require.NoError(t, err)
	assert.Equal(t, "Asia/Ho_Chi_Minh", loc.String())

	f.TZ = "Asia/Bangkok"
	mustPutFacility(t, s, f)
	loc, err = s.BookableFacility(f.ID)
	require.NoError(t, err)
	assert.Equal(t, "Asia/Bangkok", loc.String(), "after PutFacility")

	f.TZ = "Asia/Tokyo"
	_, err = s.ImportFacilities(ctx, "admin", []directory.Facility{f})
	require.NoError(t, err)
	loc, err = s.BookableFacility(f.ID)
	require.NoError(t, err)
	assert.Equal(t, "Asia/Tokyo", loc.String(), "after ImportFacilities")

	require.NoError(t, s.DeleteFacility(ctx, "admin", f.ID))
	_, err = s.BookableFacility(f.ID)
	assert.Equal(t, "facility_not_found", consultCode(err), "after DeleteFacility")
}

// Lookups racing changes never leave a stale zone cached.
func TestBookableFacilityRacingChanges(t *testing.T) {
	s, _, _ := newService(t)
	f := mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	zones := []string{"Asia/Bangkok", "Asia/Tokyo", ""}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					_, _ = s.BookableFacility(f.ID)
				}
			}
		})
	}
	for i := range 30 {
		f.TZ = zones[i%len(zones)]
		mustPutFacility(t, s, f)
	}
	f.TZ = "Asia/Bangkok"
	mustPutFacility(t, s, f)
	close(stop)
	wg.Wait()
	loc, err := s.BookableFacility(f.ID)
	require.NoError(t, err)
	assert.Equal(t, "Asia/Bangkok", loc.String(), "the last write")
}

func TestCounts(t *testing.T) {
	s, _, db := newService(t)
	mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	mustPutPractitioner(t, s, directory.Practitioner{Name: "Lê Văn Nam", Role: "doctor", Facility: "66-TYT01"})
	require.NoError(t, applyRemote(s, db, directory.KindFacility, "79-BV01", remoteFacilityJSON(t, "79", "BV01", "Bệnh viện Chợ Rẫy"), false))
	fs, ps, err := s.Counts("66")
	require.NoError(t, err)
	assert.Equal(t, [2]int{1, 1}, [2]int{fs, ps})
	fs, ps, err = s.Counts("79")
	require.NoError(t, err)
	assert.Equal(t, [2]int{1, 0}, [2]int{fs, ps})
}

// remoteFacilityJSON is a valid facility record of another province.
func remoteFacilityJSON(t testing.TB, province, code, name string) []byte {
	t.Helper()
	b, err := json.Marshal(directory.Facility{
		ID: province + "-" + code, Code: code, Name: name, Level: consult.CentralHospital,
		Province: province, Specialties: []string{"cardiology", "surgery"}, Services: []string{},
		Geo: &directory.Geo{Lat: 10.76, Lon: 106.66},
	})
	require.NoError(t, err)
	return b
}

var _ consult.Replicator = (*recorder)(nil)
