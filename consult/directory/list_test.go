package directory_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
)

func ids[T interface {
	directory.Facility | directory.Practitioner
}](items []T) []string {
	out := make([]string, len(items))
	for i, it := range items {
		switch v := any(it).(type) {
		case directory.Facility:
			out[i] = v.ID
		case directory.Practitioner:
			out[i] = v.ID
		}
	}
	return out
}

func TestListFacilitiesSearch(t *testing.T) {
	s, _, db := newService(t)
	hosp := station("BVDK", "Bệnh viện Đa khoa tỉnh Đắk Lắk")
	hosp.Level = consult.ProvincialHospital
	hosp.Specialties = []string{"cardiology", "surgery", "paediatrics"}
	hosp.NameEN = "Dak Lak Provincial General Hospital"
	hosp.Address = "2 Mai Hắc Đế, phường Buôn Ma Thuột"
	mustPutFacility(t, s, hosp)
	st := station("TYT-EAKAO", "Trạm Y tế xã Ea Kao")
	st.Commune = "Ea Kao"
	mustPutFacility(t, s, st)
	st2 := station("TYT-HOATHANG", "Trạm Y tế xã Hòa Thắng")
	st2.Commune = "Hòa Thắng"
	st2.Specialties = []string{"general_practice", "obstetrics"}
	mustPutFacility(t, s, st2)
	require.NoError(t, applyRemote(s, db, directory.KindFacility, "79-CHORAY", remoteFacilityJSON(t, "79", "CHORAY", "Bệnh viện Chợ Rẫy"), false))

	cases := []struct {
		name   string
		filter directory.FacilityFilter
		want   []string
	}{
		{"all", directory.FacilityFilter{}, []string{"66-BVDK", "66-TYT-EAKAO", "66-TYT-HOATHANG", "79-CHORAY"}},
		{"no diacritics finds Đắk Lắk", directory.FacilityFilter{Q: "dak lak"}, []string{"66-BVDK"}},
		{"upper case with diacritics", directory.FacilityFilter{Q: "ĐẮK LẮK"}, []string{"66-BVDK"}},
		{"decomposed query", directory.FacilityFilter{Q: "Đă\u0301k"}, []string{"66-BVDK"}},
		{"english name", directory.FacilityFilter{Q: "provincial general"}, []string{"66-BVDK"}},
		{"address", directory.FacilityFilter{Q: "mai hac de"}, []string{"66-BVDK"}},
		{"commune", directory.FacilityFilter{Q: "hoa thang"}, []string{"66-TYT-HOATHANG"}},
		{"code", directory.FacilityFilter{Q: "tyt-eakao"}, []string{"66-TYT-EAKAO"}},
		{"remote by name", directory.FacilityFilter{Q: "cho ray"}, []string{"79-CHORAY"}},
		{"no cross-field match", directory.FacilityFilter{Q: "lak dak"}, []string{}},
		{"province", directory.FacilityFilter{Province: "79"}, []string{"79-CHORAY"}},
		{"province and level", directory.FacilityFilter{Province: "66", Level: consult.CommuneHealthStation}, []string{"66-TYT-EAKAO", "66-TYT-HOATHANG"}},
		{"specialty across provinces", directory.FacilityFilter{Specialty: "cardiology"}, []string{"66-BVDK", "79-CHORAY"}},
		{"specialty", directory.FacilityFilter{Specialty: "obstetrics"}, []string{"66-TYT-HOATHANG"}},
		{"nothing", directory.FacilityFilter{Province: "01"}, []string{}},
		{"blank query matches all", directory.FacilityFilter{Q: " . "}, []string{"66-BVDK", "66-TYT-EAKAO", "66-TYT-HOATHANG", "79-CHORAY"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, next, err := s.ListFacilities(tc.filter, 0, "")
			require.NoError(t, err)
			assert.Equal(t, tc.want, ids(got))
			assert.Empty(t, next)
		})
	}
}

func TestListFacilitiesBadFilter(t *testing.T) {
	s, _, _ := newService(t)
	for _, f := range []directory.FacilityFilter{
		{Level: "clinic"}, {Specialty: "magic"}, {Province: "6-6"}, {Q: string(make([]byte, 201))},
	} {
		_, _, err := s.ListFacilities(f, 10, "")
		assert.ErrorIs(t, err, consult.ErrInvalid, "%+v", f)
	}
	_, _, err := s.ListFacilities(directory.FacilityFilter{}, 10, string(make([]byte, 1000)))
	assert.Equal(t, "invalid_cursor", consultCode(err))
}

