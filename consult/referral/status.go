package referral

import (
	"slices"
	"strconv"
	"time"
)

// Status is a FHIR Task status.
type Status string

// Statuses (API.md).
const (
	StatusRequested  Status = "requested"
	StatusReceived   Status = "received"
	StatusAccepted   Status = "accepted"
	StatusRejected   Status = "rejected"
	StatusCancelled  Status = "cancelled"
	StatusInProgress Status = "in-progress"
	StatusOnHold     Status = "on-hold"
	StatusFailed     Status = "failed"
	StatusCompleted  Status = "completed"
)

// Statuses lists every status.
var Statuses = []Status{StatusRequested, StatusReceived, StatusAccepted, StatusRejected, StatusCancelled,
	StatusInProgress, StatusOnHold, StatusFailed, StatusCompleted}

// Business sub-states (Task.businessStatus).
const (
	SubOffered       = "offered"               // owner: offers outstanding; candidate: the offer waits in the inbox
	SubAcceptPending = "accept_pending"        // candidate: accepted here, waiting for the owner's word
	SubAppointment   = "appointment_scheduled" // an appointment is set
	SubInterim       = "interim_note"          // an interim note came in
	SubAwaitingInfo  = "awaiting_info"         // on hold for more information
	SubExpired       = "expired"               // an offer's deadline passed
	SubTaken         = "taken"                 // candidate: another province accepted first
	SubDeclined      = "declined"              // candidate: declined here
	SubNoCandidate   = "no_candidate"          // owner: every candidate declined, expired or left
	SubCancelled     = "cancelled_by_origin"   // the referring province cancelled it
	SubReturned      = "returned"              // a party left the network: returned to the referring desk
	SubReoffered     = "reoffered"             // owner: the acceptor left; offered again
	SubAnswered      = "answered"              // consult: answered
	SubFailed        = "failed_by_acceptor"    // the acceptor could not perform it
)

// transitions is the one table of legal status changes. Staying in a
// status (with another sub-state) is legal only where listed.
var transitions = map[Status][]Status{
	StatusRequested:  {StatusReceived, StatusAccepted, StatusRejected, StatusCancelled, StatusFailed},
	StatusReceived:   {StatusReceived, StatusAccepted, StatusRejected, StatusCancelled},
	StatusAccepted:   {StatusAccepted, StatusInProgress, StatusOnHold, StatusCompleted, StatusCancelled, StatusFailed, StatusRequested},
	StatusInProgress: {StatusInProgress, StatusOnHold, StatusCompleted, StatusCancelled, StatusFailed, StatusRequested},
	StatusOnHold:     {StatusInProgress, StatusCompleted, StatusCancelled, StatusFailed, StatusRequested},
	// A candidate's copy that ended (declined, expired, taken) comes back
	// when the owner offers it again in a later round.
	StatusRejected:  {StatusReceived},
	StatusCancelled: {StatusReceived},
	StatusCompleted: {},
	StatusFailed:    {},
}

// CanMove reports whether from → to is a legal transition.
func CanMove(from, to Status) bool { return slices.Contains(transitions[from], to) }

// closed reports whether s ends the referral (for its owner; a candidate's
// copy may be re-offered).
func closed(s Status) bool {
	switch s {
	case StatusCompleted, StatusCancelled, StatusRejected, StatusFailed:
		return true
	}
	return false
}

// active reports whether s means an acceptor works on it.
func active(s Status) bool {
	return s == StatusAccepted || s == StatusInProgress || s == StatusOnHold
}

// Urgencies, most urgent first.
const (
	UrgencyEmergency = "emergency"
	UrgencyUrgent    = "urgent"
	UrgencyRoutine   = "routine"
)

// Urgencies lists the urgency codes.
var Urgencies = []string{UrgencyEmergency, UrgencyUrgent, UrgencyRoutine}

// Purposes of use (HL7 v3 PurposeOfUse: TREAT, ETREAT, COC).
var Purposes = []string{"treatment", "emergency_treatment", "care_coordination"}

// Sexes.
var Sexes = []string{"female", "male", "other", "unknown"}

// Consult modes.
const (
	ModeAsync = "async"
	ModeLive  = "live"
)

// AgeBand turns a birth year into the band an offer carries: "0", "1-4",
// "5-14", then ten-year bands "15-24" … "75-84", and "85+"; "unknown"
// without a year.
func AgeBand(birthYear int, now time.Time) string {
	if birthYear <= 0 || birthYear > now.Year() {
		return "unknown"
	}
	age := now.Year() - birthYear
	switch {
	case age < 1:
		return "0"
	case age < 5:
		return "1-4"
	case age < 15:
		return "5-14"
	case age >= 85:
		return "85+"
	}
	lo := 15 + (age-15)/10*10
	return strconv.Itoa(lo) + "-" + strconv.Itoa(lo+9)
}

// validAgeBand reports whether s is a band AgeBand makes.
func validAgeBand(s string) bool {
	switch s {
	case "unknown", "0", "1-4", "5-14", "85+":
		return true
	}
	for lo := 15; lo < 85; lo += 10 {
		if s == strconv.Itoa(lo)+"-"+strconv.Itoa(lo+9) {
			return true
		}
	}
	return false
}
