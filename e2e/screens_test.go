package e2e

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/calls"
)

// pageBudget is the most a page may transfer (HTML, CSS, JS, catalog and
// the API calls it makes on load), with the browser cache off.
const pageBudget = 300 << 10

// The UI in Vietnamese (the default) and in English: the switch is a link,
// remembered across pages, and the strings are each catalog's.
func TestLanguages(t *testing.T) {
	browserTest(t)
	tn := startNode(t)
	cat := catalogs(t)
	tb := newTab(t, tn.URL())

	tb.open("/", "home")
	assert.Equal(t, "vi", eval[string](tb, `document.documentElement.lang`), "Vietnamese by default")
	assert.Equal(t, cat["vi"]["home.heading"], tb.text("h1"))
	assert.Contains(t, tb.text("nav"), cat["vi"]["nav.book"])
	assert.Contains(t, eval[string](tb, `document.title`), cat["vi"]["home.title"])

	tb.clickNav("#lang-en")
	assert.Equal(t, "en", eval[string](tb, `document.documentElement.lang`))
	assert.Equal(t, cat["en"]["home.heading"], tb.text("h1"))
	assert.Contains(t, tb.text("nav"), cat["en"]["nav.book"])

	// Remembered: the next page, without ?lang, is in English, and so is
	// what its script writes.
	tb.open("/book", "book")
	assert.Equal(t, "en", eval[string](tb, `document.documentElement.lang`))
	assert.Equal(t, cat["en"]["book.title"], tb.text("h1"))
	tb.waitText("#find-status", strings.SplitN(cat["en"]["book.find.count"], "{", 2)[0])

	tb.open("/book?lang=vi", "book")
	assert.Equal(t, cat["vi"]["book.title"], tb.text("h1"))
	tb.waitText("#find-status", strings.SplitN(cat["vi"]["book.find.count"], "{", 2)[0])
	tb.open("/nowhere", "notfound")
	assert.Equal(t, cat["vi"]["notfound.title"], tb.text("h1"))
}

// screen is one main page as the screenshots show it.
type screen struct {
	name  string // file name: <name>-<lang>.png
	path  string
	page  string // body.page-NAME
	ready string // CSS selector of content that the page's script loads
	setup func(tb *tab)
}

// Each main page at 360×740, in both languages: screenshots saved to
// artifacts/screenshots/<page>-<lang>.png, no horizontal scrolling, and
// under the transfer budget.
func TestScreenshots(t *testing.T) {
	browserTest(t)
	tn := startNode(t)
	day, slot := tn.freeDay(t, tn.station.ID)
	a := tn.book(t, tn.station.ID, slot.Start, "Nguyễn Thị Lan")
	b := tn.book(t, tn.station.ID, slot.Start.Add(slot.End.Sub(slot.Start)), "H'Hen Niê")
	outDir := filepath.Join(repoRoot(t), "artifacts", "screenshots")
	require.NoError(t, os.MkdirAll(outDir, 0o755))
	station := url.QueryEscape(tn.station.ID)
	call, err := tn.Calls().Create(context.Background(), calls.Caller{Username: "staff", Role: consult.RoleStaff},
		calls.CreateRequest{Kind: calls.KindConsult, Invite: []calls.User{{Province: province, Username: "doctor"}}})
	require.NoError(t, err)

	for _, lang := range []string{"vi", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			tb := newTab(t, tn.URL())
			_, err := chromedp.Call(tb.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
			require.NoError(t, err)
			tb.open("/?lang="+lang, "home")

			screens := []screen{
				{name: "home", path: "/", page: "home", ready: "#go-book"},
				{name: "book", path: "/book", page: "book", ready: "#stations li"},
				{name: "book-slots", path: "/book", page: "book", ready: "#stations li", setup: func(tb *tab) {
					tb.click("#stations li button")
					tb.visible("#slots button")
				}},
				{name: "book-done", path: "/book", page: "book", ready: "#stations li", setup: func(tb *tab) {
					tb.click("#stations li button")
					tb.click("#slots button:not([disabled])")
					tb.typeInto("#name", "Trần Văn Bình")
					tb.typeInto("#phone", "0987654321")
					tb.click("#book-form button[type=submit]")
					tb.visible("#step-done")
				}},
				{name: "appointment", path: "/appointment#" + b.Code, page: "appointment", ready: "#appt-summary dd"},
				{name: "login", path: "/login", page: "login", ready: "#username"},
				{name: "desk", path: "/desk?date=" + day, page: "login", ready: "#username", setup: func(tb *tab) {
					login(tb, "staff", tn.users["staff"])
					tb.waitPage("desk")
					tb.visible(`#desk-list li[data-code="` + strings.ReplaceAll(a.Code, "-", "") + `"]`)
				}},
				{name: "calls", path: "/calls", page: "calls", ready: `#calls-list li[data-id="` + call.ID + `"]`},
				{name: "call", path: "/call/" + call.ID, page: "call", ready: "#join"},
				{name: "inbox", path: "/inbox", page: "inbox", ready: "#inbox-status"},
				{name: "refer", path: "/refer", page: "refer", ready: "#refer-form", setup: func(tb *tab) {
					tb.waitJS(`!!document.querySelector('#r-specialty option[value="cardiology"]')`)
				}},
				{name: "admin", path: "/login?next=%2Fadmin", page: "login", ready: "#username", setup: func(tb *tab) {
					tb.clickNav("#logout")
					tb.waitPage("home")
					tb.open("/login?next=%2Fadmin", "login")
					login(tb, "admin", tn.users["admin"])
					tb.waitPage("admin")
					tb.visible("#fac-list li")
				}},
				{name: "admin-facility", path: "/admin/facility?id=" + station, page: "admin-facility", ready: "#f-specialties input:checked"},
				{name: "admin-schedule", path: "/admin/schedule?facility=" + station, page: "admin-schedule", ready: `[data-day="mon"] .period`},
				{name: "admin-users", path: "/admin/users", page: "admin-users", ready: `#users-table tr[data-username="admin"]`},
				{name: "admin-availability", path: "/admin/availability", page: "admin-availability", ready: "#ours-status"},
				{name: "admin-network", path: "/admin/network", page: "admin-network", ready: "#members-table tbody tr"},
			}
			for _, s := range screens {
				tb.open(s.path, s.page)
				tb.visible(s.ready)
				if s.setup != nil {
					s.setup(tb)
				}
				// Mobile emulation widens the layout viewport to fit wide
				// content, so compare with the screen, not innerWidth.
				width := eval[int](tb, `Math.max(document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth)`)
				assert.LessOrEqual(t, width, 360, "%s is wider than a 360 px screen", s.name)
				size := eval[int](tb, `performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
					.reduce((n, e) => n + (e.transferSize || e.encodedBodySize || 0), 0)`)
				assert.Less(t, size, pageBudget, "%s transfers %d bytes", s.name, size)
				t.Logf("%s-%s: %d bytes transferred", s.name, lang, size)
				png := wait(tb, chromedp.CaptureScreenshot())
				require.NoError(t, os.WriteFile(filepath.Join(outDir, s.name+"-"+lang+".png"), png, 0o644))
			}
		})
	}
}
