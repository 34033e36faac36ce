package testnet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/calls/calltest"
	"github.com/moinha/moinha/internal/netns"
	"github.com/moinha/moinha/testnet"
	"github.com/moinha/moinha/testnet/testnettest"
)

// TestMain runs the testnet tests in a loopback-only network namespace:
// the call tests gather ICE candidates.
func TestMain(m *testing.M) { os.Exit(netns.Main(m)) }

func loginHTTP(t *testing.T, nd *testnet.Node, user string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": nd.Users[user]})
	resp, err := http.Post(nd.URL()+"/api/v1/login", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		Token string `json:"token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.Token
}

func apiJSON(t *testing.T, method, url, token string, in, out any) int {
	t.Helper()
	var body bytes.Buffer
	if in != nil {
		require.NoError(t, json.NewEncoder(&body).Encode(in))
	}
	req, err := http.NewRequest(method, url, &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if out != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
	return resp.StatusCode
}

// TestCallAcrossProvincesOnRealNodes: a commune station in one province
// calls a doctor in another; the invitation and the signalling travel
// between the two nodes over libp2p (/moinha/<net>/signal/1) and media
// flows both ways between the two pion clients.
func TestCallAcrossProvincesOnRealNodes(t *testing.T) {
	netns.Require(t)
	net := testnettest.Start(t, testnet.Options{Provinces: 2})
	require.NoError(t, net.WaitConnected(context.Background(), waitLong, 1))
	station, hospital := net.Nodes[0], net.Nodes[1]
	staffTok, doctorTok := loginHTTP(t, station, "staff"), loginHTTP(t, hospital, "doctor")

	var created calls.Created
	require.Equal(t, http.StatusCreated, apiJSON(t, "POST", station.URL()+"/api/v1/calls", staffTok,
		map[string]any{"kind": "consult", "invite": []map[string]string{{"province": hospital.Province, "username": "doctor"}}},
		&created))
	require.NotEmpty(t, created.ID)

	// The doctor's own node lists the call, with a join URL on that node.
	testnettest.Eventually(t, 30*time.Second, "the invitation reaches the doctor's node", func() (bool, error) {
		var l struct {
			Items []calls.View `json:"items"`
		}
		if apiJSON(t, "GET", hospital.URL()+"/api/v1/calls", doctorTok, nil, &l) != http.StatusOK {
			return false, nil
		}
		return len(l.Items) == 1 && l.Items[0].ID == created.ID, nil
	})

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	dial := func(nd *testnet.Node, tok string) *calltest.Client {
		c, err := calltest.Dial(ctx, nd.URL(), created.ID, calltest.Options{
			Header: http.Header{"Authorization": {"Bearer " + tok}}})
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		require.NoError(t, c.Join())
		return c
	}
	a, b := dial(station, staffTok), dial(hospital, doctorTok)
	for _, pair := range [][2]*calltest.Client{{a, b}, {b, a}} {
		for _, kind := range []string{"audio", "video"} {
			require.NoError(t, pair[0].WaitMedia(ctx, pair[1].Key(), kind, 20), "%s from the other province", kind)
		}
	}
	require.NoError(t, a.End())
	_, _, err := a.WaitClosed(ctx)
	require.NoError(t, err)
}
