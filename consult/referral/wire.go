package referral

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
)

// Message kinds between nodes.
const (
	KindOffer        = "referral.offer"    // owner → candidate: minimum necessary
	KindConsultOffer = "consult.offer"     // owner → candidate: a consult request with its packet
	KindAccept       = "referral.accept"   // candidate → owner
	KindDecline      = "referral.decline"  // candidate → owner
	KindTaken        = "referral.taken"    // owner → candidate: someone else accepted first, or it closed
	KindRecord       = "referral.record"   // owner → acceptor: you won; the full record
	KindOutcome      = "referral.outcome"  // acceptor → owner: interim note, appointment, final report
	KindCancel       = "referral.cancel"   // owner → candidates and acceptor
	KindWithdraw     = "referral.withdraw" // owner → candidate: the offer expired or ended
)

// KindInfo describes a message kind for the network layer.
type KindInfo struct {
	Kind  string
	Large bool // payload may reach MaxLargePayload (attachments, photos)
}

// Kinds lists every message kind this package sends and receives.
func Kinds() []KindInfo {
	return []KindInfo{{KindOffer, false}, {KindConsultOffer, true}, {KindAccept, false}, {KindDecline, false},
		{KindTaken, false}, {KindRecord, true}, {KindOutcome, false}, {KindCancel, false}, {KindWithdraw, false}}
}

// Payload limits (the network layer's limits for small and large kinds).
const (
	MaxPayload      = 64 << 10
	MaxLargePayload = 4 << 20
)

// Field limits.
const (
	maxReason      = 1000
	maxNote        = 8000
	maxText        = 20000 // history, notes, question
	maxName        = 200
	maxAttachments = 8
	maxAttachment  = 1 << 20   // decoded bytes per attachment
	maxAttachTotal = 2_900_000 // decoded bytes of all attachments (fits a 4 MiB message in base64)
	maxOutcomes    = 200
	maxCallLink    = 500
)

const wireVersion = 1

// message is the JSON payload of every kind; which fields are present
// depends on the kind (decode checks).
type message struct {
	V        int      `json:"v"`
	Referral string   `json:"referral"`
	Round    int      `json:"round,omitempty"`
	Offer    *offer   `json:"offer,omitempty"`    // offer, consult.offer
	Clinical *shared  `json:"clinical,omitempty"` // record
	Outcome  *Outcome `json:"outcome,omitempty"`  // outcome
	Reason   string   `json:"reason,omitempty"`   // decline, taken, withdraw, cancel: a code or short text
	By       string   `json:"by,omitempty"`       // the acting user's name at the sender
	CallLink string   `json:"call_link,omitempty"`
}

// offer is what a candidate learns before accepting: the minimum necessary.
// It has no field for a name, phone, ID number or address, and decoding
// refuses unknown fields.
type offer struct {
	Type          Type      `json:"type"`
	Specialty     string    `json:"specialty"`
	Urgency       string    `json:"urgency"`
	Reason        string    `json:"reason"`
	Purpose       string    `json:"purpose"`
	AgeBand       string    `json:"age_band"`
	Sex           string    `json:"sex"`
	Mode          string    `json:"mode,omitempty"`
	CallRequested bool      `json:"call_requested,omitempty"`
	Created       time.Time `json:"created"`
	Deadline      time.Time `json:"deadline"`
	Packet        *Packet   `json:"packet,omitempty"` // consult.offer only
}

// shared is what the owner sends the acceptor with a record message.
type shared struct {
	Patient *Patient `json:"patient,omitempty"`
	Record  *Record  `json:"record,omitempty"`
}

var idPattern = regexp.MustCompile(`^[0-9A-Za-z]{1,8}-[rc]-[a-z2-7]{16}$`)

// ValidID reports whether id has the form of a referral or consult ID.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// TypeOfID is the type an ID names ("" if it is not an ID).
func TypeOfID(id string) Type {
	switch {
	case !ValidID(id):
		return ""
	case strings.Contains(id, "-c-"):
		return TypeConsult
	}
	return TypeReferral
}

