package referral

import (
	"context"
	"slices"

	"github.com/moinha/moinha/storage"
)

// view renders r for this node's users; cl (may be nil) is the clinical
// data they may see.
func view(r *Referral, self, box string, cl *Clinical) View {
	v := View{
		ID: r.ID, Type: r.Type, Status: r.Status, SubStatus: r.Sub, Specialty: r.Specialty, Urgency: r.Urgency,
		Reason: r.Reason, Purpose: r.Purpose, AgeBand: r.AgeBand, Sex: r.Sex, Mode: r.Mode,
		CallRequested: r.CallRequested, CallLink: r.CallLink, OriginProvince: r.Origin, TargetProvince: r.Target,
		Box: box, Created: r.Created, Updated: r.Updated, AcceptedAt: r.AcceptedAt, ClosedAt: r.ClosedAt,
		Outcomes: slices.Clone(r.Outcomes), History: slices.Clone(r.History),
	}
	if v.Outcomes == nil {
		v.Outcomes = []Outcome{}
	}
	if !r.Deadline.IsZero() && (r.Status == StatusRequested || r.Status == StatusReceived) {
		d := r.Deadline
		v.Deadline = &d
	}
	if r.Origin == self {
		v.Candidates = slices.Clone(r.Candidates)
	}
	if cl != nil {
		v.Patient, v.Record, v.Packet = cl.Patient, cl.Record, cl.Packet
	}
	return v
}

// Get returns referral id as user actor may see it: the patient and the
// record only on the referring node and, after acceptance, the
// acceptor's; a consult packet on the nodes it was offered to. A read
// that shows clinical data is audited ("referral.read") in the same
// transaction.
func (s *Service) Get(ctx context.Context, actor, id string) (View, error) {
	var (
		out        View
		hasClinial bool
	)
	err := s.db.View(func(tx *storage.Tx) error {
		r, err := load(tx, id)
		if err != nil {
			return err
		}
		if r == nil {
			return errNotFound()
		}
		hasClinial = r.HasClinical
		out = view(r, s.opts.Province, s.boxOf(r), nil)
		return nil
	})
	if err != nil || !hasClinial {
		return out, err
	}
	// Read again with the clinical data, auditing the read.
	err = s.db.Update(ctx, func(tx *storage.Tx) error {
		r, err := load(tx, id)
		if err != nil {
			return err
		}
		if r == nil {
			return errNotFound()
		}
		cl, err := loadClinical(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Audit(actor, "referral.read", "referral:"+id, ""); err != nil {
			return err
		}
		out = view(r, s.opts.Province, s.boxOf(r), cl)
		return nil
	})
	return out, err
}

func (s *Service) boxOf(r *Referral) string {
	if s.owned(r) {
		return BoxOutbox
	}
	return BoxInbox
}

// Status reads referral id's status and sub-status, without its clinical
// data (so without an audited read): for polling.
func (s *Service) Status(id string) (Status, string, error) {
	var st Status
	var sub string
	err := s.db.View(func(tx *storage.Tx) error {
		r, err := load(tx, id)
		if err != nil {
			return err
		}
		if r == nil {
			return errNotFound()
		}
		st, sub = r.Status, r.Sub
		return nil
	})
	return st, sub, err
}

// Awaiting counts the referrals this node made that wait for an answer to
// an outstanding offer.
func (s *Service) Awaiting() (int, error) {
	var n int
	err := s.db.View(func(tx *storage.Tx) error {
		var err error
		n, err = tx.Count(storage.BucketReferralIdx, idxDue)
		return err
	})
	return n, err
}
