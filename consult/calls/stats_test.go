package calls_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/calls/calltest"
	"github.com/moinha/moinha/consult/stats"
	"github.com/moinha/moinha/internal/netns"
	"github.com/moinha/moinha/storage"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// wsClient is a signalling connection without media: enough to be in a
// call (the node counts people in the call, not packets).
type wsClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func (n *node) rawDial(t *testing.T, id, user string) *wsClient {
	t.Helper()
	u := strings.Replace(n.srv.URL, "http", "ws", 1) + "/api/v1/calls/" + id + "/signal"
	ws, _, err := websocket.DefaultDialer.Dial(u, http.Header{"Authorization": {"Bearer " + n.tokens[user]}})
	require.NoError(t, err)
	t.Cleanup(func() { ws.Close() })
	c := &wsClient{t: t, ws: ws}
	c.wait(calls.MsgHello, "")
	return c
}

func (c *wsClient) send(m calls.Message) {
	c.t.Helper()
	require.NoError(c.t, c.ws.WriteJSON(m))
}

// wait reads until a message of type typ (about user, if given).
func (c *wsClient) wait(typ, user string) calls.Message {
	c.t.Helper()
	require.NoError(c.t, c.ws.SetReadDeadline(time.Now().Add(10*time.Second)))
	for {
		var m calls.Message
		require.NoError(c.t, c.ws.ReadJSON(&m), "waiting for %s", typ)
		if m.Type == typ && (user == "" || m.User == user) {
			return m
		}
	}
}

// dayCounts reads DayCounts of day from n's data file: facility → metric → n.
func dayCounts(t *testing.T, n *node, day string) map[string]map[string]int64 {
	t.Helper()
	out := map[string]map[string]int64{}
	require.NoError(t, n.db.View(func(tx *storage.Tx) error {
		return calls.DayCounts(tx, day, func(facility, metric string, v int64) {
			require.True(t, stats.ValidMetric(metric), metric)
			if out[facility] == nil {
				out[facility] = map[string]int64{}
			}
			out[facility][metric] += v
		})
	}))
	return out
}

