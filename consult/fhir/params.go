package fhir

import (
	"slices"
	"sort"
	"strings"
	"time"
)

type paramKind int

const (
	kindString paramKind = iota
	kindToken
	kindReference
	kindDate
)

func (k paramKind) String() string {
	return [...]string{"string", "token", "reference", "date"}[k]
}

// param is one search parameter of a resource type: what it reads from a
// resource.
type param struct {
	kind    paramKind
	target  string                     // reference: the type a bare id names
	strings func(r Resource) []string  // string texts, or reference values "Type/id"
	tokens  func(r Resource) []Coding  // token: codings (identifiers as system|value)
	when    func(r Resource) time.Time // date: the time compared (nil: when this node changed it)
	doc     string
}

func (p param) modifiers() []string {
	if p.kind == kindString {
		return []string{"", "exact", "contains"}
	}
	return []string{""}
}

func refs(rs ...*Reference) []string {
	var out []string
	for _, r := range rs {
		if r != nil && r.Reference != "" {
			out = append(out, r.Reference)
		}
	}
	return out
}

func refList(rs []Reference) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Reference)
	}
	return out
}

func conceptCodings(cs ...CodeableConcept) []Coding {
	var out []Coding
	for _, c := range cs {
		out = append(out, c.Coding...)
	}
	return out
}

func identifierCodings(ids []Identifier) []Coding {
	out := make([]Coding, len(ids))
	for i, id := range ids {
		out[i] = Coding{System: id.System, Code: id.Value}
	}
	return out
}

func addressCities(as ...Address) []string {
	var out []string
	for _, a := range as {
		if a.City != "" {
			out = append(out, a.City)
		}
	}
	return out
}

// addressStates: the province's name and its code (from the province
// extension), so address-state=66 and address-state=Đắk Lắk both work.
func addressStates(as ...Address) []string {
	var out []string
	for _, a := range as {
		if a.State != "" {
			out = append(out, a.State)
		}
		for _, e := range a.Extension {
			if e.URL == ExtProvince && e.ValueCoding != nil {
				out = append(out, e.ValueCoding.Code)
			}
		}
	}
	return out
}

func idParam() param {
	return param{kind: kindToken, tokens: func(r Resource) []Coding { return []Coding{{Code: IDOf(r)}} },
		doc: "the resource id"}
}

func lastUpdatedParam() param {
	return param{kind: kindDate, doc: "when this node last changed the resource (eq, ne, gt, lt, ge, le)"}
}

