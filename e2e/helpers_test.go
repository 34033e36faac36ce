package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/node"
	"github.com/moinha/moinha/testnet"
)

// province is the sample province of every test node (Đắk Lắk).
const province = "66"

// Bounds for waits in the browser.
const (
	waitTimeout = 20 * time.Second
	tabTimeout  = 3 * time.Minute
)

// browserTest marks t parallel, after skipping (or, under CI, failing)
// it when there is no browser — before it starts a node for nothing.
func browserTest(t *testing.T) {
	t.Helper()
	chrome.get(t)
	t.Parallel()
}

// testNode is a real node on 127.0.0.1 with the small sample province and
// the demo users admin, staff and doctor.
type testNode struct {
	*node.Node
	users   map[string]string  // username → password
	station directory.Facility // the commune health station the staff user works at
}

// logBuffer keeps a node's log lines for a failing test.
type logBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startNode initialises a data directory with sample data, starts a node
// on it and creates the demo users; t.Cleanup closes it.
func startNode(t *testing.T) *testNode {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	_, err := node.Init(ctx, node.InitOptions{DataDir: dir, Province: province, Sample: true})
	require.NoError(t, err)
	cfg, err := node.LoadConfig(dir)
	require.NoError(t, err)
	cfg.HTTPAddr = "127.0.0.1:0"
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	n, err := node.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, n.Close())
		if t.Failed() {
			t.Logf("node log:\n%s", logs.String())
		}
	})
	users, err := n.DemoUsers(ctx)
	require.NoError(t, err)
	require.NoError(t, n.Start(ctx))

	tn := &testNode{Node: n, users: users}
	us, err := n.Accounts().ListUsers()
	require.NoError(t, err)
	for _, u := range us {
		if u.Username == "staff" {
			tn.station, err = n.Directory().GetFacility(u.Facility)
			require.NoError(t, err)
		}
	}
	require.Equal(t, consult.CommuneHealthStation, tn.station.Level, "the staff user works at a commune health station")
	return tn
}

// freeDay returns the first day (YYYY-MM-DD, facility time) from today on
// with a free slot at facility, and that day's first free slot.
func (tn *testNode) freeDay(t *testing.T, facility string) (string, booking.Slot) {
	t.Helper()
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	require.NoError(t, err)
	day := time.Now().In(hcm)
	for range 30 {
		slots, err := tn.Booking().Slots(facility, day.Format(time.DateOnly))
		require.NoError(t, err)
		for _, s := range slots {
			if s.Free > 0 && s.Start.After(time.Now().Add(10*time.Minute)) {
				return day.Format(time.DateOnly), s
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	t.Fatalf("no free slot at %s in 30 days", facility)
	return "", booking.Slot{}
}

// book books start at facility through the API, as a resident would.
func (tn *testNode) book(t *testing.T, facility string, start time.Time, name string) booking.Appointment {
	t.Helper()
	body, err := json.Marshal(booking.BookRequest{Facility: facility, Start: start, Name: name,
		Phone: "0912345678", Reason: "Khám sức khoẻ định kỳ"})
	require.NoError(t, err)
	res, err := http.Post(tn.URL()+"/api/v1/appointments", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	var a booking.Appointment
	require.NoError(t, json.NewDecoder(res.Body).Decode(&a))
	return a
}

// appointment reads an appointment by code through the API.
func (tn *testNode) appointment(t *testing.T, code string) booking.Appointment {
	t.Helper()
	res, err := http.Get(tn.URL() + "/api/v1/appointments/" + code)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var a booking.Appointment
	require.NoError(t, json.NewDecoder(res.Body).Decode(&a))
	return a
}

// tab is one browser tab, in its own browser context, on a node.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu         sync.Mutex // guards exceptions
	exceptions []string
}

// newTab opens a tab with a 360×740 phone viewport; t.Cleanup closes it
// and fails t if the page threw an uncaught JavaScript exception.
func newTab(t *testing.T, base string) *tab {
	t.Helper()
	parent := chrome.get(t)
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	require.NoError(t, chromedp.Do(ctx), "open a tab")
	tb := &tab{t: t, base: base}
	messages := chromedp.Console(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() {
				tb.mu.Lock()
				tb.exceptions = append(tb.exceptions, m.String())
				tb.mu.Unlock()
			}
		}
	})
	tctx, tcancel := context.WithTimeout(ctx, tabTimeout)
	tb.ctx = tctx
	t.Cleanup(func() {
		tcancel()
		cancel()
		wg.Wait()
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, e := range tb.exceptions {
			t.Errorf("uncaught JavaScript exception: %s", e)
		}
	})
	tb.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	return tb
}

// do runs actions, failing the test on error.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	require.NoError(tb.t, chromedp.Do(tb.ctx, actions...))
}

// wait runs an action with the wait bound.
func wait[T any](tb *tab, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(tb.t, err)
	return v
}

// open navigates to path on the node and waits for the page's body class.
func (tb *tab) open(path, page string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.base + path))
	tb.waitPage(page)
}

// waitPage waits until the page named page (body.page-NAME) is shown.
func (tb *tab) waitPage(page string) {
	tb.t.Helper()
	wait(tb, chromedp.WaitReady(chromedp.CSS("body.page-"+page)))
}

