package booking

import "github.com/moinha/moinha/consult"

// Codes of the user-facing errors (consult.Error.Code) this package returns
// besides the "invalid_<field>" codes of consult.Invalid. Messages never
// contain patient data.
const (
	CodeFacilityNotFound    = "facility_not_found"    // ErrNotFound (also from Facilities)
	CodeScheduleNotFound    = "schedule_not_found"    // ErrNotFound: the facility takes no bookings
	CodeAppointmentNotFound = "appointment_not_found" // ErrNotFound: unknown or malformed code
	CodeInvalidDate         = "invalid_date"          // ErrInvalid: not a YYYY-MM-DD date
	CodeNotASlot            = "not_a_slot"            // ErrInvalid: start is not a slot start of the schedule
	CodeSlotInPast          = "slot_in_past"          // ErrGone
	CodeDayClosed           = "day_closed"            // ErrConflict: a closed day (holiday)
	CodeBeyondHorizon       = "beyond_horizon"        // ErrConflict: too far ahead to book yet
	CodeSlotFull            = "slot_full"             // ErrConflict
	CodeAlreadyCancelled    = "already_cancelled"     // ErrConflict
	CodeInvalidTransition   = "invalid_transition"    // ErrConflict: e.g. fulfilled → cancelled
	CodeNotBooked           = "not_booked"            // ErrConflict: only a booked appointment can move
	CodeTooEarly            = "too_early"             // ErrConflict: a no-show before the start
)

func errFacilityNotFound() error {
	return consult.Errorf(consult.ErrNotFound, CodeFacilityNotFound, "no such facility takes bookings on this node")
}

func errScheduleNotFound() error {
	return consult.Errorf(consult.ErrNotFound, CodeScheduleNotFound, "this facility has no booking schedule")
}

func errAppointmentNotFound() error {
	return consult.Errorf(consult.ErrNotFound, CodeAppointmentNotFound, "no appointment has this booking code")
}

func errInvalidDate() error {
	return consult.Errorf(consult.ErrInvalid, CodeInvalidDate, "date must be a calendar date YYYY-MM-DD")
}

func errSlotFull() error {
	return consult.Errorf(consult.ErrConflict, CodeSlotFull, "this slot is fully booked; choose another")
}