func TestListPagination(t *testing.T) {
	s, _, _ := newService(t)
	var want []string
	for i := range 7 {
		f := mustPutFacility(t, s, station(fmt.Sprintf("TYT%02d", i), fmt.Sprintf("Trạm Y tế số %d", i)))
		want = append(want, f.ID)
	}
	// Pages of 3 walk everything exactly once, in key order.
	var got []string
	cursor, pages := "", 0
	for {
		page, next, err := s.ListFacilities(directory.FacilityFilter{Province: "66"}, 3, cursor)
		require.NoError(t, err)
		got = append(got, ids(page)...)
		pages++
		if next == "" {
			break
		}
		assert.Equal(t, page[len(page)-1].ID, next)
		cursor = next
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 3, pages, "7 items in pages of 3")

	// An exact fit has no empty last page.
	page, next, err := s.ListFacilities(directory.FacilityFilter{}, 7, "")
	require.NoError(t, err)
	assert.Len(t, page, 7)
	assert.Empty(t, next)

	// Paging with a filter skips non-matching records.
	page, next, err = s.ListFacilities(directory.FacilityFilter{Q: "so 1"}, 1, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"66-TYT01"}, ids(page))
	assert.Empty(t, next)

	// The limit is clamped: 0 means the default, more than 500 means 500.
	page, _, err = s.ListFacilities(directory.FacilityFilter{}, -1, "")
	require.NoError(t, err)
	assert.Len(t, page, 7)
	page, _, err = s.ListFacilities(directory.FacilityFilter{}, 1_000_000, "")
	require.NoError(t, err)
	assert.Len(t, page, 7)

	// A cursor from another filter still works: it is just a position.
	page, _, err = s.ListFacilities(directory.FacilityFilter{}, 2, "66-TYT04")
	require.NoError(t, err)
	assert.Equal(t, []string{"66-TYT05", "66-TYT06"}, ids(page))
}

func TestListPractitioners(t *testing.T) {
	s, _, db := newService(t)
	mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	mustPutFacility(t, s, station("TYT02", "Trạm Y tế xã Hòa Thắng"))
	mk := func(id, name, role, facility string, specs ...string) {
		mustPutPractitioner(t, s, directory.Practitioner{ID: id, Name: name, Role: role, Facility: facility,
			Specialties: specs, Languages: []string{"vi"}, Licence: "00" + id + "/ĐL-CCHN"})
	}
	mk("a1", "Nguyễn Văn Đức", "doctor", "66-TYT01", "general_practice")
	mk("a2", "Trần Thị Hương", "midwife", "66-TYT01", "obstetrics")
	mk("a3", "H'Linh Niê", "nurse", "66-TYT02")
	mk("a4", "Y Khoa Êban", "doctor", "66-TYT02", "paediatrics", "general_practice")
	remote, err := jsonMarshal(directory.Practitioner{ID: "79-x1", Name: "Phạm Minh Đức", Role: "doctor",
		Facility: "79-CHORAY", Province: "79", Specialties: []string{"cardiology"}, Languages: []string{"vi", "en"}})
	require.NoError(t, err)
	require.NoError(t, applyRemote(s, db, directory.KindPractitioner, "79-x1", remote, false))

	cases := []struct {
		name   string
		filter directory.PractitionerFilter
		want   []string
	}{
		{"all", directory.PractitionerFilter{}, []string{"66-a1", "66-a2", "66-a3", "66-a4", "79-x1"}},
		{"facility", directory.PractitionerFilter{Facility: "66-TYT02"}, []string{"66-a3", "66-a4"}},
		{"facility of another province", directory.PractitionerFilter{Facility: "79-CHORAY"}, []string{"79-x1"}},
		{"facility and other province", directory.PractitionerFilter{Facility: "79-CHORAY", Province: "66"}, []string{}},
		{"province", directory.PractitionerFilter{Province: "66"}, []string{"66-a1", "66-a2", "66-a3", "66-a4"}},
		{"role", directory.PractitionerFilter{Role: "doctor"}, []string{"66-a1", "66-a4", "79-x1"}},
		{"specialty", directory.PractitionerFilter{Specialty: "general_practice"}, []string{"66-a1", "66-a4"}},
		{"name without diacritics", directory.PractitionerFilter{Q: "duc"}, []string{"66-a1", "79-x1"}},
		{"name with apostrophe", directory.PractitionerFilter{Q: "h'linh"}, []string{"66-a3"}},
		{"name folded apostrophe", directory.PractitionerFilter{Q: "hlinh nie"}, []string{"66-a3"}},
		{"Ê Đê family name", directory.PractitionerFilter{Q: "eban"}, []string{"66-a4"}},
		{"licence", directory.PractitionerFilter{Q: "00a2/dl"}, []string{"66-a2"}},
		{"combined", directory.PractitionerFilter{Facility: "66-TYT01", Role: "doctor", Q: "nguyen"}, []string{"66-a1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, next, err := s.ListPractitioners(tc.filter, 0, "")
			require.NoError(t, err)
			assert.Equal(t, tc.want, ids(got))
			assert.Empty(t, next)
		})
	}

	for _, f := range []directory.PractitionerFilter{{Facility: "nodash"}, {Role: "wizard"}, {Specialty: "magic"}, {Province: "a-b"}} {
		_, _, err := s.ListPractitioners(f, 0, "")
		assert.ErrorIs(t, err, consult.ErrInvalid, "%+v", f)
	}
}
