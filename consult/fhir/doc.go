// Package fhir owns the FHIR R4 views of a node's data: the mapping of
// the directory (as IHE mCSD Organization, Location, HealthcareService,
// Practitioner, PractitionerRole and Endpoint), of booking calendars,
// slots and appointments (Schedule, Slot, Appointment) and of referrals
// (ServiceRequest + Task) to FHIR JSON, and the protocol pieces around
// them: search-parameter parsing and matching ([ParseSearch]), paging
// with opaque cursors ([Search.Run], [SearchBundle]), directory histories
// for pull-updates ([ParseHistory], [Directory.History]), the
// OperationOutcome of every error ([Error], [Outcome]) and the
// CapabilityStatement ([Capability]).
//
// It has no HTTP handlers and no networking, and decides nothing about
// who may read what: node/api_fhir*.go does, and calls the domain
// services' audited getters for patient data. It imports consult domain
// packages only, never node or federation.
//
// # Resources
//
// Each emitted resource is a Go struct holding only the elements filled,
// all omitempty (FHIR forbids empty values). Our code systems, identifier
// systems and extensions are constants in codes.go; docs/fhir.md is the
// reference for consumers (URIs, code tables, state maps).
//
// # Searching
//
// A [Source] yields a type's [Item]s in ascending key order from a
// position; [Search.Run] filters them with the parsed conditions and
// stops after one page, so a page costs a scan from the cursor to the
// last match. Matching works on the FHIR resource itself (each parameter
// in params.go says which elements it reads), so a parameter means the
// same for every record that maps to the type. A directory search whose
// parameters name one province scans only that province's records.
package fhir
