package web

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// testApp is the app with the real catalogs; the logged-in user, if
// any, comes from the X-Test-Role header (and X-Test-Facility).
func testApp(t *testing.T) *app {
	t.Helper()
	a, err := newApp(Options{Province: "66", Name: "Đắk Lắk", User: func(r *http.Request) (User, bool) {
		role := r.Header.Get("X-Test-Role")
		return User{Username: "u-" + role, Role: role, Facility: r.Header.Get("X-Test-Facility")}, role != ""
	}}, content)
	require.NoError(t, err)
	return a
}

type response struct {
	*http.Response
	body string
}

// get serves one request; headers are name, value pairs.
func get(t *testing.T, h http.Handler, method, target string, headers ...string) response {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := rec.Result()
	var body io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		require.NoError(t, err)
		body = zr
	}
	raw, err := io.ReadAll(body)
	require.NoError(t, err)
	return response{Response: res, body: string(raw)}
}

var htmlLang = regexp.MustCompile(`<html lang="([a-z]+)">`)

func langOf(t *testing.T, body string) string {
	t.Helper()
	m := htmlLang.FindStringSubmatch(body)
	require.NotNil(t, m, "no <html lang>")
	return m[1]
}

func TestLanguageChoice(t *testing.T) {
	a := testApp(t)

	r := get(t, a, "GET", "/")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Equal(t, "vi", langOf(t, r.body), "Vietnamese by default")
	assert.Equal(t, "vi", r.Header.Get("Content-Language"))
	assert.Contains(t, r.body, a.catalogs["vi"]["home.heading"])
	assert.Empty(t, r.Cookies(), "no cookie until someone chooses")

	r = get(t, a, "GET", "/book?lang=en")
	assert.Equal(t, "en", langOf(t, r.body))
	assert.Contains(t, r.body, a.catalogs["en"]["book.title"])
	require.Len(t, r.Cookies(), 1)
	c := r.Cookies()[0]
	assert.Equal(t, langCookie, c.Name)
	assert.Equal(t, "en", c.Value)
	assert.Equal(t, "/", c.Path)
	assert.Positive(t, c.MaxAge)

	r = get(t, a, "GET", "/appointment", "Cookie", langCookie+"=en")
	assert.Equal(t, "en", langOf(t, r.body), "the cookie is remembered")
	r = get(t, a, "GET", "/appointment?lang=vi", "Cookie", langCookie+"=en")
	assert.Equal(t, "vi", langOf(t, r.body), "?lang wins over the cookie")
	r = get(t, a, "GET", "/?lang=fr", "Cookie", langCookie+"=xx")
	assert.Equal(t, "vi", langOf(t, r.body), "unknown languages are ignored")

	// The switch links keep the other parameters of the page.
	r = get(t, a, "GET", "/desk?date=2026-03-02&facility=66-TYT-01", "X-Test-Role", "staff")
	assert.Contains(t, r.body, `href="/desk?date=2026-03-02&amp;facility=66-TYT-01&amp;lang=en"`)
}

func TestPagesNeedTheirRoles(t *testing.T) {
	a := testApp(t)
	for _, tc := range []struct {
		path, role string
		status     int
		location   string
	}{
		{"/", "", 200, ""},
		{"/book", "", 200, ""},
		{"/appointment", "", 200, ""},
		{"/login", "", 200, ""},
		{"/desk", "", 303, "/login?next=%2Fdesk"},
		{"/desk?date=2026-03-02", "", 303, "/login?next=%2Fdesk%3Fdate%3D2026-03-02"},
		{"/desk", "staff", 200, ""},
		{"/desk", "doctor", 200, ""},
		{"/desk", "observer", 303, "/login?denied=1&next=%2Fdesk"},
		{"/admin", "", 303, "/login?next=%2Fadmin"},
		{"/admin", "staff", 303, "/login?denied=1&next=%2Fadmin"},
		{"/admin", "admin", 200, ""},
		{"/admin/users", "admin", 200, ""},
		{"/admin/schedule", "doctor", 303, "/login?denied=1&next=%2Fadmin%2Fschedule"},
		{"/calls", "staff", 200, ""},
		{"/calls", "observer", 303, "/login?denied=1&next=%2Fcalls"},
		{"/call/ABCDEFGHIJKLMNOPQRSTUVWXYZ", "doctor", 200, ""},
		{"/call/ABCDEFGHIJKLMNOPQRSTUVWXYZ?autojoin=1", "", 303, "/login?next=%2Fcall%2FABCDEFGHIJKLMNOPQRSTUVWXYZ%3Fautojoin%3D1"},
		{"/call/", "staff", 404, ""},
		{"/call", "staff", 404, ""},
		{"/call/a/b", "staff", 404, ""},
		{"/inbox", "doctor", 200, ""},
		{"/inbox", "admin", 303, "/login?denied=1&next=%2Finbox"},
		{"/refer", "staff", 200, ""},
		{"/referral/66-r-abcdefghijklmnop", "doctor", 200, ""},
		{"/admin/network", "admin", 200, ""},
		{"/admin/availability", "admin", 200, ""},
		{"/observer", "admin", 404, ""},
		{"/nowhere", "", 404, ""},
		{"/admin/", "admin", 404, ""},
	} {
		t.Run(tc.path+" "+tc.role, func(t *testing.T) {
			r := get(t, a, "GET", tc.path, "X-Test-Role", tc.role)
			assert.Equal(t, tc.status, r.StatusCode)
			assert.Equal(t, tc.location, r.Header.Get("Location"))
			if tc.status != 303 {
				assert.Equal(t, "text/html; charset=utf-8", r.Header.Get("Content-Type"))
				assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
				assert.Contains(t, r.Header.Get("Content-Security-Policy"), "script-src 'self'")
			}
		})
	}
	// The call room's signalling WebSocket goes to the page's own host,
	// and the node's pages may use the camera and microphone.
	r := get(t, a, "GET", "/call/ABCDEFGHIJKLMNOPQRSTUVWXYZ", "X-Test-Role", "staff")
	assert.Contains(t, r.Header.Get("Content-Security-Policy"), "connect-src 'self' ws://example.com wss://example.com;")
	assert.Contains(t, r.Header.Get("Permissions-Policy"), "camera=(self)")
	r = get(t, a, "POST", "/book")
	assert.Equal(t, http.StatusMethodNotAllowed, r.StatusCode)
	assert.Equal(t, "GET, HEAD", r.Header.Get("Allow"))
	r = get(t, a, "HEAD", "/book")
	assert.Equal(t, http.StatusOK, r.StatusCode)
}

