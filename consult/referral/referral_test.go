package referral

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

var ctx = context.Background()

func create(t *testing.T, n *tnet, prov string, req CreateRequest) View {
	t.Helper()
	if req.Specialty == "" {
		req.Specialty = "cardiology"
	}
	if req.Urgency == "" {
		req.Urgency = UrgencyUrgent
	}
	if req.Reason == "" {
		req.Reason = "nghi nhồi máu cơ tim, cần siêu âm tim"
	}
	if req.Patient == nil {
		req.Patient = samplePatient()
	}
	v, err := n.nodes[prov].s.Create(ctx, staff(prov+"-TYT-1"), req)
	require.NoError(t, err)
	return v
}

func TestHappyPathAcrossTwoProvinces(t *testing.T) {
	n := newNet(t, "66", "79")
	v := create(t, n, "66", CreateRequest{TargetProvince: "79",
		Record: &Record{History: "tăng huyết áp", Attachments: []Attachment{{Name: "ecg.png", Type: "image/png", Data: []byte("\x89PNG…")}}}})
	assert.Equal(t, StatusRequested, v.Status)
	assert.Equal(t, "79", v.TargetProvince)
	assert.Equal(t, "45-54", v.AgeBand)
	require.NotNil(t, v.Patient)
	n.pump()

	in := n.get("79", v.ID)
	assert.Equal(t, StatusReceived, in.Status)
	assert.Equal(t, BoxInbox, in.Box)
	assert.Nil(t, in.Patient, "the candidate sees no patient before accepting")
	assert.Nil(t, in.Record)
	for _, p := range n.nodes["79"].received {
		noPatientData(t, "offer", p)
	}

	acc, err := n.nodes["79"].s.Accept(ctx, doctor("79-BV-1"), v.ID, "")
	require.NoError(t, err)
	assert.Equal(t, StatusReceived, acc.Status)
	assert.Equal(t, SubAcceptPending, acc.SubStatus)
	n.pump()

	assert.Equal(t, StatusAccepted, n.get("66", v.ID).Status)
	in = n.get("79", v.ID)
	assert.Equal(t, StatusAccepted, in.Status)
	require.NotNil(t, in.Patient, "the acceptor has the record after acceptance")
	assert.Equal(t, samplePatient().Name, in.Patient.Name)
	require.NotNil(t, in.Record)
	assert.Len(t, in.Record.Attachments, 1)

	for _, k := range []string{OutcomeAppointment, OutcomeInterim, OutcomeFinal} {
		req := OutcomeRequest{Kind: k, Note: "ghi chú " + k}
		if k == OutcomeAppointment {
			at := n.clock.now().Add(48 * time.Hour)
			req.Appointment = &at
		}
		_, err := n.nodes["79"].s.Outcome(ctx, doctor("79-BV-1"), v.ID, req)
		require.NoError(t, err, k)
	}
	n.pump()
	out := n.get("66", v.ID)
	assert.Equal(t, StatusCompleted, out.Status)
	require.Len(t, out.Outcomes, 3)
	assert.Equal(t, "79", out.Outcomes[2].Province)
	assert.Equal(t, StatusCompleted, n.get("79", v.ID).Status)

	// Every read of the record was audited, on both sides; the owner also
	// audited the disclosure and the acceptor the receipt.
	for prov, want := range map[string][]string{"66": {"referral.create", "referral.read", "referral.disclose"},
		"79": {"referral.record_received", "referral.read", "referral.accept"}} {
		entries, err := n.nodes[prov].db.AuditEntries(0, 0)
		require.NoError(t, err)
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
			noPatientData(t, "audit", e.Subject+e.Detail)
		}
		for _, w := range want {
			assert.Contains(t, actions, w, prov)
		}
	}

	// Completed: no more cancel.
	_, err = n.nodes["66"].s.Cancel(ctx, "staff", v.ID, "")
	assert.True(t, isTransition(err), "%v", err)

	st, err := n.nodes["66"].s.Stats()
	require.NoError(t, err)
	assert.Equal(t, 1, st.Referrals.Outbound["created"])
	assert.Equal(t, 1, st.Referrals.TimeToAccept.Count)
	assert.Equal(t, 0, st.Referrals.Open)
}

