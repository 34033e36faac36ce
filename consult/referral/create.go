package referral

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"slices"
	"strings"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// CreateRequest is API.md's POST /api/v1/referrals body.
type CreateRequest struct {
	Specialty      string   `json:"specialty"`
	Urgency        string   `json:"urgency"`
	Reason         string   `json:"reason"`
	Purpose        string   `json:"purpose,omitempty"` // zero means treatment (emergency_treatment for an emergency)
	Patient        *Patient `json:"patient"`
	Record         *Record  `json:"record,omitempty"`
	TargetProvince string   `json:"target_province,omitempty"`
}

// ConsultRequest is the POST /api/v1/consults body: a commune station asks
// for advice. The patient, if given, stays at this node; the packet goes
// to the candidate.
type ConsultRequest struct {
	Specialty      string       `json:"specialty"`
	Urgency        string       `json:"urgency"`
	Mode           string       `json:"mode"` // async or live (asks for a call)
	Question       string       `json:"question"`
	Vitals         *Vitals      `json:"vitals,omitempty"`
	Photos         []Attachment `json:"photos,omitempty"`
	Purpose        string       `json:"purpose,omitempty"`
	Patient        *Patient     `json:"patient,omitempty"`
	Sex            string       `json:"sex,omitempty"`        // when no patient is given
	BirthYear      int          `json:"birth_year,omitempty"` // when no patient is given
	TargetProvince string       `json:"target_province,omitempty"`
}

// newID draws a referral (letter r) or consult (c) ID: the province code
// and 80 random bits.
func newID(province string, letter byte) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return province + "-" + string(letter) + "-" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

func checkCommon(specialty, urgency, purpose, target string) (string, error) {
	switch {
	case !consult.ValidSpecialty(specialty):
		return "", consult.Invalid("specialty", "unknown specialty %q; see GET /api/v1/specialties", specialty)
	case !slices.Contains(Urgencies, urgency):
		return "", consult.Invalid("urgency", "one of %s", strings.Join(Urgencies, ", "))
	case target != "" && (len(target) > 8 || strings.ContainsAny(target, "/- ")):
		return "", consult.Invalid("target_province", "a province code")
	}
	if purpose == "" {
		purpose = "treatment"
		if urgency == UrgencyEmergency {
			purpose = "emergency_treatment"
		}
	}
	if !slices.Contains(Purposes, purpose) {
		return "", consult.Invalid("purpose", "one of %s", strings.Join(Purposes, ", "))
	}
	return purpose, nil
}

// Create records a referral by actor and offers it to the best candidates
// (the target province first when one is named), in one transaction. It
// fails with "no_candidate" when no province can be offered it.
func (s *Service) Create(ctx context.Context, who Actor, req CreateRequest) (View, error) {
	purpose, err := checkCommon(req.Specialty, req.Urgency, req.Purpose, req.TargetProvince)
	if err != nil {
		return View{}, err
	}
	switch {
	case strings.TrimSpace(req.Reason) == "" || len(req.Reason) > maxReason:
		return View{}, consult.Invalid("reason", "required, at most %d bytes", maxReason)
	case req.Patient == nil:
		return View{}, consult.Invalid("patient", "required")
	}
	if err := req.Patient.check(); err != nil {
		return View{}, err
	}
	if req.Record != nil {
		if err := req.Record.check(); err != nil {
			return View{}, err
		}
	}
	now := s.now().UTC()
	sex := req.Patient.Sex
	if sex == "" {
		sex = "unknown"
	}
	r := &Referral{
		ID: newID(s.opts.Province, 'r'), Type: TypeReferral, Status: StatusRequested, Sub: SubOffered,
		Specialty: req.Specialty, Urgency: req.Urgency, Reason: req.Reason, Purpose: purpose,
		AgeBand: AgeBand(req.Patient.BirthYear, now), Sex: sex,
		Origin: s.opts.Province, Requested: req.TargetProvince,
		Created: now, Updated: now, CreatedBy: who.User, Facility: who.Facility, HasClinical: true,
	}
	cl := &Clinical{Patient: req.Patient, Record: req.Record}
	return s.create(ctx, who.User, r, cl)
}

