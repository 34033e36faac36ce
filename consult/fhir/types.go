package fhir

import "encoding/json"

// The FHIR R4 data types and resources this package emits. Each struct
// holds only the elements the views fill; every element is omitempty, so
// an empty value never reaches the wire (FHIR forbids empty strings,
// arrays and objects).

// Meta is Resource.meta.
type Meta struct {
	LastUpdated string   `json:"lastUpdated,omitempty"`
	Profile     []string `json:"profile,omitempty"`
	Tag         []Coding `json:"tag,omitempty"`
}

// Coding is a code from a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is codings plus text.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Identifier is a business identifier.
type Identifier struct {
	Use    string `json:"use,omitempty"`
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// Reference points at another resource ("Type/id" or "#contained").
type Reference struct {
	Reference  string      `json:"reference,omitempty"`
	Type       string      `json:"type,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

// Extension is a simple extension with one value.
type Extension struct {
	URL         string           `json:"url"`
	ValueCode   string           `json:"valueCode,omitempty"`
	ValueString string           `json:"valueString,omitempty"`
	ValueInt    *int             `json:"valueInteger,omitempty"`
	ValueCoding *Coding          `json:"valueCoding,omitempty"`
	ValueCC     *CodeableConcept `json:"valueCodeableConcept,omitempty"`
}

// HumanName is a person's name.
type HumanName struct {
	Use    string   `json:"use,omitempty"`
	Text   string   `json:"text,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
}

// ContactPoint is a phone number or e-mail address.
type ContactPoint struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
	Use    string `json:"use,omitempty"`
}

// Address is a postal address. Vietnam after 2025 has two levels: the
// commune (city) and the province (state).
type Address struct {
	Extension []Extension `json:"extension,omitempty"`
	Use       string      `json:"use,omitempty"`
	Type      string      `json:"type,omitempty"`
	Text      string      `json:"text,omitempty"`
	Line      []string    `json:"line,omitempty"`
	City      string      `json:"city,omitempty"`
	State     string      `json:"state,omitempty"`
	Country   string      `json:"country,omitempty"`
}

// Period is a time range.
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Annotation is a note.
type Annotation struct {
	Text string `json:"text"`
	Time string `json:"time,omitempty"`
}

// Resource is any resource this package emits: it names its type and id.
type Resource interface {
	resourceType() string
	resourceID() string
}

// base is the common head of every resource.
type base struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id,omitempty"`
	Meta         *Meta  `json:"meta,omitempty"`
}

func (b *base) resourceType() string { return b.ResourceType }
func (b *base) resourceID() string   { return b.ID }

// TypeOf returns a resource's type name.
func TypeOf(r Resource) string { return r.resourceType() }

// IDOf returns a resource's id.
func IDOf(r Resource) string { return r.resourceID() }

// Organization (mCSD): a facility, or a province's health department.
type Organization struct {
	base
	Extension  []Extension       `json:"extension,omitempty"`
	Identifier []Identifier      `json:"identifier,omitempty"`
	Active     *bool             `json:"active,omitempty"`
	Type       []CodeableConcept `json:"type,omitempty"`
	Name       string            `json:"name,omitempty"`
	Alias      []string          `json:"alias,omitempty"`
	Telecom    []ContactPoint    `json:"telecom,omitempty"`
	Address    []Address         `json:"address,omitempty"`
	PartOf     *Reference        `json:"partOf,omitempty"`
	Endpoint   []Reference       `json:"endpoint,omitempty"`
}

// Position is a WGS84 point.
type Position struct {
	Longitude float64 `json:"longitude"`
	Latitude  float64 `json:"latitude"`
}

// Location (mCSD): a facility's site.
type Location struct {
	base
	Identifier           []Identifier      `json:"identifier,omitempty"`
	Status               string            `json:"status,omitempty"`
	Name                 string            `json:"name,omitempty"`
	Alias                []string          `json:"alias,omitempty"`
	Mode                 string            `json:"mode,omitempty"`
	Type                 []CodeableConcept `json:"type,omitempty"`
	Telecom              []ContactPoint    `json:"telecom,omitempty"`
	Address              *Address          `json:"address,omitempty"`
	PhysicalType         *CodeableConcept  `json:"physicalType,omitempty"`
	Position             *Position         `json:"position,omitempty"`
	ManagingOrganization *Reference        `json:"managingOrganization,omitempty"`
}