// originOf is the province code an ID starts with.
func originOf(id string) string {
	p, _, _ := strings.Cut(id, "-")
	return p
}

func encode(m message) ([]byte, error) {
	m.V = wireVersion
	return json.Marshal(m)
}

// Decode parses and checks the payload of a message of kind. It is the
// only decoder of a peer's referral bytes (fuzzed).
func Decode(kind string, payload []byte) (message, error) {
	var m message
	limit := MaxPayload
	if kind == KindConsultOffer || kind == KindRecord {
		limit = MaxLargePayload
	}
	if len(payload) > limit {
		return m, fmt.Errorf("%w: %d bytes", errMalformed, len(payload))
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return m, fmt.Errorf("%w: trailing data", errMalformed)
	}
	if m.V != wireVersion || !ValidID(m.Referral) || m.Round < 0 || m.Round > 1000 ||
		len(m.Reason) > maxReason || len(m.By) > maxName || len(m.CallLink) > maxCallLink {
		return m, fmt.Errorf("%w: header", errMalformed)
	}
	has := func(offer, clinical, outcome bool) bool {
		return (m.Offer != nil) == offer && (m.Clinical != nil) == clinical && (m.Outcome != nil) == outcome
	}
	switch kind {
	case KindOffer, KindConsultOffer:
		if !has(true, false, false) {
			return m, fmt.Errorf("%w: %s fields", errMalformed, kind)
		}
		if err := m.Offer.check(kind == KindConsultOffer); err != nil {
			return m, err
		}
		if (m.Offer.Type == TypeConsult) != strings.Contains(m.Referral, "-c-") {
			return m, fmt.Errorf("%w: type does not match id", errMalformed)
		}
	case KindRecord:
		if !has(false, m.Clinical != nil, false) {
			return m, fmt.Errorf("%w: record fields", errMalformed)
		}
		if m.Clinical != nil {
			if err := m.Clinical.check(); err != nil {
				return m, err
			}
		}
	case KindOutcome:
		if !has(false, false, true) {
			return m, fmt.Errorf("%w: outcome fields", errMalformed)
		}
		if err := m.Outcome.check(); err != nil {
			return m, err
		}
		if m.Outcome.ID == "" {
			return m, fmt.Errorf("%w: outcome id", errMalformed)
		}
	case KindAccept, KindDecline, KindTaken, KindCancel, KindWithdraw:
		if !has(false, false, false) {
			return m, fmt.Errorf("%w: %s fields", errMalformed, kind)
		}
	default:
		return m, fmt.Errorf("%w: unknown kind %q", errMalformed, kind)
	}
	return m, nil
}

var errMalformed = errors.New("referral: malformed message")

func (o *offer) check(consultOffer bool) error {
	bad := func(what string) error { return fmt.Errorf("%w: offer %s", errMalformed, what) }
	switch {
	case o.Type != TypeReferral && o.Type != TypeConsult:
		return bad("type")
	case consultOffer != (o.Type == TypeConsult):
		return bad("kind")
	case !consult.ValidSpecialty(o.Specialty):
		return bad("specialty")
	case !slices.Contains(Urgencies, o.Urgency):
		return bad("urgency")
	case len(o.Reason) > maxReason:
		return bad("reason")
	case !slices.Contains(Purposes, o.Purpose):
		return bad("purpose")
	case !validAgeBand(o.AgeBand):
		return bad("age band")
	case !slices.Contains(Sexes, o.Sex):
		return bad("sex")
	case o.Created.IsZero() || o.Deadline.IsZero():
		return bad("times")
	}
	if o.Type == TypeConsult {
		if o.Mode != ModeAsync && o.Mode != ModeLive {
			return bad("mode")
		}
		if o.Packet == nil {
			return bad("packet")
		}
		return o.Packet.check()
	}
	if o.Mode != "" || o.CallRequested || o.Packet != nil {
		return bad("consult fields on a referral")
	}
	return nil
}

