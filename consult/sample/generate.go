package sample

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/directory"
)

// Size says how much data Province generates.
type Size int

const (
	// Small is for demos and tests: one provincial hospital, two regional
	// health centres, twelve commune health stations and about 60 staff.
	Small Size = iota
	// Full is for benchmarks: about 500 facilities (hospitals, every
	// regional health centre, polyclinics, commune health stations) and
	// about 5,000 staff.
	Full
)

func (s Size) String() string {
	if s == Full {
		return "full"
	}
	return "small"
}

// Data is the generated content of one province's node.
type Data struct {
	Province      ProvinceInfo
	Facilities    []directory.Facility
	Practitioners []directory.Practitioner
	Schedules     []booking.Schedule // one per facility
}

// plan holds the counts for a Size.
type plan struct {
	specialised, centres, polyclinics, communes int
	hospitalStaff, specialisedStaff             int
	centreStaff, polyclinicStaff                int
	communeStaffMin, communeStaffMax            int
	spread                                      float64 // degrees around the centroid
}

func planFor(size Size, p *province) plan {
	if size == Full {
		centres := len(p.areas)
		return plan{
			specialised: 3, centres: centres, polyclinics: 20, communes: 500 - 1 - 3 - centres - 20,
			hospitalStaff: 400, specialisedStaff: 150, centreStaff: 60, polyclinicStaff: 12,
			communeStaffMin: 5, communeStaffMax: 9, spread: 0.45,
		}
	}
	return plan{
		centres: 2, communes: 12,
		hospitalStaff: 20, centreStaff: 8,
		communeStaffMin: 1, communeStaffMax: 3, spread: 0.25,
	}
}

// gen builds one province's Data. It is used by one goroutine.
type gen struct {
	rng      *rand.Rand
	p        province
	plan     plan
	data     Data
	communes map[string]bool // names already given to a commune
	staff    int             // practitioners generated so far
	fac      map[string]int  // facility codes generated per prefix
}

// Province generates the sample data of the province with code (any code
// works; one outside Provinces gets generic names). The same code, seed
// and size always give the same Data.
func Province(code string, seed int64, size Size) Data {
	p, ok := lookup(code)
	if !ok {
		p = unknownProvince(code)
	}
	h := fnv.New64a()
	h.Write([]byte(code))
	g := &gen{
		rng:      rand.New(rand.NewPCG(uint64(seed), h.Sum64())),
		p:        p,
		plan:     planFor(size, &p),
		communes: map[string]bool{},
		fac:      map[string]int{},
	}
	g.data.Province = p.ProvinceInfo
	g.build()
	return g.data
}

func (g *gen) build() {
	pl := g.plan
	g.staffFor(g.provincialHospital(), pl.hospitalStaff)
	for _, kind := range []string{"sannhi", "yhct", "lao", "mat", "tamthan"}[:pl.specialised] {
		g.staffFor(g.specialisedHospital(kind), pl.specialisedStaff)
	}
	for i := range pl.centres {
		g.staffFor(g.healthCentre(g.p.areas[i%len(g.p.areas)]), pl.centreStaff)
	}
	for range pl.polyclinics {
		g.staffFor(g.polyclinic(), pl.polyclinicStaff)
	}
	for range pl.communes {
		g.staffFor(g.communeStation(), pl.communeStaffMin+g.rng.IntN(pl.communeStaffMax-pl.communeStaffMin+1))
	}
}

// shortName is the province's name without "TP. " ("Hồ Chí Minh").
func (g *gen) shortName() string { return strings.TrimPrefix(g.p.Name, "TP. ") }

// unit is "tỉnh" or "thành phố".
func (g *gen) unit() string {
	if g.p.city {
		return "thành phố"
	}
	return "tỉnh"
}

func (g *gen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *gen) pickWeighted(list []weighted) string {
	total := 0
	for _, w := range list {
		total += w.w
	}
	n := g.rng.IntN(total)
	for _, w := range list {
		if n < w.w {
			return w.s
		}
		n -= w.w
	}
	return list[len(list)-1].s
}

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