// HealthcareService (mCSD): what a facility offers.
type HealthcareService struct {
	base
	Identifier []Identifier      `json:"identifier,omitempty"`
	Active     *bool             `json:"active,omitempty"`
	ProvidedBy *Reference        `json:"providedBy,omitempty"`
	Category   []CodeableConcept `json:"category,omitempty"`
	Type       []CodeableConcept `json:"type,omitempty"`
	Specialty  []CodeableConcept `json:"specialty,omitempty"`
	Location   []Reference       `json:"location,omitempty"`
	Name       string            `json:"name,omitempty"`
	Telecom    []ContactPoint    `json:"telecom,omitempty"`
}

// Qualification is a practising licence.
type Qualification struct {
	Identifier []Identifier    `json:"identifier,omitempty"`
	Code       CodeableConcept `json:"code"`
}

// Practitioner (mCSD): a health worker.
type Practitioner struct {
	base
	Identifier    []Identifier      `json:"identifier,omitempty"`
	Active        *bool             `json:"active,omitempty"`
	Name          []HumanName       `json:"name,omitempty"`
	Qualification []Qualification   `json:"qualification,omitempty"`
	Communication []CodeableConcept `json:"communication,omitempty"`
}

// PractitionerRole (mCSD): a health worker at a facility.
type PractitionerRole struct {
	base
	Identifier        []Identifier      `json:"identifier,omitempty"`
	Active            *bool             `json:"active,omitempty"`
	Practitioner      *Reference        `json:"practitioner,omitempty"`
	Organization      *Reference        `json:"organization,omitempty"`
	Code              []CodeableConcept `json:"code,omitempty"`
	Specialty         []CodeableConcept `json:"specialty,omitempty"`
	Location          []Reference       `json:"location,omitempty"`
	HealthcareService []Reference       `json:"healthcareService,omitempty"`
}

// Endpoint (mCSD): how to reach a node.
type Endpoint struct {
	base
	Identifier           []Identifier      `json:"identifier,omitempty"`
	Status               string            `json:"status"`
	ConnectionType       Coding            `json:"connectionType"`
	Name                 string            `json:"name,omitempty"`
	ManagingOrganization *Reference        `json:"managingOrganization,omitempty"`
	PayloadType          []CodeableConcept `json:"payloadType"`
	PayloadMimeType      []string          `json:"payloadMimeType,omitempty"`
	Address              string            `json:"address"`
}

// Schedule is a facility's booking calendar.
type Schedule struct {
	base
	Identifier      []Identifier      `json:"identifier,omitempty"`
	Active          *bool             `json:"active,omitempty"`
	ServiceCategory []CodeableConcept `json:"serviceCategory,omitempty"`
	Actor           []Reference       `json:"actor"`
	PlanningHorizon *Period           `json:"planningHorizon,omitempty"`
	Comment         string            `json:"comment,omitempty"`
}

// Slot is one bookable period.
type Slot struct {
	base
	Extension []Extension `json:"extension,omitempty"`
	Schedule  Reference   `json:"schedule"`
	Status    string      `json:"status"`
	Start     string      `json:"start"`
	End       string      `json:"end"`
	Comment   string      `json:"comment,omitempty"`
}

// Participant is an Appointment.participant.
type Participant struct {
	Type     []CodeableConcept `json:"type,omitempty"`
	Actor    *Reference        `json:"actor,omitempty"`
	Required string            `json:"required,omitempty"`
	Status   string            `json:"status"`
}

// Appointment is a resident's booking.
type Appointment struct {
	base
	Contained   []Resource        `json:"contained,omitempty"`
	Identifier  []Identifier      `json:"identifier,omitempty"`
	Status      string            `json:"status"`
	ReasonCode  []CodeableConcept `json:"reasonCode,omitempty"`
	Description string            `json:"description,omitempty"`
	Start       string            `json:"start,omitempty"`
	End         string            `json:"end,omitempty"`
	Created     string            `json:"created,omitempty"`
	Slot        []Reference       `json:"slot,omitempty"`
	Participant []Participant     `json:"participant"`
}

