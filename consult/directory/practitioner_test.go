package directory_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func TestPractitionerLifecycle(t *testing.T) {
	ctx := context.Background()
	s, rec, _ := newService(t)
	mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	mustPutFacility(t, s, station("TYT02", "Trạm Y tế xã Hòa Thắng"))

	// Generated IDs skip IDs already taken.
	taken := mustPutPractitioner(t, s, directory.Practitioner{ID: "nv2", Name: "Võ Thị Mai", Role: "midwife", Facility: "66-TYT01"})
	assert.Equal(t, "66-nv2", taken.ID)
	a := mustPutPractitioner(t, s, directory.Practitioner{Name: "Đặng Văn Hùng", Role: "doctor", Facility: "66-TYT01"})
	b := mustPutPractitioner(t, s, directory.Practitioner{Name: "Bùi Thị Lan", Role: "nurse", Facility: "66-TYT01"})
	assert.Equal(t, "66-nv1", a.ID)
	assert.Equal(t, "66-nv3", b.ID)
	assert.Equal(t, "66", a.Province)
	assert.NotNil(t, a.Languages)
	assert.NotNil(t, a.Specialties)

	// Update by full ID keeps the ID; moving facility works.
	a.Facility = "66-TYT02"
	a.Languages = []string{"vi", "en"}
	moved := mustPutPractitioner(t, s, a)
	assert.Equal(t, a.ID, moved.ID)
	got, err := s.GetPractitioner(a.ID)
	require.NoError(t, err)
	assert.Equal(t, "66-TYT02", got.Facility)
	assert.Equal(t, []string{"vi", "en"}, got.Languages)

	log := rec.all()
	last := log[len(log)-1]
	assert.Equal(t, directory.KindPractitioner, last.Kind)
	assert.Equal(t, a.ID, last.Key)

	require.NoError(t, s.DeletePractitioner(ctx, "admin", a.ID))
	_, err = s.GetPractitioner(a.ID)
	assert.ErrorIs(t, err, consult.ErrNotFound)
	assert.Equal(t, "practitioner_not_found", consultCode(err))
	log = rec.all()
	assert.True(t, log[len(log)-1].Deleted)

	err = s.DeletePractitioner(ctx, "admin", a.ID)
	assert.Equal(t, "practitioner_not_found", consultCode(err))
	err = s.DeletePractitioner(ctx, "admin", "79-x1")
	assert.ErrorIs(t, err, consult.ErrForbidden)
}
