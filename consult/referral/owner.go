package referral

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/moinha/moinha/storage"
)

// errUnchanged tells withReferral that nothing is to be saved (a repeated
// or late message that changes nothing).
var errUnchanged = errors.New("referral: unchanged")

// withReferral loads id, lets fn change a copy, and saves it with its
// indexes. A nil referral gives notFound's error.
func (s *Service) withReferral(tx *storage.Tx, id string, notFound error, fn func(r *Referral) error) error {
	old, err := load(tx, id)
	if err != nil {
		return err
	}
	if old == nil {
		return notFound
	}
	r := clone(old)
	if err := fn(r); err != nil {
		if errors.Is(err, errUnchanged) {
			return nil
		}
		return err
	}
	return s.save(tx, old, r)
}

// send enqueues a message about r for province to.
func (s *Service) send(tx *storage.Tx, r *Referral, to, kind string, m message) error {
	if s.opts.Sender == nil {
		return ErrUnreachable
	}
	m.Referral = r.ID
	payload, err := encode(m)
	if err != nil {
		return err
	}
	r.Seq++
	return s.opts.Sender.Send(tx, to, kind, fmt.Sprintf("%s.%d", r.ID, r.Seq), payload)
}

// offerMessage is r's offer: the minimum necessary, plus the packet of a
// consult request.
func (s *Service) offerMessage(tx *storage.Tx, r *Referral, c *Candidate) (string, message, error) {
	o := &offer{Type: r.Type, Specialty: r.Specialty, Urgency: r.Urgency, Reason: r.Reason, Purpose: r.Purpose,
		AgeBand: r.AgeBand, Sex: r.Sex, Mode: r.Mode, CallRequested: r.CallRequested, Created: r.Created,
		Deadline: c.Deadline}
	kind := KindOffer
	if r.Type == TypeConsult {
		kind = KindConsultOffer
		cl, err := loadClinical(tx, r.ID)
		if err != nil {
			return "", message{}, err
		}
		if cl == nil || cl.Packet == nil {
			return "", message{}, fmt.Errorf("referral %s: consult packet missing", r.ID)
		}
		o.Packet = cl.Packet
	}
	return kind, message{Round: r.Round, Offer: o}, nil
}

// offerNext offers r to pending candidates, in order, until as many
// offers as the urgency's fan-out are outstanding; unreachable candidates
// are skipped. It returns the number outstanding.
func (s *Service) offerNext(tx *storage.Tx, r *Referral, now time.Time) (int, error) {
	outstanding := 0
	for _, c := range r.Candidates {
		if c.State == CandOffered {
			outstanding++
		}
	}
	fan := s.fanout(r.Urgency)
	for i := range r.Candidates {
		if outstanding >= fan {
			break
		}
		c := &r.Candidates[i]
		if c.State != CandPending {
			continue
		}
		c.Round, c.OfferedAt, c.Deadline = r.Round, now, now.Add(s.deadline(r.Urgency))
		if !c.Local {
			kind, m, err := s.offerMessage(tx, r, c)
			if err != nil {
				return 0, err
			}
			err = s.send(tx, r, c.Province, kind, m)
			if errors.Is(err, ErrUnreachable) {
				c.State = CandUnreachable
				continue
			}
			if err != nil {
				return 0, err
			}
		}
		c.State = CandOffered
		outstanding++
		if r.Target == "" || r.candidate(r.Target) == nil || r.candidate(r.Target).State != CandOffered {
			r.Target = c.Province
		}
		if c.Local && s.opts.AutoAccept != nil && s.opts.AutoAccept(view(r, s.opts.Province, BoxInbox, nil)) {
			if err := s.ownerAccept(tx, r, c.Province, "auto", now); err != nil {
				return 0, err
			}
			return 1, nil
		}
	}
	return outstanding, nil
}