func TestFirstAcceptanceWins(t *testing.T) {
	n := newNet(t, "66", "79", "01")
	n.setAvail("79", "cardiology", true, 5, 1)
	n.setAvail("01", "cardiology", true, 5, 2)
	v := create(t, n, "66", CreateRequest{Urgency: UrgencyEmergency})
	require.Len(t, v.Candidates, 2)
	n.pump()
	// Both provinces accept before either acceptance reached the owner.
	_, err := n.nodes["79"].s.Accept(ctx, doctor(""), v.ID, "")
	require.NoError(t, err)
	_, err = n.nodes["01"].s.Accept(ctx, doctor(""), v.ID, "")
	require.NoError(t, err)
	n.pump()

	out := n.get("66", v.ID)
	assert.Equal(t, StatusAccepted, out.Status)
	winner, loser := out.TargetProvince, "01"
	if winner == "01" {
		loser = "79"
	}
	assert.Equal(t, StatusAccepted, n.get(winner, v.ID).Status)
	l := n.get(loser, v.ID)
	assert.Equal(t, StatusCancelled, l.Status)
	assert.Equal(t, SubTaken, l.SubStatus)
	assert.Nil(t, l.Patient)
	for _, p := range n.nodes[loser].received {
		noPatientData(t, "loser's messages", p)
	}
	st, _ := n.nodes["66"].s.Stats()
	assert.Equal(t, 1, st.Referrals.Outbound["accepted"])
	assert.Equal(t, 1, st.Referrals.Outbound["late_accepts"])
}

func TestDeclineAndExpiryMoveOn(t *testing.T) {
	n := newNet(t, "66", "79", "01", "46")
	n.setAvail("79", "cardiology", true, 5, 0)
	n.setAvail("01", "cardiology", true, 5, 0)
	n.setAvail("46", "cardiology", true, 5, 9)
	v := create(t, n, "66", CreateRequest{Urgency: UrgencyUrgent})
	require.Equal(t, []string{"79", "01", "46"}, provinces(v.Candidates), "wait + distance ranking")
	n.pump()
	_, err := n.nodes["79"].s.Decline(ctx, doctor(""), v.ID, "hết giường")
	require.NoError(t, err)
	n.pump()
	assert.Equal(t, "01", n.get("66", v.ID).TargetProvince)
	assert.Equal(t, StatusReceived, n.get("01", v.ID).Status)

	// 01 does not answer: after the urgent deadline the owner withdraws it.
	n.clock.advance(2*time.Hour + time.Second)
	n.nodes["66"].s.expireDue()
	n.pump()
	c01 := n.get("01", v.ID)
	assert.Equal(t, StatusCancelled, c01.Status)
	assert.Equal(t, SubExpired, c01.SubStatus)
	// A late accept from 01 is refused locally.
	_, err = n.nodes["01"].s.Accept(ctx, doctor(""), v.ID, "")
	assert.True(t, isTransition(err))

	_, err = n.nodes["46"].s.Decline(ctx, doctor(""), v.ID, "")
	require.NoError(t, err)
	n.pump()
	out := n.get("66", v.ID)
	assert.Equal(t, StatusRejected, out.Status)
	assert.Equal(t, SubNoCandidate, out.SubStatus)
	assert.Equal(t, []string{CandDeclined, CandExpired, CandDeclined}, states(out.Candidates))
}

