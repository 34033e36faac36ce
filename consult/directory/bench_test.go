package directory_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/storage"
)

// nationalDirectory fills a node of province "00" with a national replica
// of 34 provinces × 441 facilities (≈15,000) × 10 health workers each
// (≈150,000), applied as remote records.
func nationalDirectory(b *testing.B) *directory.Service {
	b.Helper()
	db := openDB(b, &storage.Options{NoSync: true})
	s := directory.New(db, "00", nil)
	families := []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
	middles := []string{"Văn", "Thị", "Hữu", "Ngọc", "Minh", "Thanh", "Đức", "Thu"}
	givens := []string{"An", "Bình", "Cường", "Dũng", "Hà", "Hạnh", "Hương", "Hùng", "Lan", "Linh", "Long", "Mai", "Nam", "Phong", "Quân", "Sơn", "Thảo", "Trang", "Tuấn", "Yến"}
	communes := []string{"Tân Phú", "Hòa Bình", "An Lạc", "Phước Long", "Đông Hưng", "Bình Minh", "Ea Kao", "Krông Búk", "Thạnh Mỹ", "Xuân Lộc"}
	roles := directory.Roles()
	n := 0
	for prov := 1; prov <= 34; prov++ {
		pc := fmt.Sprintf("%02d", prov)
		require.NoError(b, db.Update(context.Background(), func(tx *storage.Tx) error {
			for fi := range 441 {
				fid := fmt.Sprintf("%s-F%04d", pc, fi)
				level := consult.CommuneHealthStation
				specs := []string{"general_practice"}
				if fi%40 == 0 {
					level, specs = consult.HealthCentre, []string{"internal_medicine", "surgery", "paediatrics", "obstetrics"}
				}
				f := directory.Facility{ID: fid, Code: fmt.Sprintf("F%04d", fi), Province: pc, Level: level,
					Name:    "Trạm Y tế xã " + communes[fi%len(communes)] + fmt.Sprintf(" %d", fi),
					Commune: communes[fi%len(communes)], Address: "Thôn 1", Specialties: specs, Services: []string{"Tiêm chủng"},
					Phone: "0262 3852 123", Geo: &directory.Geo{Lat: 12.5, Lon: 108}}
				if err := s.ApplyRemote(tx, directory.KindFacility, fid, mustJSON(b, f), false); err != nil {
					return err
				}
				for range 10 {
					n++
					p := directory.Practitioner{ID: fmt.Sprintf("%s-p%06d", pc, n), Province: pc, Facility: fid,
						Name:        families[n%len(families)] + " " + middles[n/7%len(middles)] + " " + givens[n/3%len(givens)],
						Role:        roles[n%len(roles)],
						Specialties: []string{consult.Specialties[n%len(consult.Specialties)].Code},
						Languages:   []string{"vi"}, Licence: fmt.Sprintf("%06d/CCHN", n)}
					if err := s.ApplyRemote(tx, directory.KindPractitioner, p.ID, mustJSON(b, p), false); err != nil {
						return err
					}
				}
			}
			return nil
		}))
	}
	return s
}

func mustJSON(b *testing.B, v any) []byte {
	out, err := jsonMarshal(v)
	require.NoError(b, err)
	return out
}

func BenchmarkList(b *testing.B) {
	s := nationalDirectory(b)
	practitioners := []struct {
		name   string
		filter directory.PractitionerFilter
	}{
		{"practitioners/all", directory.PractitionerFilter{}},
		{"practitioners/facility", directory.PractitionerFilter{Facility: "33-F0321"}},
		{"practitioners/province+role", directory.PractitionerFilter{Province: "33", Role: "midwife"}},
		{"practitioners/specialty", directory.PractitionerFilter{Specialty: "cardiology"}},
		{"practitioners/q-common", directory.PractitionerFilter{Q: "nguyen van"}},
		{"practitioners/q-rare", directory.PractitionerFilter{Q: "149999/cchn"}},
		{"practitioners/q-none", directory.PractitionerFilter{Q: "không có ai"}},
	}
	for _, tc := range practitioners {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := s.ListPractitioners(tc.filter, 50, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	facilities := []struct {
		name   string
		filter directory.FacilityFilter
	}{
		{"facilities/all", directory.FacilityFilter{}},
		{"facilities/level", directory.FacilityFilter{Level: consult.HealthCentre}},
		{"facilities/q", directory.FacilityFilter{Q: "krong buk"}},
		{"facilities/q-none", directory.FacilityFilter{Q: "không có"}},
	}
	for _, tc := range facilities {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := s.ListFacilities(tc.filter, 50, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
