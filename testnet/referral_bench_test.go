package testnet_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/testnet"
	"github.com/moinha/moinha/testnet/testnettest"
)

// BenchmarkReferralRoundTrip measures, between two real nodes on loopback
// with fsync on, the time from an offer made durable at the referring
// node to the acceptance made durable there (the candidate accepts in the
// transaction that receives the offer). `moinha bench referral` reports
// the same with the two-fsync floor beside it.
func BenchmarkReferralRoundTrip(b *testing.B) {
	net := testnettest.Start(b, testnet.Options{Provinces: 2,
		Referrals: referral.Options{AutoAccept: func(referral.View) bool { return true }}})
	ctx := context.Background()
	if err := net.WaitConnected(ctx, time.Minute, 1); err != nil {
		b.Fatal(err)
	}
	owner, target := net.Nodes[0], net.Nodes[1].Province
	p := refPatient
	one := func() time.Duration {
		v, err := owner.Referrals().Create(ctx, referral.Actor{User: "bench"}, referral.CreateRequest{
			Specialty: "cardiology", Urgency: referral.UrgencyUrgent, Reason: "đánh giá", Patient: &p, TargetProvince: target})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		for {
			st, _, err := owner.Referrals().Status(v.ID)
			if err != nil {
				b.Fatal(err)
			}
			if st == referral.StatusAccepted {
				return time.Since(t0)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	for range 10 {
		one()
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		lat = append(lat, one())
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
