package fhir

import (
	"strings"
	"time"

	"github.com/moinha/moinha/consult/directory"
)

// Member is a node of the network as the directory views show it: its
// province's health department (an Organization) and its libp2p Endpoint.
type Member struct {
	Peer     string   // libp2p peer ID
	Province string   // province code
	Name     string   // the name on its certificate
	Role     string   // province, hospital or observer
	Addrs    []string // multiaddrs it is reachable at, if known
	Self     bool     // this node
}

// ProvinceOrganization maps a member to its health department's
// Organization.
func ProvinceOrganization(m Member) *Organization {
	vi, en := provinceName(m.Province)
	o := &Organization{base: base{ResourceType: "Organization", ID: ProvinceOrgID(m.Province),
		Meta: &Meta{Profile: []string{profileMCSD + "IHE.mCSD.Organization"}}},
		Identifier: []Identifier{{System: SysProvinceCode, Value: m.Province}},
		Active:     boolPtr(true),
		Extension:  []Extension{provinceExt(m.Province)},
	}
	switch {
	case m.Role == "province" && vi != "":
		o.Name = "Sở Y tế " + vi
		o.Alias = []string{en + " Department of Health"}
		if m.Name != "" && m.Name != vi && m.Name != o.Name {
			o.Alias = append(o.Alias, m.Name)
		}
		o.Type = []CodeableConcept{{Coding: []Coding{{System: csOrgType, Code: "govt", Display: "Government"}}}}
	case m.Role == "observer":
		o.Name = m.Name
		o.Type = []CodeableConcept{{Coding: []Coding{{System: csOrgType, Code: "govt", Display: "Government"}}}}
	default:
		o.Name = m.Name
		o.Type = []CodeableConcept{{Coding: []Coding{{System: csOrgType, Code: "prov", Display: "Healthcare Provider"}}}}
	}
	if o.Name == "" {
		o.Name = m.Province
	}
	state := vi
	if state == "" {
		state = m.Name
	}
	if state != "" {
		o.Address = []Address{{Extension: []Extension{provinceExt(m.Province)}, State: state, Country: "VN"}}
	}
	o.Endpoint = []Reference{*ref("Endpoint", NodeEndpointID(m.Peer))}
	if m.Self {
		o.Endpoint = append(o.Endpoint, *ref("Endpoint", FHIREndpointID))
	}
	return o
}

// FHIREndpointID is the id of the Endpoint naming this node's own FHIR base.
const FHIREndpointID = "fhir-base"

// NodeEndpointID is the Endpoint id of a member's libp2p endpoint.
func NodeEndpointID(peer string) string { return "node." + peer }

// NodeEndpoint maps a member to the Endpoint of its libp2p identity.
func NodeEndpoint(m Member) *Endpoint {
	addr := "/p2p/" + m.Peer
	if len(m.Addrs) > 0 {
		addr = m.Addrs[0] + addr
	}
	return &Endpoint{base: base{ResourceType: "Endpoint", ID: NodeEndpointID(m.Peer),
		Meta: &Meta{Profile: []string{profileMCSD + "IHE.mCSD.Endpoint"}}},
		Identifier:           []Identifier{{System: SysPeerID, Value: m.Peer}},
		Status:               "active",
		ConnectionType:       Coding{System: CSConnection, Code: "libp2p-moinha", Display: "Mọi Nhà libp2p node (multiaddr)"},
		Name:                 strings.TrimSpace(m.Name + " node"),
		ManagingOrganization: ref("Organization", ProvinceOrgID(m.Province)),
		PayloadType: []CodeableConcept{{Coding: []Coding{{System: CSPayload, Code: "moinha-federation",
			Display: "Signed directory records, referrals and call signalling"}}}},
		Address: addr,
	}
}

// FHIREndpoint is the Endpoint of this node's FHIR base URL.
func FHIREndpoint(self Member, baseURL string) *Endpoint {
	return &Endpoint{base: base{ResourceType: "Endpoint", ID: FHIREndpointID,
		Meta: &Meta{Profile: []string{profileMCSD + "IHE.mCSD.Endpoint"}}},
		Status:               "active",
		ConnectionType:       Coding{System: csHL7Connection, Code: "hl7-fhir-rest", Display: "HL7 FHIR"},
		Name:                 strings.TrimSpace(self.Name + " FHIR R4"),
		ManagingOrganization: ref("Organization", ProvinceOrgID(self.Province)),
		PayloadType:          []CodeableConcept{{Text: "FHIR R4 resources (mCSD directory, scheduling, referrals)"}},
		PayloadMimeType:      []string{"application/fhir+json"},
		Address:              baseURL,
	}
}

func facilityIdentifiers(f *directory.Facility) []Identifier {
	return []Identifier{{System: SysFacilityID, Value: f.ID}, {System: SysFacilityCode, Value: f.Code}}
}

func facilityTelecom(f *directory.Facility) []ContactPoint {
	var t []ContactPoint
	if f.Phone != "" {
		t = append(t, ContactPoint{System: "phone", Value: f.Phone, Use: "work"})
	}
	if f.Email != "" {
		t = append(t, ContactPoint{System: "email", Value: f.Email, Use: "work"})
	}
	return t
}

func facilityAddress(f *directory.Facility) *Address {
	vi, _ := provinceName(f.Province)
	a := &Address{Extension: []Extension{provinceExt(f.Province)}, Use: "work", Type: "physical",
		City: f.Commune, State: vi, Country: "VN"}
	if f.Address != "" {
		a.Line = []string{f.Address}
	}
	parts := []string{}
	for _, p := range []string{f.Address, f.Commune, vi} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	a.Text = strings.Join(parts, ", ")
	return a
}

