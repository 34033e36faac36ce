package node_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/consult/stats"
	"github.com/moinha/moinha/node"
)

// createCall opens a call as token's user and returns its ID.
func (tn *testNode) createCall(t *testing.T, token string, kind calls.Kind, invite ...string) string {
	t.Helper()
	var inv []map[string]string
	for _, u := range invite {
		inv = append(inv, map[string]string{"username": u})
	}
	var created calls.Created
	tn.do(t, req{method: "POST", path: "/api/v1/calls", token: token, body: map[string]any{"kind": kind, "invite": inv}}).
		ok(t, http.StatusCreated, &created)
	return created.ID
}

// startCall gets host and guest into call id over signalling (no media:
// the node counts people in the call) and returns their connections; in a
// group call the host admits the guest from the waiting room.
func (tn *testNode) startCall(t *testing.T, id string, kind calls.Kind, host, guest, guestKey string) (*websocket.Conn, *websocket.Conn) {
	t.Helper()
	h, _, _ := dialSignal(t, tn, id, host)
	g, _, _ := dialSignal(t, tn, id, guest)
	require.NotNil(t, h)
	require.NotNil(t, g)
	require.NoError(t, h.WriteJSON(calls.Message{Type: calls.MsgJoin}))
	if kind.Group() {
		readUntil(t, h, calls.MsgAdmitted)
	}
	require.NoError(t, g.WriteJSON(calls.Message{Type: calls.MsgJoin}))
	if kind.Group() {
		readUntil(t, h, calls.MsgKnock)
		require.NoError(t, h.WriteJSON(calls.Message{Type: calls.MsgAdmit, User: guestKey}))
		readUntil(t, g, calls.MsgAdmitted)
	} else {
		readUntil(t, g, calls.MsgReady)
	}
	return h, g
}

// endCall ends a call as its host and waits until the guest hears it.
func endCall(t *testing.T, h, g *websocket.Conn) {
	t.Helper()
	require.NoError(t, h.WriteJSON(calls.Message{Type: calls.MsgEnd}))
	readUntil(t, g, calls.MsgEnded)
}

func metricsText(t *testing.T, tn *testNode) string {
	t.Helper()
	res := tn.do(t, req{method: "GET", path: "/metrics"})
	require.Equal(t, http.StatusOK, res.status)
	return string(res.body)
}

