package fhir

import (
	"slices"
	"time"
)

// CapabilityStatement describes what /fhir serves.
type CapabilityStatement struct {
	base
	URL            string      `json:"url,omitempty"`
	Name           string      `json:"name,omitempty"`
	Title          string      `json:"title,omitempty"`
	Status         string      `json:"status"`
	Date           string      `json:"date"`
	Publisher      string      `json:"publisher,omitempty"`
	Description    string      `json:"description,omitempty"`
	Kind           string      `json:"kind"`
	Software       *CSSoftware `json:"software,omitempty"`
	Implementation *CSImpl     `json:"implementation,omitempty"`
	FHIRVersion    string      `json:"fhirVersion"`
	Format         []string    `json:"format"`
	Rest           []CSRest    `json:"rest,omitempty"`
	Instantiates   []string    `json:"instantiates,omitempty"`
}

// FHIRVersion is the FHIR release the CapabilityStatement names. R4 is
// 4.0.1 (the 2019 technical correction of 4.0.0), but the independent
// validator the tests use (internal/fhirvalid) ships the R4 JSON schema
// of 4.0.0, whose FHIRVersion enum stops at "4.0.0"; until it carries the
// 4.0.1 schema we name the release we are validated against. Both are R4
// to clients.
const FHIRVersion = "4.0.0"

// CSSoftware is CapabilityStatement.software.
type CSSoftware struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// CSImpl is CapabilityStatement.implementation.
type CSImpl struct {
	Description string `json:"description"`
	URL         string `json:"url,omitempty"`
}

// CSRest is CapabilityStatement.rest.
type CSRest struct {
	Mode          string        `json:"mode"`
	Documentation string        `json:"documentation,omitempty"`
	Security      *CSSecurity   `json:"security,omitempty"`
	Resource      []CSResource  `json:"resource,omitempty"`
	Interaction   []Interaction `json:"interaction,omitempty"`
}

// CSSecurity is rest.security.
type CSSecurity struct {
	Description string `json:"description,omitempty"`
}

// Interaction is an interaction code with its documentation.
type Interaction struct {
	Code          string `json:"code"`
	Documentation string `json:"documentation,omitempty"`
}

// CSResource is rest.resource.
type CSResource struct {
	Type          string          `json:"type"`
	Profile       string          `json:"profile,omitempty"`
	Documentation string          `json:"documentation,omitempty"`
	Interaction   []Interaction   `json:"interaction,omitempty"`
	ReadHistory   *bool           `json:"readHistory,omitempty"`
	SearchParam   []CSSearchParam `json:"searchParam,omitempty"`
}

// CSSearchParam is rest.resource.searchParam.
type CSSearchParam struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	Documentation string `json:"documentation,omitempty"`
}

// resourceDocs says who may read each type (docs/fhir.md has the detail).
var resourceDocs = map[string]string{
	"Organization":      "Facilities of the whole federated directory and one health department per member province. Any signed-in user.",
	"Location":          "Each facility's site. Any signed-in user.",
	"HealthcareService": "What each facility offers (specialties, services). Any signed-in user.",
	"Practitioner":      "Health workers of the whole federated directory. Any signed-in user.",
	"PractitionerRole":  "A health worker at a facility. Any signed-in user.",
	"Endpoint":          "Each member node's libp2p endpoint and this node's FHIR base. Any signed-in user.",
	"Schedule":          "Booking calendars of this province's facilities. Public, as the JSON API's slots.",
	"Slot":              "Bookable slots of one schedule (schedule required). Public, as the JSON API's slots.",
	"Appointment":       "Appointments at this province's facilities: staff, doctors and admins of this node (of the facility, when the account has one). Reads are audited.",
	"ServiceRequest":    "Referrals and consult requests this node is a party to: its staff and doctors. Patient data as the JSON API shows it (referring node; acceptor after acceptance). Reads with patient data are audited.",
	"Task":              "The state of each referral (Task.status, businessStatus). Staff and doctors of the parties.",
}

var mcsdProfiles = map[string]string{
	"Organization":      profileMCSD + "IHE.mCSD.Organization",
	"Location":          profileMCSD + "IHE.mCSD.Location",
	"HealthcareService": profileMCSD + "IHE.mCSD.HealthcareService",
	"Practitioner":      profileMCSD + "IHE.mCSD.Practitioner",
	"PractitionerRole":  profileMCSD + "IHE.mCSD.PractitionerRole",
	"Endpoint":          profileMCSD + "IHE.mCSD.Endpoint",
}

// Capability is the CapabilityStatement of /fhir: exactly the types,
// interactions and search parameters served.
func Capability(baseURL, version string, started time.Time) *CapabilityStatement {
	cs := &CapabilityStatement{base: base{ResourceType: "CapabilityStatement", ID: "moinha"},
		URL: baseURL + "/metadata", Name: "MoiNhaNodeFHIR", Title: "Mọi Nhà node: FHIR R4 views",
		Status: "active", Date: dateTime(started.UTC()), Publisher: "Mọi Nhà",
		Description: "Read-only FHIR R4 views of a Mọi Nhà node: the federated health directory (IHE mCSD), " +
			"this province's schedules, slots and appointments, and the referrals it is a party to.",
		Kind:           "instance",
		Software:       &CSSoftware{Name: "moinha", Version: version},
		Implementation: &CSImpl{Description: "Mọi Nhà node", URL: baseURL},
		FHIRVersion:    FHIRVersion,
		Format:         []string{"json", "application/fhir+json"},
		Instantiates:   []string{"https://profiles.ihe.net/ITI/mCSD/CapabilityStatement/IHE.mCSD.CareServicesSelectiveSupplier"},
	}
	rest := CSRest{Mode: "server",
		Documentation: "Read-only: every write is refused (405). Unknown search parameters are refused (400, strict handling). " +
			"Pages: _count 1..200 (default 50); follow Bundle.link next (an opaque _cursor). Errors are OperationOutcomes.",
		Security: &CSSecurity{Description: "Authorization: Bearer TOKEN from POST /api/v1/login, or the web app's session cookie. " +
			"/fhir/metadata, Schedule and Slot are public."},
		Interaction: []Interaction{{Code: "history-system", Documentation: "directory changes: _since, _count"}},
	}
	for _, typ := range ServedTypes() {
		r := CSResource{Type: typ, Profile: mcsdProfiles[typ], Documentation: resourceDocs[typ]}
		r.Interaction = []Interaction{{Code: "read"}, {Code: "search-type"}}
		if slices.Contains(historyTypes, typ) {
			r.Interaction = append(r.Interaction, Interaction{Code: "history-type", Documentation: "_since, _count (mCSD ITI-91)"})
		}
		if typ == "Endpoint" {
			r.Interaction = append(r.Interaction, Interaction{Code: "history-type", Documentation: "always empty: endpoints keep no change times"})
		}
		names := ParamNames(typ)
		for _, name := range names {
			p, ok := searchParams[typ][name]
			if !ok {
				continue // result parameters are listed in rest.documentation
			}
			r.SearchParam = append(r.SearchParam, CSSearchParam{Name: name, Type: p.kind.String(), Documentation: p.doc})
		}
		rest.Resource = append(rest.Resource, r)
	}
	cs.Rest = []CSRest{rest}
	return cs
}