func meta(profile string, changed time.Time) *Meta {
	return &Meta{LastUpdated: instant(changed), Profile: []string{profileMCSD + profile}}
}

// FacilityOrganization maps a facility to an mCSD Organization, part of
// its province's health department.
func FacilityOrganization(f *directory.Facility, changed time.Time) *Organization {
	o := &Organization{base: base{ResourceType: "Organization", ID: ToID(f.ID),
		Meta: meta("IHE.mCSD.FacilityOrganization", changed)},
		Identifier: facilityIdentifiers(f),
		Active:     boolPtr(true),
		Type: []CodeableConcept{
			{Coding: []Coding{{System: csOrgType, Code: "prov", Display: "Healthcare Provider"}}},
			levelConcept(f.Level),
		},
		Name:    f.Name,
		Telecom: facilityTelecom(f),
		Address: []Address{*facilityAddress(f)},
		PartOf:  ref("Organization", ProvinceOrgID(f.Province)),
	}
	if f.NameEN != "" {
		o.Alias = []string{f.NameEN}
	}
	return o
}

// FacilityLocation maps a facility to its site, an mCSD Location.
func FacilityLocation(f *directory.Facility, changed time.Time) *Location {
	l := &Location{base: base{ResourceType: "Location", ID: ToID(f.ID),
		Meta: meta("IHE.mCSD.FacilityLocation", changed)},
		Identifier:           facilityIdentifiers(f),
		Status:               "active",
		Name:                 f.Name,
		Mode:                 "instance",
		Type:                 []CodeableConcept{levelConcept(f.Level)},
		Telecom:              facilityTelecom(f),
		Address:              facilityAddress(f),
		PhysicalType:         &CodeableConcept{Coding: []Coding{{System: csLocPhysical, Code: "si", Display: "Site"}}},
		ManagingOrganization: ref("Organization", ToID(f.ID)),
	}
	if f.NameEN != "" {
		l.Alias = []string{f.NameEN}
	}
	if f.Geo != nil {
		l.Position = &Position{Longitude: f.Geo.Lon, Latitude: f.Geo.Lat}
	}
	return l
}

// FacilityService maps what a facility offers (its specialties and
// services) to one HealthcareService.
func FacilityService(f *directory.Facility, changed time.Time) *HealthcareService {
	s := &HealthcareService{base: base{ResourceType: "HealthcareService", ID: ToID(f.ID),
		Meta: meta("IHE.mCSD.HealthcareService", changed)},
		Identifier: []Identifier{{System: SysFacilityID, Value: f.ID}},
		Active:     boolPtr(true),
		ProvidedBy: ref("Organization", ToID(f.ID)),
		Category:   []CodeableConcept{levelConcept(f.Level)},
		Specialty:  specialtyConcepts(f.Specialties),
		Location:   []Reference{*ref("Location", ToID(f.ID))},
		Name:       f.Name,
		Telecom:    facilityTelecom(f),
	}
	for _, sv := range f.Services {
		if sv != "" {
			s.Type = append(s.Type, CodeableConcept{Text: sv})
		}
	}
	return s
}

// PractitionerResource maps a health worker to an mCSD Practitioner.
func PractitionerResource(p *directory.Practitioner, changed time.Time) *Practitioner {
	out := &Practitioner{base: base{ResourceType: "Practitioner", ID: ToID(p.ID),
		Meta: meta("IHE.mCSD.Practitioner", changed)},
		Identifier: []Identifier{{System: SysPractitionerID, Value: p.ID}},
		Active:     boolPtr(true),
		Name:       []HumanName{splitName(p.Name)},
	}
	if p.Licence != "" {
		out.Identifier = append(out.Identifier, Identifier{System: SysLicence, Value: p.Licence})
		q := Qualification{Identifier: []Identifier{{System: SysLicence, Value: p.Licence}},
			Code: CodeableConcept{Text: "Chứng chỉ hành nghề"}}
		if p.Scope != "" {
			q.Code.Text += ": " + p.Scope
		}
		out.Qualification = []Qualification{q}
	}
	for _, lang := range p.Languages {
		if lang != "" && !strings.ContainsAny(lang, " \t\n") {
			out.Communication = append(out.Communication, CodeableConcept{Coding: []Coding{{System: csLanguage, Code: lang}}})
		}
	}
	return out
}

// PractitionerRoleResource maps a health worker's post at a facility to
// an mCSD PractitionerRole.
func PractitionerRoleResource(p *directory.Practitioner, changed time.Time) *PractitionerRole {
	r := &PractitionerRole{base: base{ResourceType: "PractitionerRole", ID: ToID(p.ID),
		Meta: meta("IHE.mCSD.PractitionerRole", changed)},
		Active:            boolPtr(true),
		Practitioner:      ref("Practitioner", ToID(p.ID)),
		Organization:      ref("Organization", ToID(p.Facility)),
		Specialty:         specialtyConcepts(p.Specialties),
		Location:          []Reference{*ref("Location", ToID(p.Facility))},
		HealthcareService: []Reference{*ref("HealthcareService", ToID(p.Facility))},
	}
	if d, ok := RoleDisplay[p.Role]; ok {
		r.Code = []CodeableConcept{{Coding: []Coding{{System: CSPractRole, Code: p.Role, Display: d[0]}}, Text: d[0]}}
	} else if p.Role != "" {
		r.Code = []CodeableConcept{{Coding: []Coding{{System: CSPractRole, Code: p.Role}}}}
	}
	return r
}