func (p *Packet) check() error {
	if len(p.Question) > maxText {
		return fmt.Errorf("%w: question", errMalformed)
	}
	if p.Vitals != nil {
		if err := p.Vitals.check(); err != nil {
			return err
		}
	}
	return checkAttachments(p.Photos)
}

func (v *Vitals) check() error {
	inF := func(p *float64, lo, hi float64) bool { return p == nil || (*p >= lo && *p <= hi) }
	inI := func(p *int, lo, hi int) bool { return p == nil || (*p >= lo && *p <= hi) }
	if !inF(v.TempC, 25, 45) || !inI(v.Pulse, 10, 300) || !inI(v.BPSys, 30, 300) || !inI(v.BPDia, 10, 250) ||
		!inI(v.RespRate, 2, 120) || !inI(v.SpO2, 30, 100) || !inF(v.WeightKg, 0.3, 400) || !inF(v.Glucose, 0.5, 60) {
		return consult.Invalid("vitals", "a value is outside the plausible range")
	}
	return nil
}

func checkAttachments(as []Attachment) error {
	if len(as) > maxAttachments {
		return consult.Invalid("attachments", "at most %d", maxAttachments)
	}
	total := 0
	for _, a := range as {
		if a.Name == "" || len(a.Name) > maxName || len(a.Type) > 100 || !strings.Contains(a.Type, "/") {
			return consult.Invalid("attachments", "each needs a name and a MIME type")
		}
		if len(a.Data) == 0 || len(a.Data) > maxAttachment {
			return consult.Invalid("attachments", "each must hold 1 byte to %d bytes", maxAttachment)
		}
		total += len(a.Data)
	}
	if total > maxAttachTotal {
		return consult.Invalid("attachments", "at most %d bytes in all", maxAttachTotal)
	}
	return nil
}

func (s *shared) check() error {
	if s.Patient != nil {
		if err := s.Patient.check(); err != nil {
			return err
		}
	}
	if s.Record != nil {
		return s.Record.check()
	}
	return nil
}

func (p *Patient) check() error {
	switch {
	case strings.TrimSpace(p.Name) == "" || len(p.Name) > maxName:
		return consult.Invalid("patient.name", "required, at most %d bytes", maxName)
	case len(p.Phone) > 32:
		return consult.Invalid("patient.phone", "at most 32 characters")
	case p.BirthYear != 0 && (p.BirthYear < 1880 || p.BirthYear > 2200):
		return consult.Invalid("patient.birth_year", "not a plausible year")
	case p.Sex != "" && !slices.Contains(Sexes, p.Sex):
		return consult.Invalid("patient.sex", "one of %s", strings.Join(Sexes, ", "))
	case len(p.IDNumber) > 32:
		return consult.Invalid("patient.id_number", "at most 32 characters")
	case len(p.Address) > 500:
		return consult.Invalid("patient.address", "at most 500 bytes")
	case len(p.Summary) > maxText:
		return consult.Invalid("patient.summary", "at most %d bytes", maxText)
	}
	return nil
}

func (r *Record) check() error {
	if len(r.History) > maxText || len(r.Notes) > maxText {
		return consult.Invalid("record", "history and notes: at most %d bytes each", maxText)
	}
	return checkAttachments(r.Attachments)
}

var outcomeKinds = []string{OutcomeAppointment, OutcomeInterim, OutcomeAwaitingInfo, OutcomeResume, OutcomeFinal, OutcomeFailed}

func (o *Outcome) check() error {
	switch {
	case !slices.Contains(outcomeKinds, o.Kind):
		return fmt.Errorf("%w: outcome kind", errMalformed)
	case len(o.Note) > maxNote || len(o.By) > maxName || len(o.ID) > 200 || len(o.Province) > 16:
		return fmt.Errorf("%w: outcome fields", errMalformed)
	case o.Kind == OutcomeAppointment && o.Appointment == nil:
		return fmt.Errorf("%w: appointment time", errMalformed)
	}
	return nil
}