func TestStaysInProvinceWithRoom(t *testing.T) {
	n := newNet(t, "66", "79")
	n.setAvail("66", "cardiology", true, 1, 5)
	n.setAvail("79", "cardiology", true, 9, 0)
	v := create(t, n, "66", CreateRequest{})
	assert.Equal(t, "66", v.TargetProvince)
	assert.Equal(t, 0, n.pump(), "a referral kept at home sends nothing")
	inbox, _, err := n.nodes["66"].s.List(Filter{Box: BoxInbox}, 10, "")
	require.NoError(t, err)
	require.Len(t, inbox, 1)
	a, err := n.nodes["66"].s.Accept(ctx, doctor("66-BV-1"), v.ID, "")
	require.NoError(t, err)
	assert.Equal(t, StatusAccepted, a.Status)
	_, err = n.nodes["66"].s.Outcome(ctx, doctor("66-BV-1"), v.ID, OutcomeRequest{Kind: OutcomeFinal, Note: "ổn"})
	require.NoError(t, err)
	assert.Equal(t, StatusCompleted, n.get("66", v.ID).Status)

	// Its capacity of one is now taken by an open referral: the next one
	// goes out.
	v1 := create(t, n, "66", CreateRequest{})
	v2 := create(t, n, "66", CreateRequest{})
	assert.Equal(t, "66", v1.TargetProvince)
	assert.Equal(t, "79", v2.TargetProvince)
}

func TestCancelReachesEveryone(t *testing.T) {
	n := newNet(t, "66", "79", "01")
	n.setAvail("79", "cardiology", true, 5, 0)
	n.setAvail("01", "cardiology", true, 5, 0)
	v := create(t, n, "66", CreateRequest{Urgency: UrgencyEmergency})
	n.pump()
	_, err := n.nodes["79"].s.Accept(ctx, doctor(""), v.ID, "")
	require.NoError(t, err)
	n.pump()
	_, err = n.nodes["66"].s.Cancel(ctx, "staff", v.ID, "gia đình chuyển viện khác")
	require.NoError(t, err)
	n.pump()
	for _, p := range []string{"66", "79", "01"} {
		assert.Equal(t, StatusCancelled, n.get(p, v.ID).Status, p)
	}
	// The acceptor can no longer report.
	_, err = n.nodes["79"].s.Outcome(ctx, doctor(""), v.ID, OutcomeRequest{Kind: OutcomeInterim})
	assert.True(t, isTransition(err))
	// Only the owner cancels.
	_, err = n.nodes["79"].s.Cancel(ctx, "doctor", v.ID, "")
	assert.True(t, errors.Is(err, consult.ErrForbidden), "%v", err)
}

func TestNonPartiesAndForgeriesAreRefused(t *testing.T) {
	n := newNet(t, "66", "79", "01")
	v := create(t, n, "66", CreateRequest{TargetProvince: "79"})
	n.pump()
	refused := func(err error, code string) {
		t.Helper()
		var re *RefusedError
		require.True(t, errors.As(err, &re), "want refusal %s, got %v", code, err)
		assert.Equal(t, code, re.Code)
	}
	accept, _ := encode(message{Referral: v.ID})
	// 01 was never offered it.
	refused(n.deliver("01", n.nodes["66"], KindAccept, "x1", accept), refuseNotParty)
	// 01 forges an offer in 66's name.
	o, _ := encode(message{Referral: v.ID, Offer: &offer{Type: TypeReferral, Specialty: "cardiology", Urgency: UrgencyRoutine,
		Purpose: "treatment", AgeBand: "45-54", Sex: "female", Created: n.clock.now(), Deadline: n.clock.now()}})
	refused(n.deliver("01", n.nodes["79"], KindOffer, "x2", o), refuseNotOwner)
	// 01 tells 79 it lost, or cancels.
	taken, _ := encode(message{Referral: v.ID, Reason: SubTaken})
	refused(n.deliver("01", n.nodes["79"], KindTaken, "x3", taken), refuseNotOwner)
	refused(n.deliver("01", n.nodes["79"], KindCancel, "x4", taken), refuseNotOwner)
	// A record for an unknown referral, and garbage.
	refused(n.deliver("66", n.nodes["01"], KindRecord, "x5", accept), refuseUnknown)
	refused(n.deliver("66", n.nodes["79"], KindAccept, "x6", []byte(`{"v":1,"referral":"nope"}`)), refuseMalformed)
	// An offer smuggling a name is malformed (unknown field).
	smuggled := []byte(`{"v":1,"referral":"` + v.ID + `","offer":{"type":"referral","specialty":"cardiology","urgency":"routine","reason":"x","purpose":"treatment","age_band":"45-54","sex":"female","created":"2026-03-02T08:00:00Z","deadline":"2026-03-03T08:00:00Z","name":"Nguyễn Thị Hoa"}}`)
	refused(n.deliver("66", n.nodes["79"], KindOffer, "x7", smuggled), refuseMalformed)
	assert.Equal(t, StatusReceived, n.get("79", v.ID).Status, "nothing changed")
	assert.Equal(t, StatusRequested, n.get("66", v.ID).Status)

	// An observer service refuses everything.
	obs := n.add("BYT", func(o *Options) { o.Observer = true })
	refused(n.deliver("66", obs, KindOffer, "x8", o), refuseObserver)
	_, err := obs.s.Create(ctx, staff(""), CreateRequest{Specialty: "cardiology", Urgency: UrgencyRoutine, Reason: "x",
		Patient: samplePatient(), TargetProvince: "79"})
	assert.True(t, errors.Is(err, consult.ErrForbidden))
}

func TestRepeatedMessagesChangeNothing(t *testing.T) {
	n := newNet(t, "66", "79")
	v := create(t, n, "66", CreateRequest{TargetProvince: "79"})
	n.pump()
	_, err := n.nodes["79"].s.Accept(ctx, doctor(""), v.ID, "")
	require.NoError(t, err)
	// Deliver 79's accept under two different IDs (a replay with a fresh
	// ID), then the rest.
	var acc storage.OutboxMessage
	require.NoError(t, n.nodes["79"].db.View(func(tx *storage.Tx) error {
		msgs, err := tx.Outbox("66", time.Time{}, 0)
		acc = msgs[0]
		return err
	}))
	require.NoError(t, n.deliver("79", n.nodes["66"], acc.Kind, "replay-1", acc.Payload))
	require.NoError(t, n.deliver("79", n.nodes["66"], acc.Kind, "replay-2", acc.Payload))
	n.pump()
	out := n.get("66", v.ID)
	assert.Equal(t, StatusAccepted, out.Status)
	assert.Equal(t, 1, countHistory(out.History, StatusAccepted))
	in := n.get("79", v.ID)
	assert.Equal(t, StatusAccepted, in.Status)
	assert.Equal(t, 1, countHistory(in.History, StatusAccepted))
}

func TestProvinceGone(t *testing.T) {
	n := newNet(t, "66", "79", "01")
	n.setAvail("79", "cardiology", true, 5, 0)
	n.setAvail("01", "cardiology", true, 5, 3)
	v := create(t, n, "66", CreateRequest{})
	n.pump()
	_, err := n.nodes["79"].s.Accept(ctx, doctor(""), v.ID, "")
	require.NoError(t, err)
	n.pump()
	require.Equal(t, "79", n.get("66", v.ID).TargetProvince)

	// 79 leaves: 66 offers the referral again, to 01.
	require.NoError(t, n.nodes["66"].s.ProvinceGone(ctx, "79"))
	out := n.get("66", v.ID)
	assert.Equal(t, StatusRequested, out.Status)
	assert.Equal(t, SubReoffered, out.SubStatus)
	assert.Equal(t, "01", out.TargetProvince)
	n.down["79"] = true
	n.pump()
	assert.Equal(t, StatusReceived, n.get("01", v.ID).Status)

	// 66 leaves: 01's copy is returned.
	require.NoError(t, n.nodes["01"].s.ProvinceGone(ctx, "66"))
	c := n.get("01", v.ID)
	assert.Equal(t, StatusCancelled, c.Status)
	assert.Equal(t, SubReturned, c.SubStatus)

	// With no one left, a referral whose acceptor leaves is returned.
	n.avail = nil
	v2 := create(t, n, "66", CreateRequest{TargetProvince: "01"})
	n.pump()
	_, err = n.nodes["01"].s.Accept(ctx, doctor(""), v2.ID, "")
	require.NoError(t, err)
	n.pump()
	require.NoError(t, n.nodes["66"].s.ProvinceGone(ctx, "01"))
	out = n.get("66", v2.ID)
	assert.Equal(t, StatusFailed, out.Status)
	assert.Equal(t, SubReturned, out.SubStatus)
}

