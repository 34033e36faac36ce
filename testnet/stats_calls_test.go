package testnet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/stats"
	"github.com/moinha/moinha/testnet"
	"github.com/moinha/moinha/testnet/testnettest"
)

// sigConn is a call's signalling WebSocket without media: the node counts
// the people in a call, not its packets.
type sigConn struct {
	t  *testing.T
	ws *websocket.Conn
}

// dialCall opens call id's signalling on nd as token's user. It returns
// the handshake's status and API error code when the node refuses.
func dialCall(t *testing.T, nd *testnet.Node, token, id string) (*sigConn, int, string) {
	t.Helper()
	u := strings.Replace(nd.URL(), "http", "ws", 1) + "/api/v1/calls/" + id + "/signal"
	ws, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		require.NotNil(t, resp, "dial: %v", err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return nil, resp.StatusCode, e.Error.Code
	}
	t.Cleanup(func() { ws.Close() })
	c := &sigConn{t: t, ws: ws}
	c.wait(calls.MsgHello)
	return c, http.StatusSwitchingProtocols, ""
}

func (c *sigConn) send(m calls.Message) {
	c.t.Helper()
	require.NoError(c.t, c.ws.WriteJSON(m))
}

func (c *sigConn) wait(typ string) calls.Message {
	c.t.Helper()
	require.NoError(c.t, c.ws.SetReadDeadline(time.Now().Add(30*time.Second)))
	for {
		var m calls.Message
		require.NoError(c.t, c.ws.ReadJSON(&m), "waiting for %s", typ)
		if m.Type == typ {
			return m
		}
	}
}

// holdCall gets the host (on hostNode) and one guest (on guestNode, which
// may be another province's) into call id, ends it, and waits until the
// guest hears the end.
func holdCall(t *testing.T, id string, kind calls.Kind, hostNode *testnet.Node, hostTok string,
	guestNode *testnet.Node, guestTok, guestKey string) {
	t.Helper()
	h, _, _ := dialCall(t, hostNode, hostTok, id)
	require.NotNil(t, h)
	h.send(calls.Message{Type: calls.MsgJoin})
	if kind.Group() {
		h.wait(calls.MsgAdmitted)
	}
	g, _, _ := dialCall(t, guestNode, guestTok, id)
	require.NotNil(t, g)
	g.send(calls.Message{Type: calls.MsgJoin})
	if kind.Group() {
		require.Equal(t, guestKey, h.wait(calls.MsgKnock).User)
		h.send(calls.Message{Type: calls.MsgAdmit, User: guestKey})
		g.wait(calls.MsgAdmitted)
	} else {
		h.wait(calls.MsgReady)
		g.wait(calls.MsgReady)
	}
	h.send(calls.Message{Type: calls.MsgEnd})
	g.wait(calls.MsgEnded)
}

// newCall creates a call as a's user and returns its ID, or the status
// and API error code of the refusal.
func newCall(a *api, kind calls.Kind, invite ...calls.User) (string, int, string) {
	a.t.Helper()
	body, err := json.Marshal(map[string]any{"kind": kind, "invite": invite})
	require.NoError(a.t, err)
	req, err := http.NewRequest("POST", a.base+"/api/v1/calls", bytes.NewReader(body))
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.token)
	res, err := a.c.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	var out struct {
		calls.Created
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	require.NoError(a.t, json.NewDecoder(res.Body).Decode(&out))
	return out.ID, res.StatusCode, out.Error.Code
}

