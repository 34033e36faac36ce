package referral

import "time"

// Type says whether a request is a referral or a consult request.
type Type string

// Request types.
const (
	TypeReferral Type = "referral"
	TypeConsult  Type = "consult"
)

// Referral is one referral or consult request as a node stores it. It
// holds no patient identity: that is in Clinical, stored apart.
type Referral struct {
	ID        string `json:"id"` // the same on every node; starts with the origin's province code
	Type      Type   `json:"type"`
	Status    Status `json:"status"`
	Sub       string `json:"sub_status,omitempty"`
	Specialty string `json:"specialty"`
	Urgency   string `json:"urgency"`
	Reason    string `json:"reason"`
	Purpose   string `json:"purpose"`
	AgeBand   string `json:"age_band"`
	Sex       string `json:"sex"`
	// Consult requests: async or live; a live one asks for a call, whose
	// link the answering doctor may set.
	Mode          string `json:"mode,omitempty"`
	CallRequested bool   `json:"call_requested,omitempty"`
	CallLink      string `json:"call_link,omitempty"`

	Origin string `json:"origin_province"`
	// Target is, on the owner, the acceptor once accepted (else the first
	// outstanding candidate); on a candidate copy, the candidate itself.
	Target    string `json:"target_province,omitempty"`
	Requested string `json:"requested_target,omitempty"` // owner: the target asked for at creation

	Round    int       `json:"round"`             // offer round: the owner increments it on a re-offer
	Deadline time.Time `json:"deadline,omitzero"` // candidate: its offer's deadline; owner: the earliest outstanding

	Candidates []Candidate `json:"candidates,omitempty"` // owner only, in offer order
	Outcomes   []Outcome   `json:"outcomes,omitempty"`
	History    []Event     `json:"history"`

	Created    time.Time  `json:"created"`
	Updated    time.Time  `json:"updated"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	CreatedBy  string     `json:"created_by,omitempty"`  // owner: the user who created it
	Facility   string     `json:"facility,omitempty"`    // owner: the referring user's facility
	AcceptedBy string     `json:"accepted_by,omitempty"` // acceptor: the local user who accepted
	// AcceptorFacility is the accepting user's facility (a candidate's
	// copy, or the owner's record when it stayed in this province).
	AcceptorFacility string `json:"acceptor_facility,omitempty"`
	// ReceivedAt is when this node got the offer (a candidate's copy; the
	// owner uses its candidate's OfferedAt).
	ReceivedAt time.Time `json:"received_at,omitzero"`

	// Seq counts the messages this node sent about the referral; message
	// IDs are "<ID>.<Seq>", so a retried transaction makes the same ones.
	Seq int `json:"seq"`
	// PendingAnswer is a candidate's consult answer waiting for the owner
	// to confirm the acceptance; it is sent as a final outcome then.
	PendingAnswer *Outcome `json:"pending_answer,omitempty"`
	// HasClinical says whether BucketReferralData holds data for it.
	HasClinical bool `json:"has_clinical,omitempty"`
}

// Actor is the user acting on this node: the audit log names User, the
// statistics count at Facility's level (may be empty).
type Actor struct {
	User     string
	Facility string
}

// Candidate is a province the owner may offer the referral to.
type Candidate struct {
	Province  string    `json:"province"`
	State     string    `json:"state"` // see the Cand* constants
	Round     int       `json:"round,omitempty"`
	Local     bool      `json:"local,omitempty"` // this node's own province
	OfferedAt time.Time `json:"offered_at,omitzero"`
	Deadline  time.Time `json:"deadline,omitzero"`
}

// Candidate states.
const (
	CandPending     = "pending"     // not offered yet
	CandOffered     = "offered"     // offer outstanding
	CandAccepted    = "accepted"    // the acceptor
	CandDeclined    = "declined"    // said no
	CandExpired     = "expired"     // did not answer in time
	CandWithdrawn   = "withdrawn"   // another accepted first, or the referral closed
	CandUnreachable = "unreachable" // not a current member when offered
	CandGone        = "gone"        // left the network or was revoked
)

// Outcome is an interim note, an appointment, or the final report (for a
// consult request: the answer). It travels from the acceptor to the owner.
type Outcome struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"` // see the Outcome* constants
	Note        string     `json:"note,omitempty"`
	Appointment *time.Time `json:"appointment,omitempty"`
	By          string     `json:"by,omitempty"` // username at the acceptor
	Province    string     `json:"province"`
	Time        time.Time  `json:"time"`
}