func TestDailyCounts(t *testing.T) {
	// 23:50 in Vietnam: a call that starts now and lasts 30 minutes ends
	// on the next day.
	clock := &fakeClock{t: time.Date(2026, 3, 2, 16, 50, 0, 0, time.UTC)}
	n := newNode(t, "66", nil, func(o *calls.Options) { o.Now = clock.Now })
	ctx := context.Background()
	_, err := n.acct.AddUser(ctx, "test", "tram", "password-123", consult.RoleStaff, "66-TYT-01")
	require.NoError(t, err)
	n.tokens["tram"], _, err = n.acct.Login(ctx, "tram", "password-123")
	require.NoError(t, err)
	day1, day2 := "2026-03-02", "2026-03-03"
	require.Equal(t, day1, calls.Day(clock.Now()))

	// A consult from a station, started on day 1, ended on day 2.
	c1, err := n.svc.Create(ctx, calls.Caller{Username: "tram", Role: consult.RoleStaff},
		calls.CreateRequest{Kind: calls.KindConsult, Invite: []calls.User{n.user("doctor")}})
	require.NoError(t, err)
	v, err := n.svc.Get(n.caller("doctor"), c1.ID)
	require.NoError(t, err)
	assert.Empty(t, v.Facility, "the host's facility is not shown")
	a, b := n.rawDial(t, c1.ID, "tram"), n.rawDial(t, c1.ID, "doctor")
	a.send(calls.Message{Type: calls.MsgJoin})
	b.send(calls.Message{Type: calls.MsgJoin})
	a.wait(calls.MsgReady, "")
	waitUntil(t, ctxT(t, 10*time.Second), "the call to be live", func() bool {
		l := n.svc.Live()
		return l.Active[calls.KindConsult] == 1 && l.Participants[calls.KindConsult] == 2
	})
	clock.Advance(30 * time.Minute)
	a.send(calls.Message{Type: calls.MsgEnd})
	a.wait(calls.MsgEnded, "")

	// A consult of a user with no facility, on day 2, ended at once.
	id2 := n.create(t, "staff", calls.KindConsult, n.user("doctor"))
	a, b = n.rawDial(t, id2, "staff"), n.rawDial(t, id2, "doctor")
	a.send(calls.Message{Type: calls.MsgJoin})
	b.send(calls.Message{Type: calls.MsgJoin})
	b.wait(calls.MsgReady, "")
	b.send(calls.Message{Type: calls.MsgLeave})
	a.wait(calls.MsgPeerLeft, "")
	clock.Advance(90 * time.Second)
	a.send(calls.Message{Type: calls.MsgEnd})
	a.wait(calls.MsgEnded, "")

	// A briefing: the host admits a guest from the waiting room, so two
	// are in it; ended 10 minutes later.
	id3 := n.create(t, "tram", calls.KindBriefing, n.user("nurse1"))
	h := n.rawDial(t, id3, "tram")
	h.send(calls.Message{Type: calls.MsgJoin})
	h.wait(calls.MsgAdmitted, "")
	g := n.rawDial(t, id3, "nurse1")
	g.send(calls.Message{Type: calls.MsgJoin})
	g.wait(calls.MsgWaiting, "")
	h.wait(calls.MsgKnock, "66.nurse1")
	h.send(calls.Message{Type: calls.MsgAdmit, User: "66.nurse1"})
	g.wait(calls.MsgAdmitted, "")
	clock.Advance(10 * time.Minute)
	h.send(calls.Message{Type: calls.MsgEnd})
	g.wait(calls.MsgEnded, "")

	// A conference nobody answered: created, the host alone in it, ended.
	id4 := n.create(t, "tram", calls.KindConference, n.user("nurse2"))
	h = n.rawDial(t, id4, "tram")
	h.send(calls.Message{Type: calls.MsgJoin})
	h.wait(calls.MsgAdmitted, "")
	h.send(calls.Message{Type: calls.MsgEnd})
	h.wait(calls.MsgEnded, "")

	waitUntil(t, ctxT(t, 10*time.Second), "nobody in a call", func() bool {
		l := n.svc.Live()
		for _, k := range calls.Kinds {
			if l.Active[k] != 0 || l.Participants[k] != 0 {
				return false
			}
		}
		return true
	})
	assert.Equal(t, map[string]map[string]int64{
		"66-TYT-01": {"calls_consult": 1, "call_minutes_consult": 0},
	}, dayCounts(t, n, day1), "day 1: the station's consult started")
	assert.Equal(t, map[string]map[string]int64{
		"66-TYT-01": {"calls_consult": 0, "call_minutes_consult": 30, "calls_briefing": 1, "call_minutes_briefing": 10},
		"":          {"calls_consult": 1, "call_minutes_consult": 1},
	}, dayCounts(t, n, day2), "day 2: the consult's 30 minutes, the other consult and the briefing")
	assert.Empty(t, dayCounts(t, n, "2026-03-04"))

	var st map[calls.Kind]calls.Counters
	waitUntil(t, ctxT(t, 10*time.Second), "the joins to be stored", func() bool {
		st, err = n.svc.Stats()
		require.NoError(t, err)
		return st[calls.KindConsult].Joins == 4 && st[calls.KindBriefing].Joins == 2 && st[calls.KindConference].Joins == 1
	})
	assert.Equal(t, calls.Counters{Calls: 2, Started: 2, Ended: 2, Joins: 4, Seconds: 30*60 + 90}, st[calls.KindConsult])
	assert.Equal(t, calls.Counters{Calls: 1, Started: 1, Ended: 1, Joins: 2, Seconds: 600}, st[calls.KindBriefing])
	assert.Equal(t, calls.Counters{Calls: 1, Started: 0, Ended: 1, Joins: 1}, st[calls.KindConference])

	// The counts feed consult/stats as they are.
	tl := stats.NewTally()
	require.NoError(t, n.db.View(func(tx *storage.Tx) error { return calls.DayCounts(tx, day2, tl.AddAt) }))
	lv := stats.Publish(tl)
	require.Len(t, lv, 1)
	rep := stats.Report{Levels: lv}
	_, sup, ok := rep.Value(stats.LevelUnattributed, stats.MetricCalls("consult"))
	assert.True(t, ok && sup, "a single call is suppressed")
	_, sup, ok = rep.Value(stats.LevelUnattributed, stats.MetricCallMinutes("briefing"))
	assert.True(t, ok && sup, "minutes are suppressed with their calls")
}

// fakeReferrals is a calls.Referrals that answers err and records what it
// was asked.
type fakeReferrals struct {
	err  error
	mu   sync.Mutex
	asks []string
}

func (f *fakeReferrals) CanOpenCall(_ context.Context, username, province, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asks = append(f.asks, username+"@"+province+":"+id)
	return f.err
}

func TestCreateChecksReferral(t *testing.T) {
	refs := &fakeReferrals{}
	n := newNode(t, "66", nil, func(o *calls.Options) { o.Referrals = refs })
	ctx := context.Background()
	create := func(ref string) (calls.Created, error) {
		return n.svc.Create(ctx, n.caller("doctor"), calls.CreateRequest{Kind: calls.KindConsult, Referral: ref,
			Invite: []calls.User{n.user("staff")}})
	}

	c, err := create("66-r-abcdefghijklmnop")
	require.NoError(t, err)
	v, err := n.svc.Get(n.caller("staff"), c.ID)
	require.NoError(t, err)
	assert.Equal(t, "66-r-abcdefghijklmnop", v.Referral)
	_, err = create("")
	require.NoError(t, err, "a call about no referral is not checked")
	assert.Equal(t, []string{"doctor@66:66-r-abcdefghijklmnop"}, refs.asks)

	for _, tc := range []struct {
		err  error
		kind error
		code string
	}{
		{calls.ErrReferralNotFound, consult.ErrNotFound, calls.ReasonReferralNotFound},
		{errors.Join(errors.New("consult request declined here"), calls.ErrNotReferralParty), consult.ErrForbidden, calls.ReasonNotReferralParty},
	} {
		refs.err = tc.err
		_, err := create("66-c-abcdefghijklmnop")
		var ce *consult.Error
		require.ErrorAs(t, err, &ce)
		assert.ErrorIs(t, err, tc.kind)
		assert.Equal(t, tc.code, ce.Code)
	}
	refs.err = errors.New("disk on fire")
	_, err = create("66-c-abcdefghijklmnop")
	require.Error(t, err)
	var ce *consult.Error
	assert.False(t, errors.As(err, &ce), "a failed check is not the user's fault")
	views, _, err := n.svc.List(n.caller("doctor"), 10, "")
	require.NoError(t, err)
	assert.Len(t, views, 2, "refused calls are not created")

	// Nil Referrals: any referral ID is taken as it is.
	m := newNode(t, "79", nil)
	_, err = m.svc.Create(ctx, m.caller("doctor"), calls.CreateRequest{Kind: calls.KindConsult, Referral: "66-r-zzzzzzzzzzzzzzzz",
		Invite: []calls.User{m.user("staff")}})
	require.NoError(t, err)
}

func TestLiveMediaAndTURN(t *testing.T) {
	netns.Require(t)
	n := newNode(t, "66", nil, relayOnly)
	l0 := n.svc.Live()
	require.True(t, l0.TURNEnabled)
	assert.Zero(t, l0.Media.PacketsOut)

	id := n.create(t, "doctor", calls.KindTraining, n.user("staff"), n.user("nurse1"))
	cs := joinGroup(t, n, id, []string{"doctor", "staff", "nurse1"}, calltest.Options{})
	ctx := ctxT(t, 20*time.Second)
	waitMedia(t, ctx, 20, cs, cs)
	l1 := n.svc.Live()
	assert.Equal(t, 1, l1.Active[calls.KindTraining])
	assert.Equal(t, 3, l1.Participants[calls.KindTraining])
	assert.Equal(t, 3, l1.Media.Participants)
	assert.Positive(t, l1.Media.PacketsIn)
	assert.Positive(t, l1.Media.PacketsOut)
	assert.Positive(t, l1.Media.BytesOut)
	assert.GreaterOrEqual(t, l1.TURN.Allocations, 3, "relay-only clients allocate on the node's TURN")
	assert.Positive(t, l1.TURN.AuthSuccesses)

	require.NoError(t, cs[0].End())
	for _, c := range cs {
		_, _, err := c.WaitClosed(ctx)
		require.NoError(t, err)
	}
	var l2 calls.Live
	waitUntil(t, ctx, "the call's room to close", func() bool {
		l2 = n.svc.Live()
		return l2.Media.Participants == 0 && l2.Active[calls.KindTraining] == 0
	})
	assert.Zero(t, l2.Participants[calls.KindTraining])
	assert.GreaterOrEqual(t, l2.Media.PacketsOut, l1.Media.PacketsOut, "the totals outlive the room")
	assert.GreaterOrEqual(t, l2.Media.BytesIn, l1.Media.BytesIn)
}

// observerRelay is a Relay that knows province obs to be an observer's.
type observerRelay struct {
	calls.Relay
	obs string
}

func (r observerRelay) ObserverProvince(p string) bool { return p == r.obs }

func TestObserverProvinceNotInvited(t *testing.T) {
	relays := calltest.NewRelays()
	t.Cleanup(relays.Close)
	n := newNode(t, "66", relays, func(o *calls.Options) { o.Relay = observerRelay{o.Relay, "BYT"} })
	_, err := n.svc.Create(context.Background(), n.caller("doctor"), calls.CreateRequest{Kind: calls.KindConference,
		Invite: []calls.User{n.user("staff"), {Province: "BYT", Username: "observer"}}})
	var ce *consult.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, calls.ReasonObserver, ce.Code)
	_, err = n.svc.Create(context.Background(), n.caller("doctor"), calls.CreateRequest{Kind: calls.KindConference,
		Invite: []calls.User{n.user("staff"), {Province: "79", Username: "doctor"}}})
	require.NoError(t, err, "a province's users may be invited")
}
