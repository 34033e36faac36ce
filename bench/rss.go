package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/node"
)

// memStatus is what /proc/PID/status says about memory, in MiB.
type memStatus struct {
	rss, hwm, anon, file float64
}

// readMem reads VmRSS, VmHWM, RssAnon and RssFile of pid ("self" for this
// process).
func readMem(pid string) (memStatus, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	if err != nil {
		return memStatus{}, fmt.Errorf("read memory status (Linux only): %w", err)
	}
	var m memStatus
	found := 0
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		dst := map[string]*float64{"VmRSS": &m.rss, "VmHWM": &m.hwm, "RssAnon": &m.anon, "RssFile": &m.file}[k]
		if dst == nil {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		*dst = kb / 1024
		found++
	}
	if found < 4 {
		return m, fmt.Errorf("/proc/%s/status lacks VmRSS, VmHWM, RssAnon or RssFile", pid)
	}
	return m, nil
}

// moinhaExe returns the moinha binary to run a child node with, or "" to
// measure in-process.
func moinhaExe(o Options) string {
	if o.Exe != "" {
		return o.Exe
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	base := filepath.Base(exe)
	if base == "moinha" || strings.HasPrefix(base, "moinha") && !strings.Contains(base, ".test") {
		return exe
	}
	return ""
}

func runRSS(ctx context.Context, o Options) (*Result, error) {
	tmp, err := os.MkdirTemp("", "moinha-bench-rss-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "node")
	cfg, err := fullNode(ctx, dir, o)
	if err != nil {
		return nil, err
	}
	n, err := node.New(cfg)
	if err != nil {
		return nil, err
	}
	users, err := n.DemoUsers(ctx)
	facilities, staff, cerr := n.Directory().Counts(benchProvince)
	if err = errors.Join(err, cerr, n.Close()); err != nil {
		return nil, err
	}
	exe := moinhaExe(o)
	var runs [][]stepMem
	for run := range o.Runs {
		var steps []stepMem
		if exe != "" {
			steps, err = rssChild(ctx, exe, dir, users["admin"])
		} else {
			steps, err = rssInProcess(ctx, cfg, users["admin"])
		}
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", run+1, err)
		}
		last := steps[len(steps)-1].m
		o.Logger.Info("bench: rss", "run", run, "serving_mib", last.rss, "hwm_mib", last.hwm)
		runs = append(runs, steps)
	}
	how := "a child process `moinha run` (" + exe + ")"
	var notes []string
	if exe == "" {
		how = "in-process"
		notes = append(notes, "measured in-process (not running under the moinha binary): the figures include the benchmark harness "+
			"and its copy of the sample; idle is this process before the node opened, after GC and FreeOSMemory; run `moinha bench rss` "+
			"for a child-process figure")
	}
	res := &Result{
		Scenario: "rss",
		Setup: fmt.Sprintf("province %s, full sample: %d facilities, %d health workers; %s; steps in order: idle, all facilities (anonymous), "+
			"one admin login (argon2id, 19 MiB), all health workers, slots of 20 stations and 200 bookings (= serving); "+
			"rss = VmRSS after a step, hwm = VmHWM (peak so far); median of %d runs",
			benchProvince, facilities, staff, how, o.Runs),
		Notes: notes,
	}
	pick := func(i int, f func(memStatus) float64) []float64 {
		out := make([]float64, len(runs))
		for r, steps := range runs {
			out[r] = f(steps[i].m)
		}
		return out
	}
	rss := func(m memStatus) float64 { return m.rss }
	hwm := func(m memStatus) float64 { return m.hwm }
	steps := runs[0]
	for i, st := range steps {
		if i == len(steps)-1 {
			break
		}
		res.Figures = append(res.Figures, figure("rss."+st.name, "MiB", pick(i, rss)), figure("hwm."+st.name, "MiB", pick(i, hwm)))
	}
	last := len(steps) - 1
	res.Figures = append(res.Figures,
		withGoal(figure("rss.serving", "MiB", pick(last, rss)), false, 64),
		figure("rss.serving.anon", "MiB", pick(last, func(m memStatus) float64 { return m.anon })),
		figure("rss.serving.file", "MiB", pick(last, func(m memStatus) float64 { return m.file })),
		withGoal(figure("rss.peak", "MiB", pick(last, hwm)), false, 64),
	)
	return res, nil
}

// stepMem is the memory of the measured process after a step of warm.
type stepMem struct {
	name string
	m    memStatus
}

// rssChild runs `exe run` on dir and measures the child after each step.
func rssChild(ctx context.Context, exe, dir, adminPassword string) ([]stepMem, error) {
	child, err := startChild(ctx, exe, dir)
	if err != nil {
		return nil, err
	}
	defer child.stop()
	base := "http://" + child.addr
	pid := strconv.Itoa(child.cmd.Process.Pid)
	if err := get(ctx, base+"/healthz", "", nil); err != nil {
		return nil, err
	}
	var steps []stepMem
	measure := func(name string) error {
		m, err := readMem(pid)
		steps = append(steps, stepMem{name, m})
		return err
	}
	if err := measure("idle"); err != nil {
		return nil, err
	}
	return steps, warm(ctx, base, adminPassword, measure)
}

// childNode is a `moinha run` child process serving a data directory.
type childNode struct {
	cmd  *exec.Cmd
	addr string // host:port of its HTTP API
}

// startChild runs `exe run` on dir (HTTP on a free loopback port) and
// waits until it serves.
func startChild(ctx context.Context, exe, dir string) (*childNode, error) {
	cmd := exec.CommandContext(ctx, exe, "run", "--data", dir, "--http", "127.0.0.1:0", "--log-level", "info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &childNode{cmd: cmd}
	if c.addr, err = startedAddr(stderr, 60*time.Second); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// stop sends SIGTERM (the node drains and closes its file) and waits, up
// to 15 s before it kills.
func (c *childNode) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// startedAddr reads a child's JSON log lines until "node started" and
// returns its HTTP address; the rest of the log is drained in the
// background.
func startedAddr(r io.Reader, timeout time.Duration) (string, error) {
	type line struct {
		Msg  string `json:"msg"`
		HTTP string `json:"http"`
	}
	found := make(chan string, 1)
	var tail bytes.Buffer
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			var l line
			if !sent {
				if tail.Len() < 8<<10 {
					tail.Write(sc.Bytes())
					tail.WriteByte('\n')
				}
				if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "node started" && l.HTTP != "" {
					found <- l.HTTP
					sent = true
				}
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case addr, ok := <-found:
		if !ok {
			return "", fmt.Errorf("the node exited before it served: %s", tail.String())
		}
		return addr, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("the node did not start within %s", timeout)
	}
}

// rssInProcess starts the node in this process and measures this process
// (after a GC) after each step.
func rssInProcess(ctx context.Context, cfg node.Config, adminPassword string) ([]stepMem, error) {
	var steps []stepMem
	measure := func(name string) error {
		runtime.GC()
		m, err := readMem("self")
		steps = append(steps, stepMem{name, m})
		return err
	}
	debug.FreeOSMemory()
	if err := measure("idle"); err != nil {
		return nil, err
	}
	n, err := node.New(cfg)
	if err != nil {
		return nil, err
	}
	defer n.Close()
	if err := n.Start(ctx); err != nil {
		return nil, err
	}
	return steps, warm(ctx, n.URL(), adminPassword, measure)
}

// warm drives a node the way a day's first users do: the whole directory,
// a login, slots and a few hundred bookings, calling measure after each
// step.
func warm(ctx context.Context, base, adminPassword string, measure func(step string) error) error {
	type facilityRef struct {
		ID    string        `json:"id"`
		Level consult.Level `json:"level"`
	}
	var facilities []facilityRef
	cursor := ""
	for {
		var page struct {
			Items []facilityRef `json:"items"`
			Next  string        `json:"next"`
		}
		if err := get(ctx, base+"/api/v1/facilities?limit=500&province="+benchProvince+"&cursor="+cursor, "", &page); err != nil {
			return err
		}
		facilities = append(facilities, page.Items...)
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if err := measure("facilities"); err != nil {
		return err
	}
	var login struct {
		Token string `json:"token"`
	}
	if err := post(ctx, base+"/api/v1/login", "", map[string]string{"username": "admin", "password": adminPassword}, http.StatusOK, &login); err != nil {
		return err
	}
	if err := measure("login"); err != nil {
		return err
	}
	cursor = ""
	for {
		var page struct {
			Next string `json:"next"`
		}
		if err := get(ctx, base+"/api/v1/practitioners?limit=500&cursor="+cursor, login.Token, &page); err != nil {
			return err
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if err := measure("practitioners"); err != nil {
		return err
	}
	booked, tried := 0, 0
	tomorrow := time.Now().Add(24 * time.Hour).Format(time.DateOnly)
stations:
	for _, f := range facilities {
		if f.Level != consult.CommuneHealthStation {
			continue
		}
		if tried == 20 || booked == 200 {
			break
		}
		tried++
		var slots struct {
			Items []struct {
				Start time.Time `json:"start"`
				Free  int       `json:"free"`
			} `json:"items"`
		}
		if err := get(ctx, base+"/api/v1/facilities/"+f.ID+"/slots?date="+tomorrow, "", &slots); err != nil {
			return err
		}
		for _, s := range slots.Items {
			for range min(s.Free, 10) {
				if booked == 200 {
					break stations
				}
				if err := post(ctx, base+"/api/v1/appointments", "", bookRequest(seat{f.ID, s.Start}), http.StatusCreated, nil); err != nil {
					return err
				}
				booked++
			}
		}
	}
	return measure("serving")
}

var client = &http.Client{Timeout: time.Minute}

func get(ctx context.Context, url, token string, out any) error {
	return do(ctx, http.MethodGet, url, token, nil, http.StatusOK, out)
}

func post(ctx context.Context, url, token string, body any, want int, out any) error {
	return do(ctx, http.MethodPost, url, token, body, want, out)
}

func do(ctx context.Context, method, url, token string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(msg))
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