// Outcome kinds.
const (
	OutcomeAppointment  = "appointment"   // an appointment is scheduled
	OutcomeInterim      = "interim"       // an interim note: work in progress
	OutcomeAwaitingInfo = "awaiting_info" // on hold until the referrer sends more
	OutcomeResume       = "resume"        // back in progress
	OutcomeFinal        = "final"         // the final report: completed
	OutcomeFailed       = "failed"        // the acceptor could not perform it
)

// Event is one entry of a referral's history (no patient data).
type Event struct {
	Time     time.Time `json:"time"`
	Status   Status    `json:"status"`
	Sub      string    `json:"sub_status,omitempty"`
	Province string    `json:"province"`     // whose action
	By       string    `json:"by,omitempty"` // local username, when a person acted here
}

// Clinical is the patient data of a referral, stored apart from it: the
// patient's identity and the consult record (owner, and acceptor after
// acceptance) or a consult request's packet (owner and candidates).
type Clinical struct {
	Patient *Patient `json:"patient,omitempty"`
	Record  *Record  `json:"record,omitempty"`
	Packet  *Packet  `json:"packet,omitempty"`
}

// Patient is API.md's referral patient.
type Patient struct {
	Name      string `json:"name"`
	Phone     string `json:"phone,omitempty"`
	BirthYear int    `json:"birth_year,omitempty"`
	Sex       string `json:"sex,omitempty"`
	IDNumber  string `json:"id_number,omitempty"`
	Address   string `json:"address,omitempty"`
	Summary   string `json:"summary,omitempty"`
}

// Record is the full consult record shared with the acceptor.
type Record struct {
	History     string       `json:"history,omitempty"`
	Notes       string       `json:"notes,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a file (an image, a PDF) carried inline; Data is base64
// in JSON.
type Attachment struct {
	Name string `json:"name"`
	Type string `json:"type"` // MIME type
	Data []byte `json:"data"`
}

// Packet is an asynchronous consult request: a question, vital signs and
// photos, for stations whose link cannot carry video.
type Packet struct {
	Question string       `json:"question"`
	Vitals   *Vitals      `json:"vitals,omitempty"`
	Photos   []Attachment `json:"photos,omitempty"`
}

// Vitals are a consult packet's vital signs; nil fields were not taken.
type Vitals struct {
	TempC    *float64 `json:"temp_c,omitempty"`
	Pulse    *int     `json:"pulse,omitempty"`
	BPSys    *int     `json:"bp_sys,omitempty"`
	BPDia    *int     `json:"bp_dia,omitempty"`
	RespRate *int     `json:"resp_rate,omitempty"`
	SpO2     *int     `json:"spo2,omitempty"`
	WeightKg *float64 `json:"weight_kg,omitempty"`
	Glucose  *float64 `json:"glucose_mmol,omitempty"`
}

// View is what the API shows of a referral to a user of this node:
// Patient, Record and Packet only where this node may see them (and the
// read is audited).
type View struct {
	ID             string      `json:"id"`
	Type           Type        `json:"type"`
	Status         Status      `json:"status"`
	SubStatus      string      `json:"sub_status,omitempty"`
	Specialty      string      `json:"specialty"`
	Urgency        string      `json:"urgency"`
	Reason         string      `json:"reason"`
	Purpose        string      `json:"purpose"`
	AgeBand        string      `json:"age_band"`
	Sex            string      `json:"sex"`
	Mode           string      `json:"mode,omitempty"`
	CallRequested  bool        `json:"call_requested,omitempty"`
	CallLink       string      `json:"call_link,omitempty"`
	OriginProvince string      `json:"origin_province"`
	TargetProvince string      `json:"target_province,omitempty"`
	Box            string      `json:"box"` // outbox (this node referred it) or inbox (offered to this node)
	Deadline       *time.Time  `json:"deadline,omitempty"`
	Created        time.Time   `json:"created"`
	Updated        time.Time   `json:"updated"`
	AcceptedAt     *time.Time  `json:"accepted_at,omitempty"`
	ClosedAt       *time.Time  `json:"closed_at,omitempty"`
	Patient        *Patient    `json:"patient,omitempty"`
	Record         *Record     `json:"record,omitempty"`
	Packet         *Packet     `json:"packet,omitempty"`
	Outcomes       []Outcome   `json:"outcomes"`
	History        []Event     `json:"history,omitempty"`
	Candidates     []Candidate `json:"candidates,omitempty"`
}