// visible waits until the element is visible.
func (tb *tab) visible(sel string) {
	tb.t.Helper()
	wait(tb, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// click waits for the element to be visible and clicks it.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.visible(sel)
	tb.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// follow runs actions that make the page navigate (at once or after a
// fetch) and waits until the new page has loaded.
func (tb *tab) follow(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	_, err := chromedp.RunResponse(ctx, actions...)
	require.NoError(tb.t, err)
}

// clickNav clicks a link or button that opens another page, and waits for it.
func (tb *tab) clickNav(sel string) {
	tb.t.Helper()
	tb.visible(sel)
	tb.follow(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// typeInto types text into a field, as keystrokes.
func (tb *tab) typeInto(sel, text string) {
	tb.t.Helper()
	tb.visible(sel)
	tb.do(chromedp.SendKeys(chromedp.CSS(sel), text))
}

// text returns the element's visible text.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return wait(tb, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}

// eval evaluates a JavaScript expression.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	return wait(tb, chromedp.Evaluate[T](expr))
}

// waitJS waits until the JavaScript expression is truthy.
func (tb *tab) waitJS(expr string) {
	tb.t.Helper()
	wait(tb, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(waitTimeout)))
}

// reloadUntil opens path (page) again until the JavaScript expression
// holds: for state that reaches the node, by gossip, after the page loaded.
func (tb *tab) reloadUntil(path, page, expr string) {
	tb.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		tb.open(path, page)
		ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond)))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s never showed %s: %v", path, expr, err)
		}
	}
}

// waitText waits until the element exists and its text contains want.
func (tb *tab) waitText(sel, want string) {
	tb.t.Helper()
	js, err := json.Marshal([]string{sel, want})
	require.NoError(tb.t, err)
	tb.waitJS(`(([s, w]) => { const e = document.querySelector(s); return !!e && e.textContent.includes(w); })(` + string(js) + `)`)
}

// catalogs reads the web app's message catalogs, lang → key → text.
func catalogs(t *testing.T) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, lang := range []string{"vi", "en"} {
		raw, err := os.ReadFile(filepath.Join("..", "node", "web", "i18n", lang+".json"))
		require.NoError(t, err)
		m := map[string]string{}
		require.NoError(t, json.Unmarshal(raw, &m))
		out[lang] = m
	}
	return out
}

// repoRoot is the folder holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "no go.mod above the test's folder")
		dir = parent
	}
}

// fold lower-cases s and drops Vietnamese diacritics, as a resident
// typing without them would.
func fold(s string) string {
	return directory.Fold(strings.TrimSpace(s))
}

// startNet starts a federated network on 127.0.0.1 (testnet: sample
// data; users admin, staff and doctor, or observer and admin on an
// observer node, with the passwords in Node.Users) and waits until every
// node sees every other online; t.Cleanup stops it. (testnettest's leak
// check does not fit here: the tests share one browser and run in
// parallel.)
func startNet(t *testing.T, o testnet.Options) *testnet.Net {
	t.Helper()
	logs := &logBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o.Dir = t.TempDir()
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	net, err := testnet.Start(ctx, o)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, net.Stop())
		if t.Failed() {
			t.Logf("network log:\n%s", logs.String())
		}
	})
	require.NoError(t, testnet.WaitFor(ctx, time.Minute, "every node sees every other online", func() (bool, error) {
		for _, nd := range net.Nodes {
			online := 0
			for _, m := range nd.Federation().Members() {
				if m.Online && !m.Left {
					online++
				}
			}
			if online < len(net.Nodes) { // itself included
				return false, nil
			}
		}
		return true, nil
	}))
	return net
}

// screenshot saves the tab's screen as artifacts/screenshots/NAME.png,
// after checking that the page fits a 360 px screen.
func screenshot(tb *tab, name string) {
	tb.t.Helper()
	// Mobile emulation widens the layout viewport to fit wide content, so
	// compare with the screen, not innerWidth.
	width := eval[int](tb, `Math.max(document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth)`)
	assert.LessOrEqual(tb.t, width, 360, "%s is wider than a 360 px screen", name)
	outDir := filepath.Join(repoRoot(tb.t), "artifacts", "screenshots")
	require.NoError(tb.t, os.MkdirAll(outDir, 0o755))
	eval[bool](tb, `window.scrollTo(0, 0), true`)
	png := wait(tb, chromedp.CaptureScreenshot())
	require.NoError(tb.t, os.WriteFile(filepath.Join(outDir, name+".png"), png, 0o644))
}

// screenshotFull saves the whole page, 360 px wide, as
// artifacts/screenshots/NAME.png (for pages longer than a screen).
func screenshotFull(tb *tab, name string) {
	tb.t.Helper()
	outDir := filepath.Join(repoRoot(tb.t), "artifacts", "screenshots")
	require.NoError(tb.t, os.MkdirAll(outDir, 0o755))
	png := wait(tb, chromedp.FullScreenshot(100))
	require.NoError(tb.t, os.WriteFile(filepath.Join(outDir, name+".png"), png, 0o644))
}