// searchParams is every search parameter served, by resource type.
var searchParams = map[string]map[string]param{
	"Organization": {
		"_id": idParam(), "_lastUpdated": lastUpdatedParam(),
		"name": {kind: kindString, doc: "name or alias (English name)",
			strings: func(r Resource) []string { o := r.(*Organization); return append([]string{o.Name}, o.Alias...) }},
		"type": {kind: kindToken, doc: "organization type or facility level",
			tokens: func(r Resource) []Coding { return conceptCodings(r.(*Organization).Type...) }},
		"identifier": {kind: kindToken, doc: "facility ID, facility code or province code",
			tokens: func(r Resource) []Coding { return identifierCodings(r.(*Organization).Identifier) }},
		"partof": {kind: kindReference, target: "Organization", doc: "the parent organization (a province's health department)",
			strings: func(r Resource) []string { return refs(r.(*Organization).PartOf) }},
		"address-city": {kind: kindString, doc: "the commune",
			strings: func(r Resource) []string { return addressCities(r.(*Organization).Address...) }},
		"address-state": {kind: kindString, doc: "the province: its name or code",
			strings: func(r Resource) []string { return addressStates(r.(*Organization).Address...) }},
	},
	"Location": {
		"_id": idParam(), "_lastUpdated": lastUpdatedParam(),
		"name": {kind: kindString, doc: "name or alias",
			strings: func(r Resource) []string { l := r.(*Location); return append([]string{l.Name}, l.Alias...) }},
		"type": {kind: kindToken, doc: "facility level",
			tokens: func(r Resource) []Coding { return conceptCodings(r.(*Location).Type...) }},
		"identifier": {kind: kindToken, doc: "facility ID or code",
			tokens: func(r Resource) []Coding { return identifierCodings(r.(*Location).Identifier) }},
		"organization": {kind: kindReference, target: "Organization", doc: "the managing organization",
			strings: func(r Resource) []string { return refs(r.(*Location).ManagingOrganization) }},
		"address-city": {kind: kindString, doc: "the commune",
			strings: func(r Resource) []string { return addressCities(addrOf(r.(*Location).Address)...) }},
		"address-state": {kind: kindString, doc: "the province: its name or code",
			strings: func(r Resource) []string { return addressStates(addrOf(r.(*Location).Address)...) }},
	},
	"HealthcareService": {
		"_id": idParam(), "_lastUpdated": lastUpdatedParam(),
		"name": {kind: kindString, doc: "the facility's name",
			strings: func(r Resource) []string { return []string{r.(*HealthcareService).Name} }},
		"organization": {kind: kindReference, target: "Organization", doc: "the providing organization",
			strings: func(r Resource) []string { return refs(r.(*HealthcareService).ProvidedBy) }},
		"location": {kind: kindReference, target: "Location", doc: "where it is offered",
			strings: func(r Resource) []string { return refList(r.(*HealthcareService).Location) }},
		"specialty": {kind: kindToken, doc: "a specialty code",
			tokens: func(r Resource) []Coding { return conceptCodings(r.(*HealthcareService).Specialty...) }},
		"service-category": {kind: kindToken, doc: "facility level",
			tokens: func(r Resource) []Coding { return conceptCodings(r.(*HealthcareService).Category...) }},
	},
	"Practitioner": {
		"_id": idParam(), "_lastUpdated": lastUpdatedParam(),
		"name": {kind: kindString, doc: "the full name or any part of it",
			strings: func(r Resource) []string {
				var out []string
				for _, n := range r.(*Practitioner).Name {
					out = append(out, n.Text)
				}
				return out
			}},
		"identifier": {kind: kindToken, doc: "practitioner ID or licence number",
			tokens: func(r Resource) []Coding { return identifierCodings(r.(*Practitioner).Identifier) }},
	},
	"PractitionerRole": {
		"_id": idParam(), "_lastUpdated": lastUpdatedParam(),
		"practitioner": {kind: kindReference, target: "Practitioner", doc: "the health worker",
			strings: func(r Resource) []string { return refs(r.(*PractitionerRole).Practitioner) }},
		"organization": {kind: kindReference, target: "Organization", doc: "the facility",
			strings: func(r Resource) []string { return refs(r.(*PractitionerRole).Organization) }},
		"location": {kind: kindReference, target: "Location", doc: "the facility's site",
			strings: func(r Resource) []string { return refList(r.(*PractitionerRole).Location) }},
		"specialty": {kind: kindToken, doc: "a specialty code",
			tokens: func(r Resource) []Coding { return conceptCodings(r.(*PractitionerRole).Specialty...) }},
		"role": {kind: kindToken, doc: "practitioner role code",
			tokens: func(r Resource) []Coding { return conceptCodings(r.(*PractitionerRole).Code...) }},
	},
	"Endpoint": {
		"_id": idParam(),
		"organization": {kind: kindReference, target: "Organization", doc: "the managing organization",
			strings: func(r Resource) []string { return refs(r.(*Endpoint).ManagingOrganization) }},
		"connection-type": {kind: kindToken, doc: "libp2p-moinha or hl7-fhir-rest",
			tokens: func(r Resource) []Coding { return []Coding{r.(*Endpoint).ConnectionType} }},
		"identifier": {kind: kindToken, doc: "the node's libp2p peer ID",
			tokens: func(r Resource) []Coding { return identifierCodings(r.(*Endpoint).Identifier) }},
	},
	"Schedule": {
		"_id": idParam(),
		"actor": {kind: kindReference, target: "Location", doc: "the facility's Location",
			strings: func(r Resource) []string { return refList(r.(*Schedule).Actor) }},
	},
	"Slot": {
		"schedule": {kind: kindReference, target: "Schedule", doc: "required: the facility's schedule",
			strings: func(r Resource) []string { return []string{r.(*Slot).Schedule.Reference} }},
		"start": {kind: kindDate, doc: "the slot's start (eq, ge, gt, le, lt; default today; one day without an upper bound; at most 31 days)",
			when: func(r Resource) time.Time { return parseTime(r.(*Slot).Start) }},
		"status": {kind: kindToken, doc: "free or busy",
			tokens: func(r Resource) []Coding { return []Coding{{Code: r.(*Slot).Status}} }},
	},
	"Appointment": {
		"location": {kind: kindReference, target: "Location", doc: "required: the facility's Location",
			strings: func(r Resource) []string { return appointmentLocations(r.(*Appointment)) }},
		"date": {kind: kindDate, doc: "required: the day, YYYY-MM-DD (eq only)",
			when: func(r Resource) time.Time { return parseTime(r.(*Appointment).Start) }},
		"status": {kind: kindToken, doc: "booked, cancelled, arrived, fulfilled or noshow",
			tokens: func(r Resource) []Coding { return []Coding{{Code: r.(*Appointment).Status}} }},
	},
	"ServiceRequest": {
		"status": {kind: kindToken, doc: "active, completed, revoked, …",
			tokens: func(r Resource) []Coding { return []Coding{{Code: r.(*ServiceRequest).Status}} }},
		"category": {kind: kindToken, doc: "referral or consult",
			tokens: func(r Resource) []Coding { return conceptCodings(r.(*ServiceRequest).Category...) }},
	},
	"Task": {
		"status": {kind: kindToken, doc: "a FHIR Task status",
			tokens: func(r Resource) []Coding { return []Coding{{Code: r.(*Task).Status}} }},
		"business-status": {kind: kindToken, doc: "our sub-state",
			tokens: func(r Resource) []Coding {
				if t := r.(*Task); t.BusinessStatus != nil {
					return t.BusinessStatus.Coding
				}
				return nil
			}},
		"owner": {kind: kindReference, target: "Organization", doc: "the accepting province",
			strings: func(r Resource) []string { return refs(r.(*Task).Owner) }},
		"requester": {kind: kindReference, target: "Organization", doc: "the referring province",
			strings: func(r Resource) []string { return refs(r.(*Task).Requester) }},
	},
}

func addrOf(a *Address) []Address {
	if a == nil {
		return nil
	}
	return []Address{*a}
}

func appointmentLocations(a *Appointment) []string {
	var out []string
	for _, p := range a.Participant {
		if p.Actor != nil && strings.HasPrefix(p.Actor.Reference, "Location/") {
			out = append(out, p.Actor.Reference)
		}
	}
	return out
}

// ParamNames lists the search parameters of typ, sorted, result
// parameters last.
func ParamNames(typ string) []string {
	var out []string
	for k := range searchParams[typ] {
		out = append(out, k)
	}
	sort.Strings(out)
	return append(out, resultParams...)
}

// ServedTypes lists the resource types served, sorted.
func ServedTypes() []string {
	out := make([]string, 0, len(searchParams))
	for k := range searchParams {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
