package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
)

// TestMain lets the test binary be the moinha binary: with
// MOINHA_TEST_MAIN=1 it runs the CLI with the arguments in MOINHA_TEST_ARGS
// (split on spaces) and exits, so that tests start real child processes
// without a `go build`.
func TestMain(m *testing.M) {
	if os.Getenv("MOINHA_TEST_MAIN") == "1" {
		if err := app().Run(append([]string{"moinha"}, strings.Fields(os.Getenv("MOINHA_TEST_ARGS"))...)); err != nil {
			fmt.Fprintln(os.Stderr, "moinha:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childTimeout bounds every child process a test waits for.
const childTimeout = 2 * time.Minute

// moinhaCmd is this test binary re-executed as `moinha args...`.
func moinhaCmd(t testing.TB, ctx context.Context, args ...string) *exec.Cmd {
	t.Helper()
	for _, a := range args {
		require.False(t, strings.ContainsAny(a, " \t\n"), "MOINHA_TEST_ARGS is split on spaces: %q", a)
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), "MOINHA_TEST_MAIN=1", "MOINHA_TEST_ARGS="+strings.Join(args, " "))
	return cmd
}

// moinha runs `moinha args...` as a child process to completion, with
// stdin, and returns its output and exit error.
func moinha(t testing.TB, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	cmd := moinhaCmd(t, ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	require.NoError(t, ctx.Err(), "moinha %v did not finish within %s; stderr: %s", args, childTimeout, errb.String())
	return out.String(), errb.String(), err
}

// mustMoinha is moinha that requires success.
func mustMoinha(t testing.TB, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, err := moinha(t, stdin, args...)
	require.NoError(t, err, "moinha %v: stderr: %s", args, stderr)
	return stdout, stderr
}

// runApp runs the CLI in this process (for commands that need no node of
// their own running).
func runApp(t testing.TB, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	a := app()
	var out, errb bytes.Buffer
	a.Writer, a.ErrWriter, a.Reader = &out, &errb, strings.NewReader(stdin)
	a.ExitErrHandler = func(*cli.Context, error) {}
	err = a.Run(append([]string{"moinha"}, args...))
	return out.String(), errb.String(), err
}

// syncBuffer is a bytes.Buffer safe for a child's writes and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// nodeProc is `moinha run` in a child process.
type nodeProc struct {
	cmd     *exec.Cmd
	stderr  *syncBuffer
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
	url     string
}

// startNode runs `moinha run --data dir` on a free loopback port and waits
// until /healthz answers. t.Cleanup kills it if it still runs.
func startNode(t testing.TB, dir string) *nodeProc {
	t.Helper()
	cmd := moinhaCmd(t, context.Background(), "run", "--data", dir, "--http", "127.0.0.1:0")
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
			t.Logf("node stderr:\n%s", p.stderr.String())
		}
	})

	// The node logs its address once it listens (port 0: no race for a port).
	deadline := time.Now().Add(childTimeout)
	for p.url == "" {
		for _, line := range strings.Split(p.stderr.String(), "\n") {
			var l struct {
				Msg  string `json:"msg"`
				HTTP string `json:"http"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "node started" && l.HTTP != "" {
				p.url = "http://" + l.HTTP
			}
		}
		if p.url != "" {
			break
		}
		select {
		case <-p.done:
			t.Fatalf("moinha run exited (%v) before serving: %s", p.waitErr, p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "moinha run did not start within %s", childTimeout)
	}
	c := &http.Client{Timeout: time.Second}
	require.Eventually(t, func() bool {
		resp, err := c.Get(p.url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 10*time.Millisecond, "/healthz never answered")
	return p
}

// kill sends SIGKILL (kill -9) and waits for the exit.
func (p *nodeProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stop sends SIGTERM and requires a clean exit within the timeout.
func (p *nodeProc) stop(t testing.TB) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.done:
		require.NoError(t, p.waitErr, "moinha run after SIGTERM: %s", p.stderr.String())
	case <-time.After(childTimeout):
		t.Fatal("moinha run did not stop after SIGTERM")
	}
}

// api calls the node's HTTP API with JSON and decodes the answer into out.
func api(t testing.TB, c *http.Client, method, url, token string, body any, want int, out any) {
	t.Helper()
	status, raw := apiRaw(t, c, method, url, token, body)
	require.Equal(t, want, status, "%s %s: %s", method, url, raw)
	if out != nil {
		require.NoError(t, json.Unmarshal(raw, out), "%s", raw)
	}
}

func apiRaw(t testing.TB, c *http.Client, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

func login(t testing.TB, base, username, password string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	api(t, http.DefaultClient, "POST", base+"/api/v1/login", "", map[string]string{"username": username, "password": password}, http.StatusOK, &out)
	require.NotEmpty(t, out.Token)
	return out.Token
}

// initNode runs `moinha init --sample` and adds an admin through `user
// add` with the password on stdin; it returns the data dir and password.
func initNode(t testing.TB) (dir, password string) {
	t.Helper()
	dir = t.TempDir()
	mustMoinha(t, "", "init", "--data", dir, "--province", "66", "--sample")
	password = "mật khẩu kiểm toán 2026"
	_, stderr := mustMoinha(t, password+"\n", "user", "add", "--data", dir, "--username", "auditor", "--role", "admin")
	assert.Contains(t, stderr, "user auditor saved")
	return dir, password
}