// advance offers r onward after an offer ended; with nothing outstanding
// and no candidate left the referral is rejected.
func (s *Service) advance(tx *storage.Tx, r *Referral, now time.Time) error {
	if r.Status != StatusRequested {
		return nil
	}
	n, err := s.offerNext(tx, r, now)
	if err != nil || n > 0 || r.Status != StatusRequested {
		return err
	}
	r.Target = ""
	if err := r.move(StatusRejected, SubNoCandidate, s.opts.Province, "", now); err != nil {
		return err
	}
	s.log.Info("referral found no taker", "referral", r.ID, "candidates", len(r.Candidates))
	return count(tx, r.Type, dirOut, "rejected")
}

// note records an event that does not change the status.
func (r *Referral) note(sub, province, by string, now time.Time) {
	r.Updated = now
	r.History = append(r.History, Event{Time: now, Status: r.Status, Sub: sub, Province: province, By: by})
}

// ownerAccept decides an acceptance from province from: the first one of
// an outstanding offer wins; anyone later is told the referral is taken.
func (s *Service) ownerAccept(tx *storage.Tx, r *Referral, from, by string, now time.Time) error {
	c := r.candidate(from)
	if c == nil {
		return refuse(refuseNotParty)
	}
	switch {
	case r.Status == StatusRequested && c.State == CandOffered:
		c.State = CandAccepted
		r.Target = from
		t := now
		r.AcceptedAt = &t
		if err := r.move(StatusAccepted, "", from, by, now); err != nil {
			return err
		}
		for i := range r.Candidates {
			o := &r.Candidates[i]
			if o.State != CandOffered {
				continue
			}
			o.State = CandWithdrawn
			if !o.Local {
				if err := s.send(tx, r, o.Province, KindTaken, message{Round: r.Round, Reason: SubTaken}); err != nil && !errors.Is(err, ErrUnreachable) {
					return err
				}
			}
		}
		if !c.Local {
			if err := s.shareRecord(tx, r, from); err != nil {
				return err
			}
		} else {
			if err := daily(tx, r.Type, now, r.AcceptorFacility, metricAccepted); err != nil {
				return err
			}
			if err := sampleAccept(tx, r, now, r.AcceptorFacility, c.OfferedAt); err != nil {
				return err
			}
		}
		if err := count(tx, r.Type, dirOut, "accepted"); err != nil {
			return err
		}
		s.log.Info("referral accepted", "referral", r.ID, "by_province", from)
		return observe(tx, r.Type, timingAccept, now.Sub(r.Created))
	case c.State == CandAccepted && active(r.Status):
		return errUnchanged // the same acceptance again
	case c.Local:
		return errTransition(r.Status, "accept")
	}
	// Too late: another province won, the offer ended, or the referral
	// closed. The candidate's copy ends too.
	reason := SubTaken
	switch {
	case closed(r.Status):
		reason = "closed"
	case c.State == CandExpired:
		reason = SubExpired
	}
	if err := s.send(tx, r, from, KindTaken, message{Round: r.Round, Reason: reason}); err != nil && !errors.Is(err, ErrUnreachable) {
		return err
	}
	return count(tx, r.Type, dirOut, "late_accepts")
}

// shareRecord sends the acceptor the full record (a consult request's
// confirmation carries none: the patient stays home) and audits the
// disclosure.
func (s *Service) shareRecord(tx *storage.Tx, r *Referral, to string) error {
	m := message{Round: r.Round}
	if r.Type == TypeReferral {
		cl, err := loadClinical(tx, r.ID)
		if err != nil {
			return err
		}
		if cl != nil {
			m.Clinical = &shared{Patient: cl.Patient, Record: cl.Record}
		}
	}
	if err := s.send(tx, r, to, KindRecord, m); err != nil {
		return err
	}
	if m.Clinical == nil {
		return nil
	}
	return tx.Audit("province:"+to, "referral.disclose", "referral:"+r.ID, "full record to the accepting province")
}

// ownerDecline records a candidate's refusal and offers onward.
func (s *Service) ownerDecline(tx *storage.Tx, r *Referral, from, reason, by string, now time.Time) error {
	c := r.candidate(from)
	if c == nil {
		return refuse(refuseNotParty)
	}
	if c.State != CandOffered || r.Status != StatusRequested {
		return errUnchanged
	}
	c.State = CandDeclined
	r.note("declined", from, by, now)
	if err := count(tx, r.Type, dirOut, "declined"); err != nil {
		return err
	}
	return s.advance(tx, r, now)
}

