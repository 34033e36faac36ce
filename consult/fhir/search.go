package fhir

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moinha/moinha/consult/directory"
)

// Page sizes of searches and histories (_count).
const (
	DefaultCount = 50
	MaxCount     = 200
)

// maxParamValues bounds the comma-separated alternatives of one parameter
// and the repeats of one parameter; maxValueLen one value's length.
const (
	maxParamValues = 50
	maxValueLen    = 256
)

// Result parameters every search takes; the rest are per resource type.
var resultParams = []string{"_count", "_cursor", "_format", "_pretty"}

// Item is one resource a source yields: its position key (sources yield
// items in ascending key order, and a search resumes after a key), the
// resource, and when this node last changed it (zero: unknown).
type Item struct {
	Key     string
	Res     Resource
	Changed time.Time
}

// Source yields the items after key `after` in ascending key order until
// yield returns false.
type Source func(after string, yield func(Item) bool) error

// Search is a parsed, checked search request.
type Search struct {
	Type   string
	Count  int
	after  string // position key from _cursor; "" for the first page
	conds  []cond
	query  url.Values // the request's parameters without _cursor, for links
	cursor string     // the request's _cursor, for the self link
	hash   string     // binds cursors to the query
}

type cond struct {
	name, modifier string
	def            param
	values         []string    // alternatives (OR)
	ranges         []dateRange // _lastUpdated: one per value
}

// ParseSearch checks the query of a search on typ. Unknown parameters,
// modifiers that are not supported, malformed values, a _count outside
// 1..200 and a cursor from another search are *Error (400); so is a type
// that has no search.
func ParseSearch(typ string, q url.Values) (*Search, error) {
	defs, ok := searchParams[typ]
	if !ok {
		return nil, Errorf(404, "not-supported", "resource type %.40q is not served here", typ)
	}
	s := &Search{Type: typ, Count: DefaultCount, query: url.Values{}}
	cursor := ""
	for _, key := range slices.Sorted(maps.Keys(q)) { // sorted: conditions in a stable order
		vals := q[key]
		name, modifier, _ := strings.Cut(key, ":")
		if len(vals) > maxParamValues {
			return nil, invalid("too many %q parameters", name)
		}
		for _, v := range vals {
			if len(v) > maxValueLen*4 {
				return nil, invalid("parameter %q is too long", name)
			}
		}
		switch name {
		case "_count":
			if modifier != "" || len(vals) != 1 {
				return nil, invalid("_count takes one value")
			}
			n, err := strconv.Atoi(vals[0])
			if err != nil || n < 1 || n > MaxCount {
				return nil, invalid("_count must be a whole number from 1 to %d", MaxCount)
			}
			s.Count = n
			s.query[key] = vals
			continue
		case "_cursor":
			if modifier != "" || len(vals) != 1 {
				return nil, invalid("_cursor takes one value")
			}
			cursor = vals[0]
			continue
		case "_format", "_pretty":
			if err := checkFormat(name, modifier, vals); err != nil {
				return nil, err
			}
			s.query[key] = vals
			continue
		}
		def, ok := defs[name]
		if !ok {
			return nil, invalid("unknown search parameter %.60q for %s; supported: %s", key, typ, strings.Join(ParamNames(typ), ", "))
		}
		if !slices.Contains(def.modifiers(), modifier) {
			return nil, notSupported("modifier %.40q is not supported on %s", modifier, name)
		}
		s.query[key] = vals
		for _, v := range vals {
			c, err := parseCond(name, modifier, def, v)
			if err != nil {
				return nil, err
			}
			s.conds = append(s.conds, c)
		}
	}
	s.hash = queryHash(typ, s.query)
	if cursor != "" {
		after, err := decodeCursor(cursor, s.hash)
		if err != nil {
			return nil, err
		}
		s.after, s.cursor = after, cursor
	}
	return s, nil
}

// checkFormat accepts _format values that mean JSON and _pretty.
func checkFormat(name, modifier string, vals []string) error {
	if modifier != "" || len(vals) != 1 {
		return invalid("%s takes one value", name)
	}
	v := vals[0]
	if name == "_pretty" {
		if v != "true" && v != "false" {
			return invalid("_pretty must be true or false")
		}
		return nil
	}
	if !JSONFormat(v) {
		return Errorf(406, "not-supported", "only JSON is served (_format=json or application/fhir+json), not %.60q", v)
	}
	return nil
}

// JSONFormat reports whether a _format value asks for JSON.
func JSONFormat(v string) bool {
	mt, _, _ := strings.Cut(v, ";")
	switch strings.TrimSpace(strings.ToLower(mt)) {
	case "json", "application/json", "application/fhir+json", "application/json+fhir":
		return true
	}
	return false
}

// Pretty reports whether the query asks for indented JSON.
func Pretty(q url.Values) bool { return q.Get("_pretty") == "true" }

