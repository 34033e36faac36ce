package referral

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// receiveOffer stores (or revives, for a later round) this node's copy of
// an offer from the referral's origin.
func (s *Service) receiveOffer(tx *storage.Tx, from string, m message, now time.Time) error {
	if originOf(m.Referral) != from {
		return refuse(refuseNotOwner)
	}
	old, err := load(tx, m.Referral)
	if err != nil {
		return err
	}
	o := m.Offer
	var r *Referral
	switch {
	case old == nil:
		r = &Referral{
			ID: m.Referral, Type: o.Type, Status: StatusReceived, Sub: SubOffered,
			Specialty: o.Specialty, Urgency: o.Urgency, Reason: o.Reason, Purpose: o.Purpose,
			AgeBand: o.AgeBand, Sex: o.Sex, Mode: o.Mode, CallRequested: o.CallRequested,
			Origin: from, Target: s.opts.Province, Round: m.Round, Deadline: o.Deadline,
			Created: o.Created, Updated: now, ReceivedAt: now,
			History: []Event{{Time: now, Status: StatusReceived, Sub: SubOffered, Province: from}},
		}
		if o.Packet != nil {
			r.HasClinical = true
			if err := tx.Put(storage.BucketReferralData, r.ID, &Clinical{Packet: o.Packet}); err != nil {
				return err
			}
		}
	case m.Round > old.Round && (old.Status == StatusRejected || old.Status == StatusCancelled):
		r = clone(old)
		if err := r.move(StatusReceived, SubOffered, from, "", now); err != nil {
			return err
		}
		r.Round, r.Deadline, r.PendingAnswer, r.ReceivedAt = m.Round, o.Deadline, nil, now
	default:
		return nil // a repeated offer
	}
	if err := count(tx, r.Type, dirIn, "offered"); err != nil {
		return err
	}
	if err := daily(tx, r.Type, now, "", metricReceived); err != nil {
		return err
	}
	if s.opts.AutoAccept != nil && s.opts.AutoAccept(view(r, s.opts.Province, BoxInbox, nil)) {
		if err := s.candidateAccept(tx, r, Actor{User: "auto"}, "", nil, now); err != nil {
			return err
		}
	}
	return s.save(tx, old, r)
}

// candidateAccept asks the owner for r on behalf of user by.
func (s *Service) candidateAccept(tx *storage.Tx, r *Referral, who Actor, callLink string, answer *Outcome, now time.Time) error {
	if r.Status == StatusCancelled && r.Sub == SubTaken {
		return consult.Errorf(consult.ErrConflict, "taken", "another province accepted this referral first")
	}
	if r.Status != StatusReceived || r.Sub != SubOffered {
		return errTransition(r.Status, "accept")
	}
	by := who.User
	if err := r.move(StatusReceived, SubAcceptPending, s.opts.Province, by, now); err != nil {
		return err
	}
	r.AcceptedBy, r.AcceptorFacility, r.PendingAnswer = by, who.Facility, answer
	if callLink != "" {
		r.CallLink = callLink
	}
	return s.send(tx, r, r.Origin, KindAccept, message{Round: r.Round, By: by, CallLink: callLink})
}

// receiveRecord: this node won; it now holds the full record.
func (s *Service) receiveRecord(tx *storage.Tx, r *Referral, from string, m message, now time.Time) error {
	if r.Status != StatusReceived || r.Sub != SubAcceptPending {
		return errUnchanged
	}
	t := now
	r.AcceptedAt = &t
	if err := r.move(StatusAccepted, "", from, r.AcceptedBy, now); err != nil {
		return err
	}
	if m.Clinical != nil {
		cl, err := loadClinical(tx, r.ID)
		if err != nil {
			return err
		}
		if cl == nil {
			cl = &Clinical{}
		}
		cl.Patient, cl.Record = m.Clinical.Patient, m.Clinical.Record
		if err := tx.Put(storage.BucketReferralData, r.ID, cl); err != nil {
			return err
		}
		r.HasClinical = true
		if err := tx.Audit("province:"+from, "referral.record_received", "referral:"+r.ID, ""); err != nil {
			return err
		}
	}
	if err := count(tx, r.Type, dirIn, "accepted"); err != nil {
		return err
	}
	if err := daily(tx, r.Type, now, r.AcceptorFacility, metricAccepted); err != nil {
		return err
	}
	if err := sampleAccept(tx, r, now, r.AcceptorFacility, r.ReceivedAt); err != nil {
		return err
	}
	if a := r.PendingAnswer; a != nil {
		r.PendingAnswer = nil
		return s.reportOutcome(tx, r, *a, now)
	}
	return nil
}

