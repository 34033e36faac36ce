package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// content holds the templates, static assets and catalogs.
//
//go:embed templates static i18n
var content embed.FS

// contentSecurityPolicy allows only the node's own scripts, styles,
// images, media and API, and WebSockets to the node's own host (the call
// room's signalling; named explicitly because older browsers do not count
// ws: as 'self'); no inline script runs (the page data is a JSON block).
// Call media (WebRTC) is not a fetch and needs no source here.
func contentSecurityPolicy(r *http.Request) string {
	connect := "'self'"
	if host := r.Host; host != "" && !strings.ContainsAny(host, " ;,'\"") {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
		"media-src 'self' blob: mediastream:; connect-src " + connect + "; object-src 'none'; base-uri 'none'; " +
		"form-action 'self'; frame-ancestors 'none'"
}

// permissionsPolicy lets the node's own pages (the call room) use the
// camera and microphone, and no embedded frame anything.
const permissionsPolicy = "camera=(self), microphone=(self), display-capture=(), geolocation=()"

// New returns the web app's handler. Mount it at "/" below the API routes.
func New(o Options) (http.Handler, error) { return newApp(o, content) }

// app is the web app of one node. It is immutable after newApp.
type app struct {
	opts        Options
	log         *slog.Logger
	catalogs    map[string]catalog
	assets      map[string]*asset
	pages       []*compiledPage // table order (the navigation's order)
	byPath      map[string]*compiledPage
	notFound404 *compiledPage
}

// compiledPage is a page with its parsed template set.
type compiledPage struct {
	page
	tmpl *template.Template
}

func newApp(o Options, fsys fs.FS) (*app, error) {
	if o.Province == "" {
		return nil, errors.New("web: Options.Province is required")
	}
	if o.Name == "" {
		o.Name = o.Province
	}
	if o.Role == "" {
		o.Role = nodeProvince
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	a := &app{opts: o, log: o.Logger, byPath: map[string]*compiledPage{}}
	var err error
	if a.catalogs, err = loadCatalogs(fsys); err != nil {
		return nil, err
	}
	if a.assets, err = loadAssets(fsys); err != nil {
		return nil, err
	}
	base, err := template.New("layout").Funcs(template.FuncMap{"asset": a.assetURL}).
		ParseFS(fsys, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	compile := func(p page) (*compiledPage, error) {
		for _, s := range append([]string{"js/common.js"}, p.scripts...) {
			if _, ok := a.assets[s]; !ok {
				return nil, fmt.Errorf("web: page %s: no script %s", p.name, s)
			}
		}
		t, err := template.Must(base.Clone()).ParseFS(fsys, "templates/"+p.name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: page %s: %w", p.name, err)
		}
		return &compiledPage{page: p, tmpl: t}, nil
	}
	for _, p := range pageTable() {
		if !p.servedBy(o.Role) {
			continue
		}
		cp, err := compile(p)
		if err != nil {
			return nil, err
		}
		if _, dup := a.byPath[p.path]; dup {
			return nil, fmt.Errorf("web: two pages at %s", p.path)
		}
		a.pages = append(a.pages, cp)
		a.byPath[p.path] = cp
	}
	if a.notFound404, err = compile(page{name: "notfound", title: "notfound.title"}); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/static/") {
		a.serveAsset(w, r)
		return
	}
	p, ok := a.match(r.URL.Path)
	if !ok {
		a.notFound(w, r)
		return
	}
	user, loggedIn := a.user(r)
	if !loggedIn && p.roles != nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if loggedIn && !p.allows(user.Role) {
		http.Redirect(w, r, "/login?denied=1&next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	a.render(w, r, p, http.StatusOK)
}

// match finds the page serving path: an exact path, or a prefix page
// ("/call/") followed by one non-empty segment.
func (a *app) match(path string) (*compiledPage, bool) {
	if p, ok := a.byPath[path]; ok && !p.prefix {
		return p, true
	}
	i := strings.LastIndexByte(path, '/')
	if i < 0 || i == len(path)-1 {
		return nil, false
	}
	p, ok := a.byPath[path[:i+1]]
	if !ok || !p.prefix {
		return nil, false
	}
	return p, true
}

func (a *app) notFound(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, a.notFound404, http.StatusNotFound)
}

func (a *app) user(r *http.Request) (User, bool) {
	if a.opts.User == nil {
		return User{}, false
	}
	return a.opts.User(r)
}

// lang picks the page language: ?lang= (remembered in a cookie), then the
// cookie, then Vietnamese.
func (a *app) lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); slices.Contains(languages(), l) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && slices.Contains(languages(), c.Value) {
		return c.Value
	}
	return defaultLang
}

// view is what templates see.
type view struct {
	Lang     string
	Page     string // page name
	Title    string // catalog key
	NodeName string
	Province string
	User     *User
	Nav      []navLink
	Langs    []langLink
	Scripts  []string // URLs, in order
	Config   template.JS
	Data     map[string]any // page-specific values
	cat      catalog
	app      *app
}

// Serves reports whether this node serves the page at path (templates
// link only to pages that exist here).
func (v *view) Serves(path string) bool {
	_, ok := v.app.byPath[path]
	return ok
}

// T returns the catalog message for key in the page's language.
func (v *view) T(key string, args ...any) string { return v.cat.T(key, args...) }

type navLink struct {
	Path, Title string
	Current     bool
}

type langLink struct {
	Code, Label, URL string
	Current          bool
}

// pageConfig is the JSON block the scripts read (MN.cfg in common.js).
type pageConfig struct {
	Lang     string            `json:"lang"`
	Page     string            `json:"page"`
	Province string            `json:"province"`
	User     *User             `json:"user"`
	Messages map[string]string `json:"t"`
}

func (a *app) render(w http.ResponseWriter, r *http.Request, p *compiledPage, status int) {
	lang := a.lang(w, r)
	v := &view{Lang: lang, Page: p.name, Title: p.title, NodeName: a.opts.Name, Province: a.opts.Province,
		cat: a.catalogs[lang], Data: a.pageData(r, p), app: a}
	if u, ok := a.user(r); ok {
		v.User = &u
	}
	for _, np := range a.pages {
		if np.nav == "" || np.path == "/" || (np.roles != nil && (v.User == nil || !np.allows(v.User.Role))) {
			continue
		}
		if np.prefix {
			continue
		}
		v.Nav = append(v.Nav, navLink{Path: np.path, Title: np.nav, Current: np.path == p.path || np.path == p.navUnder})
	}
	for _, l := range languages() {
		q := r.URL.Query()
		q.Set("lang", l)
		v.Langs = append(v.Langs, langLink{Code: l, Label: a.catalogs[l].T("lang.self"), Current: l == lang,
			URL: r.URL.Path + "?" + q.Encode()})
	}
	for _, s := range append([]string{"js/common.js"}, p.scripts...) {
		u, _ := a.assetURL(s) // checked by newApp
		v.Scripts = append(v.Scripts, u)
	}
	cfg, err := json.Marshal(pageConfig{Lang: lang, Page: p.name, Province: a.opts.Province, User: v.User,
		Messages: v.cat.sections(append(jsSections(), p.sections...))})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v.Config = template.JS(cfg) // json.Marshal escapes <, > and &, so it cannot close the script

	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, "layout", v); err != nil {
		a.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", contentSecurityPolicy(r))
	h.Set("Permissions-Policy", permissionsPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Vary", "Accept-Encoding, Cookie")
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		w.WriteHeader(status)
		zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
		_, _ = zw.Write(buf.Bytes())
		_ = zw.Close()
		return
	}
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("web: render", "path", r.URL.Path, "err", err)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// pageData computes the values a page's template needs beyond the view.
func (a *app) pageData(r *http.Request, p *compiledPage) map[string]any {
	switch p.name {
	case "book":
		if a.opts.Communes == nil {
			return nil
		}
		cs, err := a.opts.Communes(r.Context())
		if err != nil {
			a.log.Warn("web: communes", "err", err)
			return nil
		}
		return map[string]any{"Communes": cs}
	case "login":
		return map[string]any{"Denied": r.URL.Query().Has("denied")}
	}
	return nil
}