func parseCond(name, modifier string, def param, v string) (cond, error) {
	c := cond{name: name, modifier: modifier, def: def}
	if v == "" {
		return c, invalid("parameter %q has an empty value", name)
	}
	alts := splitOr(v)
	if len(alts) > maxParamValues {
		return c, invalid("too many values for %q", name)
	}
	for _, a := range alts {
		if a == "" || len(a) > maxValueLen {
			return c, invalid("parameter %q has an empty or too long value", name)
		}
		switch def.kind {
		case kindDate:
			r, err := parseDateParam(a)
			if err != nil {
				return c, invalid("%s: %v", name, err)
			}
			c.ranges = append(c.ranges, r)
		case kindString:
			if modifier != "exact" {
				a = directory.Fold(a)
			}
		}
		c.values = append(c.values, a)
	}
	return c, nil
}

// splitOr splits a parameter value at unescaped commas (FHIR's OR) and
// unescapes "\,".
func splitOr(v string) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v) && (v[i+1] == ',' || v[i+1] == '\\' || v[i+1] == '|' || v[i+1] == '$'):
			b.WriteByte(v[i+1])
			i++
		case v[i] == ',':
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(v[i])
		}
	}
	return append(out, b.String())
}

// Run walks src from the search's position and returns the page: up to
// Count matching items, and the cursor of the next page ("" on the last).
func (s *Search) Run(src Source) (items []Item, next string, err error) {
	var last string
	more := false
	err = src(s.after, func(it Item) bool {
		if !s.Match(it) {
			return true
		}
		if len(items) == s.Count {
			more = true
			return false
		}
		items = append(items, it)
		last = it.Key
		return true
	})
	if err != nil {
		return nil, "", err
	}
	if more {
		next = encodeCursor(last, s.hash)
	}
	return items, next, nil
}

// Match reports whether an item meets every condition.
func (s *Search) Match(it Item) bool {
	for i := range s.conds {
		if !s.conds[i].match(it) {
			return false
		}
	}
	return true
}

// First reports whether this is the first page.
func (s *Search) First() bool { return s.after == "" }

func (c *cond) match(it Item) bool {
	switch c.def.kind {
	case kindDate:
		t := it.Changed
		if c.def.when != nil {
			t = c.def.when(it.Res)
		}
		if t.IsZero() {
			return false
		}
		for _, r := range c.ranges {
			if r.match(t) {
				return true
			}
		}
		return false
	case kindToken:
		codings := c.def.tokens(it.Res)
		for _, v := range c.values {
			if tokenMatch(codings, v) {
				return true
			}
		}
		return false
	case kindReference:
		refs := c.def.strings(it.Res)
		for _, v := range c.values {
			for _, r := range refs {
				if refMatch(r, v, c.def.target) {
					return true
				}
			}
		}
		return false
	default:
		texts := c.def.strings(it.Res)
		for _, v := range c.values {
			for _, t := range texts {
				if stringMatch(t, v, c.modifier) {
					return true
				}
			}
		}
		return false
	}
}

// stringMatch: FHIR string search on folded text (case and Vietnamese
// diacritics ignored). Default: the text or one of its words starts with
// v; :contains anywhere; :exact the unfolded text equals v.
func stringMatch(text, v, modifier string) bool {
	switch modifier {
	case "exact":
		return text == v
	case "contains":
		return strings.Contains(directory.Fold(text), v)
	}
	f := directory.Fold(text)
	return strings.HasPrefix(f, v) || strings.Contains(f, " "+v)
}

// tokenMatch: "code", "system|code", "|code" (no system) or "system|".
func tokenMatch(codings []Coding, v string) bool {
	system, code, hasSystem := strings.Cut(v, "|")
	if !hasSystem {
		code, system = v, ""
	}
	for _, c := range codings {
		switch {
		case !hasSystem:
			if c.Code == code {
				return true
			}
		case system == "":
			if c.System == "" && c.Code == code {
				return true
			}
		case code == "":
			if c.System == system {
				return true
			}
		default:
			if c.System == system && c.Code == code {
				return true
			}
		}
	}
	return false
}

// refMatch: v is "Type/id", a URL ending in "/Type/id", or a bare id (of
// the parameter's target type).
func refMatch(r, v, target string) bool {
	if i := strings.LastIndexByte(v, '/'); i >= 0 {
		if j := strings.LastIndexByte(v[:i], '/'); j >= 0 {
			v = v[j+1:]
		}
		return r == v
	}
	return r == target+"/"+v
}

// Cursors are opaque to clients: base64url of the position key and a
// hash of the query, so a cursor cannot be replayed on another search.
type cursorBody struct {
	K string `json:"k"`
	H string `json:"h"`
}