// reportOutcome applies an outcome on this node's accepted copy and sends
// it to the owner.
func (s *Service) reportOutcome(tx *storage.Tx, r *Referral, o Outcome, now time.Time) error {
	if err := s.applyOutcome(tx, r, o, s.opts.Province, o.By, now, dirIn); err != nil {
		return err
	}
	if r.Type == TypeConsult && o.Kind == OutcomeFinal {
		if err := daily(tx, r.Type, now, r.AcceptorFacility, metricAnswered); err != nil {
			return err
		}
	}
	return s.send(tx, r, r.Origin, KindOutcome, message{Round: r.Round, Outcome: &o})
}

// receiveEnd handles taken, withdraw and cancel from the owner.
func (s *Service) receiveEnd(r *Referral, kind, from string, m message, now time.Time) error {
	switch kind {
	case KindTaken, KindWithdraw:
		if r.Status != StatusReceived {
			return errUnchanged
		}
		sub := SubTaken
		if m.Reason == SubExpired || (kind == KindWithdraw && m.Reason != SubTaken) {
			sub = SubExpired
		}
		r.PendingAnswer = nil
		return r.move(StatusCancelled, sub, from, "", now)
	case KindCancel:
		if closed(r.Status) {
			return errUnchanged
		}
		r.PendingAnswer = nil
		return r.move(StatusCancelled, SubCancelled, from, "", now)
	}
	return errUnchanged
}

// Accept accepts an offer on behalf of user actor. For a referral offered
// by another province it asks the owner, which decides (202: the copy is
// received/accept_pending until the owner's word arrives); for one this
// province offered itself it decides at once. callLink (consult requests,
// live mode) is the call the doctor opens.
func (s *Service) Accept(ctx context.Context, who Actor, id, callLink string) (View, error) {
	actor := who.User
	if len(callLink) > maxCallLink {
		return View{}, consult.Invalid("call_link", "at most %d bytes", maxCallLink)
	}
	var out View
	err := s.update(ctx, func(tx *storage.Tx) error {
		return s.withReferral(tx, id, errNotFound(), func(r *Referral) error {
			now := s.now().UTC()
			if s.owned(r) {
				c := r.localCandidate()
				if c == nil {
					return errNotParty("accept (it was not offered to this province)")
				}
				r.AcceptorFacility = who.Facility
				if err := s.ownerAccept(tx, r, c.Province, actor, now); err != nil {
					if errors.Is(err, errUnchanged) {
						return errTransition(r.Status, "accept")
					}
					return err
				}
				if callLink != "" {
					r.CallLink = callLink
				}
			} else if err := s.candidateAccept(tx, r, who, callLink, nil, now); err != nil {
				return err
			}
			if err := tx.Audit(actor, string(r.Type)+".accept", "referral:"+r.ID, ""); err != nil {
				return err
			}
			out = view(r, s.opts.Province, BoxInbox, nil)
			return nil
		})
	})
	return out, err
}

// Decline declines an offer on behalf of actor; the owner offers onward.
func (s *Service) Decline(ctx context.Context, who Actor, id, reason string) (View, error) {
	actor := who.User
	reason = shorten(reason, maxReason)
	var out View
	err := s.update(ctx, func(tx *storage.Tx) error {
		return s.withReferral(tx, id, errNotFound(), func(r *Referral) error {
			now := s.now().UTC()
			if s.owned(r) {
				c := r.localCandidate()
				if c == nil || c.State != CandOffered || r.Status != StatusRequested {
					return errTransition(r.Status, "decline")
				}
				if err := s.ownerDecline(tx, r, c.Province, reason, actor, now); err != nil {
					return err
				}
			} else {
				if r.Status != StatusReceived || r.Sub != SubOffered {
					return errTransition(r.Status, "decline")
				}
				if err := r.move(StatusRejected, SubDeclined, s.opts.Province, actor, now); err != nil {
					return err
				}
				if err := s.send(tx, r, r.Origin, KindDecline, message{Round: r.Round, Reason: reason, By: actor}); err != nil {
					return err
				}
				if err := count(tx, r.Type, dirIn, "declined"); err != nil {
					return err
				}
			}
			if err := daily(tx, r.Type, now, who.Facility, metricDeclined); err != nil {
				return err
			}
			if err := tx.Audit(actor, string(r.Type)+".decline", "referral:"+r.ID, ""); err != nil {
				return err
			}
			out = view(r, s.opts.Province, BoxInbox, nil)
			return nil
		})
	})
	return out, err
}

// OutcomeRequest is the POST …/outcome body.
type OutcomeRequest struct {
	Kind        string     `json:"kind"` // appointment, interim, awaiting_info, resume, final, failed
	Note        string     `json:"note,omitempty"`
	Appointment *time.Time `json:"appointment,omitempty"`
	CallLink    string     `json:"call_link,omitempty"`
}