func TestConsultRequestAsync(t *testing.T) {
	n := newNet(t, "66", "79")
	temp, spo2 := 38.5, 93
	req := ConsultRequest{Specialty: "paediatrics", Urgency: UrgencyUrgent, Mode: ModeAsync,
		Question: "Trẻ 3 tuổi sốt cao, ban đỏ; xin ý kiến", Vitals: &Vitals{TempC: &temp, SpO2: &spo2},
		Photos:  []Attachment{{Name: "ban.jpg", Type: "image/jpeg", Data: make([]byte, 300<<10)}},
		Patient: samplePatient(), TargetProvince: "79"}
	v, err := n.nodes["66"].s.CreateConsult(ctx, staff("66-TYT-1"), req)
	require.NoError(t, err)
	assert.Equal(t, TypeConsult, v.Type)
	n.pump()
	in := n.get("79", v.ID)
	require.NotNil(t, in.Packet, "the packet travels with the offer")
	assert.Len(t, in.Packet.Photos, 1)
	assert.Nil(t, in.Patient)
	for _, p := range n.nodes["79"].received {
		noPatientData(t, "consult messages", p)
	}

	// The doctor answers straight from the inbox.
	a, err := n.nodes["79"].s.Outcome(ctx, doctor("79-BV-1"), v.ID, OutcomeRequest{Kind: OutcomeFinal, Note: "Nghĩ sởi; chuyển khám"})
	require.NoError(t, err)
	assert.Equal(t, SubAcceptPending, a.SubStatus)
	n.pump()
	out := n.get("66", v.ID)
	assert.Equal(t, StatusCompleted, out.Status)
	assert.Equal(t, SubAnswered, out.SubStatus)
	require.Len(t, out.Outcomes, 1)
	assert.Equal(t, "Nghĩ sởi; chuyển khám", out.Outcomes[0].Note)
	assert.Equal(t, StatusCompleted, n.get("79", v.ID).Status)
	assert.Nil(t, n.get("79", v.ID).Patient, "a consult never shares the identity")

	// Daily counts for the network statistics.
	counts := map[string]int64{}
	for _, p := range []string{"66", "79"} {
		require.NoError(t, n.nodes[p].db.View(func(tx *storage.Tx) error {
			return DayCounts(tx, Day(n.clock.now()), func(_, m string, c int64) { counts[p+" "+m] += c }, nil)
		}))
	}
	assert.Equal(t, map[string]int64{"66 consults_sent": 1, "79 consults_received": 1, "79 consults_accepted": 1,
		"79 consults_answered": 1}, counts)
}

func TestLiveConsultOwnProvinceFirst(t *testing.T) {
	n := newNet(t, "66", "79")
	n.setAvail("79", "paediatrics", true, 5, 0)
	v, err := n.nodes["66"].s.CreateConsult(ctx, staff("66-TYT-1"), ConsultRequest{Specialty: "paediatrics",
		Urgency: UrgencyEmergency, Mode: ModeLive, Question: "khó thở"})
	require.NoError(t, err)
	assert.True(t, v.CallRequested)
	assert.Equal(t, []string{"66", "79"}, provinces(v.Candidates), "own province first")
	a, err := n.nodes["66"].s.Accept(ctx, doctor("66-BV-1"), v.ID, "/call/abc")
	require.NoError(t, err)
	assert.Equal(t, "/call/abc", a.CallLink)
	n.pump()
	assert.Equal(t, StatusCancelled, n.get("79", v.ID).Status, "the parallel offer is withdrawn")
}

func TestTransitionsTable(t *testing.T) {
	for from, tos := range transitions {
		for _, to := range tos {
			assert.True(t, CanMove(from, to))
		}
	}
	assert.False(t, CanMove(StatusCompleted, StatusCancelled))
	assert.False(t, CanMove(StatusRequested, StatusInProgress))
	assert.False(t, CanMove(StatusOnHold, StatusOnHold))
	assert.False(t, CanMove(StatusFailed, StatusRequested))
}

func TestAgeBand(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for year, want := range map[int]string{0: "unknown", 2026: "0", 2024: "1-4", 2015: "5-14", 2011: "15-24",
		1980: "45-54", 1990: "35-44", 1941: "85+", 1942: "75-84", 2030: "unknown"} {
		assert.Equal(t, want, AgeBand(year, now), "%d", year)
		assert.True(t, validAgeBand(AgeBand(year, now)))
	}
}

func TestRank(t *testing.T) {
	geo := func(p string) (float64, float64, bool) {
		return map[string]float64{"A": 0, "B": 1, "C": 10, "D": 20}[p], 0, true
	}
	av := []Availability{
		{Province: "A", Accepting: true, Capacity: 2, WaitDays: 3},
		{Province: "B", Accepting: true, Capacity: 5, WaitDays: 1},
		{Province: "C", Accepting: true, Capacity: 5, WaitDays: 0},
		{Province: "D", Accepting: false, Capacity: 5},
		{Province: "E", Accepting: true, Capacity: 0},
	}
	for _, tc := range []struct {
		name, self, target string
		open               map[string]int
		want               []string
	}{
		{"home first when it has room", "A", "", nil, []string{"A", "B", "C"}},
		{"home full goes last among accepting", "A", "", map[string]int{"A": 2}, []string{"B", "C", "A"}},
		{"target first", "A", "D", nil, []string{"D", "A", "B", "C"}},
		{"full provinces after those with room", "B", "", map[string]int{"C": 5}, []string{"B", "A", "C"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, rank(tc.self, tc.target, av, tc.open, geo))
		})
	}
}

func TestValidation(t *testing.T) {
	n := newNet(t, "66")
	for _, req := range []CreateRequest{
		{Specialty: "astrology", Urgency: UrgencyRoutine, Reason: "x", Patient: samplePatient()},
		{Specialty: "cardiology", Urgency: "soon", Reason: "x", Patient: samplePatient()},
		{Specialty: "cardiology", Urgency: UrgencyRoutine, Patient: samplePatient()},
		{Specialty: "cardiology", Urgency: UrgencyRoutine, Reason: "x"},
		{Specialty: "cardiology", Urgency: UrgencyRoutine, Reason: "x", Patient: &Patient{}},
		{Specialty: "cardiology", Urgency: UrgencyRoutine, Reason: "x", Patient: samplePatient(),
			Record: &Record{Attachments: []Attachment{{Name: "big", Type: "image/png", Data: make([]byte, maxAttachment+1)}}}},
	} {
		_, err := n.nodes["66"].s.Create(ctx, staff(""), req)
		assert.True(t, errors.Is(err, consult.ErrInvalid), "%+v: %v", req.Specialty, err)
	}
	_, err := n.nodes["66"].s.Create(ctx, staff(""), CreateRequest{Specialty: "cardiology", Urgency: UrgencyRoutine,
		Reason: "x", Patient: samplePatient()})
	assert.True(t, errors.Is(err, consult.ErrConflict), "no candidate: %v", err)
}

func TestOffersCarryMinimumNecessary(t *testing.T) {
	n := newNet(t, "66", "79")
	v := create(t, n, "66", CreateRequest{TargetProvince: "79"})
	var m message
	require.NoError(t, n.nodes["66"].db.View(func(tx *storage.Tx) error {
		msgs, err := tx.Outbox("79", time.Time{}, 0)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		noPatientData(t, "offer", string(msgs[0].Payload))
		return json.Unmarshal(msgs[0].Payload, &m)
	}))
	require.NotNil(t, m.Offer)
	assert.Equal(t, v.ID, m.Referral)
	assert.Equal(t, "45-54", m.Offer.AgeBand)
	assert.Equal(t, "female", m.Offer.Sex)
	assert.Nil(t, m.Clinical)
}

func provinces(cs []Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Province)
	}
	return out
}

func states(cs []Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.State)
	}
	return out
}

func countHistory(h []Event, s Status) int {
	n := 0
	for _, e := range h {
		if e.Status == s {
			n++
		}
	}
	return n
}