// ownerOutcome applies the acceptor's outcome. Outcomes from a candidate
// that is not (or no longer) the acceptor change nothing.
func (s *Service) ownerOutcome(tx *storage.Tx, r *Referral, from string, o Outcome, now time.Time) error {
	c := r.candidate(from)
	if c == nil {
		return refuse(refuseNotParty)
	}
	if r.Target != from || c.State != CandAccepted ||
		slices.ContainsFunc(r.Outcomes, func(x Outcome) bool { return x.ID == o.ID }) {
		return errUnchanged
	}
	o.Province = from
	if err := s.applyOutcome(tx, r, o, from, o.By, now, dirOut); err != nil {
		if errors.Is(err, errUnchanged) || isTransition(err) {
			return errUnchanged // e.g. it was cancelled meanwhile
		}
		return err
	}
	return nil
}

// applyOutcome moves r as outcome o says and keeps the outcome.
func (s *Service) applyOutcome(tx *storage.Tx, r *Referral, o Outcome, province, by string, now time.Time, dir string) error {
	var err error
	switch o.Kind {
	case OutcomeAppointment:
		to := r.Status
		if to == StatusOnHold {
			to = StatusInProgress
		}
		if !active(r.Status) {
			return errTransition(r.Status, o.Kind)
		}
		err = r.move(to, SubAppointment, province, by, now)
	case OutcomeInterim:
		err = r.move(StatusInProgress, SubInterim, province, by, now)
	case OutcomeAwaitingInfo:
		err = r.move(StatusOnHold, SubAwaitingInfo, province, by, now)
	case OutcomeResume:
		err = r.move(StatusInProgress, "", province, by, now)
	case OutcomeFinal:
		if !active(r.Status) {
			return errTransition(r.Status, o.Kind)
		}
		sub := ""
		if r.Type == TypeConsult {
			sub = SubAnswered
		}
		err = r.move(StatusCompleted, sub, province, by, now)
	case OutcomeFailed:
		if !active(r.Status) {
			return errTransition(r.Status, o.Kind)
		}
		err = r.move(StatusFailed, SubFailed, province, by, now)
	default:
		return errTransition(r.Status, o.Kind)
	}
	if err != nil {
		return err
	}
	if len(r.Outcomes) >= maxOutcomes {
		return errTransition(r.Status, "more outcomes")
	}
	r.Outcomes = append(r.Outcomes, o)
	switch r.Status {
	case StatusCompleted:
		if err := count(tx, r.Type, dir, "completed"); err != nil {
			return err
		}
		if dir == dirOut {
			return observe(tx, r.Type, timingComplete, now.Sub(r.Created))
		}
	case StatusFailed:
		return count(tx, r.Type, dir, "failed")
	}
	return nil
}

// expire ends the offers of r that are past their deadline at now and
// offers onward.
func (s *Service) expire(id string, now time.Time) error {
	return s.update(s.ctx, func(tx *storage.Tx) error {
		return s.withReferral(tx, id, nil, func(r *Referral) error {
			if !s.owned(r) || r.Status != StatusRequested {
				return errUnchanged
			}
			n := 0
			for i := range r.Candidates {
				c := &r.Candidates[i]
				if c.State != CandOffered || c.Deadline.After(now) {
					continue
				}
				c.State = CandExpired
				n++
				r.note(SubExpired, c.Province, "", now)
				if !c.Local {
					if err := s.send(tx, r, c.Province, KindWithdraw, message{Round: r.Round, Reason: SubExpired}); err != nil && !errors.Is(err, ErrUnreachable) {
						return err
					}
				}
				if err := count(tx, r.Type, dirOut, "expired"); err != nil {
					return err
				}
				if err := daily(tx, r.Type, now, r.Facility, metricExpired); err != nil {
					return err
				}
			}
			if n == 0 {
				return errUnchanged
			}
			s.log.Info("offers expired", "referral", id, "offers", n)
			return s.advance(tx, r, now)
		})
	})
}

