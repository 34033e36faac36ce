package testnet_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/federation"
	"github.com/moinha/moinha/storage"
	"github.com/moinha/moinha/testnet"
	"github.com/moinha/moinha/testnet/testnettest"
)

// The patient of these tests. The privacy scans look for these strings
// wherever a node that must not see them keeps or receives anything.
var refPatient = referral.Patient{
	Name: "Trần Thị Mỹ Duyên", Phone: "0912345678", BirthYear: 1972, Sex: "female",
	IDNumber: "079172009999", Address: "42 Lê Lợi, phường Bến Thành", Summary: "khó thở khi gắng sức",
}

// refSecrets are the patient identifiers, raw and as base64 (the outbox
// stores payloads as base64 in JSON).
func refSecrets() []string {
	var out []string
	for _, s := range []string{refPatient.Name, refPatient.Phone, refPatient.IDNumber, refPatient.Address} {
		out = append(out, s)
		for shift := range 3 {
			b := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", shift) + s))
			// drop the characters that depend on the prefix and the end
			start := (shift*4 + 2) / 3
			if len(b) > start+8 {
				out = append(out, b[start+2:len(b)-4])
			}
		}
	}
	return out
}

// refClient is a small JSON client for one node and user.
type refClient struct {
	t     *testing.T
	base  string
	token string
	c     *http.Client
}

func refLogin(t *testing.T, nd *testnet.Node, user string) *refClient {
	t.Helper()
	cl := &refClient{t: t, base: nd.URL(), c: &http.Client{Timeout: 30 * time.Second}}
	var out struct {
		Token string `json:"token"`
	}
	st, raw := cl.call("POST", "/api/v1/login", map[string]string{"username": user, "password": nd.Users[user]}, &out)
	require.Equal(t, http.StatusOK, st, "%s", raw)
	cl.token = out.Token
	return cl
}

func (cl *refClient) call(method, path string, body, out any) (int, string) {
	cl.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(cl.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, cl.base+path, rd)
	require.NoError(cl.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	res, err := cl.c.Do(req)
	require.NoError(cl.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(cl.t, err)
	if res.StatusCode/100 == 2 && out != nil {
		require.NoError(cl.t, json.Unmarshal(raw, out), "%s", raw)
	}
	return res.StatusCode, string(raw)
}

func (cl *refClient) must(want int, method, path string, body, out any) {
	cl.t.Helper()
	st, raw := cl.call(method, path, body, out)
	require.Equal(cl.t, want, st, "%s %s: %s", method, path, raw)
}

// refNet starts a network with short referral timers.
func refNet(t *testing.T, provinces int, observer bool, edit func(*referral.Options)) *testnet.Net {
	t.Helper()
	o := referral.Options{TimerPoll: 50 * time.Millisecond}
	if edit != nil {
		edit(&o)
	}
	net := testnettest.Start(t, testnet.Options{Provinces: provinces, Observer: observer, Referrals: o})
	require.NoError(t, net.WaitConnected(context.Background(), waitLong, len(net.Nodes)-1))
	return net
}

// offerAvailability publishes, through the API, that the provinces at
// idx accept specialty, and waits until every node sees it.
func offerAvailability(t *testing.T, net *testnet.Net, specialty string, idx ...int) {
	t.Helper()
	for _, i := range idx {
		refLogin(t, net.Nodes[i], "admin").must(http.StatusOK, "PUT", "/api/v1/availability/"+specialty,
			map[string]any{"accepting": true, "capacity": 20, "wait_days": i}, nil)
	}
	testnettest.Eventually(t, waitLong, "availability reaches every node", func() (bool, error) {
		for _, nd := range net.Running() {
			var got []referral.Availability
			err := nd.Federation().Records(federation.KindAvailability, func(r federation.Record) error {
				var a referral.Availability
				if json.Unmarshal(r.Payload, &a) == nil {
					got = append(got, a)
				}
				return nil
			})
			if err != nil || len(got) < len(idx) {
				return false, err
			}
		}
		return true, nil
	})
}

func getRef(t *testing.T, nd *testnet.Node, id string) (referral.View, bool) {
	t.Helper()
	v, err := nd.Referrals().Get(context.Background(), "test", id)
	var ce *consult.Error
	if errors.As(err, &ce) && ce.Code == "referral_not_found" {
		return referral.View{}, false
	}
	require.NoError(t, err)
	return v, true
}

func waitStatus(t *testing.T, nd *testnet.Node, id string, want referral.Status) referral.View {
	t.Helper()
	var v referral.View
	testnettest.Eventually(t, waitLong, fmt.Sprintf("%s is %s at %s", id, want, nd.Province), func() (bool, error) {
		var ok bool
		v, ok = getRef(t, nd, id)
		return ok && v.Status == want, nil
	})
	return v
}

func outboxEmpty(nd *testnet.Node) (bool, error) {
	d, _, err := nd.Federation().OutboxStats()
	return d == 0, err
}

func newReferral(t *testing.T, nd *testnet.Node, target, urgency string) referral.View {
	t.Helper()
	p := refPatient
	v, err := nd.Referrals().Create(context.Background(), referral.Actor{User: "staff"}, referral.CreateRequest{
		Specialty: "cardiology", Urgency: urgency, Reason: "suy tim, cần siêu âm tim", Patient: &p,
		TargetProvince: target,
		Record:         &referral.Record{History: "tăng huyết áp 10 năm", Notes: "ECG kèm theo"},
	})
	require.NoError(t, err)
	return v
}

func TestReferralHappyPathTwoProvinces(t *testing.T) {
	net := refNet(t, 2, true, nil)
	a, b, obs := net.Nodes[0], net.Nodes[1], net.Nodes[2]
	staffA, doctorB := refLogin(t, a, "staff"), refLogin(t, b, "doctor")
	p := refPatient
	var created referral.View
	staffA.must(http.StatusCreated, "POST", "/api/v1/referrals", map[string]any{
		"specialty": "cardiology", "urgency": "urgent", "reason": "suy tim, cần siêu âm tim",
		"patient": p, "target_province": b.Province,
		"record": map[string]any{"history": "tăng huyết áp", "attachments": []map[string]any{
			{"name": "xquang.png", "type": "image/png", "data": base64.StdEncoding.EncodeToString(make([]byte, 200<<10))}}},
	}, &created)
	require.Equal(t, referral.StatusRequested, created.Status)
	require.NotNil(t, created.Patient)

	// The doctor in the target province sees the offer, without the patient.
	var inbox struct{ Items []referral.View }
	testnettest.Eventually(t, waitLong, "offer in the inbox", func() (bool, error) {
		doctorB.must(http.StatusOK, "GET", "/api/v1/referrals?box=inbox&status=received", nil, &inbox)
		return len(inbox.Items) == 1, nil
	})
	require.Equal(t, created.ID, inbox.Items[0].ID)
	var offer referral.View
	doctorB.must(http.StatusOK, "GET", "/api/v1/referrals/"+created.ID, nil, &offer)
	assert.Nil(t, offer.Patient)
	assert.Nil(t, offer.Record)
	assert.Equal(t, "45-54", offer.AgeBand)

	// The observer can neither list nor accept.
	obsCl := refLogin(t, obs, "observer")
	st, _ := obsCl.call("GET", "/api/v1/referrals", nil, nil)
	assert.Equal(t, http.StatusForbidden, st)
	st, _ = obsCl.call("POST", "/api/v1/referrals/"+created.ID+"/accept", nil, nil)
	assert.Equal(t, http.StatusForbidden, st)

	var acc referral.View
	doctorB.must(http.StatusAccepted, "POST", "/api/v1/referrals/"+created.ID+"/accept", nil, &acc)
	assert.Equal(t, referral.SubAcceptPending, acc.SubStatus)
	waitStatus(t, a, created.ID, referral.StatusAccepted)
	got := waitStatus(t, b, created.ID, referral.StatusAccepted)
	require.NotNil(t, got.Patient, "the acceptor has the full record")
	assert.Equal(t, refPatient.IDNumber, got.Patient.IDNumber)
	require.Len(t, got.Record.Attachments, 1)

	doctorB.must(http.StatusOK, "POST", "/api/v1/referrals/"+created.ID+"/outcome",
		map[string]any{"kind": "interim", "note": "đã siêu âm; EF 35%"}, nil)
	doctorB.must(http.StatusOK, "POST", "/api/v1/referrals/"+created.ID+"/outcome",
		map[string]any{"kind": "final", "note": "điều trị nội khoa, tái khám 1 tháng"}, nil)
	done := waitStatus(t, a, created.ID, referral.StatusCompleted)
	require.Len(t, done.Outcomes, 2)
	assert.Equal(t, "final", done.Outcomes[1].Kind)

	// The reads were audited on both sides.
	for _, nd := range []*testnet.Node{a, b} {
		entries, err := nd.DB().AuditEntries(0, 0)
		require.NoError(t, err)
		reads := 0
		for _, e := range entries {
			if e.Action == "referral.read" && e.Subject == "referral:"+created.ID {
				reads++
			}
		}
		assert.Positive(t, reads, nd.Province)
	}
	testnettest.Eventually(t, waitLong, "outboxes drain", func() (bool, error) {
		x, err := outboxEmpty(a)
		y, err2 := outboxEmpty(b)
		return x && y, errors.Join(err, err2)
	})
	// The outbox is visible in the metrics.
	res, err := http.Get(a.URL() + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Contains(t, string(metrics), "moinha_federation_direct_outbox_depth 0")
	assert.Contains(t, string(metrics), "moinha_federation_direct_delivered_total")

	var stats referral.Stats
	staffA.must(http.StatusOK, "GET", "/api/v1/referrals/stats", nil, &stats)
	assert.Equal(t, 1, stats.Referrals.Outbound["completed"])
	assert.Equal(t, 1, stats.Referrals.TimeToAccept.Count)
}

func TestReferralRaceExactlyOneWins(t *testing.T) {
	net := refNet(t, 3, false, nil)
	owner := net.Nodes[0]
	offerAvailability(t, net, "cardiology", 1, 2)
	for round := range 5 {
		v := newReferral(t, owner, "", referral.UrgencyEmergency)
		require.Len(t, v.Candidates, 2)
		for _, nd := range net.Nodes[1:] {
			waitStatus(t, nd, v.ID, referral.StatusReceived)
		}
		// Two doctors in two provinces accept at the same moment.
		start := make(chan struct{})
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, nd := range net.Nodes[1:] {
			cl := refLogin(t, nd, "doctor")
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				codes[i], _ = cl.call("POST", "/api/v1/referrals/"+v.ID+"/accept", nil, nil)
			}()
		}
		close(start)
		wg.Wait()
		// Both are told 202 (the owner decides), unless the owner's verdict
		// reached one node before its doctor did: then it is 409 taken.
		accepted := 0
		for _, c := range codes {
			assert.Contains(t, []int{http.StatusAccepted, http.StatusConflict}, c)
			if c == http.StatusAccepted {
				accepted++
			}
		}
		assert.Positive(t, accepted, "round %d", round)
		out := waitStatus(t, owner, v.ID, referral.StatusAccepted)
		winners, losers := 0, 0
		testnettest.Eventually(t, waitLong, "both copies settle", func() (bool, error) {
			winners, losers = 0, 0
			for _, nd := range net.Nodes[1:] {
				c, _ := getRef(t, nd, v.ID)
				switch {
				case c.Status == referral.StatusAccepted:
					winners++
					if nd.Province != out.TargetProvince {
						return false, fmt.Errorf("%s has it accepted but the owner says %s", nd.Province, out.TargetProvince)
					}
				case c.Status == referral.StatusCancelled && c.SubStatus == referral.SubTaken:
					losers++
					if c.Patient != nil {
						return false, errors.New("the loser got the patient")
					}
				}
			}
			return winners+losers == 2, nil
		})
		assert.Equal(t, 1, winners, "round %d", round)
		assert.Equal(t, 1, losers, "round %d", round)
	}
}

func TestReferralTargetDownGetsItWhenItReturns(t *testing.T) {
	net := refNet(t, 2, false, nil)
	a := net.Nodes[0]
	require.NoError(t, net.StopNode(1))
	v := newReferral(t, a, net.Nodes[1].Province, referral.UrgencyRoutine)
	d, _, err := a.Federation().OutboxStats()
	require.NoError(t, err)
	assert.Equal(t, 1, d, "the offer waits in the outbox")

	require.NoError(t, net.Restart(context.Background(), 1))
	waitStatus(t, net.Nodes[1], v.ID, referral.StatusReceived)
	testnettest.Eventually(t, waitLong, "outbox drains", func() (bool, error) { return outboxEmpty(a) })
}

func TestReferralKilledOwnerLosesNothing(t *testing.T) {
	net := refNet(t, 2, false, nil)
	ctx := context.Background()
	a, b := net.Nodes[0], net.Nodes[1]
	v := newReferral(t, a, b.Province, referral.UrgencyUrgent)
	// Killed right after the offer committed, before (or while) it is sent.
	require.NoError(t, net.Kill(0))
	require.NoError(t, net.Restart(ctx, 0))
	a = net.Nodes[0]
	waitStatus(t, b, v.ID, referral.StatusReceived)

	_, err := b.Referrals().Accept(ctx, referral.Actor{User: "doctor"}, v.ID, "")
	require.NoError(t, err)
	// Killed while the acceptance is on its way or being stored.
	require.NoError(t, net.Kill(0))
	require.NoError(t, net.Restart(ctx, 0))
	a = net.Nodes[0]
	waitStatus(t, a, v.ID, referral.StatusAccepted)
	waitStatus(t, b, v.ID, referral.StatusAccepted)

	_, err = b.Referrals().Outcome(ctx, referral.Actor{User: "doctor"}, v.ID, referral.OutcomeRequest{Kind: "final", Note: "xong"})
	require.NoError(t, err)
	require.NoError(t, net.Kill(0))
	require.NoError(t, net.Restart(ctx, 0))
	a = net.Nodes[0]
	out := waitStatus(t, a, v.ID, referral.StatusCompleted)
	testnettest.Eventually(t, waitLong, "outboxes drain", func() (bool, error) {
		x, err := outboxEmpty(a)
		y, err2 := outboxEmpty(b)
		return x && y, errors.Join(err, err2)
	})
	// Nothing duplicated: one acceptance, one outcome, one record on each
	// side.
	assert.Len(t, out.Outcomes, 1)
	assert.Equal(t, 1, countEvents(out.History, referral.StatusAccepted))
	in, _ := getRef(t, b, v.ID)
	assert.Equal(t, 1, countEvents(in.History, referral.StatusAccepted))
	for _, nd := range []*testnet.Node{a, b} {
		items, _, err := nd.Referrals().List(referral.Filter{Box: map[bool]string{true: "outbox", false: "inbox"}[nd == a]}, 50, "")
		require.NoError(t, err)
		assert.Len(t, items, 1, nd.Province)
	}
}

func TestReferralPartitionHealsAndQueuedMessagesDeliver(t *testing.T) {
	net := refNet(t, 2, false, nil)
	ctx := context.Background()
	a, b := net.Nodes[0], net.Nodes[1]
	net.Partition([]int{0}, []int{1})
	v := newReferral(t, a, b.Province, referral.UrgencyUrgent)
	v2 := newReferral(t, a, b.Province, referral.UrgencyRoutine)
	testnettest.Eventually(t, waitLong, "a failed delivery", func() (bool, error) {
		return a.Federation().DirectStats().Failures > 0, nil
	})
	_, ok := getRef(t, b, v.ID)
	require.False(t, ok, "delivered through a partition")
	net.Heal([]int{0}, []int{1})
	waitStatus(t, b, v.ID, referral.StatusReceived)
	waitStatus(t, b, v2.ID, referral.StatusReceived)

	// And the other way: an acceptance queued during a partition.
	net.Partition([]int{0}, []int{1})
	_, err := b.Referrals().Accept(ctx, referral.Actor{User: "doctor"}, v.ID, "")
	require.NoError(t, err)
	net.Heal([]int{0}, []int{1})
	waitStatus(t, a, v.ID, referral.StatusAccepted)
	waitStatus(t, b, v.ID, referral.StatusAccepted)
}

// capture replaces a node's referral handlers with ones that record every
// raw payload before handing it to the node's service.
type capture struct {
	mu  sync.Mutex // guards raw
	raw map[string][]string
}

func (c *capture) install(nd *testnet.Node) {
	svc := nd.Referrals()
	for _, k := range referral.Kinds() {
		kind := k.Kind
		h := func(tx *storage.Tx, from federation.Member, id string, payload []byte) error {
			c.mu.Lock()
			c.raw[nd.Province] = append(c.raw[nd.Province], string(payload))
			c.mu.Unlock()
			err := svc.Receive(tx, from.Province, kind, id, payload)
			var re *referral.RefusedError
			if errors.As(err, &re) {
				return federation.Refuse(re.Code)
			}
			return err
		}
		if k.Large {
			nd.Federation().HandleLarge(kind, h)
		} else {
			nd.Federation().Handle(kind, h)
		}
	}
}

func TestReferralPrivacyScan(t *testing.T) {
	net := refNet(t, 3, true, nil)
	owner, winner, other, obs := net.Nodes[0], net.Nodes[1], net.Nodes[2], net.Nodes[3]
	c := &capture{raw: map[string][]string{}}
	for _, nd := range net.Nodes {
		c.install(nd)
	}
	offerAvailability(t, net, "cardiology", 1, 2)
	ctx := context.Background()
	// An emergency offered to both; the winner takes it and reports.
	v := newReferral(t, owner, "", referral.UrgencyEmergency)
	waitStatus(t, other, v.ID, referral.StatusReceived)
	waitStatus(t, winner, v.ID, referral.StatusReceived)
	_, err := winner.Referrals().Accept(ctx, referral.Actor{User: "doctor"}, v.ID, "")
	require.NoError(t, err)
	waitStatus(t, winner, v.ID, referral.StatusAccepted)
	_, err = winner.Referrals().Outcome(ctx, referral.Actor{User: "doctor"}, v.ID, referral.OutcomeRequest{Kind: "final", Note: "ổn định"})
	require.NoError(t, err)
	// One the other province declines, and a consult request it answers.
	v2 := newReferral(t, owner, other.Province, referral.UrgencyRoutine)
	waitStatus(t, other, v2.ID, referral.StatusReceived)
	_, err = other.Referrals().Decline(ctx, referral.Actor{User: "doctor"}, v2.ID, "hết giường")
	require.NoError(t, err)
	p := refPatient
	cv, err := owner.Referrals().CreateConsult(ctx, referral.Actor{User: "staff"}, referral.ConsultRequest{
		Specialty: "dermatology", Urgency: "routine", Question: "ban đỏ 3 ngày", Patient: &p, TargetProvince: other.Province,
		Photos: []referral.Attachment{{Name: "da.jpg", Type: "image/jpeg", Data: bytes.Repeat([]byte{0xff, 0xd8}, 1000)}},
	})
	require.NoError(t, err)
	waitStatus(t, other, cv.ID, referral.StatusReceived)
	_, err = other.Referrals().Outcome(ctx, referral.Actor{User: "doctor"}, cv.ID, referral.OutcomeRequest{Kind: "final", Note: "viêm da tiếp xúc"})
	require.NoError(t, err)
	waitStatus(t, owner, v.ID, referral.StatusCompleted)
	testnettest.Eventually(t, waitLong, "the decline reaches the owner", func() (bool, error) {
		out, _ := getRef(t, owner, v2.ID)
		for _, c := range out.Candidates {
			if c.Province == other.Province {
				return c.State == referral.CandDeclined, nil
			}
		}
		return false, nil
	})
	waitStatus(t, owner, cv.ID, referral.StatusCompleted)
	testnettest.Eventually(t, waitLong, "outboxes drain", func() (bool, error) {
		for _, nd := range net.Nodes[:3] {
			if ok, err := outboxEmpty(nd); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	})

	// What the observer and the province that did not accept received.
	c.mu.Lock()
	for _, nd := range []*testnet.Node{other, obs} {
		for _, raw := range c.raw[nd.Province] {
			for _, s := range refSecrets() {
				assert.NotContains(t, raw, s, "a message to %s", nd.Province)
			}
		}
	}
	assert.Empty(t, c.raw[obs.Province], "the observer received direct messages")
	assert.NotEmpty(t, c.raw[other.Province])
	winnerGot := strings.Join(c.raw[winner.Province], "\n")
	c.mu.Unlock()
	assert.Contains(t, winnerGot, refPatient.IDNumber, "the scan would find it if it were there")

	// Every store: stop the nodes and read their files byte by byte.
	for i := range net.Nodes {
		require.NoError(t, net.StopNode(i))
	}
	for _, nd := range []*testnet.Node{other, obs, winner, owner} {
		raw, err := os.ReadFile(filepath.Join(nd.DataDir, "moinha.db"))
		require.NoError(t, err)
		leaks := 0
		for _, s := range refSecrets() {
			if bytes.Contains(raw, []byte(s)) {
				leaks++
			}
		}
		if nd == other || nd == obs {
			assert.Zero(t, leaks, "%s's data file holds patient data", nd.Province)
		} else {
			assert.Positive(t, leaks, "%s should hold the patient (scan check)", nd.Province)
		}
	}
}

func TestReferralForgeriesAndNonPartiesAreRefused(t *testing.T) {
	net := refNet(t, 3, true, nil)
	ctx := context.Background()
	owner, target, stranger, obs := net.Nodes[0], net.Nodes[1], net.Nodes[2], net.Nodes[3]
	v := newReferral(t, owner, target.Province, referral.UrgencyUrgent)
	waitStatus(t, target, v.ID, referral.StatusReceived)
	ownerPeer, targetPeer := owner.Federation().PeerID(), target.Federation().PeerID()

	accept := []byte(`{"v":1,"referral":"` + v.ID + `"}`)
	// A province that was never offered it tries to accept.
	ack, err := stranger.Federation().SendNow(ctx, ownerPeer, referral.KindAccept, v.ID+".x1", accept)
	require.NoError(t, err)
	assert.Equal(t, federation.DirectAck{Status: "refused", Reason: "not_a_party"}, ack)
	// …or to cancel it at the candidate, in the owner's name.
	ack, err = stranger.Federation().SendNow(ctx, targetPeer, referral.KindCancel, v.ID+".x2", accept)
	require.NoError(t, err)
	assert.Equal(t, "refused", ack.Status)
	assert.Equal(t, "not_the_owner", ack.Reason)
	// The observer tries to accept: refused before any handler runs.
	ack, err = obs.Federation().SendNow(ctx, ownerPeer, referral.KindAccept, v.ID+".x3", accept)
	require.NoError(t, err)
	assert.Equal(t, federation.DirectAck{Status: "refused", Reason: "observer"}, ack)
	// A replay of the target's real acceptance, same ID, is a duplicate;
	// the first copy decides.
	_, err = target.Referrals().Accept(ctx, referral.Actor{User: "doctor"}, v.ID, "")
	require.NoError(t, err)
	waitStatus(t, owner, v.ID, referral.StatusAccepted)
	ack, err = target.Federation().SendNow(ctx, ownerPeer, referral.KindAccept, v.ID+".1", []byte(`{"v":1,"referral":"`+v.ID+`","round":0,"by":"doctor"}`))
	require.NoError(t, err)
	assert.Equal(t, "duplicate", ack.Status)
	// Garbage is refused as malformed.
	ack, err = target.Federation().SendNow(ctx, ownerPeer, referral.KindOutcome, v.ID+".x4", []byte(`{"v":1,"referral":"`+v.ID+`","outcome":{"kind":"final"}}`))
	require.NoError(t, err)
	assert.Equal(t, federation.DirectAck{Status: "refused", Reason: "malformed"}, ack)

	// Nothing changed beyond the real acceptance.
	out := waitStatus(t, owner, v.ID, referral.StatusAccepted)
	assert.Equal(t, target.Province, out.TargetProvince)
	assert.Empty(t, out.Outcomes)
	// And a non-party user on another node finds nothing to act on.
	st, _ := refLogin(t, stranger, "doctor").call("POST", "/api/v1/referrals/"+v.ID+"/accept", nil, nil)
	assert.Equal(t, http.StatusNotFound, st)
	st, _ = refLogin(t, target, "doctor").call("POST", "/api/v1/referrals/"+v.ID+"/cancel", nil, nil)
	assert.Equal(t, http.StatusForbidden, st, "only the referring province cancels")
}

func countEvents(h []referral.Event, s referral.Status) int {
	n := 0
	for _, e := range h {
		if e.Status == s {
			n++
		}
	}
	return n
}

func TestReferralOfLeavingProvinceIsReoffered(t *testing.T) {
	net := refNet(t, 3, false, nil)
	ctx := context.Background()
	owner, leaver, other := net.Nodes[0], net.Nodes[1], net.Nodes[2]
	offerAvailability(t, net, "cardiology", 1, 2) // the leaver ranks first (shorter wait)
	v := newReferral(t, owner, "", referral.UrgencyUrgent)
	require.Equal(t, leaver.Province, v.TargetProvince)
	waitStatus(t, leaver, v.ID, referral.StatusReceived)
	_, err := leaver.Referrals().Accept(ctx, referral.Actor{User: "doctor"}, v.ID, "")
	require.NoError(t, err)
	waitStatus(t, owner, v.ID, referral.StatusAccepted)

	// A referral the leaver made is returned at the province it went to.
	back := newReferral(t, leaver, other.Province, referral.UrgencyRoutine)
	waitStatus(t, other, back.ID, referral.StatusReceived)

	require.NoError(t, leaver.Leave(ctx))
	out := waitStatus(t, owner, v.ID, referral.StatusRequested)
	assert.Equal(t, referral.SubReoffered, out.SubStatus)
	assert.Equal(t, other.Province, out.TargetProvince)
	waitStatus(t, other, v.ID, referral.StatusReceived)
	ret := waitStatus(t, other, back.ID, referral.StatusCancelled)
	assert.Equal(t, referral.SubReturned, ret.SubStatus)
}
