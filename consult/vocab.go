package consult

import "slices"

// Level is a facility's place in the Vietnamese health system.
type Level string

// Facility levels (API.md).
const (
	CommuneHealthStation Level = "commune_health_station"
	RegionalPolyclinic   Level = "regional_polyclinic"
	HealthCentre         Level = "health_centre"
	DistrictHospital     Level = "district_hospital"
	ProvincialHospital   Level = "provincial_hospital"
	CentralHospital      Level = "central_hospital"
)

// Levels lists every level, lowest first.
var Levels = []Level{CommuneHealthStation, RegionalPolyclinic, HealthCentre, DistrictHospital, ProvincialHospital, CentralHospital}

// ValidLevel reports whether l is a known level.
func ValidLevel(l Level) bool { return slices.Contains(Levels, l) }

// Specialty is a stable lower-case specialty code with its names.
type Specialty struct {
	Code string `json:"code"`
	VI   string `json:"vi"`
	EN   string `json:"en"`
}

// Specialties is the one list of specialty codes (docs/api.md repeats it).
var Specialties = []Specialty{
	{"general_practice", "Y học gia đình / đa khoa", "General practice"},
	{"internal_medicine", "Nội khoa", "Internal medicine"},
	{"cardiology", "Tim mạch", "Cardiology"},
	{"paediatrics", "Nhi khoa", "Paediatrics"},
	{"obstetrics", "Sản khoa", "Obstetrics"},
	{"gynaecology", "Phụ khoa", "Gynaecology"},
	{"surgery", "Ngoại khoa", "Surgery"},
	{"orthopaedics", "Chấn thương chỉnh hình", "Orthopaedics"},
	{"neurology", "Thần kinh", "Neurology"},
	{"oncology", "Ung bướu", "Oncology"},
	{"infectious_diseases", "Truyền nhiễm", "Infectious diseases"},
	{"respiratory", "Hô hấp", "Respiratory medicine"},
	{"endocrinology", "Nội tiết", "Endocrinology"},
	{"nephrology", "Thận", "Nephrology"},
	{"gastroenterology", "Tiêu hoá", "Gastroenterology"},
	{"dermatology", "Da liễu", "Dermatology"},
	{"ophthalmology", "Mắt", "Ophthalmology"},
	{"ent", "Tai mũi họng", "Ear, nose and throat"},
	{"dentistry", "Răng hàm mặt", "Dentistry"},
	{"psychiatry", "Tâm thần", "Psychiatry"},
	{"traditional_medicine", "Y học cổ truyền", "Traditional medicine"},
	{"rehabilitation", "Phục hồi chức năng", "Rehabilitation"},
	{"emergency", "Cấp cứu", "Emergency medicine"},
	{"radiology", "Chẩn đoán hình ảnh", "Radiology"},
	{"laboratory", "Xét nghiệm", "Laboratory medicine"},
	{"tuberculosis", "Lao và bệnh phổi", "Tuberculosis"},
	{"geriatrics", "Lão khoa", "Geriatrics"},
	{"nutrition", "Dinh dưỡng", "Nutrition"},
}

// ValidSpecialty reports whether code is in Specialties.
func ValidSpecialty(code string) bool {
	return slices.ContainsFunc(Specialties, func(s Specialty) bool { return s.Code == code })
}

// Role is an account role.
type Role string

// Account roles.
const (
	RoleAdmin    Role = "admin"
	RoleStaff    Role = "staff"
	RoleDoctor   Role = "doctor"
	RoleObserver Role = "observer"
)

// ValidRole reports whether r is a known role.
func ValidRole(r Role) bool {
	return r == RoleAdmin || r == RoleStaff || r == RoleDoctor || r == RoleObserver
}
