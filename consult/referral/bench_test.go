package referral

import (
	"testing"
)

// BenchmarkLifecycle runs whole referrals through the state machine
// between two in-process services (storage without fsync, the pump for a
// network): create, offer, accept, record, final outcome. It measures the
// domain's own cost per referral, without network or disk.
func BenchmarkLifecycle(b *testing.B) {
	n := newNet(b, "66", "79")
	b.ResetTimer()
	for range b.N {
		v, err := n.nodes["66"].s.Create(ctx, staff(""), CreateRequest{Specialty: "cardiology", Urgency: UrgencyUrgent,
			Reason: "x", Patient: samplePatient(), TargetProvince: "79"})
		if err != nil {
			b.Fatal(err)
		}
		n.pump()
		if _, err := n.nodes["79"].s.Accept(ctx, doctor(""), v.ID, ""); err != nil {
			b.Fatal(err)
		}
		n.pump()
		if _, err := n.nodes["79"].s.Outcome(ctx, doctor(""), v.ID, OutcomeRequest{Kind: OutcomeFinal}); err != nil {
			b.Fatal(err)
		}
		n.pump()
	}
}
