package sample

import (
	"fmt"
	"slices"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
)

// roleMix weights roles for the staff of a facility above commune level.
func roleMix(level consult.Level) []weighted {
	switch level {
	case consult.ProvincialHospital:
		return []weighted{{directory.RoleDoctor, 33}, {directory.RoleNurse, 45}, {directory.RoleMidwife, 6},
			{directory.RoleTechnician, 10}, {directory.RolePharmacist, 4}, {directory.RolePhysicianAssistant, 2}}
	case consult.HealthCentre:
		return []weighted{{directory.RoleDoctor, 30}, {directory.RoleNurse, 38}, {directory.RoleMidwife, 10},
			{directory.RoleTechnician, 10}, {directory.RolePharmacist, 6}, {directory.RolePhysicianAssistant, 6}}
	}
	return []weighted{{directory.RoleDoctor, 35}, {directory.RoleNurse, 30}, {directory.RoleMidwife, 10},
		{directory.RoleTechnician, 12}, {directory.RolePharmacist, 8}, {directory.RolePhysicianAssistant, 5}}
}

// communeRoles is the usual make-up of a commune station's team, in the
// order posts are filled; the first post is a doctor or, where there is
// none, a physician assistant (y sĩ).
func communeRoles() []string {
	return []string{"", directory.RoleMidwife, directory.RoleNurse, directory.RolePhysicianAssistant,
		directory.RolePharmacist, directory.RoleNurse, directory.RoleMidwife, directory.RoleTechnician,
		directory.RoleNurse, directory.RolePhysicianAssistant}
}

// staffFor generates n health workers of f.
func (g *gen) staffFor(f directory.Facility, n int) {
	posts := communeRoles()
	for i := range n {
		var role string
		switch {
		case f.Level == consult.CommuneHealthStation && i == 0:
			role = directory.RoleDoctor
			if !g.chance(0.75) {
				role = directory.RolePhysicianAssistant
			}
		case f.Level == consult.CommuneHealthStation:
			role = posts[i%len(posts)]
		case i == 0:
			role = directory.RoleDoctor
		default:
			role = g.pickWeighted(roleMix(f.Level))
		}
		g.practitioner(f, role)
	}
}

func (g *gen) practitioner(f directory.Facility, role string) {
	g.staff++
	female := g.chance(femaleShare(role))
	name, langs := g.person(female)
	specs := g.staffSpecialties(f, role)
	if role == directory.RoleDoctor && g.chance(0.35) {
		langs = append(langs, "en")
	}
	if role == directory.RoleDoctor && g.chance(0.03) {
		langs = append(langs, "fr")
	}
	g.data.Practitioners = append(g.data.Practitioners, directory.Practitioner{
		ID:          fmt.Sprintf("%s-nv%05d", g.p.Code, g.staff),
		Name:        name,
		Role:        role,
		Facility:    f.ID,
		Province:    g.p.Code,
		Specialties: specs,
		Languages:   langs,
		Licence:     fmt.Sprintf("%06d/%s-CCHN", g.staff, g.p.abbr),
		Scope:       scope(role, specs),
	})
}

// femaleShare is roughly the share of women in each role.
func femaleShare(role string) float64 {
	switch role {
	case directory.RoleMidwife:
		return 1
	case directory.RoleNurse:
		return 0.8
	case directory.RolePharmacist:
		return 0.7
	}
	return 0.5
}

