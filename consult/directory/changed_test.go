package directory_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/directory"
)

// Change times: an own record changed when it was written, a replicated
// one when this node stored it (not when its origin wrote it).
func TestChangeTimes(t *testing.T) {
	s, _, db := newService(t)
	before := time.Now().UTC()
	own := mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))

	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var remote directory.Facility
	require.NoError(t, json.Unmarshal(remoteFacilityJSON(t, "79", "CHORAY", "Bệnh viện Chợ Rẫy"), &remote))
	remote.Updated = old
	payload, err := json.Marshal(remote)
	require.NoError(t, err)
	beforeApply := time.Now().UTC()
	require.NoError(t, applyRemote(s, db, directory.KindFacility, "79-CHORAY", payload, false))

	f, changed, err := s.FacilityChanged(own.ID)
	require.NoError(t, err)
	assert.Equal(t, own.ID, f.ID)
	assert.True(t, changed.Equal(own.Updated))
	assert.False(t, changed.Before(before))

	f, changed, err = s.FacilityChanged("79-CHORAY")
	require.NoError(t, err)
	assert.True(t, f.Updated.Equal(old), "the origin's time is kept in the record")
	assert.False(t, changed.Before(beforeApply), "changed is when this node stored it")
	got, err := s.GetFacility("79-CHORAY")
	require.NoError(t, err)
	assert.True(t, got.Updated.Equal(old), "the API shape is unchanged")

	// Scans: ID order, a province prefix, after a key, early stop.
	list := func(f directory.ScanFilter, after string, max int) []string {
		ids := []string{}
		require.NoError(t, s.ScanFacilities(f, after, func(f directory.Facility, _ time.Time) bool {
			ids = append(ids, f.ID)
			return len(ids) < max
		}))
		return ids
	}
	assert.Equal(t, []string{"66-TYT01", "79-CHORAY"}, list(directory.ScanFilter{}, "", 10))
	assert.Equal(t, []string{"79-CHORAY"}, list(directory.ScanFilter{Province: "79"}, "", 10))
	assert.Equal(t, []string{"79-CHORAY"}, list(directory.ScanFilter{}, "66-TYT01", 10))
	assert.Equal(t, []string{"66-TYT01"}, list(directory.ScanFilter{}, "", 1))
	assert.Equal(t, []string{"79-CHORAY"}, list(directory.ScanFilter{Since: beforeApply}, "", 10),
		"the replicated record changed here after the own one")
	assert.Error(t, s.ScanFacilities(directory.ScanFilter{Province: "bad-code"}, "", func(directory.Facility, time.Time) bool { return true }))

	p := mustPutPractitioner(t, s, directory.Practitioner{Name: "Y Khoa Niê", Role: "nurse", Facility: own.ID, Languages: []string{"vi"}})
	var pids []string
	require.NoError(t, s.ScanPractitioners(directory.ScanFilter{Province: "66"}, "", func(q directory.Practitioner, changed time.Time) bool {
		pids = append(pids, q.ID)
		assert.True(t, changed.Equal(q.Updated))
		return true
	}))
	assert.Equal(t, []string{p.ID}, pids)
	_, _, err = s.PractitionerChanged(p.ID)
	require.NoError(t, err)
	_, _, err = s.PractitionerChanged("66-nobody")
	assert.Equal(t, "practitioner_not_found", consultCode(err))
	_, _, err = s.FacilityChanged("66-none")
	assert.Equal(t, "facility_not_found", consultCode(err))
}

// The filters skip records on their bytes; they never drop one that
// matches.
func TestScanFilter(t *testing.T) {
	s, _, _ := newService(t)
	a := station("TYT01", "Trạm Y tế xã Ea Kao")
	a.Specialties = []string{"general_practice", "paediatrics"}
	mustPutFacility(t, s, a)
	mark := time.Now().UTC()
	time.Sleep(time.Millisecond) // the next write must fall after mark
	b := station("TYT02", "Trạm Y tế phường Tân Lập")
	b.Commune = "Tân Lập"
	mustPutFacility(t, s, b)
	list := func(f directory.ScanFilter) []string {
		var ids []string
		require.NoError(t, s.ScanFacilities(f, "", func(f directory.Facility, _ time.Time) bool {
			ids = append(ids, f.ID)
			return true
		}))
		return ids
	}
	assert.Equal(t, []string{"66-TYT01", "66-TYT02"}, list(directory.ScanFilter{}))
	assert.Equal(t, []string{"66-TYT01"}, list(directory.ScanFilter{Specialty: "paediatrics"}))
	assert.Equal(t, []string{"66-TYT02"}, list(directory.ScanFilter{Text: directory.Fold("TÂN LẬP")}))
	assert.Equal(t, []string{"66-TYT02"}, list(directory.ScanFilter{Since: mark}))
	assert.Empty(t, list(directory.ScanFilter{Since: time.Now().Add(time.Hour)}))
	assert.Empty(t, list(directory.ScanFilter{Level: "health_centre"}))
	assert.Len(t, list(directory.ScanFilter{Level: "commune_health_station", Province: "66"}), 2)
}