// TestObserverCallCounts: calls held in two provinces reach the observer's
// statistics as the provinces count them (six consults from one station:
// a published cell; one call of each group kind: suppressed ones), and
// the observer joins no call — neither through its own node nor as a user
// of a province node.
func TestObserverCallCounts(t *testing.T) {
	net := testnettest.Start(t, testnet.Options{Provinces: 2, Observer: true})
	testnettest.WaitConverged(t, net, waitLong)
	a, b, obs := net.Nodes[0], net.Nodes[1], net.Nodes[2]
	require.Equal(t, "observer", obs.Role)
	aStaff, aDoctor := newAPI(t, a, "staff"), newAPI(t, a, "doctor")
	bStaff, bDoctor := newAPI(t, b, "staff"), newAPI(t, b, "doctor")
	user := func(nd *testnet.Node, name string) calls.User {
		return calls.User{Province: nd.Province, Username: name}
	}
	key := func(nd *testnet.Node, name string) string { return nd.Province + "." + name }

	// Province a: five consults in the province and one with b's doctor
	// (hosted, so counted, by a), from its station's staff; one call of
	// each group kind from its hospital's doctor.
	for range 5 {
		id, status, code := newCall(aStaff, calls.KindConsult, user(a, "doctor"))
		require.Equal(t, http.StatusCreated, status, code)
		holdCall(t, id, calls.KindConsult, a, aStaff.token, a, aDoctor.token, key(a, "doctor"))
	}
	id, status, code := newCall(aStaff, calls.KindConsult, user(b, "doctor"))
	require.Equal(t, http.StatusCreated, status, code)
	testnettest.Eventually(t, waitLong, "the invitation reaches b", func() (bool, error) {
		var v calls.View
		return bDoctor.do("GET", "/api/v1/calls/"+id, nil, &v) == http.StatusOK, nil
	})
	holdCall(t, id, calls.KindConsult, a, aStaff.token, b, bDoctor.token, key(b, "doctor"))
	for _, kind := range []calls.Kind{calls.KindConference, calls.KindBriefing, calls.KindTraining} {
		id, status, code := newCall(aDoctor, kind, user(a, "staff"))
		require.Equal(t, http.StatusCreated, status, code)
		holdCall(t, id, kind, a, aDoctor.token, a, aStaff.token, key(a, "staff"))
	}
	// Province b: one consult (a suppressed cell).
	id, status, code = newCall(bStaff, calls.KindConsult, user(b, "doctor"))
	require.Equal(t, http.StatusCreated, status, code)
	holdCall(t, id, calls.KindConsult, b, bStaff.token, b, bDoctor.token, key(b, "doctor"))

	// The observer's statistics come to equal the provinces' own counts,
	// small cells suppressed.
	provinces := []*testnet.Node{a, b}
	days := slices.Compact([]string{stats.Day(time.Now().Add(-time.Hour)), stats.Day(time.Now())})
	from, to := days[0], days[len(days)-1]
	observer := newAPI(t, obs, "observer")
	var own map[string]map[string]*stats.Tally
	var got map[string]statsItem
	testnettest.Eventually(t, waitLong, "observer's call counts equal the provinces'", func() (bool, error) {
		own = ownTallies(t, provinces, days)
		got = observerStats(observer, from, to)
		ok, _ := matches(got, own)
		return ok, nil
	})

	// What the provinces counted is what they held; the observer shows the
	// six consults and hides the single calls.
	today := stats.Day(time.Now())
	station, hospital := levelOfUser(t, a, "staff"), levelOfUser(t, a, "doctor")
	sum := func(nd *testnet.Node, level consult.Level, metric string) int64 {
		var n int64
		for _, tl := range own[nd.Province] {
			n += tl.Count(level, metric)
		}
		return n
	}
	assert.Equal(t, int64(6), sum(a, station, stats.MetricCalls("consult")))
	assert.Equal(t, int64(1), sum(b, levelOfUser(t, b, "staff"), stats.MetricCalls("consult")))
	assert.Zero(t, sum(b, levelOfUser(t, b, "doctor"), stats.MetricCalls("consult")), "the cross-province consult counts where it was hosted")
	if len(days) == 1 { // not straddling midnight: every call is on today's report
		rep := stats.Report{Levels: got[a.Province+"/"+today].Levels}
		v, sup, ok := rep.Value(station, stats.MetricCalls("consult"))
		assert.True(t, ok && !sup && v == 6, "observer: %s calls_consult = %d (suppressed %v, present %v)", station, v, sup, ok)
		for _, kind := range []string{"conference", "briefing", "training"} {
			_, sup, ok := rep.Value(hospital, stats.MetricCalls(kind))
			assert.True(t, ok && sup, "observer: one %s is suppressed", kind)
			_, sup, ok = rep.Value(hospital, stats.MetricCallMinutes(kind))
			assert.True(t, ok && sup, "observer: its minutes too")
		}
	}

	// The observer joins no call. Its own node refuses every WebSocket
	// upgrade, and every call creation.
	_, status, code = dialCall(t, obs, observer.token, id)
	assert.Equal(t, [2]any{http.StatusForbidden, "observer_read_only"}, [2]any{status, code})
	_, status, code = newCall(observer, calls.KindConsult, user(a, "doctor"))
	assert.Equal(t, [2]any{http.StatusForbidden, "observer_read_only"}, [2]any{status, code})
	// A province node refuses to invite the observer node's users.
	_, status, code = newCall(aDoctor, calls.KindConference, user(a, "staff"), user(obs, "observer"))
	assert.Equal(t, [2]any{http.StatusBadRequest, calls.ReasonObserver}, [2]any{status, code})
	// An observer account on a province node can be neither invited nor
	// join, nor open a call.
	const pw = "inspector-password-1"
	_, err := a.Accounts().AddUser(context.Background(), "test", "inspector", pw, consult.RoleObserver, "")
	require.NoError(t, err)
	a.Users["inspector"] = pw
	inspector := newAPI(t, a, "inspector")
	_, status, code = newCall(aStaff, calls.KindConsult, user(a, "inspector"))
	assert.Equal(t, [2]any{http.StatusBadRequest, calls.ReasonObserver}, [2]any{status, code})
	live, status, code := newCall(aStaff, calls.KindConsult, user(a, "doctor"))
	require.Equal(t, http.StatusCreated, status, code)
	_, status, code = dialCall(t, a, inspector.token, live)
	assert.Equal(t, [2]any{http.StatusForbidden, calls.ReasonObserver}, [2]any{status, code})
	_, status, _ = newCall(inspector, calls.KindConsult, user(a, "doctor"))
	assert.Equal(t, http.StatusForbidden, status)
}

// levelOfUser is the level of a demo user's facility.
func levelOfUser(t *testing.T, nd *testnet.Node, username string) consult.Level {
	t.Helper()
	u, err := nd.Accounts().GetUser(username)
	require.NoError(t, err)
	require.NotEmpty(t, u.Facility)
	f, err := nd.Directory().GetFacility(u.Facility)
	require.NoError(t, err)
	return f.Level
}
