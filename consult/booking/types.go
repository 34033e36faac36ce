package booking

import "time"

// Interval is an opening period within a day, in the facility's zone,
// "HH:MM" to "HH:MM" (Close exclusive).
type Interval struct {
	Open  string `json:"open"`
	Close string `json:"close"`
}

// Schedule is a facility's booking calendar.
type Schedule struct {
	Facility    string                `json:"facility"`
	SlotMinutes int                   `json:"slot_minutes"` // 5..240
	Capacity    int                   `json:"capacity"`     // residents per slot, 1..100
	Hours       map[string][]Interval `json:"hours"`        // keys mon,tue,wed,thu,fri,sat,sun
	Closed      []string              `json:"closed"`       // YYYY-MM-DD days closed (holidays)
	HorizonDays int                   `json:"horizon_days"` // how far ahead residents may book; zero means 60
	Updated     time.Time             `json:"updated"`
}

// Slot is one bookable period (API.md "Slots").
type Slot struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Free  int       `json:"free"`
}

// Appointment statuses (API.md).
const (
	StatusBooked    = "booked"
	StatusCancelled = "cancelled"
	StatusArrived   = "arrived"
	StatusFulfilled = "fulfilled"
	StatusNoShow    = "noshow"
)

// Appointment is a resident's booking. Name, Phone, Reason and BirthYear
// are patient data: every read and change is audited, and none of it leaves
// the node or reaches a log line.
type Appointment struct {
	ID        string    `json:"id"`
	Code      string    `json:"code"` // unguessable booking code the resident holds
	Status    string    `json:"status"`
	Facility  string    `json:"facility"`
	Start     time.Time `json:"start"` // UTC in storage; rendered in the facility's zone
	End       time.Time `json:"end"`
	Day       string    `json:"day"` // start's date in the facility's zone, YYYY-MM-DD (the desk day)
	Name      string    `json:"name"`
	Phone     string    `json:"phone"`
	Reason    string    `json:"reason,omitempty"`
	BirthYear int       `json:"birth_year,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// BookRequest is what a resident submits.
type BookRequest struct {
	Facility  string    `json:"facility"`
	Start     time.Time `json:"start"`
	Name      string    `json:"name"`
	Phone     string    `json:"phone"`
	Reason    string    `json:"reason"`
	BirthYear int       `json:"birth_year,omitempty"`
}
