package web

import (
	"context"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	cs, err := loadCatalogs(content)
	require.NoError(t, err)
	for _, lang := range languages() {
		assert.Equal(t, slices.Sorted(maps.Keys(cs[defaultLang])), slices.Sorted(maps.Keys(cs[lang])), lang)
	}
	assert.Equal(t, "Tiếng Việt", cs[langVI]["lang.self"])
	assert.Equal(t, "English", cs[langEN]["lang.self"])
}

func TestCheckCatalogsFindsProblems(t *testing.T) {
	for name, tc := range map[string]struct {
		vi, en string
		want   string
	}{
		"missing in en":       {`{"a.b":"x","a.c":"y"}`, `{"a.b":"x"}`, `"a.c" is in vi but not in en`},
		"missing in vi":       {`{"a.b":"x"}`, `{"a.b":"x","a.d":"z"}`, `"a.d" is in en but not in vi`},
		"empty":               {`{"a.b":" "}`, `{"a.b":"x"}`, `vi: "a.b" is empty`},
		"placeholders differ": {`{"a.b":"{n} x"}`, `{"a.b":"{m} x"}`, `"a.b": placeholders differ`},
		"placeholder missing": {`{"a.b":"{n} x"}`, `{"a.b":"x"}`, `"a.b": placeholders differ`},
		"not JSON":            {`{"a.b":`, `{"a.b":"x"}`, `catalog vi`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadCatalogs(fstest.MapFS{
				"i18n/vi.json": {Data: []byte(tc.vi)},
				"i18n/en.json": {Data: []byte(tc.en)},
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestCatalogT(t *testing.T) {
	c := catalog{"x.y": "{n} chỗ cho {who}"}
	assert.Equal(t, "3 chỗ cho Lan", c.T("x.y", "n", 3, "who", "Lan"))
	assert.Equal(t, "no.such", c.T("no.such"), "a missing key shows itself (and tests catch it)")
}

// marker wraps a key as the dummy catalog renders it.
func marker(key string) string { return "⟦" + key + "⟧" }

var markers = regexp.MustCompile(`⟦[^⟧]*⟧`)

// dummyApp is the app with every message replaced by its marked key, so
// that any visible text without a marker is hard-coded.
func dummyApp(t *testing.T, user *User, nodeRole string) *app {
	t.Helper()
	a, err := newApp(Options{Province: "66", Name: marker("node"), Role: nodeRole,
		Communes: func(context.Context) ([]string, error) { return []string{marker("commune")}, nil },
		User: func(*http.Request) (User, bool) {
			if user == nil {
				return User{}, false
			}
			return *user, true
		}}, content)
	require.NoError(t, err)
	for _, lang := range languages() {
		d := catalog{}
		for k := range a.catalogs[lang] {
			d[k] = marker(k)
		}
		a.catalogs[lang] = d
	}
	return a
}

// visibleText returns the text a person sees or hears from a document:
// text nodes outside script and style, and the attributes read out.
func visibleText(n *html.Node) []string {
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style") {
			return
		}
		if n.Type == html.TextNode && strings.TrimSpace(n.Data) != "" {
			out = append(out, n.Data)
		}
		if n.Type == html.ElementNode {
			for _, at := range n.Attr {
				switch at.Key {
				case "placeholder", "title", "aria-label", "alt", "label", "aria-description":
					out = append(out, at.Val)
				case "value":
					if n.Data == "input" && slices.ContainsFunc(n.Attr, func(a html.Attribute) bool {
						return a.Key == "type" && (a.Val == "submit" || a.Val == "button" || a.Val == "reset")
					}) {
						out = append(out, at.Val)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

// Every visible string of every template comes from the catalog: rendered
// with a catalog of markers, no letter is left outside a marker.
func TestTemplatesHaveNoHardCodedText(t *testing.T) {
	users := map[string]*User{"anonymous": nil, "admin": {Username: "a", Role: roleAdmin},
		"staff":             {Username: "s", Role: roleStaff, Facility: "66-TYT-01"},
		"observer@observer": {Username: "o", Role: roleObserver}}
	for who, u := range users {
		nodeRole := nodeProvince
		if strings.HasSuffix(who, "@observer") {
			nodeRole = nodeObserver
		}
		a := dummyApp(t, u, nodeRole)
		for _, p := range append(slices.Clone(a.pages), a.notFound404) {
			t.Run(who+"/"+p.name, func(t *testing.T) {
				rec := httptest.NewRecorder()
				a.render(rec, httptest.NewRequest("GET", "/x?denied=1", nil), p, http.StatusOK)
				require.Equal(t, http.StatusOK, rec.Code)
				doc, err := html.Parse(rec.Body)
				require.NoError(t, err)
				texts := visibleText(doc)
				require.NotEmpty(t, texts)
				for _, s := range texts {
					rest := markers.ReplaceAllString(s, "")
					assert.False(t, strings.ContainsFunc(rest, unicode.IsLetter),
						"hard-coded text %q in %s (every visible string must come from the catalog)", strings.TrimSpace(s), p.name)
				}
			})
		}
	}
}

// jsLiterals returns the string literals of a script (quotes, not
// template literals, which the scripts do not use), skipping comments.
func jsLiterals(t *testing.T, src string) []string {
	t.Helper()
	var out []string
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			require.GreaterOrEqual(t, end, 0, "unterminated comment")
			i += end + 3
		case c == '`':
			t.Errorf("template literal at byte %d: use MN.t with placeholders", i)
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(src) && src[j] != c; j++ {
				if src[j] == '\\' && j+1 < len(src) {
					j++
				}
				b.WriteByte(src[j])
			}
			out = append(out, b.String())
			i = j
		}
	}
	return out
}

// scripts returns static/js/*.js by name.
func scripts(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	matches, err := fs.Glob(content, "static/js/*.js")
	require.NoError(t, err)
	require.NotEmpty(t, matches)
	for _, m := range matches {
		raw, err := fs.ReadFile(content, m)
		require.NoError(t, err)
		out[strings.TrimPrefix(m, "static/")] = string(raw)
	}
	return out
}

var (
	capitalised = regexp.MustCompile(`[A-Z][a-z]`)
	looksKey    = regexp.MustCompile(`^[a-z]+(\.[a-z0-9_]+)+$|^[a-z]+\.$`)
	// notText are literals that match looksVisible but are not shown.
	notText = []string{"Content-Type", "Asia/Ho_Chi_Minh"}
)

// looksVisible reports whether a literal reads as words for people: a
// capitalised word, or any letter beyond ASCII (Vietnamese). Class names,
// ids, paths and codes in the scripts are lower-case ASCII.
func looksVisible(s string) bool {
	return capitalised.MatchString(s) || strings.ContainsFunc(s, func(r rune) bool { return r > unicode.MaxASCII && unicode.IsLetter(r) })
}

// No script writes visible text of its own: string literals that read
// like words are flagged; messages come from MN.t.
func TestScriptsHaveNoHardCodedText(t *testing.T) {
	for name, src := range scripts(t) {
		for _, lit := range jsLiterals(t, src) {
			if looksVisible(lit) && !slices.Contains(notText, lit) {
				t.Errorf("%s: string %q looks like visible text; put it in the catalogs and use MN.t", name, lit)
			}
		}
	}
}

// Every catalog key a script names exists, and is among the sections the
// pages loading that script embed.
func TestScriptKeysExistAndAreEmbedded(t *testing.T) {
	cs, err := loadCatalogs(content)
	require.NoError(t, err)
	srcs := scripts(t)
	for _, p := range pageTable() {
		sections := append(jsSections(), p.sections...)
		for _, s := range append([]string{"js/common.js"}, p.scripts...) {
			for _, lit := range jsLiterals(t, srcs[s]) {
				if !looksKey.MatchString(lit) {
					continue
				}
				sec, _, _ := strings.Cut(lit, ".")
				if !strings.HasSuffix(lit, ".") {
					_, ok := cs[defaultLang][lit]
					if !ok && !slices.Contains(sections, sec) {
						continue // a dotted word that is not a key (e.g. a file name)
					}
					assert.True(t, ok, "%s names %q, which is not in the catalogs", s, lit)
				}
				assert.Contains(t, sections, sec, "page %s: %s uses %q but the page does not embed section %q", p.path, s, lit, sec)
			}
		}
	}
}

// Every catalog key is used: by a template, a script, or the page table
// (a script's 'section.' + value counts for the whole prefix).
func TestEveryKeyIsUsed(t *testing.T) {
	cs, err := loadCatalogs(content)
	require.NoError(t, err)
	used := map[string]bool{}
	for _, src := range scripts(t) {
		for _, lit := range jsLiterals(t, src) {
			used[lit] = true
		}
	}
	quoted := regexp.MustCompile(`"([a-z]+(?:\.[a-z0-9_]+)+)"`)
	for _, glob := range []string{"templates/*.html", "*.go"} {
		var files []string
		if glob == "*.go" {
			files = []string{"pages.go", "web.go"}
		} else {
			files, err = fs.Glob(content, glob)
			require.NoError(t, err)
		}
		for _, f := range files {
			var raw []byte
			if strings.HasSuffix(f, ".go") {
				raw, err = os.ReadFile(f)
			} else {
				raw, err = fs.ReadFile(content, f)
			}
			require.NoError(t, err)
			for _, m := range quoted.FindAllStringSubmatch(string(raw), -1) {
				used[m[1]] = true
			}
		}
	}
	for key := range cs[defaultLang] {
		ok := used[key]
		for u := range used {
			if strings.HasSuffix(u, ".") && strings.HasPrefix(key, u) {
				ok = true
			}
		}
		assert.True(t, ok, "catalog key %q is used nowhere", key)
	}
}
