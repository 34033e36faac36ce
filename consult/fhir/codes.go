package fhir

import (
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/sample"
)

// Our URIs: identifier systems (sid), code systems and extensions. They
// are documented in docs/fhir.md; changing one breaks consumers.
const (
	uriBase = "https://moinha.vn/fhir/"

	SysFacilityID     = uriBase + "sid/facility-id"        // "<province>-<code>", unique in the network
	SysFacilityCode   = uriBase + "sid/facility-code"      // the facility's code within its province
	SysPractitionerID = uriBase + "sid/practitioner-id"    // "<province>-<local id>"
	SysLicence        = uriBase + "sid/practising-licence" // practising licence number
	SysProvinceCode   = uriBase + "sid/province-code"      // two-digit administrative code
	SysPeerID         = uriBase + "sid/libp2p-peer"        // a node's libp2p peer ID
	SysBookingCode    = uriBase + "sid/booking-code"       // an appointment's booking code
	SysReferralID     = uriBase + "sid/referral-id"        // a referral's network-wide ID

	CSFacilityLevel   = uriBase + "CodeSystem/facility-level"
	CSProvince        = uriBase + "CodeSystem/province"
	CSSpecialty       = uriBase + "CodeSystem/specialty"
	CSPractRole       = uriBase + "CodeSystem/practitioner-role"
	CSConnection      = uriBase + "CodeSystem/endpoint-connection-type"
	CSPayload         = uriBase + "CodeSystem/endpoint-payload-type"
	CSBusinessStatus  = uriBase + "CodeSystem/referral-business-status"
	CSRequestType     = uriBase + "CodeSystem/request-type"
	CSUrgency         = uriBase + "CodeSystem/urgency"
	ExtProvince       = uriBase + "StructureDefinition/province"
	ExtAgeBand        = uriBase + "StructureDefinition/age-band"
	ExtSlotFree       = uriBase + "StructureDefinition/slot-free"
	csOrgType         = "http://terminology.hl7.org/CodeSystem/organization-type"
	csHL7Connection   = "http://terminology.hl7.org/CodeSystem/endpoint-connection-type"
	csServiceCategory = "http://terminology.hl7.org/CodeSystem/service-category"
	csLocPhysical     = "http://terminology.hl7.org/CodeSystem/location-physical-type"
	csParticipantType = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	csLanguage        = "urn:ietf:bcp:47"
	profileMCSD       = "https://profiles.ihe.net/ITI/mCSD/StructureDefinition/"
)

// LevelDisplay is a facility level's Vietnamese and English names (the
// facility-level code system; docs/fhir.md lists it).
var LevelDisplay = map[consult.Level][2]string{
	consult.CommuneHealthStation: {"Trạm y tế xã, phường", "Commune health station"},
	consult.RegionalPolyclinic:   {"Phòng khám đa khoa khu vực", "Regional polyclinic"},
	consult.HealthCentre:         {"Trung tâm y tế", "Health centre"},
	consult.DistrictHospital:     {"Bệnh viện tuyến huyện", "District hospital"},
	consult.ProvincialHospital:   {"Bệnh viện tỉnh", "Provincial hospital"},
	consult.CentralHospital:      {"Bệnh viện trung ương", "Central hospital"},
}

// RoleDisplay is a practitioner role's Vietnamese and English names (the
// practitioner-role code system).
var RoleDisplay = map[string][2]string{
	"doctor":              {"Bác sĩ", "Doctor"},
	"nurse":               {"Điều dưỡng", "Nurse"},
	"midwife":             {"Hộ sinh", "Midwife"},
	"physician_assistant": {"Y sĩ", "Physician assistant"},
	"pharmacist":          {"Dược sĩ", "Pharmacist"},
	"technician":          {"Kỹ thuật viên", "Technician"},
}

func levelConcept(l consult.Level) CodeableConcept {
	d := LevelDisplay[l]
	return CodeableConcept{Coding: []Coding{{System: CSFacilityLevel, Code: string(l), Display: d[0]}}, Text: d[0]}
}

func specialtyConcept(code string) CodeableConcept {
	for _, s := range consult.Specialties {
		if s.Code == code {
			return CodeableConcept{Coding: []Coding{{System: CSSpecialty, Code: code, Display: s.VI}}, Text: s.VI}
		}
	}
	return CodeableConcept{Coding: []Coding{{System: CSSpecialty, Code: code}}}
}

func specialtyConcepts(codes []string) []CodeableConcept {
	var out []CodeableConcept
	for _, c := range codes {
		if c != "" {
			out = append(out, specialtyConcept(c))
		}
	}
	return out
}

// provinceName returns a province's Vietnamese and English names ("" when
// the code is not one of the 34).
func provinceName(code string) (vi, en string) {
	if p, ok := sample.ProvinceByCode(code); ok {
		return p.Name, p.NameEN
	}
	return "", ""
}

func provinceExt(code string) Extension {
	vi, _ := provinceName(code)
	return Extension{URL: ExtProvince, ValueCoding: &Coding{System: CSProvince, Code: code, Display: vi}}
}

// Resource IDs. FHIR ids are [A-Za-z0-9.-]{1,64}; ours are
// [A-Za-z0-9_-], so '_' is written as '.', which our IDs never hold.

// ToID turns one of our IDs into a FHIR id.
func ToID(id string) string { return strings.ReplaceAll(id, "_", ".") }

// FromID turns a FHIR id back into our ID.
func FromID(id string) string { return strings.ReplaceAll(id, ".", "_") }

// validFHIRID reports whether id is a well-formed FHIR id.
func validFHIRID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// provinceOrgPrefix starts the id of a province's health-department
// Organization. Facility IDs always hold '-', these never do.
const provinceOrgPrefix = "province."

// ProvinceOrgID is the Organization id of a province's health department.
func ProvinceOrgID(province string) string { return provinceOrgPrefix + ToID(province) }

// instant formats t as a FHIR instant (UTC, milliseconds).
func instant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// dateTime formats t as a FHIR dateTime in its own zone (seconds).
func dateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func ref(typ, id string) *Reference { return &Reference{Reference: typ + "/" + id} }

func boolPtr(b bool) *bool { return &b }

// splitName turns a Vietnamese full name (family name first) into a
// HumanName.
func splitName(full string) HumanName {
	h := HumanName{Text: full}
	parts := strings.Fields(full)
	if len(parts) > 1 {
		h.Family = parts[0]
		h.Given = []string{strings.Join(parts[1:], " ")}
	}
	return h
}