func (g *gen) code(prefix string, width int) string {
	g.fac[prefix]++
	return fmt.Sprintf("%s-%0*d", prefix, width, g.fac[prefix])
}

// near returns a point within spread degrees of the centroid, rounded to
// about a metre.
func (g *gen) near() *directory.Geo {
	round := func(x float64) float64 { return math.Round(x*1e5) / 1e5 }
	lat := g.p.Lat + (g.rng.Float64()*2-1)*g.plan.spread
	lon := g.p.Lon + (g.rng.Float64()*2-1)*g.plan.spread
	return &directory.Geo{Lat: round(min(max(lat, 6.5), 23.5)), Lon: round(min(max(lon, 102.2), 117.5))}
}

// phone returns a landline number of the province: area code and
// subscriber number, 11 digits in all ("0262 3852 123", "028 3855 4269").
func (g *gen) phone() string {
	n := 11 - len(g.p.area)
	var b strings.Builder
	b.WriteByte('3')
	for range n - 1 {
		b.WriteByte(byte('0' + g.rng.IntN(10)))
	}
	sub := b.String()
	return g.p.area + " " + sub[:4] + " " + sub[4:]
}

// communeName draws a commune or ward name not used before in this
// province.
func (g *gen) communeName() string {
	first, second := communeParts()
	flavour := flavourCommunes(&g.p)
	for attempt := 0; ; attempt++ {
		var name string
		if len(flavour) > 0 && g.chance(0.35) {
			name = g.pick(flavour)
		} else {
			a, b := g.pick(first), g.pick(second)
			if a == b {
				continue
			}
			name = a + " " + b
		}
		if attempt > 50 {
			name = fmt.Sprintf("%s %d", name, attempt)
		}
		if !g.communes[name] {
			g.communes[name] = true
			return name
		}
	}
}

// wardShare is the share of communes that are urban wards (phường).
func (g *gen) wardShare() float64 {
	if g.p.region == regionCity {
		return 0.6
	}
	return 0.15
}

func (g *gen) streetAddress(ward string) string {
	return fmt.Sprintf("Số %d đường %s, phường %s", 1+g.rng.IntN(300), g.pick(streetNames()), ward)
}

func (g *gen) villageAddress(kind, commune string) string {
	switch {
	case kind == "phường":
		return fmt.Sprintf("Tổ dân phố %d, phường %s", 1+g.rng.IntN(15), commune)
	case g.p.region == regionSouth || g.p.khmer && g.chance(0.5):
		return fmt.Sprintf("Ấp %s, xã %s", g.pick([]string{"1", "2", "3", "4", "5", "Chợ", "Mới", "Bình Hòa", "Tân Lợi"}), commune)
	case g.p.region == regionHighland && g.chance(0.4):
		return fmt.Sprintf("Buôn %s, xã %s", g.pick([]string{"Ea Na", "Kô Sir", "Tơng Jú", "Ko Đung", "Plei Ơi", "Trưng", "Cuôr"}), commune)
	case g.p.region == regionNorthHill && g.chance(0.5):
		return fmt.Sprintf("Bản %s, xã %s", g.pick([]string{"Nà Lừa", "Pác Hoa", "Khuổi Ky", "Nặm Cắm", "Cốc Phường", "Lũng Vài"}), commune)
	}
	return fmt.Sprintf("Thôn %d, xã %s", 1+g.rng.IntN(12), commune)
}

// specialtiesOf returns always followed by each of maybe with probability
// p, in list order.
func (g *gen) specialtiesOf(always, maybe []string, p float64) []string {
	out := slices.Clone(always)
	for _, s := range maybe {
		if g.chance(p) {
			out = append(out, s)
		}
	}
	return out
}

// services returns n of list, in list order.
func (g *gen) services(list []string, n int) []string {
	idx := g.rng.Perm(len(list))[:min(n, len(list))]
	slices.Sort(idx)
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = list[j]
	}
	return out
}

