package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// member is `moinha run` of one province in a child process.
type member struct {
	t         *testing.T
	dir       string
	bootstrap []string
	url       string
	p2p       []string
	proc      *nodeProc
}

// start runs the node and waits for its "node started" line.
func (m *member) start() {
	t := m.t
	t.Helper()
	args := []string{"run", "--data", m.dir, "--http", "127.0.0.1:0", "--p2p", "/ip4/127.0.0.1/tcp/0"}
	for _, b := range m.bootstrap {
		args = append(args, "--bootstrap", b)
	}
	cmd := moinhaCmd(t, context.Background(), args...)
	p := &nodeProc{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = io.Discard, p.stderr
	require.NoError(t, cmd.Start())
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s stderr (tail):\n%s", m.dir, tail(p.stderr.String(), 40))
		}
	})
	require.Eventually(t, func() bool {
		for _, line := range strings.Split(p.stderr.String(), "\n") {
			var l struct {
				Msg  string   `json:"msg"`
				HTTP string   `json:"http"`
				P2P  []string `json:"p2p"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "node started" {
				m.url, m.p2p = "http://"+l.HTTP, l.P2P
				return true
			}
		}
		select {
		case <-p.done:
			t.Fatalf("moinha run exited early: %s", p.stderr.String())
		default:
		}
		return false
	}, childTimeout, 10*time.Millisecond, "node did not start")
	m.proc = p
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

type refView struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Sub      string `json:"sub_status"`
	Target   string `json:"target_province"`
	Outcomes []any  `json:"outcomes"`
	History  []struct {
		Status string `json:"status"`
	} `json:"history"`
}

func listRefs(base, token, box string) (map[string]refView, error) {
	out := map[string]refView{}
	cursor := ""
	for {
		req, _ := http.NewRequest("GET", base+"/api/v1/referrals?limit=500&box="+box+"&cursor="+cursor, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			return nil, err
		}
		var l struct {
			Items []refView `json:"items"`
			Next  string    `json:"next"`
		}
		err = json.NewDecoder(resp.Body).Decode(&l)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("list %s: %d %v", box, resp.StatusCode, err)
		}
		for _, v := range l.Items {
			if _, dup := out[v.ID]; dup {
				return nil, fmt.Errorf("referral %s listed twice", v.ID)
			}
			out[v.ID] = v
		}
		if cursor = l.Next; cursor == "" {
			return out, nil
		}
	}
}

// TestReferralOwnerKill9 runs two provinces as OS processes. The referring
// node is kill -9'd again and again while it creates referrals and the
// other province accepts them and reports; after its last restart, every
// referral it acknowledged (201) exists once on both sides, every one was
// accepted exactly once, and every outcome arrived exactly once.
func TestReferralOwnerKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("child processes and kills")
	}
	root := t.TempDir()
	chPath, authKey := filepath.Join(root, "charter.json"), filepath.Join(root, "authority.key")
	mustMoinha(t, "", "charter", "new", "--out", chPath, "--authority-key", authKey, "--name", "Kill9")
	const pw = "mật khẩu thử nghiệm dài"
	prov := map[string]*member{}
	for _, code := range []string{"66", "79"} {
		m := &member{t: t, dir: filepath.Join(root, code)}
		out, _ := mustMoinha(t, "", "init", "--data", m.dir, "--province", code, "--charter", chPath)
		mustMoinha(t, "", "charter", "admit", "--charter", chPath, "--authority-key", authKey,
			"--peer", strings.TrimSpace(out), "--province", code, "--name", "P"+code, "--role", "province",
			"--out", filepath.Join(m.dir, "member.cert"))
		role := map[string]string{"66": "staff", "79": "doctor"}[code]
		mustMoinha(t, pw+"\n", "user", "add", "--data", m.dir, "--username", role, "--role", role)
		prov[code] = m
	}
	owner, target := prov["66"], prov["79"]
	owner.start()
	target.bootstrap = owner.p2p
	target.start()
	doctor := login(t, target.url, "doctor", pw)

	// The target's doctor accepts every offer and reports on every
	// acceptance, for as long as the test runs.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := &http.Client{Timeout: 5 * time.Second}
		post := func(path string, body string) {
			req, _ := http.NewRequest("POST", target.url+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+doctor)
			req.Header.Set("Content-Type", "application/json")
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			in, err := listRefs(target.url, doctor, "inbox")
			if err != nil {
				continue
			}
			for id, v := range in {
				switch {
				case v.Status == "received" && v.Sub == "offered":
					post("/api/v1/referrals/"+id+"/accept", "")
				case v.Status == "accepted":
					post("/api/v1/referrals/"+id+"/outcome", `{"kind":"final","note":"xong"}`)
				}
			}
		}
	}()

	rng := rand.New(rand.NewPCG(7, 9))
	acked := map[string]bool{}
	staff := ""
	body := `{"specialty":"cardiology","urgency":"urgent","reason":"đau ngực","target_province":"79",
		"patient":{"name":"Lê Văn Tám","phone":"0987654321","birth_year":1960,"sex":"male","id_number":"066060001111"}}`
	const kills = 6
	for k := 0; k <= kills; k++ {
		if staff == "" || k > 0 {
			require.Eventually(t, func() bool {
				var out struct{ Token string }
				st, raw := apiRaw(t, http.DefaultClient, "POST", owner.url+"/api/v1/login", "", map[string]string{"username": "staff", "password": pw})
				if st != http.StatusOK || json.Unmarshal(raw, &out) != nil {
					return false
				}
				staff = out.Token
				return true
			}, time.Minute, 50*time.Millisecond)
		}
		// Create referrals; kill -9 at a random moment while they and the
		// acceptances flow.
		killAt := time.Now().Add(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		for time.Now().Before(killAt) || k == kills {
			st, raw := apiRaw(t, &http.Client{Timeout: 5 * time.Second}, "POST", owner.url+"/api/v1/referrals", staff, json.RawMessage(body))
			switch st {
			case http.StatusCreated:
				var v refView
				require.NoError(t, json.Unmarshal(raw, &v))
				acked[v.ID] = true
			case http.StatusConflict:
				// 79 not known yet (first start)
			default:
				t.Fatalf("create: %d %s", st, raw)
			}
			if k == kills && len(acked) >= 40 {
				break
			}
		}
		if k < kills {
			owner.proc.kill()
			owner.start()
		}
	}
	require.NotEmpty(t, acked)

	// Everything settles: every acknowledged referral completed on both sides.
	var out, in map[string]refView
	require.Eventually(t, func() bool {
		var err1, err2 error
		out, err1 = listRefs(owner.url, staff, "outbox")
		in, err2 = listRefs(target.url, doctor, "inbox")
		if err1 != nil || err2 != nil {
			return false
		}
		for id := range acked {
			if out[id].Status != "completed" || in[id].Status != "completed" {
				return false
			}
		}
		return true
	}, 2*time.Minute, 100*time.Millisecond, "every acknowledged referral completes")
	close(stop)
	wg.Wait()

	// Nothing lost, nothing duplicated. (Referrals created but cut off
	// before their 201 may exist too; they must be just as whole.)
	assert.Subset(t, keys(out), keys(acked))
	assert.Equal(t, keys(out), keys(in), "the two sides hold the same referrals")
	for id, v := range out {
		if v.Status != "completed" {
			continue
		}
		assert.Equal(t, "79", v.Target, id)
		assert.Len(t, v.Outcomes, 1, "%s: outcomes at the owner", id)
		assert.Equal(t, 1, countStatus(v.History, "accepted"), "%s: accepted once at the owner", id)
		assert.Equal(t, 1, countStatus(in[id].History, "accepted"), "%s: accepted once at the target", id)
	}
	t.Logf("%d referrals acknowledged, %d stored, across %d kill -9", len(acked), len(out), kills)

	// The CLI lists them, through the operator socket while the node
	// runs and from the file once it is stopped, with no patient data.
	for _, running := range []bool{true, false} {
		if !running {
			owner.proc.stop(t)
		}
		stdout, _ := mustMoinha(t, "", "referral", "list", "--data", owner.dir, "--json")
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		assert.Len(t, lines, len(out), "running=%v", running)
		assert.NotContains(t, stdout, "Lê Văn Tám")
		assert.NotContains(t, stdout, "0987654321")
		table, _ := mustMoinha(t, "", "referral", "list", "--data", owner.dir, "--status", "completed")
		assert.Contains(t, table, "completed")
	}
}

func keys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func countStatus(h []struct {
	Status string `json:"status"`
}, s string) int {
	n := 0
	for _, e := range h {
		if e.Status == s {
			n++
		}
	}
	return n
}
