package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
)

// Languages, default first.
const (
	langVI      = "vi"
	langEN      = "en"
	defaultLang = langVI
	langCookie  = "moinha_lang"
)

// languages lists the supported languages, default first.
func languages() []string { return []string{langVI, langEN} }

// catalog is one language's messages: "section.key" → text, where {name}
// marks a placeholder.
type catalog map[string]string

// T returns the message for key with placeholders filled from args
// (name, value pairs). A missing key returns the key itself, which tests
// catch; it never panics on a page.
func (c catalog) T(key string, args ...any) string {
	s, ok := c[key]
	if !ok {
		return key
	}
	for i := 0; i+1 < len(args); i += 2 {
		s = strings.ReplaceAll(s, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return s
}

// sections returns the messages whose key starts with one of sections
// followed by '.', for a page's scripts.
func (c catalog) sections(sections []string) map[string]string {
	out := map[string]string{}
	for k, v := range c {
		sec, _, _ := strings.Cut(k, ".")
		if slices.Contains(sections, sec) {
			out[k] = v
		}
	}
	return out
}

// loadCatalogs reads i18n/LANG.json for every supported language from
// fsys and checks that they hold the same keys and placeholders.
func loadCatalogs(fsys fs.FS) (map[string]catalog, error) {
	out := map[string]catalog{}
	for _, lang := range languages() {
		raw, err := fs.ReadFile(fsys, "i18n/"+lang+".json")
		if err != nil {
			return nil, fmt.Errorf("web: catalog %s: %w", lang, err)
		}
		var c catalog
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("web: catalog %s: %w", lang, err)
		}
		out[lang] = c
	}
	if err := checkCatalogs(out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkCatalogs reports keys present in one catalog and not another,
// empty messages, and placeholders that differ between languages.
func checkCatalogs(cs map[string]catalog) error {
	var problems []string
	ref := cs[defaultLang]
	for _, lang := range languages() {
		c := cs[lang]
		for _, k := range slices.Sorted(maps.Keys(c)) {
			if strings.TrimSpace(c[k]) == "" {
				problems = append(problems, fmt.Sprintf("%s: %q is empty", lang, k))
			}
			for _, other := range languages() {
				o, ok := cs[other][k]
				if !ok {
					problems = append(problems, fmt.Sprintf("%q is in %s but not in %s", k, lang, other))
					continue
				}
				if lang == defaultLang && !slices.Equal(placeholders(c[k]), placeholders(o)) {
					problems = append(problems, fmt.Sprintf("%q: placeholders differ between %s and %s", k, lang, other))
				}
			}
		}
	}
	if len(ref) == 0 {
		problems = append(problems, "the default catalog is empty")
	}
	if len(problems) > 0 {
		return fmt.Errorf("web: catalogs: %s", strings.Join(problems, "; "))
	}
	return nil
}

// placeholders returns the sorted {names} in s.
func placeholders(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		out = append(out, s[i+1:i+j])
		s = s[i+j+1:]
	}
	slices.Sort(out)
	return out
}
