package referral

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzDecode feeds every message kind's decoder a peer's bytes: it must
// never panic, and what it accepts must hold no field for patient
// identity outside a record message.
func FuzzDecode(f *testing.F) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	id := "66-r-abcdefghijklmnop"
	seeds := []message{
		{Referral: id, Round: 1, Offer: &offer{Type: TypeReferral, Specialty: "cardiology", Urgency: UrgencyUrgent,
			Reason: "đau ngực", Purpose: "treatment", AgeBand: "45-54", Sex: "female", Created: now, Deadline: now}},
		{Referral: "66-c-abcdefghijklmnop", Offer: &offer{Type: TypeConsult, Specialty: "paediatrics", Urgency: UrgencyRoutine,
			Purpose: "treatment", AgeBand: "1-4", Sex: "male", Mode: ModeAsync, Created: now, Deadline: now,
			Packet: &Packet{Question: "sốt", Photos: []Attachment{{Name: "a.jpg", Type: "image/jpeg", Data: []byte{1, 2}}}}}},
		{Referral: id, Clinical: &shared{Patient: &Patient{Name: "A"}, Record: &Record{Notes: "n"}}},
		{Referral: id, Outcome: &Outcome{ID: "79:x.1", Kind: OutcomeFinal, Note: "ổn", Province: "79", Time: now}},
		{Referral: id, Reason: SubTaken},
	}
	for i, m := range seeds {
		raw, _ := encode(m)
		f.Add(uint8(i), raw)
	}
	f.Add(uint8(0), []byte(`{"v":1}`))
	f.Add(uint8(3), []byte(`{"v":1,"referral":"66-r-abcdefghijklmnop","outcome":{"kind":"appointment"}}`))
	kinds := Kinds()
	f.Fuzz(func(t *testing.T, k uint8, payload []byte) {
		kind := kinds[int(k)%len(kinds)].Kind
		m, err := Decode(kind, payload)
		if err != nil {
			return
		}
		if !ValidID(m.Referral) {
			t.Fatalf("accepted a bad referral ID %q", m.Referral)
		}
		if kind != KindRecord && m.Clinical != nil {
			t.Fatalf("%s carries clinical data", kind)
		}
		if m.Offer != nil {
			top := *m.Offer
			top.Packet = nil // photos have file names
			raw, _ := json.Marshal(top)
			for _, field := range []string{`"name"`, `"phone"`, `"id_number"`, `"address"`, `"patient"`} {
				if strings.Contains(string(raw), field) {
					t.Fatalf("an offer carries %s", field)
				}
			}
		}
	})
}
