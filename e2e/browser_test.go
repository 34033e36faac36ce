package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/moinha/moinha/internal/netns"
)

func TestMain(m *testing.M) {
	code := netns.Main(m)
	chrome.close()
	os.Exit(code)
}

// chrome is the one Chromium of this test binary: started by the first
// test that needs it, closed by TestMain after the last test. (A test
// binary's shared fixture; nothing else in the package is global.)
var chrome browser

// browser is a lazily started headless Chromium.
type browser struct {
	once   sync.Once
	ctx    context.Context // the browser's first tab; tests open their own
	cancel func()
	tmp    string // user data dir and TMPDIR, removed by close
	skip   string // why the tests skip (no browser outside CI)
	err    error
}

// chromiumPath finds the browser: $CHROMIUM, /usr/bin/chromium, or
// chromium / chromium-browser on PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("$CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium at /usr/bin/chromium or on PATH (set $CHROMIUM, or apt-get install chromium)")
}

func (b *browser) start() {
	path, err := chromiumPath()
	if err != nil {
		if os.Getenv("CI") != "" {
			b.err = fmt.Errorf("CI must run the browser tests: %w", err)
		} else {
			b.skip = "browser tests skipped: " + err.Error()
		}
		return
	}
	b.tmp, err = os.MkdirTemp("", "moinha-e2e-*")
	if err != nil {
		b.err = err
		return
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(filepath.Join(b.tmp, "profile")),
		chromedp.Env("TMPDIR=" + b.tmp), // Chromium leaves /tmp/org.chromium.* behind
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(360, 740),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints,AutofillServerCommunication,"+
			"WebRtcHideLocalIpsWithMdns"),
		// Calls: a fake camera and microphone without a permission prompt,
		// ICE on loopback (the tests' only network), and no throttling of
		// the tab that is not in front (two tabs hold one call).
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		// Resolve no host name at all: the tests only ever open 127.0.0.1.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	b.ctx = ctx
	b.cancel = func() { cancelCtx(); cancelAlloc() }
	if err := chromedp.Do(ctx); err != nil { // launches the browser
		b.err = fmt.Errorf("start %s: %w", path, err)
	}
}

// get returns the browser's context, skipping or failing t when there is
// no browser.
func (b *browser) get(t *testing.T) context.Context {
	t.Helper()
	b.once.Do(b.start)
	if b.skip != "" {
		t.Skip(b.skip)
	}
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.ctx
}

func (b *browser) close() {
	if b.cancel != nil {
		b.cancel()
	}
	if b.tmp != "" {
		_ = os.RemoveAll(b.tmp)
	}
}