func TestCallsInDailyStatsAndMetrics(t *testing.T) {
	tn := newTestNode(t)
	staff, doctor := tn.login(t, "staff"), tn.login(t, "doctor")
	staffUser, err := tn.Accounts().GetUser("staff")
	require.NoError(t, err)
	doctorUser, err := tn.Accounts().GetUser("doctor")
	require.NoError(t, err)
	stationLevel, hospitalLevel := tn.levelOf(t, staffUser.Facility), tn.levelOf(t, doctorUser.Facility)
	require.NotEqual(t, stationLevel, hospitalLevel)

	// Five consults from the station (a published count), one briefing
	// from the hospital (a suppressed one), one conference nobody
	// answered (not counted).
	for i := range 5 {
		id := tn.createCall(t, staff, calls.KindConsult, "doctor")
		h, g := tn.startCall(t, id, calls.KindConsult, staff, doctor, "66.doctor")
		if i == 0 {
			assert.Eventually(t, func() bool {
				m := metricsText(t, tn)
				return strings.Contains(m, `moinha_calls_active{kind="consult"} 1`) &&
					strings.Contains(m, `moinha_call_participants{kind="consult"} 2`)
			}, 5*time.Second, 10*time.Millisecond, "a live consult in the metrics")
		}
		endCall(t, h, g)
	}
	id := tn.createCall(t, doctor, calls.KindBriefing, "staff")
	h, g := tn.startCall(t, id, calls.KindBriefing, doctor, staff, "66.staff")
	endCall(t, h, g)
	tn.createCall(t, doctor, calls.KindConference, "staff")

	_, err = node.PublishStats(context.Background(), tn.Node)
	require.NoError(t, err)
	var page statsPage
	tn.do(t, req{method: "GET", path: "/api/v1/network/stats", token: staff}).ok(t, http.StatusOK, &page)
	require.Len(t, page.Items, 1)
	rep := stats.Report{Levels: page.Items[0].Levels}
	v, sup, ok := rep.Value(stationLevel, stats.MetricCalls("consult"))
	require.True(t, ok, "calls_consult at %s", stationLevel)
	assert.False(t, sup)
	assert.Equal(t, int64(5), v)
	v, sup, ok = rep.Value(stationLevel, stats.MetricCallMinutes("consult"))
	assert.True(t, ok && !sup && v == 0, "call_minutes_consult: %d %v %v", v, sup, ok)
	_, sup, ok = rep.Value(hospitalLevel, stats.MetricCalls("briefing"))
	assert.True(t, ok && sup, "one briefing is suppressed")
	_, sup, ok = rep.Value(hospitalLevel, stats.MetricCallMinutes("briefing"))
	assert.True(t, ok && sup, "its minutes too")
	for _, l := range page.Items[0].Levels {
		_, found := l.Values[stats.MetricCalls("conference")]
		assert.False(t, found, "a call nobody answered is not counted (%s)", l.Level)
	}

	// The CSV lists the call cells like any other.
	res := tn.do(t, req{method: "GET", path: "/api/v1/network/stats.csv", token: staff})
	require.Equal(t, http.StatusOK, res.status)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(res.body, []byte("\uFEFF")))).ReadAll()
	require.NoError(t, err)
	var callRows []string
	for _, r := range rows[1:] {
		if strings.HasPrefix(r[4], "call") {
			callRows = append(callRows, strings.Join(r[3:], ","))
		}
	}
	assert.ElementsMatch(t, []string{
		string(stationLevel) + ",calls_consult,5,false", string(stationLevel) + ",call_minutes_consult,0,false",
		string(hospitalLevel) + ",calls_briefing,,true", string(hospitalLevel) + ",call_minutes_briefing,,true",
	}, callRows)

	// The operator's metrics, on the node's own registry.
	m := metricsText(t, tn)
	for _, want := range []string{
		`moinha_calls_active{kind="consult"} 0`, `moinha_call_participants{kind="consult"} 0`,
		`moinha_calls_created_total{kind="consult"} 5`, `moinha_calls_started_total{kind="consult"} 5`,
		`moinha_calls_ended_total{kind="consult"} 5`, `moinha_calls_created_total{kind="conference"} 1`,
		`moinha_calls_started_total{kind="conference"} 0`, `moinha_calls_started_total{kind="briefing"} 1`,
		`moinha_sfu_packets_total{direction="out"} 0`, `moinha_sfu_packets_total{direction="dropped"} 0`,
		`moinha_sfu_bytes_total{direction="in"} 0`, `moinha_sfu_participants 0`,
		`moinha_turn_allocations 0`, `moinha_turn_auth_total{result="refused"} 0`,
	} {
		assert.Contains(t, m, want)
	}
}

// levelOf is a facility's level in the node's directory.
func (tn *testNode) levelOf(t *testing.T, facility string) consult.Level {
	t.Helper()
	require.NotEmpty(t, facility)
	f, err := tn.Directory().GetFacility(facility)
	require.NoError(t, err)
	return f.Level
}