// Patient appears only contained, with the few elements a view may show.
type Patient struct {
	base
	Extension  []Extension    `json:"extension,omitempty"`
	Identifier []Identifier   `json:"identifier,omitempty"`
	Name       []HumanName    `json:"name,omitempty"`
	Telecom    []ContactPoint `json:"telecom,omitempty"`
	Gender     string         `json:"gender,omitempty"`
	BirthDate  string         `json:"birthDate,omitempty"`
	Address    []Address      `json:"address,omitempty"`
}

// ServiceRequest is a referral or consult request.
type ServiceRequest struct {
	base
	Contained       []Resource        `json:"contained,omitempty"`
	Identifier      []Identifier      `json:"identifier,omitempty"`
	Status          string            `json:"status"`
	Intent          string            `json:"intent"`
	Category        []CodeableConcept `json:"category,omitempty"`
	Priority        string            `json:"priority,omitempty"`
	Code            *CodeableConcept  `json:"code,omitempty"`
	Subject         Reference         `json:"subject"`
	AuthoredOn      string            `json:"authoredOn,omitempty"`
	Requester       *Reference        `json:"requester,omitempty"`
	Performer       []Reference       `json:"performer,omitempty"`
	ReasonCode      []CodeableConcept `json:"reasonCode,omitempty"`
	Note            []Annotation      `json:"note,omitempty"`
	PatientInstruct string            `json:"patientInstruction,omitempty"`
}

// Task tracks a referral's fulfilment.
type Task struct {
	base
	Identifier     []Identifier     `json:"identifier,omitempty"`
	Status         string           `json:"status"`
	BusinessStatus *CodeableConcept `json:"businessStatus,omitempty"`
	Intent         string           `json:"intent"`
	Priority       string           `json:"priority,omitempty"`
	Code           *CodeableConcept `json:"code,omitempty"`
	Focus          *Reference       `json:"focus,omitempty"`
	AuthoredOn     string           `json:"authoredOn,omitempty"`
	LastModified   string           `json:"lastModified,omitempty"`
	Requester      *Reference       `json:"requester,omitempty"`
	Owner          *Reference       `json:"owner,omitempty"`
	Restriction    *TaskRestriction `json:"restriction,omitempty"`
	Note           []Annotation     `json:"note,omitempty"`
}

// TaskRestriction is Task.restriction (an offer's deadline).
type TaskRestriction struct {
	Period *Period `json:"period,omitempty"`
}

// Issue is one OperationOutcome.issue.
type Issue struct {
	Severity    string           `json:"severity"`
	Code        string           `json:"code"`
	Details     *CodeableConcept `json:"details,omitempty"`
	Diagnostics string           `json:"diagnostics,omitempty"`
	Expression  []string         `json:"expression,omitempty"`
}

// OperationOutcome reports an error.
type OperationOutcome struct {
	base
	Issue []Issue `json:"issue"`
}

// BundleLink is Bundle.link.
type BundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// BundleSearch is Bundle.entry.search.
type BundleSearch struct {
	Mode string `json:"mode,omitempty"`
}

// BundleRequest is Bundle.entry.request (history bundles).
type BundleRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

// BundleResponse is Bundle.entry.response (history bundles).
type BundleResponse struct {
	Status       string `json:"status"`
	LastModified string `json:"lastModified,omitempty"`
}

// BundleEntry is one Bundle.entry.
type BundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource Resource        `json:"resource,omitempty"`
	Search   *BundleSearch   `json:"search,omitempty"`
	Request  *BundleRequest  `json:"request,omitempty"`
	Response *BundleResponse `json:"response,omitempty"`
}

// Bundle is a searchset or history bundle.
type Bundle struct {
	base
	Type      string        `json:"type"`
	Timestamp string        `json:"timestamp,omitempty"`
	Total     *int          `json:"total,omitempty"`
	Link      []BundleLink  `json:"link,omitempty"`
	Entry     []BundleEntry `json:"entry,omitempty"`
}

// Marshal encodes a resource as FHIR JSON (no HTML escaping, so
// Vietnamese text and URLs stay readable).
func Marshal(r Resource) ([]byte, error) {
	return marshal(r)
}

func marshal(v any) ([]byte, error) {
	var b jsonBuf
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b, nil
}

type jsonBuf []byte

func (b *jsonBuf) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }
