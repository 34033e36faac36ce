package fhir

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moinha/moinha/consult/booking"
)

// ScheduleResource maps a facility's booking calendar to a Schedule
// whose actor is the facility's Location; the planning horizon starts
// today (in loc, the facility's zone).
func ScheduleResource(sc *booking.Schedule, now time.Time, loc *time.Location) *Schedule {
	id := ToID(sc.Facility)
	horizon := sc.HorizonDays
	if horizon <= 0 {
		horizon = 60
	}
	today := now.In(loc)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	return &Schedule{base: base{ResourceType: "Schedule", ID: id, Meta: &Meta{LastUpdated: instant(sc.Updated)}},
		Identifier: []Identifier{{System: SysFacilityID, Value: sc.Facility}},
		Active:     boolPtr(true),
		Actor:      []Reference{*ref("Location", id), *ref("HealthcareService", id)},
		PlanningHorizon: &Period{Start: today.Format(time.RFC3339),
			End: today.AddDate(0, 0, horizon).Format(time.RFC3339)},
		Comment: fmt.Sprintf("Slots of %d minutes, %d residents each; booking up to %d days ahead.",
			sc.SlotMinutes, sc.Capacity, horizon),
	}
}

// slotStamp is the start part of a Slot id: local wall time to the minute.
const slotStamp = "200601021504"

// SlotID is a slot's id: the facility's id, '.', its local start time.
func SlotID(facility string, start time.Time) string {
	return ToID(facility) + "." + start.Format(slotStamp)
}

// ParseSlotID splits a Slot id into the facility ID and the start's
// local wall time (to be read in the facility's zone).
func ParseSlotID(id string) (facility, stamp string, ok bool) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 || len(id)-i-1 != len(slotStamp) || !validFHIRID(id) {
		return "", "", false
	}
	if _, err := strconv.ParseUint(id[i+1:], 10, 64); err != nil {
		return "", "", false
	}
	return FromID(id[:i]), id[i+1:], true
}

// SlotResource maps a bookable slot; it is busy when no seat is free.
func SlotResource(facility string, s booking.Slot) *Slot {
	status := "free"
	if s.Free <= 0 {
		status = "busy"
	}
	free := s.Free
	return &Slot{base: base{ResourceType: "Slot", ID: SlotID(facility, s.Start)},
		Extension: []Extension{{URL: ExtSlotFree, ValueInt: &free}},
		Schedule:  *ref("Schedule", ToID(facility)),
		Status:    status,
		Start:     dateTime(s.Start),
		End:       dateTime(s.End),
	}
}

// appointmentStatus maps our appointment statuses to FHIR's: they are
// the same codes (docs/fhir.md).
var appointmentStatus = map[string]string{
	booking.StatusBooked:    "booked",
	booking.StatusCancelled: "cancelled",
	booking.StatusArrived:   "arrived",
	booking.StatusFulfilled: "fulfilled",
	booking.StatusNoShow:    "noshow",
}

// AppointmentID is an appointment's FHIR id: its booking code without
// dashes.
func AppointmentID(code string) string { return strings.ReplaceAll(code, "-", "") }

// AppointmentResource maps an appointment for the desk: the Location and
// the resident as a contained Patient (name, phone, birth year).
func AppointmentResource(a *booking.Appointment) *Appointment {
	fid := ToID(a.Facility)
	status, ok := appointmentStatus[a.Status]
	if !ok {
		status = "booked"
	}
	out := &Appointment{base: base{ResourceType: "Appointment", ID: AppointmentID(a.Code),
		Meta: &Meta{LastUpdated: instant(a.Updated)}},
		Identifier: []Identifier{{System: SysBookingCode, Value: a.Code}},
		Status:     status,
		Start:      dateTime(a.Start),
		End:        dateTime(a.End),
		Created:    dateTime(a.Created),
		Slot:       []Reference{*ref("Slot", SlotID(a.Facility, a.Start))},
		Participant: []Participant{
			{Actor: ref("Location", fid), Required: "required", Status: "accepted"},
		},
	}
	if a.Reason != "" {
		out.ReasonCode = []CodeableConcept{{Text: a.Reason}}
	}
	pat := &Patient{base: base{ResourceType: "Patient", ID: "patient"}}
	if a.Name != "" {
		pat.Name = []HumanName{splitName(a.Name)}
	}
	if a.Phone != "" {
		pat.Telecom = []ContactPoint{{System: "phone", Value: a.Phone, Use: "mobile"}}
	}
	if a.BirthYear > 0 {
		pat.BirthDate = strconv.Itoa(a.BirthYear)
	}
	out.Contained = []Resource{pat}
	out.Participant = append(out.Participant, Participant{
		Type:  []CodeableConcept{{Coding: []Coding{{System: csParticipantType, Code: "SBJ", Display: "subject"}}}},
		Actor: &Reference{Reference: "#patient", Display: a.Name}, Required: "required", Status: "accepted"})
	return out
}