// Outcome records an outcome by the acceptor's user actor and sends it to
// the referring province. A consult request's answer (kind final) may be
// given straight from the inbox: it accepts and answers at once.
func (s *Service) Outcome(ctx context.Context, who Actor, id string, req OutcomeRequest) (View, error) {
	actor := who.User
	o := Outcome{Kind: req.Kind, Note: req.Note, Appointment: req.Appointment, By: actor, Province: s.opts.Province}
	if err := o.check(); err != nil {
		return View{}, consult.Invalid("outcome", "kind is one of appointment, interim, awaiting_info, resume, final, failed; "+
			"note at most %d bytes; appointment needs a time", maxNote)
	}
	if len(req.CallLink) > maxCallLink {
		return View{}, consult.Invalid("call_link", "at most %d bytes", maxCallLink)
	}
	var out View
	err := s.update(ctx, func(tx *storage.Tx) error {
		return s.withReferral(tx, id, errNotFound(), func(r *Referral) error {
			now := s.now().UTC()
			o.Time = now
			o.ID = s.opts.Province + ":" + r.ID + "." + strconv.Itoa(r.Seq+1)
			if req.CallLink != "" {
				r.CallLink = req.CallLink
			}
			answerNow := r.Type == TypeConsult && o.Kind == OutcomeFinal
			if s.owned(r) {
				c := r.localCandidate()
				if c == nil {
					return errNotParty("report on")
				}
				if answerNow && c.State == CandOffered {
					r.AcceptorFacility = who.Facility
					if err := s.ownerAccept(tx, r, c.Province, actor, now); err != nil {
						return err
					}
				}
				if c.State != CandAccepted || r.Target != c.Province {
					return errNotParty("report on (this province is not the acceptor)")
				}
				r.Seq++ // keeps outcome IDs unique
				if err := s.applyOutcome(tx, r, o, c.Province, actor, now, dirOut); err != nil {
					return err
				}
				if answerNow {
					if err := daily(tx, r.Type, now, r.AcceptorFacility, metricAnswered); err != nil {
						return err
					}
				}
			} else if answerNow && r.Status == StatusReceived && r.Sub == SubOffered {
				if err := s.candidateAccept(tx, r, who, req.CallLink, &o, now); err != nil {
					return err
				}
			} else {
				if !active(r.Status) {
					return errTransition(r.Status, o.Kind)
				}
				if err := s.reportOutcome(tx, r, o, now); err != nil {
					return err
				}
			}
			if err := tx.Audit(actor, string(r.Type)+".outcome", "referral:"+r.ID, o.Kind); err != nil {
				return err
			}
			out = view(r, s.opts.Province, BoxInbox, nil)
			return nil
		})
	})
	return out, err
}

// Receive handles a message from province from (authenticated by the
// network layer) inside the transaction that records its ID. It returns a
// *RefusedError for a malformed message or one whose sender is not a
// party; other errors are transient.
func (s *Service) Receive(tx *storage.Tx, from, kind, msgID string, payload []byte) error {
	if s.opts.Observer {
		return refuse(refuseObserver)
	}
	m, err := Decode(kind, payload)
	if err != nil {
		s.log.Info("refused malformed message", "from", from, "id", msgID, "kind", kind)
		return refuse(refuseMalformed)
	}
	now := s.now().UTC()
	switch kind {
	case KindOffer, KindConsultOffer:
		return s.receiveOffer(tx, from, m, now)
	case KindAccept, KindDecline, KindOutcome:
		return s.withReferral(tx, m.Referral, refuse(refuseUnknown), func(r *Referral) error {
			if !s.owned(r) {
				return refuse(refuseNotOwner)
			}
			switch kind {
			case KindAccept:
				err := s.ownerAccept(tx, r, from, m.By, now)
				if err == nil && m.CallLink != "" && r.Target == from {
					r.CallLink = m.CallLink
				}
				return err
			case KindDecline:
				return s.ownerDecline(tx, r, from, m.Reason, m.By, now)
			}
			return s.ownerOutcome(tx, r, from, *m.Outcome, now)
		})
	case KindRecord, KindTaken, KindWithdraw, KindCancel:
		return s.withReferral(tx, m.Referral, refuse(refuseUnknown), func(r *Referral) error {
			if s.owned(r) || r.Origin != from {
				return refuse(refuseNotOwner)
			}
			if kind == KindRecord {
				return s.receiveRecord(tx, r, from, m, now)
			}
			return s.receiveEnd(r, kind, from, m, now)
		})
	}
	return refuse(refuseUnknownKind)
}
