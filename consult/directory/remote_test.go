package directory_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/storage"
)

func TestApplyRemote(t *testing.T) {
	s, rec, db := newService(t)
	mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	before := len(rec.all())

	fac := remoteFacilityJSON(t, "79", "CHORAY", "Bệnh viện Chợ Rẫy")
	require.NoError(t, applyRemote(s, db, directory.KindFacility, "79-CHORAY", fac, false))
	got, err := s.GetFacility("79-CHORAY")
	require.NoError(t, err)
	assert.Equal(t, "Bệnh viện Chợ Rẫy", got.Name)
	assert.Equal(t, "79", got.Province)

	prac, err := jsonMarshal(directory.Practitioner{ID: "79-bs1", Name: "Phạm Minh Đức", Role: "doctor",
		Facility: "79-CHORAY", Province: "79", Languages: []string{"vi"}})
	require.NoError(t, err)
	require.NoError(t, applyRemote(s, db, directory.KindPractitioner, "79-bs1", prac, false))
	_, err = s.GetPractitioner("79-bs1")
	require.NoError(t, err)

	// Applying is not replicating again.
	assert.Len(t, rec.all(), before)

	// Remote records are not bookable here.
	_, err = s.BookableFacility("79-CHORAY")
	assert.ErrorIs(t, err, consult.ErrNotFound)

	// A deletion needs no payload.
	require.NoError(t, applyRemote(s, db, directory.KindPractitioner, "79-bs1", nil, true))
	_, err = s.GetPractitioner("79-bs1")
	assert.ErrorIs(t, err, consult.ErrNotFound)
	require.NoError(t, applyRemote(s, db, directory.KindPractitioner, "79-bs1", nil, true), "deleting twice is fine")
}

// remoteReject is a remote record ApplyRemote and PrepareRemote refuse,
// with the error code they give ("" for an unknown kind).
type remoteReject struct {
	name    string
	kind    string
	key     string
	payload []byte
	deleted bool
	code    string
}

func remoteRejects(t *testing.T) []remoteReject {
	t.Helper()
	own := remoteFacilityJSON(t, "66", "TYT01", "Trạm Y tế xã Ea Kao")
	other := remoteFacilityJSON(t, "79", "CHORAY", "Bệnh viện Chợ Rẫy")
	invalidLevel := []byte(strings.Replace(string(other), `"central_hospital"`, `"castle"`, 1))
	badPrac, err := jsonMarshal(directory.Practitioner{ID: "79-bs1", Name: "Phạm Minh Đức", Role: "doctor",
		Facility: "01-BACHMAI", Province: "79"})
	require.NoError(t, err)
	return []remoteReject{
		{"own province", directory.KindFacility, "66-TYT01", own, false, "remote_own_province"},
		{"own province deletion", directory.KindFacility, "66-TYT01", nil, true, "remote_own_province"},
		{"payload of another province", directory.KindFacility, "79-TYT01", own, false, "remote_province_mismatch"},
		{"key and id differ", directory.KindFacility, "79-OTHER", other, false, "remote_province_mismatch"},
		{"province claims the key's", directory.KindFacility, "48-CHORAY", other, false, "remote_province_mismatch"},
		{"invalid field", directory.KindFacility, "79-CHORAY", invalidLevel, false, "remote_invalid"},
		{"not JSON", directory.KindFacility, "79-CHORAY", []byte("{"), false, "remote_bad_payload"},
		{"trailing data", directory.KindFacility, "79-CHORAY", append(append([]byte{}, other...), []byte(" {}")...), false, "remote_bad_payload"},
		{"too large", directory.KindFacility, "79-CHORAY", make([]byte, 1<<20), false, "remote_too_large"},
		{"bad key", directory.KindFacility, "CHORAY", other, false, "remote_bad_key"},
		{"practitioner elsewhere", directory.KindPractitioner, "79-bs1", badPrac, false, "remote_province_mismatch"},
		{"unknown kind", "referral", "79-r1", other, false, ""},
	}
}

func TestApplyRemoteRejects(t *testing.T) {
	s, _, db := newService(t)
	cases := remoteRejects(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := applyRemote(s, db, tc.kind, tc.key, tc.payload, tc.deleted)
			require.Error(t, err)
			assert.Equal(t, tc.code, consultCode(err), "error: %v", err)
			if tc.code == "" {
				assert.ErrorIs(t, err, directory.ErrUnknownKind)
			}
		})
	}

	all, _, err := s.ListFacilities(directory.FacilityFilter{}, 0, "")
	require.NoError(t, err)
	assert.Empty(t, all, "nothing rejected was stored")
}

func TestRemoveProvince(t *testing.T) {
	ctx := context.Background()
	s, _, db := newService(t)
	mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	mustPutPractitioner(t, s, directory.Practitioner{Name: "Lê Văn Nam", Role: "doctor", Facility: "66-TYT01"})

	// 1,203 practitioners of 79 span more than one deletion chunk.
	require.NoError(t, applyRemote(s, db, directory.KindFacility, "79-CHORAY", remoteFacilityJSON(t, "79", "CHORAY", "Bệnh viện Chợ Rẫy"), false))
	require.NoError(t, applyRemote(s, db, directory.KindFacility, "7-X", remoteFacilityJSON(t, "7", "X", "Prefix look-alike"), false))
	require.NoError(t, db.Update(ctx, func(tx *storage.Tx) error {
		for i := range 1203 {
			b, err := jsonMarshal(directory.Practitioner{ID: fmt.Sprintf("79-p%d", i), Name: "Nguyễn Văn An",
				Role: "nurse", Facility: "79-CHORAY", Province: "79"})
			if err != nil {
				return err
			}
			if err := s.ApplyRemote(tx, directory.KindPractitioner, fmt.Sprintf("79-p%d", i), b, false); err != nil {
				return err
			}
		}
		return nil
	}))
	_, n, err := s.Counts("79")
	require.NoError(t, err)
	require.Equal(t, 1203, n)

	require.NoError(t, s.RemoveProvince(ctx, "79"))
	fs, ps, err := s.Counts("79")
	require.NoError(t, err)
	assert.Zero(t, fs)
	assert.Zero(t, ps)
	fs, ps, err = s.Counts("66")
	require.NoError(t, err)
	assert.Equal(t, [2]int{1, 1}, [2]int{fs, ps}, "other provinces are untouched")
	_, err = s.GetFacility("7-X")
	assert.NoError(t, err, "province 7 is not a prefix of 79")

	require.NoError(t, s.RemoveProvince(ctx, "79"), "removing an absent province is fine")
	assert.ErrorIs(t, s.RemoveProvince(ctx, "66"), consult.ErrInvalid, "never the node's own province")
	assert.ErrorIs(t, s.RemoveProvince(ctx, ""), consult.ErrInvalid)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, s.RemoveProvince(cancelled, "7"), context.Canceled)
}