// person draws a name and the languages that go with it.
func (g *gen) person(female bool) (string, []string) {
	switch {
	case g.p.ethnicVI == "ede" && g.chance(0.15):
		fam, women, men := edeNames()
		if female {
			return "H'" + g.pick(women) + " " + g.pick(fam), []string{"vi", "rad"}
		}
		return "Y " + g.pick(men) + " " + g.pick(fam), []string{"vi", "rad"}
	case g.p.ethnicVI == "jra" && g.chance(0.15):
		fam, women, men := jraiNames()
		if female {
			return g.pick(fam) + " " + g.pick(women), []string{"vi", "jra"}
		}
		return g.pick(fam) + " " + g.pick(men), []string{"vi", "jra"}
	case g.p.region == regionNorthHill && g.chance(0.08):
		fam := g.pick([]string{"Giàng", "Sùng", "Vàng", "Thào", "Lý", "Hầu", "Mùa", "Lầu"})
		if female {
			return fam + " Thị " + g.pick([]string{"Dua", "Mai", "Sua", "Pằng", "Xá", "Mỷ", "Dế", "Chía"}), []string{"vi", "hmn"}
		}
		return fam + " A " + g.pick([]string{"Páo", "Chứ", "Sử", "Dơ", "Pó", "Lử", "Tủa", "Sình"}), []string{"vi", "hmn"}
	case g.p.khmer && g.chance(0.08):
		fam := g.pick([]string{"Thạch", "Danh", "Sơn", "Chau", "Kim", "Lâm"})
		if female {
			return fam + " Thị " + g.pick([]string{"Sa Ra", "Sa Vy", "Sóc Kha", "Đa Ra", "Mây", "Sà Rươne"}), []string{"vi", "km"}
		}
		return fam + " " + g.pick([]string{"Sóc", "Ry", "Sa Rinh", "Phol", "Kha", "Sê", "Phát", "Sang"}), []string{"vi", "km"}
	}
	name := g.pickWeighted(familyNames()) + " " + g.pickWeighted(middleNames(female)) + " " + g.pick(givenNames(female))
	return name, []string{"vi"}
}

// clinical reports whether a specialty is one a doctor treats patients in
// (rather than a diagnostic service).
func clinical(s string) bool { return s != "laboratory" && s != "radiology" }

func (g *gen) staffSpecialties(f directory.Facility, role string) []string {
	var clin []string
	for _, s := range f.Specialties {
		if clinical(s) {
			clin = append(clin, s)
		}
	}
	switch role {
	case directory.RoleDoctor:
		if f.Level == consult.CommuneHealthStation || len(clin) == 0 {
			return []string{"general_practice"}
		}
		out := []string{g.pick(clin)}
		if second := g.pick(clin); g.chance(0.15) && second != out[0] {
			out = append(out, second)
		}
		return out
	case directory.RoleNurse:
		if len(clin) > 0 && g.chance(0.5) {
			return []string{g.pick(clin)}
		}
	case directory.RoleMidwife:
		return []string{"obstetrics"}
	case directory.RoleTechnician:
		return []string{g.pick([]string{"laboratory", "radiology"})}
	case directory.RolePhysicianAssistant:
		if g.chance(0.7) {
			return []string{"general_practice"}
		}
		return []string{"traditional_medicine"}
	}
	return []string{}
}

// scope is the scope of practice written on a licence.
func scope(role string, specs []string) string {
	switch role {
	case directory.RoleDoctor:
		if len(specs) == 0 || specs[0] == "general_practice" {
			return "Khám bệnh, chữa bệnh đa khoa"
		}
		i := slices.IndexFunc(consult.Specialties, func(s consult.Specialty) bool { return s.Code == specs[0] })
		return "Khám bệnh, chữa bệnh chuyên khoa " + consult.Specialties[i].VI
	case directory.RolePhysicianAssistant:
		if len(specs) > 0 && specs[0] == "traditional_medicine" {
			return "Y sĩ y học cổ truyền"
		}
		return "Y sĩ đa khoa"
	case directory.RoleNurse:
		return "Điều dưỡng"
	case directory.RoleMidwife:
		return "Hộ sinh"
	case directory.RoleTechnician:
		if len(specs) > 0 && specs[0] == "radiology" {
			return "Kỹ thuật y – chẩn đoán hình ảnh"
		}
		return "Kỹ thuật y – xét nghiệm"
	}
	return "Dược sĩ"
}
