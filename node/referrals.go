package node

import (
	"errors"
	"fmt"

	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/consult/sample"
	"github.com/moinha/moinha/federation"
	"github.com/moinha/moinha/storage"
)

// openReferrals builds the referral service over the federation's direct
// messages and gossiped availability, and registers its message handlers.
func (n *Node) openReferrals() error {
	o := n.cfg.Referrals
	o.Province = n.cfg.Province
	o.Observer = n.cfg.Role == "observer"
	o.Availability = nodeAvailability{n}
	o.Geo = provinceGeo
	if o.Logger == nil {
		o.Logger = n.log
	}
	if n.fed != nil {
		o.Sender = referralSender{n.fed}
	}
	svc, err := referral.New(n.db, o)
	if err != nil {
		return err
	}
	n.ref = svc
	if n.fed == nil {
		return nil
	}
	for _, k := range referral.Kinds() {
		kind := k.Kind
		h := func(tx *storage.Tx, from federation.Member, id string, payload []byte) error {
			err := svc.Receive(tx, from.Province, kind, id, payload)
			var re *referral.RefusedError
			if errors.As(err, &re) {
				return federation.Refuse(re.Code)
			}
			return err
		}
		if k.Large {
			n.fed.HandleLarge(kind, h)
		} else {
			n.fed.Handle(kind, h)
		}
	}
	return nil
}

// referralSender sends referral messages as durable direct messages.
type referralSender struct{ f *federation.Federation }

func (s referralSender) Send(tx *storage.Tx, province, kind, id string, payload []byte) error {
	err := s.f.Send(tx, province, kind, id, payload)
	switch {
	case errors.Is(err, federation.ErrNoMember), errors.Is(err, federation.ErrObserverDest),
		errors.Is(err, federation.ErrLeft), errors.Is(err, federation.ErrRevoked), errors.Is(err, federation.ErrObserver):
		return fmt.Errorf("%w: %v", referral.ErrUnreachable, err)
	}
	return err
}

func (s referralSender) Flush() { s.f.Flush() }

// nodeAvailability reads every member province's gossiped availability.
type nodeAvailability struct{ n *Node }

func (a nodeAvailability) Available(specialty string) ([]referral.Availability, error) {
	var out []referral.Availability
	keep := func(av availability) {
		if av.Specialty == specialty {
			out = append(out, referral.Availability{Province: av.Province, Specialty: av.Specialty,
				Accepting: av.Accepting, Capacity: av.Capacity, WaitDays: av.WaitDays})
		}
	}
	if a.n.fed == nil {
		err := a.n.db.View(func(tx *storage.Tx) error {
			var av availability
			ok, err := tx.Get(storage.BucketSettings, availabilityPrefix+specialty, &av)
			if ok && err == nil {
				keep(av)
			}
			return err
		})
		return out, err
	}
	err := a.n.fed.Records(federation.KindAvailability, func(rec federation.Record) error {
		if av, err := decodeAvailability(rec.Payload); err == nil {
			keep(av)
		}
		return nil
	})
	return out, err
}

// provinceGeo is a province's approximate centroid (sample data's table).
func provinceGeo(code string) (float64, float64, bool) {
	p, ok := sample.ProvinceByCode(code)
	return p.Lat, p.Lon, ok
}

// Referrals is the node's referral and consult-request service.
func (n *Node) Referrals() *referral.Service { return n.ref }
