package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/directory"
)

func deleted(t *testing.T, s *directory.Service, facilities bool, since time.Time) []string {
	t.Helper()
	var ids []string
	require.NoError(t, s.ScanDeleted(facilities, since, func(d directory.Deletion) bool {
		assert.Equal(t, facilities, d.Facility)
		assert.False(t, d.At.Before(since))
		ids = append(ids, d.ID)
		return true
	}))
	return ids
}

// TestDeletionMarks: every way a record leaves the directory leaves a
// mark with its time; storing the record again clears the mark.
func TestDeletionMarks(t *testing.T) {
	ctx := context.Background()
	s, _, db := newService(t)
	start := time.Now().Add(-time.Millisecond)
	f := mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	mustPutFacility(t, s, station("TYT02", "Trạm Y tế xã Hòa Thắng"))
	assert.Empty(t, deleted(t, s, true, time.Time{}))

	// Own delete.
	require.NoError(t, s.DeleteFacility(ctx, "admin", f.ID))
	assert.Equal(t, []string{"66-TYT01"}, deleted(t, s, true, start))
	assert.Empty(t, deleted(t, s, true, time.Now().Add(time.Second)), "since filters")
	assert.Empty(t, deleted(t, s, false, start), "facilities and health workers apart")

	// Stored again: no longer deleted.
	mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	assert.Empty(t, deleted(t, s, true, start))

	// A replicated tombstone; one for a record never seen leaves no mark.
	prac, err := jsonMarshal(directory.Practitioner{ID: "79-bs1", Name: "Phạm Minh Đức", Role: "doctor",
		Facility: "79-CHORAY", Province: "79", Languages: []string{"vi"}})
	require.NoError(t, err)
	require.NoError(t, applyRemote(s, db, directory.KindPractitioner, "79-bs1", prac, false))
	require.NoError(t, applyRemote(s, db, directory.KindPractitioner, "79-bs1", nil, true))
	require.NoError(t, applyRemote(s, db, directory.KindPractitioner, "79-never", nil, true))
	assert.Equal(t, []string{"79-bs1"}, deleted(t, s, false, start))
	require.NoError(t, applyRemote(s, db, directory.KindPractitioner, "79-bs1", prac, false))
	assert.Empty(t, deleted(t, s, false, start), "replicated again")

	// A departed province: each of its records.
	for _, code := range []string{"CHORAY", "NHIDONG1"} {
		require.NoError(t, applyRemote(s, db, directory.KindFacility, "79-"+code, remoteFacilityJSON(t, "79", code, "Bệnh viện "+code), false))
	}
	require.NoError(t, s.RemoveProvince(ctx, "79"))
	assert.Equal(t, []string{"79-CHORAY", "79-NHIDONG1"}, deleted(t, s, true, start))
	assert.Equal(t, []string{"79-bs1"}, deleted(t, s, false, start))

	// fn stops the scan.
	n := 0
	require.NoError(t, s.ScanDeleted(true, start, func(directory.Deletion) bool { n++; return false }))
	assert.Equal(t, 1, n)
}
