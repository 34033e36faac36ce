package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/referral"
)

// callReferrals is calls.Referrals over the referral service: a call may
// belong to a referral or consult request when the referral is on this
// node and the caller is a party to it — a clinician (staff or doctor, who
// work referrals here) of the referring province, or of a province it was
// offered to that has not declined it or lost it to another.
type callReferrals struct{ n *Node }

func (c callReferrals) CanOpenCall(_ context.Context, username, province, id string) error {
	if !referral.ValidID(id) {
		return calls.ErrReferralNotFound
	}
	u, err := c.n.acct.GetUser(username)
	if err != nil {
		return err
	}
	if !slices.Contains(clinicians, u.Role) {
		return fmt.Errorf("%w: %s works no referrals", calls.ErrNotReferralParty, u.Role)
	}
	status, _, err := c.n.ref.Status(id)
	if errors.Is(err, consult.ErrNotFound) {
		return calls.ErrReferralNotFound
	}
	if err != nil {
		return err
	}
	if origin, _, _ := strings.Cut(id, "-"); origin == province {
		return nil // the referring province
	}
	if status == referral.StatusRejected || status == referral.StatusCancelled {
		return fmt.Errorf("%w: the offer here was declined, withdrawn or taken", calls.ErrNotReferralParty)
	}
	return nil
}
