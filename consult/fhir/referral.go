package fhir

import (
	"strconv"

	"github.com/moinha/moinha/consult/referral"
)

// serviceRequestStatus maps our states (FHIR Task statuses) to the
// request's status as this node sees it (docs/fhir.md has the table).
var serviceRequestStatus = map[referral.Status]string{
	referral.StatusRequested:  "active",
	referral.StatusReceived:   "active",
	referral.StatusAccepted:   "active",
	referral.StatusInProgress: "active",
	referral.StatusOnHold:     "on-hold",
	referral.StatusCompleted:  "completed",
	referral.StatusCancelled:  "revoked",
	referral.StatusRejected:   "revoked",
	referral.StatusFailed:     "revoked",
}

var priority = map[string]string{
	referral.UrgencyRoutine:   "routine",
	referral.UrgencyUrgent:    "urgent",
	referral.UrgencyEmergency: "stat",
}

// BusinessStatusDisplay names our sub-states (Task.businessStatus).
var BusinessStatusDisplay = map[string]string{
	referral.SubOffered:       "Offered",
	referral.SubAcceptPending: "Accepted here, waiting for the referring province",
	referral.SubAppointment:   "Appointment scheduled",
	referral.SubInterim:       "Interim note received",
	referral.SubAwaitingInfo:  "Awaiting information",
	referral.SubExpired:       "Offer expired",
	referral.SubTaken:         "Taken by another province",
	referral.SubDeclined:      "Declined here",
	referral.SubNoCandidate:   "No province could accept",
	referral.SubCancelled:     "Cancelled by the referring province",
	referral.SubReturned:      "Returned: a party left the network",
	referral.SubReoffered:     "Offered again",
	referral.SubAnswered:      "Answered",
	referral.SubFailed:        "The acceptor could not perform it",
}

// owned reports whether the status means a province works on it (the
// target is then the Task's owner).
func owned(s referral.Status) bool {
	switch s {
	case referral.StatusAccepted, referral.StatusInProgress, referral.StatusOnHold,
		referral.StatusCompleted, referral.StatusFailed:
		return true
	}
	return false
}

var genders = map[string]string{"female": "female", "male": "male", "other": "other", "unknown": "unknown"}

// ServiceRequestResource maps a referral as this node's users see it:
// the contained Patient carries name, phone and birth year only when v
// has the patient (the referring node; the acceptor after acceptance);
// otherwise only sex and age band, which the offer carries anyway.
func ServiceRequestResource(v *referral.View) *ServiceRequest {
	id := v.ID
	sr := &ServiceRequest{base: base{ResourceType: "ServiceRequest", ID: id, Meta: &Meta{LastUpdated: instant(v.Updated)}},
		Identifier: []Identifier{{System: SysReferralID, Value: v.ID}},
		Status:     serviceRequestStatus[v.Status],
		Intent:     "order",
		Category:   []CodeableConcept{{Coding: []Coding{{System: CSRequestType, Code: string(v.Type)}}}},
		Priority:   priority[v.Urgency],
		AuthoredOn: dateTime(v.Created),
		Requester:  ref("Organization", ProvinceOrgID(v.OriginProvince)),
		Subject:    Reference{Reference: "#patient"},
	}
	if sr.Status == "" {
		sr.Status = "unknown"
	}
	if v.Specialty != "" {
		c := specialtyConcept(v.Specialty)
		sr.Code = &c
	}
	if v.TargetProvince != "" {
		sr.Performer = []Reference{*ref("Organization", ProvinceOrgID(v.TargetProvince))}
	}
	if v.Reason != "" {
		sr.ReasonCode = []CodeableConcept{{Text: v.Reason}}
	}
	pat := &Patient{base: base{ResourceType: "Patient", ID: "patient"}, Gender: genders[v.Sex]}
	if v.AgeBand != "" {
		pat.Extension = []Extension{{URL: ExtAgeBand, ValueString: v.AgeBand}}
	}
	if p := v.Patient; p != nil {
		if p.Name != "" {
			pat.Name = []HumanName{splitName(p.Name)}
		}
		if p.Phone != "" {
			pat.Telecom = []ContactPoint{{System: "phone", Value: p.Phone}}
		}
		if p.BirthYear > 0 {
			pat.BirthDate = strconv.Itoa(p.BirthYear)
		}
		if g, ok := genders[p.Sex]; ok {
			pat.Gender = g
		}
	}
	sr.Contained = []Resource{pat}
	return sr
}

// TaskResource maps a referral's state: status is ours (our states are
// FHIR Task statuses), businessStatus our sub-state, requester the
// referring province's health department, owner the accepting one.
func TaskResource(v *referral.View) *Task {
	t := &Task{base: base{ResourceType: "Task", ID: v.ID, Meta: &Meta{LastUpdated: instant(v.Updated)}},
		Identifier:   []Identifier{{System: SysReferralID, Value: v.ID}},
		Status:       string(v.Status),
		Intent:       "order",
		Priority:     priority[v.Urgency],
		Code:         &CodeableConcept{Coding: []Coding{{System: "http://hl7.org/fhir/CodeSystem/task-code", Code: "fulfill", Display: "Fulfill the focal request"}}},
		Focus:        ref("ServiceRequest", v.ID),
		AuthoredOn:   dateTime(v.Created),
		LastModified: dateTime(v.Updated),
		Requester:    ref("Organization", ProvinceOrgID(v.OriginProvince)),
	}
	if v.SubStatus != "" {
		t.BusinessStatus = &CodeableConcept{Coding: []Coding{{System: CSBusinessStatus, Code: v.SubStatus,
			Display: BusinessStatusDisplay[v.SubStatus]}}, Text: BusinessStatusDisplay[v.SubStatus]}
	}
	if v.TargetProvince != "" && owned(v.Status) {
		t.Owner = ref("Organization", ProvinceOrgID(v.TargetProvince))
	}
	if v.Deadline != nil {
		t.Restriction = &TaskRestriction{Period: &Period{End: dateTime(*v.Deadline)}}
	}
	return t
}
