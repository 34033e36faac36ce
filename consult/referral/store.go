package referral

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// Index key families in storage.BucketReferralIdx (values are empty).
const (
	idxDue   = "due/"   // due/<deadline, 20 digits of Unix ns>/<id>: owner records with outstanding offers
	idxParty = "party/" // party/<province>/<id>: open referrals involving another province
	idxBox   = "box/"   // box/<type>/<box>/<inverted created, 20 digits>/<id>: listing, newest first
)

// Boxes.
const (
	BoxOutbox = "outbox" // referred by this node
	BoxInbox  = "inbox"  // offered to this node
)

func dueKey(t time.Time, id string) string {
	return fmt.Sprintf("%s%020d/%s", idxDue, t.UnixNano(), id)
}

func boxKey(typ Type, box string, created time.Time, id string) string {
	return fmt.Sprintf("%s%s/%s/%020d/%s", idxBox, typ, box, math.MaxInt64-created.UnixNano(), id)
}

func boxPrefix(typ Type, box string) string { return idxBox + string(typ) + "/" + box + "/" }

// owned reports whether this node referred r.
func (s *Service) owned(r *Referral) bool { return r.Origin == s.opts.Province }

// localCandidate returns this node's own entry among r's candidates.
func (r *Referral) localCandidate() *Candidate {
	for i := range r.Candidates {
		if r.Candidates[i].Local {
			return &r.Candidates[i]
		}
	}
	return nil
}

func (r *Referral) candidate(province string) *Candidate {
	for i := range r.Candidates {
		if r.Candidates[i].Province == province {
			return &r.Candidates[i]
		}
	}
	return nil
}

// boxes lists the boxes r appears in on this node.
func (s *Service) boxes(r *Referral) []string {
	if !s.owned(r) {
		return []string{BoxInbox}
	}
	if c := r.localCandidate(); c != nil && (c.State == CandOffered || c.State == CandAccepted) {
		return []string{BoxOutbox, BoxInbox}
	}
	return []string{BoxOutbox}
}

// indexKeys are r's index entries.
func (s *Service) indexKeys(r *Referral) []string {
	if r == nil {
		return nil
	}
	var keys []string
	for _, b := range s.boxes(r) {
		keys = append(keys, boxKey(r.Type, b, r.Created, r.ID))
	}
	if !s.owned(r) {
		if !closed(r.Status) {
			keys = append(keys, idxParty+r.Origin+"/"+r.ID)
		}
		return keys
	}
	var due time.Time
	for _, c := range r.Candidates {
		// Local candidates too: route counts open referrals per province.
		if c.State == CandOffered || (c.State == CandAccepted && active(r.Status)) {
			keys = append(keys, idxParty+c.Province+"/"+r.ID)
		}
	}
	for _, c := range r.Candidates {
		if c.State == CandOffered && r.Status == StatusRequested && (due.IsZero() || c.Deadline.Before(due)) {
			due = c.Deadline
		}
	}
	if !due.IsZero() {
		keys = append(keys, dueKey(due, r.ID))
	}
	return keys
}

// load reads the referral id (nil if absent).
func load(tx *storage.Tx, id string) (*Referral, error) {
	var r Referral
	ok, err := tx.Get(storage.BucketReferrals, id, &r)
	if err != nil || !ok {
		return nil, err
	}
	return &r, nil
}

// save stores r and brings its index entries from old's to r's.
func (s *Service) save(tx *storage.Tx, old, r *Referral) error {
	oldKeys, newKeys := s.indexKeys(old), s.indexKeys(r)
	for _, k := range oldKeys {
		if !slices.Contains(newKeys, k) {
			if err := tx.Delete(storage.BucketReferralIdx, k); err != nil {
				return err
			}
		}
	}
	for _, k := range newKeys {
		if !slices.Contains(oldKeys, k) {
			if err := tx.Put(storage.BucketReferralIdx, k, ""); err != nil {
				return err
			}
		}
	}
	// The earliest outstanding deadline, for views.
	if s.owned(r) {
		r.Deadline = time.Time{}
		for _, c := range r.Candidates {
			if c.State == CandOffered && (r.Deadline.IsZero() || c.Deadline.Before(r.Deadline)) {
				r.Deadline = c.Deadline
			}
		}
	}
	return tx.Put(storage.BucketReferrals, r.ID, r)
}

func clone(r *Referral) *Referral {
	c := *r
	c.Candidates = slices.Clone(r.Candidates)
	c.Outcomes = slices.Clone(r.Outcomes)
	c.History = slices.Clone(r.History)
	return &c
}

func loadClinical(tx *storage.Tx, id string) (*Clinical, error) {
	var c Clinical
	ok, err := tx.Get(storage.BucketReferralData, id, &c)
	if err != nil || !ok {
		return nil, err
	}
	return &c, nil
}

// move changes r's status (checked against the transition table) and
// records the event.
func (r *Referral) move(to Status, sub, province, by string, now time.Time) error {
	if !CanMove(r.Status, to) {
		return errTransition(r.Status, string(to))
	}
	r.Status, r.Sub, r.Updated = to, sub, now
	if closed(to) {
		t := now
		r.ClosedAt = &t
	} else {
		r.ClosedAt = nil
	}
	r.History = append(r.History, Event{Time: now, Status: to, Sub: sub, Province: province, By: by})
	return nil
}

// Filter selects referrals to list.
type Filter struct {
	Type   Type   // zero means referral
	Box    string // outbox or inbox; zero means outbox
	Status Status // zero means any
}

// List returns up to limit referrals of f's box, newest first, without
// patient data, and a cursor for the next page ("" at the end).
func (s *Service) List(f Filter, limit int, cursor string) ([]View, string, error) {
	return list(s.db, s.opts.Province, f, limit, cursor)
}

// ListStored is List over a data file without a Service (the CLI reading
// a stopped node's file).
func ListStored(db *storage.DB, province string, f Filter, limit int, cursor string) ([]View, string, error) {
	return list(db, province, f, limit, cursor)
}

func list(db *storage.DB, province string, f Filter, limit int, cursor string) ([]View, string, error) {
	if f.Type == "" {
		f.Type = TypeReferral
	}
	if f.Box == "" {
		f.Box = BoxOutbox
	}
	switch {
	case f.Type != TypeReferral && f.Type != TypeConsult:
		return nil, "", consult.Invalid("type", "referral or consult")
	case f.Box != BoxOutbox && f.Box != BoxInbox:
		return nil, "", consult.Invalid("box", "outbox or inbox")
	case f.Status != "" && !slices.Contains(Statuses, f.Status):
		return nil, "", consult.Invalid("status", "one of the FHIR Task statuses: %v", Statuses)
	}
	if limit <= 0 {
		limit = 50
	}
	prefix := boxPrefix(f.Type, f.Box)
	after := ""
	if cursor != "" {
		after = prefix + cursor
	}
	var out []View
	next, last := "", ""
	err := db.View(func(tx *storage.Tx) error {
		return tx.Scan(storage.BucketReferralIdx, prefix, after, func(k string, _ storage.Value) error {
			if len(out) >= limit {
				next = strings.TrimPrefix(last, prefix)
				return storage.ErrStop
			}
			id := k[strings.LastIndexByte(k, '/')+1:]
			r, err := load(tx, id)
			if err != nil || r == nil {
				return err
			}
			if f.Status != "" && r.Status != f.Status {
				return nil
			}
			out = append(out, view(r, province, f.Box, nil))
			last = k
			return nil
		})
	})
	return out, next, err
}