// add completes f (ID, province, position, phone), records it with its
// schedule, and returns it.
func (g *gen) add(f directory.Facility) directory.Facility {
	f.ID = g.p.Code + "-" + f.Code
	f.Province = g.p.Code
	if f.Geo == nil {
		f.Geo = g.near()
	}
	if f.Phone == "" {
		f.Phone = g.phone()
	}
	g.data.Facilities = append(g.data.Facilities, f)
	g.data.Schedules = append(g.data.Schedules, g.schedule(&f))
	return f
}

func (g *gen) provincialHospital() directory.Facility {
	all := make([]string, 0, len(consult.Specialties))
	for _, s := range consult.Specialties {
		switch s.Code {
		case "psychiatry", "tuberculosis", "traditional_medicine":
		default:
			all = append(all, s.Code)
		}
	}
	en := " Provincial General Hospital"
	if g.p.city {
		en = " City General Hospital"
	}
	return g.add(directory.Facility{
		Code:        "BVDK",
		Name:        "Bệnh viện Đa khoa " + g.unit() + " " + g.shortName(),
		NameEN:      ascii(g.shortName()) + en,
		Level:       consult.ProvincialHospital,
		Commune:     "phường " + g.p.areas[0],
		Address:     g.streetAddress(g.p.areas[0]),
		Specialties: all,
		Services: []string{"Khám bệnh, chữa bệnh bảo hiểm y tế", "Khám bệnh theo yêu cầu", "Cấp cứu 24/7",
			"Điều trị nội trú", "Phẫu thuật", "Xét nghiệm", "Siêu âm", "X-quang, CT, MRI", "Nội soi",
			"Chạy thận nhân tạo", "Hội chẩn từ xa", "Đào tạo, chỉ đạo tuyến"},
		Email: "lienhe@bvdk" + g.p.Code + ".moinha.example",
	})
}

func (g *gen) specialisedHospital(kind string) directory.Facility {
	type spec struct {
		code, vi, en string
		specialties  []string
		services     []string
	}
	s := map[string]spec{
		"sannhi":  {"BVSN", "Bệnh viện Sản – Nhi", "Obstetrics and Paediatrics Hospital", []string{"obstetrics", "gynaecology", "paediatrics", "emergency", "nutrition", "laboratory", "radiology"}, []string{"Khám thai", "Sinh thường, sinh mổ", "Sơ sinh", "Cấp cứu nhi", "Tiêm chủng dịch vụ", "Siêu âm"}},
		"yhct":    {"BVYHCT", "Bệnh viện Y học cổ truyền", "Traditional Medicine Hospital", []string{"traditional_medicine", "rehabilitation", "internal_medicine", "geriatrics"}, []string{"Châm cứu", "Xoa bóp, bấm huyệt", "Thuốc thang", "Phục hồi chức năng"}},
		"lao":     {"BVLAO", "Bệnh viện Lao và Bệnh phổi", "Tuberculosis and Lung Disease Hospital", []string{"tuberculosis", "respiratory", "infectious_diseases", "laboratory", "radiology"}, []string{"Khám, điều trị lao", "Đo chức năng hô hấp", "X-quang phổi", "Xét nghiệm đờm"}},
		"mat":     {"BVMAT", "Bệnh viện Mắt", "Eye Hospital", []string{"ophthalmology"}, []string{"Khám mắt", "Đo khúc xạ", "Phẫu thuật Phaco"}},
		"tamthan": {"BVTT", "Bệnh viện Tâm thần", "Psychiatric Hospital", []string{"psychiatry", "neurology"}, []string{"Khám tâm thần", "Tư vấn tâm lý", "Điều trị nội trú"}},
	}[kind]
	return g.add(directory.Facility{
		Code:        s.code,
		Name:        s.vi + " " + g.unit() + " " + g.shortName(),
		NameEN:      ascii(g.shortName()) + " " + s.en,
		Level:       consult.ProvincialHospital,
		Commune:     "phường " + g.p.areas[0],
		Address:     g.streetAddress(g.p.areas[0]),
		Specialties: s.specialties,
		Services:    s.services,
	})
}

