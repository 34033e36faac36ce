package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startMember runs `moinha run` with extra flags and returns its HTTP URL
// and p2p addresses, read from its "node started" log line.
func startMember(t *testing.T, dir string, extra ...string) (url string, p2p []string) {
	t.Helper()
	args := append([]string{"run", "--data", dir, "--http", "127.0.0.1:0", "--p2p", "/ip4/127.0.0.1/tcp/0"}, extra...)
	cmd := moinhaCmd(t, context.Background(), args...)
	buf := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, buf
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("%s stderr:\n%s", dir, buf.String())
		}
	})
	require.Eventually(t, func() bool {
		for _, line := range strings.Split(buf.String(), "\n") {
			var l struct {
				Msg  string   `json:"msg"`
				HTTP string   `json:"http"`
				P2P  []string `json:"p2p"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "node started" {
				url, p2p = "http://"+l.HTTP, l.P2P
				return true
			}
		}
		select {
		case <-done:
			t.Fatalf("moinha run exited early: %s", buf.String())
		default:
		}
		return false
	}, childTimeout, 10*time.Millisecond, "node did not start")
	return url, p2p
}

// TestOperatorsFormANetwork follows the README: an admission authority
// creates a charter and admits two provinces, whose IT admins init and run
// their nodes as separate OS processes; the second needs only the first's
// address, and each ends up with the other's directory.
func TestOperatorsFormANetwork(t *testing.T) {
	root := t.TempDir()
	chPath, authKey := filepath.Join(root, "charter.json"), filepath.Join(root, "authority.key")
	mustMoinha(t, "", "charter", "new", "--out", chPath, "--authority-key", authKey, "--name", "MoiNhaTest")

	type member struct{ dir, peer, url string }
	members := map[string]*member{}
	for _, prov := range []string{"66", "79"} {
		m := &member{dir: filepath.Join(root, prov)}
		out, _ := mustMoinha(t, "", "init", "--data", m.dir, "--province", prov, "--charter", chPath, "--sample")
		m.peer = strings.TrimSpace(out)
		mustMoinha(t, "", "charter", "admit", "--charter", chPath, "--authority-key", authKey,
			"--peer", m.peer, "--province", prov, "--name", "Province"+prov, "--role", "province",
			"--out", filepath.Join(m.dir, "member.cert"))
		members[prov] = m
	}
	var boot []string
	members["66"].url, boot = startMember(t, members["66"].dir)
	require.NotEmpty(t, boot)
	members["79"].url, _ = startMember(t, members["79"].dir, "--bootstrap", boot[0])

	count := func(base, province string) int {
		resp, err := http.Get(base + "/api/v1/facilities?limit=500&province=" + province)
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		var l struct {
			Items []json.RawMessage `json:"items"`
		}
		if json.NewDecoder(resp.Body).Decode(&l) != nil {
			return -1
		}
		return len(l.Items)
	}
	own66, own79 := count(members["66"].url, "66"), count(members["79"].url, "79")
	require.Positive(t, own66)
	require.Positive(t, own79)
	require.Eventually(t, func() bool {
		return count(members["66"].url, "79") == own79 && count(members["79"].url, "66") == own66
	}, time.Minute, 50*time.Millisecond, "the two provinces' directories did not converge")

	var h struct {
		Peers int `json:"peers"`
	}
	resp, err := http.Get(members["79"].url + "/healthz")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	resp.Body.Close()
	require.Equal(t, 1, h.Peers)

	// The authority revokes 79; 66's admin spreads it through the running node.
	revFile := filepath.Join(root, "revocation")
	mustMoinha(t, "", "charter", "revoke", "--charter", chPath, "--authority-key", authKey,
		"--peer", members["79"].peer, "--out", revFile)
	mustMoinha(t, "", "revoke", "--data", members["66"].dir, "--file", revFile)
	require.Eventually(t, func() bool {
		return count(members["66"].url, "79") == 0
	}, time.Minute, 50*time.Millisecond, "the revoked province's directory was not removed")
}
