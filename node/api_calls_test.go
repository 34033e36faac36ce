package node_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/calls"
)

// dialSignal opens a call's signalling WebSocket on the node as token's
// user and reads the hello. It does no WebRTC (the media paths are tested
// in consult/calls, in a loopback-only namespace).
func dialSignal(t *testing.T, tn *testNode, id, token string) (*websocket.Conn, calls.Message, *http.Response) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	u := strings.Replace(tn.URL(), "http", "ws", 1) + "/api/v1/calls/" + id + "/signal"
	ws, resp, err := websocket.DefaultDialer.Dial(u, h)
	if err != nil {
		return nil, calls.Message{}, resp
	}
	t.Cleanup(func() { ws.Close() })
	var hello calls.Message
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(5*time.Second)))
	require.NoError(t, ws.ReadJSON(&hello))
	return ws, hello, resp
}

func readUntil(t *testing.T, ws *websocket.Conn, typ string) calls.Message {
	t.Helper()
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(5*time.Second)))
	for {
		var m calls.Message
		require.NoError(t, ws.ReadJSON(&m))
		if m.Type == typ {
			return m
		}
	}
}

func TestCallsAPI(t *testing.T) {
	tn := newTestNode(t)
	staff, doctor, admin := tn.login(t, "staff"), tn.login(t, "doctor"), tn.login(t, "admin")
	_, err := tn.Accounts().AddUser(context.Background(), "test", "observer", "observer-password-1", consult.RoleObserver, "")
	require.NoError(t, err)
	tn.users["observer"] = "observer-password-1"
	observer := tn.login(t, "observer")

	var created struct {
		ID      string `json:"id"`
		JoinURL string `json:"join_url"`
	}
	tn.do(t, req{method: "POST", path: "/api/v1/calls", token: staff,
		body: map[string]any{"kind": "consult", "invite": []map[string]string{{"province": "66", "username": "doctor"}}}}).
		ok(t, http.StatusCreated, &created)
	require.True(t, calls.ValidID(created.ID))
	assert.Equal(t, tn.URL()+"/call/"+created.ID, created.JoinURL)

	tn.do(t, req{method: "POST", path: "/api/v1/calls", token: staff, body: map[string]any{"kind": "party", "invite": []any{}}}).
		fails(t, http.StatusBadRequest, "invalid_kind")
	tn.do(t, req{method: "POST", path: "/api/v1/calls", token: observer, body: map[string]any{"kind": "consult"}}).
		fails(t, http.StatusForbidden, "forbidden")
	tn.do(t, req{method: "POST", path: "/api/v1/calls", body: map[string]any{"kind": "consult"}}).
		fails(t, http.StatusUnauthorized, "login_required")

	var list struct {
		Items []calls.View `json:"items"`
	}
	tn.do(t, req{method: "GET", path: "/api/v1/calls", token: doctor}).ok(t, http.StatusOK, &list)
	require.Len(t, list.Items, 1)
	assert.Equal(t, created.ID, list.Items[0].ID)
	assert.Equal(t, calls.RoleParticipant, list.Items[0].Role)
	assert.Equal(t, created.JoinURL, list.Items[0].JoinURL)
	tn.do(t, req{method: "GET", path: "/api/v1/calls/" + created.ID, token: admin}).fails(t, http.StatusNotFound, calls.ReasonNotFound)

	// The signalling WebSocket: invited users only.
	for _, c := range []struct {
		token  string
		status int
	}{{"", http.StatusUnauthorized}, {admin, http.StatusForbidden}, {observer, http.StatusForbidden}, {"forged-token", http.StatusUnauthorized}} {
		_, _, resp := dialSignal(t, tn, created.ID, c.token)
		require.NotNil(t, resp)
		assert.Equal(t, c.status, resp.StatusCode)
	}

	a, hello, _ := dialSignal(t, tn, created.ID, staff)
	require.NotNil(t, a)
	assert.Equal(t, calls.MsgHello, hello.Type)
	assert.Equal(t, "66.staff", hello.You)
	require.NotEmpty(t, hello.ICEServers)
	assert.NotEmpty(t, hello.ICEServers[0].Credential, "a TURN credential for the participant")
	b, _, _ := dialSignal(t, tn, created.ID, doctor)
	require.NotNil(t, b)
	require.NoError(t, a.WriteJSON(calls.Message{Type: calls.MsgJoin}))
	require.NoError(t, b.WriteJSON(calls.Message{Type: calls.MsgJoin}))
	ra, rb := readUntil(t, a, calls.MsgReady), readUntil(t, b, calls.MsgReady)
	assert.NotEqual(t, ra.Offerer, rb.Offerer, "exactly one side offers")

	require.NoError(t, a.WriteJSON(calls.Message{Type: calls.MsgEnd}))
	for _, ws := range []*websocket.Conn{a, b} {
		m := readUntil(t, ws, calls.MsgEnded)
		assert.Equal(t, calls.ReasonHostEnded, m.Reason)
		_, _, err := ws.ReadMessage()
		var ce *websocket.CloseError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, calls.CloseEnded, ce.Code)
	}
	_, _, resp := dialSignal(t, tn, created.ID, doctor)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "an ended call cannot be joined")
}
