package calls_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/moinha/moinha/consult/accounts"
	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/storage"
)

// childEnv makes the test binary run a lone calls node instead of tests,
// so that a benchmark can measure the SFU's CPU apart from its clients'.
const childEnv = "MOINHA_CALLS_CHILD"

// childInfo is what the child node prints on its first stdout line.
type childInfo struct {
	URL    string            `json:"url"`
	Call   string            `json:"call"`
	Tokens map[string]string `json:"tokens"`
}

// runChild serves a node with a conference call hosted by doctor until
// its standard input closes. It returns the process exit code.
func runChild() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "child:", err); return 1 }
	dir, err := os.MkdirTemp("", "moinha-calls-child")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	db, err := storage.Open(filepath.Join(dir, "moinha.db"), &storage.Options{NoSync: true})
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	acct := accounts.New(db, accounts.Options{Params: accounts.Params{Time: 1, Memory: 64, Threads: 1}})
	ctx := context.Background()
	info := childInfo{Tokens: map[string]string{}}
	for u, role := range testUsers {
		if _, err := acct.AddUser(ctx, "test", u, "password-123", role, ""); err != nil {
			return fail(err)
		}
		tok, _, err := acct.Login(ctx, u, "password-123")
		if err != nil {
			return fail(err)
		}
		info.Tokens[u] = tok
	}
	svc, err := calls.New(db, calls.Options{Province: "66", Users: acct, Loopback: true, Logger: quietLog})
	if err != nil {
		return fail(err)
	}
	defer svc.Close()
	var invite []calls.User
	for _, u := range []string{"staff", "nurse1", "nurse2", "nurse3", "nurse4", "nurse5"} {
		invite = append(invite, calls.User{Province: "66", Username: u})
	}
	c, err := svc.Create(ctx, calls.Caller{Username: "doctor", Role: testUsers["doctor"]}, calls.CreateRequest{Kind: calls.KindConference, Invite: invite})
	if err != nil {
		return fail(err)
	}
	info.Call = c.ID
	n := &node{province: "66", acct: acct, svc: svc}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/calls/{id}/signal", n.signal)
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(svc.MediaStats())
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	info.URL = "http://" + ln.Addr().String()
	if err := json.NewEncoder(os.Stdout).Encode(info); err != nil {
		return fail(err)
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// child is a running child node.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	info  childInfo
}

func startChild(tb testing.TB) *child {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: in}
	tb.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(line, &c.info); err != nil {
		tb.Fatal(err)
	}
	return c
}

// cpu is the child's user+system CPU time in clock ticks (1/100 s).
func (c *child) cpu(tb testing.TB) int64 {
	tb.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		tb.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st
}