// CreateConsult records a consult request and offers it: to the target
// province if named, else this province first, then others that accept
// the specialty.
func (s *Service) CreateConsult(ctx context.Context, who Actor, req ConsultRequest) (View, error) {
	purpose, err := checkCommon(req.Specialty, req.Urgency, req.Purpose, req.TargetProvince)
	if err != nil {
		return View{}, err
	}
	if req.Mode == "" {
		req.Mode = ModeAsync
	}
	switch {
	case req.Mode != ModeAsync && req.Mode != ModeLive:
		return View{}, consult.Invalid("mode", "async or live")
	case strings.TrimSpace(req.Question) == "" || len(req.Question) > maxText:
		return View{}, consult.Invalid("question", "required, at most %d bytes", maxText)
	case req.Sex != "" && !slices.Contains(Sexes, req.Sex):
		return View{}, consult.Invalid("sex", "one of %s", strings.Join(Sexes, ", "))
	}
	p := &Packet{Question: req.Question, Vitals: req.Vitals, Photos: req.Photos}
	if err := p.check(); err != nil {
		return View{}, err
	}
	sex, birth := req.Sex, req.BirthYear
	if req.Patient != nil {
		if err := req.Patient.check(); err != nil {
			return View{}, err
		}
		sex, birth = req.Patient.Sex, req.Patient.BirthYear
	}
	if sex == "" {
		sex = "unknown"
	}
	now := s.now().UTC()
	r := &Referral{
		ID: newID(s.opts.Province, 'c'), Type: TypeConsult, Status: StatusRequested, Sub: SubOffered,
		Specialty: req.Specialty, Urgency: req.Urgency, Reason: shorten(req.Question, 200), Purpose: purpose,
		AgeBand: AgeBand(birth, now), Sex: sex, Mode: req.Mode, CallRequested: req.Mode == ModeLive,
		Origin: s.opts.Province, Requested: req.TargetProvince,
		Created: now, Updated: now, CreatedBy: who.User, Facility: who.Facility, HasClinical: true,
	}
	return s.create(ctx, who.User, r, &Clinical{Patient: req.Patient, Packet: p})
}

// shorten cuts s to at most n bytes at a rune boundary.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func (s *Service) create(ctx context.Context, actor string, r *Referral, cl *Clinical) (View, error) {
	cands, err := s.route(r.Type, r.Specialty, r.Requested)
	if err != nil {
		return View{}, err
	}
	if len(cands) == 0 {
		return View{}, errNoCandidate()
	}
	r.Candidates = cands
	r.History = []Event{{Time: r.Created, Status: StatusRequested, Sub: SubOffered, Province: s.opts.Province, By: actor}}
	var out View
	err = s.update(ctx, func(tx *storage.Tx) error {
		r := clone(r)
		if err := tx.Put(storage.BucketReferralData, r.ID, cl); err != nil {
			return err
		}
		n, err := s.offerNext(tx, r, r.Created)
		if err != nil {
			return err
		}
		if n == 0 {
			return errNoCandidate()
		}
		if err := s.save(tx, nil, r); err != nil {
			return err
		}
		if err := tx.Audit(actor, string(r.Type)+".create", "referral:"+r.ID, ""); err != nil {
			return err
		}
		if err := count(tx, r.Type, dirOut, "created"); err != nil {
			return err
		}
		if err := daily(tx, r.Type, r.Created, r.Facility, metricSent); err != nil {
			return err
		}
		out = view(r, s.opts.Province, BoxOutbox, cl)
		return nil
	})
	if err != nil {
		return View{}, err
	}
	s.log.Info("referral created", "referral", r.ID, "type", r.Type, "urgency", r.Urgency,
		"candidates", len(r.Candidates))
	return out, nil
}

// route lists the candidates of a new referral, best first.
func (s *Service) route(typ Type, specialty, target string) ([]Candidate, error) {
	var avail []Availability
	if s.opts.Availability != nil {
		var err error
		if avail, err = s.opts.Availability.Available(specialty); err != nil {
			return nil, err
		}
	}
	open := map[string]int{}
	err := s.db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketReferralIdx, idxParty, "", func(k string, _ storage.Value) error {
			prov, _, _ := strings.Cut(strings.TrimPrefix(k, idxParty), "/")
			open[prov]++
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	self := s.opts.Province
	provs := rank(self, target, avail, open, s.opts.Geo)
	if typ == TypeConsult && target == "" {
		// A station asks its own province first.
		provs = append([]string{self}, slices.DeleteFunc(provs, func(p string) bool { return p == self })...)
	}
	var out []Candidate
	for _, p := range provs {
		if p != self && s.opts.Sender == nil {
			continue
		}
		out = append(out, Candidate{Province: p, State: CandPending, Local: p == self})
	}
	return out, nil
}