func TestCallAboutReferral(t *testing.T) {
	tn := newTestNode(t)
	staff, admin := tn.login(t, "staff"), tn.login(t, "admin")
	var cr referral.View
	tn.do(t, req{method: "POST", path: "/api/v1/consults", token: staff, body: map[string]any{
		"specialty": "cardiology", "urgency": "urgent", "mode": "live", "question": "đau ngực, có cần chuyển tuyến?",
		"sex": "female", "birth_year": 1960,
	}}).ok(t, http.StatusCreated, &cr)
	require.NotEmpty(t, cr.ID)

	call := func(token, ref string) response {
		return tn.do(t, req{method: "POST", path: "/api/v1/calls", token: token, body: map[string]any{
			"kind": "consult", "referral": ref, "invite": []map[string]string{{"username": "doctor"}}}})
	}
	var created calls.Created
	call(staff, cr.ID).ok(t, http.StatusCreated, &created)
	var v calls.View
	tn.do(t, req{method: "GET", path: "/api/v1/calls/" + created.ID, token: staff}).ok(t, http.StatusOK, &v)
	assert.Equal(t, cr.ID, v.Referral)

	call(staff, "66-c-aaaaaaaaaaaaaaaa").fails(t, http.StatusNotFound, calls.ReasonReferralNotFound)
	call(staff, "79-r-aaaaaaaaaaaaaaaa").fails(t, http.StatusNotFound, calls.ReasonReferralNotFound)
	call(staff, "not a referral").fails(t, http.StatusNotFound, calls.ReasonReferralNotFound)
	call(admin, cr.ID).fails(t, http.StatusForbidden, calls.ReasonNotReferralParty)
}

// freeUDPTCPPort is a port free for both UDP and TCP on 127.0.0.1 (just
// now: the caller binds it next).
func freeUDPTCPPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		u.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return 0
}

func TestMediaConfig(t *testing.T) {
	dir := initDir(t)
	cfg, err := node.LoadConfig(dir)
	require.NoError(t, err)
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))

	for _, bad := range []struct {
		media, turn, public, want string
	}{
		{media: "nowhere", want: "media address"},
		{media: "localhost:4000", want: "media address"},
		{turn: "127.0.0.1", want: "turn address"},
		{public: "example.org", want: "public IP"},
		{public: "0.0.0.0", want: "public IP"},
		{turn: "0.0.0.0:3478", want: "needs a public IP"},
		{media: "0.0.0.0:0", want: "needs a public IP"}, // TURN follows the media IP
	} {
		c := cfg
		c.MediaAddr, c.TURNAddr, c.PublicIP = bad.media, bad.turn, bad.public
		_, err := node.New(c)
		require.Error(t, err, "%+v", bad)
		assert.Contains(t, err.Error(), bad.want)
	}

	// Set addresses, a public IP and relay-only reach the calls service
	// and what a participant is told.
	mediaPort, turnPort := freeUDPTCPPort(t), freeUDPTCPPort(t)
	cfg.MediaAddr = fmt.Sprintf("127.0.0.1:%d", mediaPort)
	cfg.TURNAddr = fmt.Sprintf("127.0.0.1:%d", turnPort)
	cfg.PublicIP = "127.0.0.9"
	cfg.RelayOnly = true
	require.NoError(t, cfg.Save())
	tn := startNode(t, dir)
	assert.Equal(t, cfg.MediaAddr, tn.Calls().MediaAddr().String())
	require.NotNil(t, tn.Calls().TURN())
	assert.Equal(t, cfg.TURNAddr, tn.Calls().TURN().Addr().String())
	staff := tn.login(t, "staff")
	id := tn.createCall(t, staff, calls.KindConsult, "doctor")
	_, hello, _ := dialSignal(t, tn, id, staff)
	assert.Equal(t, "relay", hello.ICETransportPolicy)
	require.NotEmpty(t, hello.ICEServers)
	assert.Contains(t, hello.ICEServers[0].URLs, fmt.Sprintf("turn:127.0.0.9:%d?transport=udp", turnPort))
}

func TestTURNOff(t *testing.T) {
	dir := initDir(t)
	cfg, err := node.LoadConfig(dir)
	require.NoError(t, err)
	cfg.TURNAddr = "off"
	cfg.MediaAddr = "0.0.0.0:0" // no TURN, so no public IP needed
	require.NoError(t, cfg.Save())
	tn := startNode(t, dir)
	assert.Nil(t, tn.Calls().TURN())
	assert.NotContains(t, metricsText(t, tn), "moinha_turn_allocations")
}