func (g *gen) healthCentre(area string) directory.Facility {
	kind := "xã"
	if g.chance(0.5) {
		kind = "phường"
	}
	addr := g.villageAddress(kind, area)
	if kind == "phường" {
		addr = g.streetAddress(area)
	}
	return g.add(directory.Facility{
		Code:    g.code("TTYT", 2),
		Name:    "Trung tâm Y tế khu vực " + area,
		NameEN:  ascii(area) + " Regional Health Centre",
		Level:   consult.HealthCentre,
		Commune: kind + " " + area,
		Address: addr,
		Specialties: g.specialtiesOf(
			[]string{"general_practice", "internal_medicine", "surgery", "paediatrics", "obstetrics", "emergency", "infectious_diseases", "laboratory", "radiology"},
			[]string{"traditional_medicine", "rehabilitation", "ent", "ophthalmology", "dentistry", "tuberculosis", "dermatology", "psychiatry"}, 0.5),
		Services: g.services([]string{"Khám bệnh, chữa bệnh bảo hiểm y tế", "Cấp cứu 24/7", "Điều trị nội trú",
			"Xét nghiệm", "Siêu âm", "X-quang", "Tiêm chủng", "Phòng chống dịch bệnh", "Khám sức khỏe định kỳ",
			"Quản lý bệnh không lây nhiễm", "Hội chẩn từ xa", "Chỉ đạo trạm y tế xã"}, 7+g.rng.IntN(4)),
	})
}

func (g *gen) polyclinic() directory.Facility {
	name := g.communeName()
	kind := "xã"
	if g.chance(g.wardShare()) {
		kind = "phường"
	}
	return g.add(directory.Facility{
		Code:    g.code("PKDK", 2),
		Name:    "Phòng khám Đa khoa khu vực " + name,
		NameEN:  ascii(name) + " Regional Polyclinic",
		Level:   consult.RegionalPolyclinic,
		Commune: kind + " " + name,
		Address: g.villageAddress(kind, name),
		Specialties: g.specialtiesOf([]string{"general_practice", "internal_medicine", "paediatrics", "obstetrics"},
			[]string{"dentistry", "ent", "ophthalmology", "laboratory", "radiology", "traditional_medicine"}, 0.5),
		Services: g.services([]string{"Khám bệnh, chữa bệnh bảo hiểm y tế", "Xét nghiệm cơ bản", "Siêu âm",
			"Điện tim", "Khám thai", "Tiêm chủng", "Sơ cứu, cấp cứu"}, 4+g.rng.IntN(3)),
	})
}

func (g *gen) communeStation() directory.Facility {
	name := g.communeName()
	kind, en := "xã", " Commune Health Station"
	if g.chance(g.wardShare()) {
		kind, en = "phường", " Ward Health Station"
	}
	return g.add(directory.Facility{
		Code:    g.code("TYT", 3),
		Name:    "Trạm Y tế " + kind + " " + name,
		NameEN:  ascii(name) + en,
		Level:   consult.CommuneHealthStation,
		Commune: kind + " " + name,
		Address: g.villageAddress(kind, name),
		Specialties: g.specialtiesOf([]string{"general_practice"},
			[]string{"obstetrics", "paediatrics", "traditional_medicine", "nutrition", "rehabilitation"}, 0.4),
		Services: g.services([]string{"Khám chữa bệnh ban đầu", "Khám chữa bệnh bảo hiểm y tế", "Tiêm chủng mở rộng",
			"Quản lý thai và khám thai", "Chăm sóc sức khỏe bà mẹ và trẻ em", "Quản lý tăng huyết áp, đái tháo đường",
			"Chăm sóc sức khỏe người cao tuổi", "Sơ cứu, cấp cứu ban đầu", "Tư vấn dinh dưỡng",
			"Kế hoạch hóa gia đình", "Khám sức khỏe học sinh", "Khám, tư vấn từ xa"}, 5+g.rng.IntN(4)),
	})
}