// Cancel cancels a referral this node made, until it is completed; the
// candidates and the acceptor are told.
func (s *Service) Cancel(ctx context.Context, actor, id, reason string) (View, error) {
	if len(reason) > maxReason {
		reason = shorten(reason, maxReason)
	}
	var out View
	err := s.update(ctx, func(tx *storage.Tx) error {
		return s.withReferral(tx, id, errNotFound(), func(r *Referral) error {
			if !s.owned(r) {
				return errNotParty("cancel (only the referring province can)")
			}
			now := s.now().UTC()
			if err := r.move(StatusCancelled, SubCancelled, s.opts.Province, actor, now); err != nil {
				return err
			}
			for i := range r.Candidates {
				c := &r.Candidates[i]
				tell := c.State == CandOffered || c.State == CandAccepted
				if c.State == CandOffered {
					c.State = CandWithdrawn
				}
				if tell && !c.Local {
					if err := s.send(tx, r, c.Province, KindCancel, message{Round: r.Round, Reason: reason, By: actor}); err != nil && !errors.Is(err, ErrUnreachable) {
						return err
					}
				}
			}
			if err := tx.Audit(actor, string(r.Type)+".cancel", "referral:"+r.ID, ""); err != nil {
				return err
			}
			out = view(r, s.opts.Province, BoxOutbox, nil)
			return count(tx, r.Type, dirOut, "cancelled")
		})
	})
	return out, err
}

// ProvinceGone re-routes the open referrals that involve a province that
// left the network or was revoked: an outstanding offer to it counts as
// declined; a referral it had accepted is offered again to the remaining
// candidates, or returned (failed/returned) when none is left; and this
// node's copies of referrals the province made are returned
// (cancelled/returned).
func (s *Service) ProvinceGone(ctx context.Context, province string) error {
	if province == s.opts.Province || s.opts.Observer {
		return nil
	}
	var ids []string
	err := s.db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketReferralIdx, idxParty+province+"/", "", func(k string, _ storage.Value) error {
			ids = append(ids, k[strings.LastIndexByte(k, '/')+1:])
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		err := s.update(ctx, func(tx *storage.Tx) error {
			return s.withReferral(tx, id, errUnchanged, func(r *Referral) error {
				return s.gone(tx, r, province, s.now().UTC())
			})
		})
		if err != nil && !errors.Is(err, errUnchanged) {
			return err
		}
	}
	if len(ids) > 0 {
		s.log.Info("province gone: referrals re-routed", "province", province, "referrals", len(ids))
	}
	return nil
}

func (s *Service) gone(tx *storage.Tx, r *Referral, province string, now time.Time) error {
	if !s.owned(r) {
		if r.Origin != province || closed(r.Status) {
			return errUnchanged
		}
		r.PendingAnswer = nil
		if err := r.move(StatusCancelled, SubReturned, province, "", now); err != nil {
			return err
		}
		return count(tx, r.Type, dirIn, "returned")
	}
	c := r.candidate(province)
	if c == nil {
		return errUnchanged
	}
	switch {
	case c.State == CandOffered && r.Status == StatusRequested:
		c.State = CandGone
		r.note(SubReturned, province, "", now)
		return s.advance(tx, r, now)
	case c.State == CandAccepted && active(r.Status):
		c.State = CandGone
		r.Target, r.AcceptedAt = "", nil
		r.Round++
		for i := range r.Candidates {
			if r.Candidates[i].State == CandWithdrawn {
				r.Candidates[i].State = CandPending
			}
		}
		if err := r.move(StatusRequested, SubReoffered, province, "", now); err != nil {
			return err
		}
		n, err := s.offerNext(tx, r, now)
		if err != nil {
			return err
		}
		if err := count(tx, r.Type, dirOut, "reoffered"); err != nil {
			return err
		}
		if n == 0 && r.Status == StatusRequested {
			return r.move(StatusFailed, SubReturned, s.opts.Province, "", now)
		}
		return nil
	}
	return errUnchanged
}