func TestNavigationFollowsTheRole(t *testing.T) {
	a := testApp(t)
	nav := func(role string) string {
		body := get(t, a, "GET", "/", "X-Test-Role", role).body
		i, j := strings.Index(body, "<nav"), strings.Index(body, "</nav>")
		require.True(t, i >= 0 && j > i)
		return body[i:j]
	}
	anon := nav("")
	assert.Contains(t, anon, `href="/book"`)
	assert.Contains(t, anon, `href="/login"`)
	assert.NotContains(t, anon, `href="/desk"`)
	assert.NotContains(t, anon, `id="logout"`)
	staff := nav("staff")
	assert.Contains(t, staff, `href="/desk"`)
	assert.NotContains(t, staff, `href="/admin"`)
	assert.Contains(t, staff, `id="logout"`)
	admin := nav("admin")
	assert.Contains(t, admin, `href="/desk"`)
	assert.Contains(t, admin, `href="/admin"`)
	// The admin sub-pages highlight the Admin entry.
	body := get(t, a, "GET", "/admin/users", "X-Test-Role", "admin").body
	assert.Contains(t, body, `<a href="/admin" aria-current="page">`)
}

// pageConfig as the scripts read it.
func configOf(t *testing.T, body string) pageConfig {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	require.NoError(t, err)
	var found *html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "script" {
			for _, at := range n.Attr {
				if at.Key == "id" && at.Val == "mn-config" {
					found = n
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	require.NotNil(t, found, "no #mn-config")
	var cfg pageConfig
	require.NoError(t, json.Unmarshal([]byte(found.FirstChild.Data), &cfg))
	return cfg
}

func TestPageConfigForScripts(t *testing.T) {
	a := testApp(t)
	cfg := configOf(t, get(t, a, "GET", "/book?lang=en").body)
	assert.Equal(t, "en", cfg.Lang)
	assert.Equal(t, "book", cfg.Page)
	assert.Equal(t, "66", cfg.Province)
	assert.Nil(t, cfg.User)
	assert.Equal(t, a.catalogs["en"]["book.slot.full"], cfg.Messages["book.slot.full"])
	assert.Equal(t, a.catalogs["en"]["err.slot_full"], cfg.Messages["err.slot_full"])
	for k := range cfg.Messages {
		sec, _, _ := strings.Cut(k, ".")
		assert.Contains(t, []string{"common", "err", "status", "book"}, sec, "only the sections the page's scripts use")
	}

	cfg = configOf(t, get(t, a, "GET", "/desk", "X-Test-Role", "staff", "X-Test-Facility", "66-TYT-01").body)
	require.NotNil(t, cfg.User)
	assert.Equal(t, User{Username: "u-staff", Role: "staff", Facility: "66-TYT-01"}, *cfg.User)

	// A value that could close the script element is escaped.
	a.catalogs["vi"]["book.slot.full"] = "</script><b>"
	body := get(t, a, "GET", "/book").body
	assert.NotContains(t, body, "</script><b>")
	assert.Equal(t, "</script><b>", configOf(t, body).Messages["book.slot.full"])
}

func TestStaticAssets(t *testing.T) {
	a := testApp(t)
	css := a.assets["app.css"]
	require.NotNil(t, css)

	r := get(t, a, "GET", "/static/app.css?v="+css.hash, "Accept-Encoding", "gzip, deflate")
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Equal(t, "gzip", r.Header.Get("Content-Encoding"))
	assert.Equal(t, "text/css; charset=utf-8", r.Header.Get("Content-Type"))
	assert.Contains(t, r.Header.Get("Cache-Control"), "immutable")
	assert.Equal(t, string(css.body), r.body)

	r = get(t, a, "GET", "/static/js/common.js")
	assert.Empty(t, r.Header.Get("Content-Encoding"), "plain without Accept-Encoding")
	assert.Equal(t, "no-cache", r.Header.Get("Cache-Control"), "an unversioned URL is revalidated")
	assert.Equal(t, "text/javascript; charset=utf-8", r.Header.Get("Content-Type"))
	etag := r.Header.Get("ETag")
	require.NotEmpty(t, etag)
	r = get(t, a, "GET", "/static/js/common.js", "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, r.StatusCode)
	assert.Empty(t, r.body)

	assert.Equal(t, http.StatusNotFound, get(t, a, "GET", "/static/nope.js").StatusCode)
	assert.Equal(t, http.StatusNotFound, get(t, a, "GET", "/static/../web.go").StatusCode)

	// Every page links its assets with their current hash.
	body := get(t, a, "GET", "/desk", "X-Test-Role", "staff").body
	for _, name := range []string{"app.css", "js/common.js", "js/desk.js"} {
		u, err := a.assetURL(name)
		require.NoError(t, err)
		assert.Contains(t, body, u)
	}
}

// budget is the most a page may weigh on the wire: HTML (with its
// catalog block), CSS and scripts, gzipped, with an empty cache.
const budget = 300 << 10

var assetRef = regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`)

func TestPageWeight(t *testing.T) {
	obs, err := newApp(Options{Province: "BYT", Role: nodeObserver, User: func(r *http.Request) (User, bool) {
		role := r.Header.Get("X-Test-Role")
		return User{Username: "u-" + role, Role: role}, role != ""
	}}, content)
	require.NoError(t, err)
	for _, a := range []*app{testApp(t), obs} {
		pageWeights(t, a)
	}
}

func pageWeights(t *testing.T, a *app) {
	roles := map[string]string{"/desk": "staff"}
	for _, p := range a.pages {
		if p.roles != nil && roles[p.path] == "" {
			roles[p.path] = p.roles[0]
		}
		path := p.path
		if p.prefix {
			path += "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		}
		for _, lang := range languages() {
			page := get(t, a, "GET", path+"?lang="+lang, "X-Test-Role", roles[p.path], "Accept-Encoding", "gzip")
			require.Equal(t, http.StatusOK, page.StatusCode, p.path)
			total, plain := wire(t, a, path+"?lang="+lang, roles[p.path]), len(page.body)
			for _, m := range assetRef.FindAllStringSubmatch(page.body, -1) {
				u, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
				require.NoError(t, err)
				r := get(t, a, "GET", u.String(), "Accept-Encoding", "gzip")
				require.Equal(t, http.StatusOK, r.StatusCode, u)
				total += wire(t, a, u.String(), "")
				plain += len(r.body)
			}
			assert.Less(t, total, budget, "%s (%s) weighs %d bytes on the wire", p.path, lang, total)
			t.Logf("%-16s %s: %6d bytes gzipped (%6d plain)", p.path, lang, total, plain)
		}
	}
}

// wire is the gzipped body size of a GET.
func wire(t *testing.T, h http.Handler, target, role string) int {
	t.Helper()
	r := httptest.NewRequest("GET", target, nil)
	r.Header.Set("Accept-Encoding", "gzip")
	if role != "" {
		r.Header.Set("X-Test-Role", role)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Body.Len()
}

func TestNewNeedsAProvince(t *testing.T) {
	_, err := New(Options{})
	require.Error(t, err)
	h, err := New(Options{Province: "66"})
	require.NoError(t, err)
	r := get(t, h, "GET", "/desk")
	assert.Equal(t, http.StatusSeeOther, r.StatusCode, "with no User func nobody is logged in")
}

// An observer node holds no patient data: it serves no resident pages
// and no desk, and its home page does not link to them.
func TestObserverNodeServesNoPatientPages(t *testing.T) {
	a, err := newApp(Options{Province: "BYT", Role: "observer", User: func(r *http.Request) (User, bool) {
		return User{Username: "o", Role: roleObserver}, true
	}}, content)
	require.NoError(t, err)
	for _, p := range []string{"/book", "/appointment", "/desk", "/calls", "/call/ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"/inbox", "/refer", "/referral/66-r-abc", "/admin/availability"} {
		assert.Equal(t, http.StatusNotFound, get(t, a, "GET", p).StatusCode, p)
	}
	// Its dashboard: counts only, for observers (and its admin).
	dash := get(t, a, "GET", "/observer")
	require.Equal(t, http.StatusOK, dash.StatusCode)
	assert.Contains(t, dash.body, `id="volume-table"`)
	assert.Contains(t, get(t, a, "GET", "/").body, `href="/observer"`)
	home := get(t, a, "GET", "/")
	require.Equal(t, http.StatusOK, home.StatusCode)
	assert.NotContains(t, home.body, `href="/book"`)
	assert.NotContains(t, home.body, `href="/desk"`)
	assert.Equal(t, http.StatusOK, get(t, a, "GET", "/login").StatusCode)
}