func encodeCursor(key, hash string) string {
	b, _ := json.Marshal(cursorBody{K: key, H: hash})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c, hash string) (string, error) {
	if len(c) > 512 {
		return "", invalid("_cursor is not a cursor of this server")
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	var body cursorBody
	if err != nil || json.Unmarshal(raw, &body) != nil || body.K == "" {
		return "", invalid("_cursor is not a cursor of this server")
	}
	if body.H != hash {
		return "", invalid("_cursor belongs to another search; follow the bundle's links")
	}
	return body.K, nil
}

// queryHash binds a cursor to the type and the filter parameters (not to
// _count or the output format).
func queryHash(typ string, q url.Values) string {
	keep := url.Values{}
	for k, v := range q {
		switch strings.SplitN(k, ":", 2)[0] {
		case "_count", "_format", "_pretty":
			continue
		}
		keep[k] = v
	}
	sum := sha256.Sum256([]byte(typ + "?" + keep.Encode()))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// dateRange is a date search condition: a prefix and the half-open
// interval [lo, hi) the value's precision covers.
type dateRange struct {
	prefix string
	lo, hi time.Time
}

func (r dateRange) match(t time.Time) bool {
	switch r.prefix {
	case "gt":
		return !t.Before(r.hi)
	case "ge":
		return !t.Before(r.lo)
	case "lt":
		return t.Before(r.lo)
	case "le":
		return t.Before(r.hi)
	case "ne":
		return t.Before(r.lo) || !t.Before(r.hi)
	}
	return !t.Before(r.lo) && t.Before(r.hi)
}

// vietnam is the zone of dates and times given without an offset.
var vietnam = time.FixedZone("ICT", 7*3600)

// parseDateParam reads [prefix]value where value is YYYY, YYYY-MM,
// YYYY-MM-DD (Vietnam's calendar), or a dateTime with seconds and an
// offset.
func parseDateParam(v string) (dateRange, error) {
	r := dateRange{prefix: "eq"}
	if len(v) > 2 && v[0] >= 'a' && v[0] <= 'z' {
		r.prefix, v = v[:2], v[2:]
		switch r.prefix {
		case "eq", "ne", "gt", "lt", "ge", "le":
		case "sa", "eb", "ap":
			return r, errorString("prefix " + r.prefix + " is not supported; use eq, ne, gt, lt, ge or le")
		default:
			return r, errorString("unknown prefix " + r.prefix)
		}
	}
	layouts := []struct {
		layout string
		next   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
	}
	for _, l := range layouts {
		if len(v) == len(l.layout) {
			t, err := time.ParseInLocation(l.layout, v, vietnam)
			if err != nil {
				return r, errorString("malformed date " + strconv.Quote(v))
			}
			r.lo, r.hi = t, l.next(t)
			return r, nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return r, errorString("malformed date or dateTime " + strconv.Quote(v) + " (a time needs seconds and an offset, e.g. 2026-03-02T08:00:00+07:00)")
	}
	r.lo = t
	r.hi = t.Add(precision(v))
	return r, nil
}

// precision is the span a dateTime's written precision covers: one
// second, or one unit of its last fractional digit.
func precision(v string) time.Duration {
	dot := strings.IndexByte(v, '.')
	if dot < 0 {
		return time.Second
	}
	digits := 0
	for _, c := range v[dot+1:] {
		if c < '0' || c > '9' {
			break
		}
		digits++
	}
	d := time.Second
	for range min(digits, 9) {
		d /= 10
	}
	return d
}

type errorString string

func (e errorString) Error() string { return string(e) }

// Refs returns the values of a reference parameter (every alternative of
// every repeat), as given.
func (s *Search) Refs(name string) []string {
	var out []string
	for _, c := range s.conds {
		if c.name == name {
			out = append(out, c.values...)
		}
	}
	return out
}

// Has reports whether the search uses parameter name.
func (s *Search) Has(name string) bool {
	for _, c := range s.conds {
		if c.name == name {
			return true
		}
	}
	return false
}

// Bounds returns the interval a date parameter allows, intersecting its
// repeats: lo inclusive, hi exclusive; zero for an open end. ok is false
// when the parameter is absent or uses ne or several alternatives.
func (s *Search) Bounds(name string) (lo, hi time.Time, ok bool) {
	for _, c := range s.conds {
		if c.name != name {
			continue
		}
		if len(c.ranges) != 1 || c.ranges[0].prefix == "ne" {
			return time.Time{}, time.Time{}, false
		}
		r := c.ranges[0]
		var l, h time.Time
		switch r.prefix {
		case "eq":
			l, h = r.lo, r.hi
		case "gt":
			l = r.hi
		case "ge":
			l = r.lo
		case "lt":
			h = r.lo
		case "le":
			h = r.hi
		}
		if !l.IsZero() && (lo.IsZero() || l.After(lo)) {
			lo = l
		}
		if !h.IsZero() && (hi.IsZero() || h.Before(hi)) {
			hi = h
		}
		ok = true
	}
	return lo, hi, ok
}

// RefID returns the id a reference value names when it names typ ("Type/id",
// a URL ending so, or a bare id); ok is false for another type.
func RefID(v, typ string) (id string, ok bool) {
	parts := strings.Split(v, "/")
	switch {
	case len(parts) == 1:
		return v, true
	case parts[len(parts)-2] == typ:
		return parts[len(parts)-1], true
	}
	return "", false
}
