// Package e2e holds the end-to-end tests of the web app: real nodes on
// 127.0.0.1 (node.Init with sample data, node.New, Start, DemoUsers; or a
// federated testnet of several provinces, and an observer, for calls,
// referrals and the network pages) driven by one headless Chromium per
// test binary through chromedp, each test in its own tab and browser
// context (no shared cookies).
//
// The browser is /usr/bin/chromium, or the one named by $CHROMIUM. When it
// is missing the tests skip with a message, except under CI ($CI set),
// where they fail. TestMain runs the binary in a loopback-only network
// namespace when it can (internal/netns): the call tests gather ICE
// candidates, and Chromium runs with a fake camera and microphone and
// loopback ICE allowed. Call tests read the page's WebRTC statistics
// through window.__moinhaCall. Screenshots of every main page, 360×740,
// in Vietnamese and English, are written to
// artifacts/screenshots/<page>-<lang>.png at the repository root.
//
// The package has no non-test code besides this comment.
package e2e
