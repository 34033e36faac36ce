package fhir

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
)

// DirectoryTypes are the mCSD resource types, in the order a system-level
// history lists types that changed at the same instant.
var DirectoryTypes = []string{"Organization", "Location", "HealthcareService", "Practitioner", "PractitionerRole", "Endpoint"}

// historyTypes are the types with change times (built from facilities and
// health workers); province Organizations and Endpoints come from the
// membership and have none, so they are in searches but not in histories.
var historyTypes = []string{"Organization", "Location", "HealthcareService", "Practitioner", "PractitionerRole"}

// Directory is the mCSD view of a node's federated directory for one
// request.
type Directory struct {
	Dir     *directory.Service
	Members []Member // current members (not left, not revoked), this node included
	BaseURL string   // this node's FHIR base, for its FHIR Endpoint
}

func (d *Directory) self() (Member, bool) {
	for _, m := range d.Members {
		if m.Self {
			return m, true
		}
	}
	return Member{}, false
}

// members sorted by province code, then peer.
func (d *Directory) sortedMembers() []Member {
	ms := slices.Clone(d.Members)
	slices.SortFunc(ms, func(a, b Member) int {
		if c := strings.Compare(a.Province, b.Province); c != 0 {
			return c
		}
		return strings.Compare(a.Peer, b.Peer)
	})
	return ms
}

// Source returns the items of a directory type, in key order.
func (d *Directory) Source(typ string) (Source, error) { return d.source(typ, directory.ScanFilter{}) }

// SourceFor returns the items a search on a directory type may match: the
// directory skips, before decoding, records its parameters rule out (see
// scanFilter).
func (d *Directory) SourceFor(s *Search) (Source, error) { return d.source(s.Type, scanFilter(s)) }

// source yields a type's items; facilities and health workers are
// narrowed by f.
func (d *Directory) source(typ string, sf directory.ScanFilter) (Source, error) {
	facilities := func(after string, fn func(*directory.Facility, time.Time) bool) error {
		return d.Dir.ScanFacilities(sf, after, func(f directory.Facility, t time.Time) bool { return fn(&f, t) })
	}
	facilitySource := func(mk func(*directory.Facility, time.Time) Resource) Source {
		return func(after string, yield func(Item) bool) error {
			return facilities(after, func(f *directory.Facility, t time.Time) bool {
				return yield(Item{Key: f.ID, Res: mk(f, t), Changed: t})
			})
		}
	}
	practitionerSource := func(mk func(*directory.Practitioner, time.Time) Resource) Source {
		return func(after string, yield func(Item) bool) error {
			return d.Dir.ScanPractitioners(sf, after, func(p directory.Practitioner, t time.Time) bool {
				return yield(Item{Key: p.ID, Res: mk(&p, t), Changed: t})
			})
		}
	}
	switch typ {
	case "Organization":
		return func(after string, yield func(Item) bool) error {
			if after < "1/" {
				seen := map[string]bool{}
				for _, m := range d.sortedMembers() {
					key := "0/" + m.Province
					if seen[m.Province] || key <= after {
						continue
					}
					seen[m.Province] = true
					if !yield(Item{Key: key, Res: ProvinceOrganization(m)}) {
						return nil
					}
				}
				after = ""
			} else {
				after = strings.TrimPrefix(after, "1/")
			}
			return facilities(after, func(f *directory.Facility, t time.Time) bool {
				return yield(Item{Key: "1/" + f.ID, Res: FacilityOrganization(f, t), Changed: t})
			})
		}, nil
	case "Location":
		return facilitySource(func(f *directory.Facility, t time.Time) Resource { return FacilityLocation(f, t) }), nil
	case "HealthcareService":
		return facilitySource(func(f *directory.Facility, t time.Time) Resource { return FacilityService(f, t) }), nil
	case "Practitioner":
		return practitionerSource(func(p *directory.Practitioner, t time.Time) Resource { return PractitionerResource(p, t) }), nil
	case "PractitionerRole":
		return practitionerSource(func(p *directory.Practitioner, t time.Time) Resource { return PractitionerRoleResource(p, t) }), nil
	case "Endpoint":
		return func(after string, yield func(Item) bool) error {
			var items []Item
			if self, ok := d.self(); ok && d.BaseURL != "" {
				items = append(items, Item{Key: "0", Res: FHIREndpoint(self, d.BaseURL)})
			}
			for _, m := range d.sortedMembers() {
				items = append(items, Item{Key: "1/" + m.Peer, Res: NodeEndpoint(m)})
			}
			for _, it := range items {
				if it.Key > after && !yield(it) {
					return nil
				}
			}
			return nil
		}, nil
	}
	return nil, Errorf(http.StatusNotFound, "not-supported", "resource type %.40q is not served here", typ)
}

// Read returns one directory resource by its FHIR id, or a 404 *Error.
func (d *Directory) Read(typ, id string) (Resource, error) {
	notFound := Errorf(http.StatusNotFound, "not-found", "%s/%.80s is not known here", typ, id)
	if !validFHIRID(id) {
		return nil, notFound
	}
	ours := FromID(id)
	switch typ {
	case "Organization":
		if strings.HasPrefix(id, provinceOrgPrefix) && !strings.Contains(id, "-") {
			for _, m := range d.Members {
				if ProvinceOrgID(m.Province) == id {
					return ProvinceOrganization(m), nil
				}
			}
			return nil, notFound
		}
		f, t, err := d.Dir.FacilityChanged(ours)
		if err != nil {
			return nil, domainErr(err, notFound)
		}
		return FacilityOrganization(&f, t), nil
	case "Location", "HealthcareService":
		f, t, err := d.Dir.FacilityChanged(ours)
		if err != nil {
			return nil, domainErr(err, notFound)
		}
		if typ == "Location" {
			return FacilityLocation(&f, t), nil
		}
		return FacilityService(&f, t), nil
	case "Practitioner", "PractitionerRole":
		p, t, err := d.Dir.PractitionerChanged(ours)
		if err != nil {
			return nil, domainErr(err, notFound)
		}
		if typ == "Practitioner" {
			return PractitionerResource(&p, t), nil
		}
		return PractitionerRoleResource(&p, t), nil
	case "Endpoint":
		src, _ := d.Source("Endpoint")
		var found Resource
		_ = src("", func(it Item) bool {
			if IDOf(it.Res) == id {
				found = it.Res
				return false
			}
			return true
		})
		if found == nil {
			return nil, notFound
		}
		return found, nil
	}
	return nil, Errorf(http.StatusNotFound, "not-supported", "resource type %.40q is not served here", typ)
}

// domainErr turns a domain not-found error into notFound and passes other
// errors on (the caller reports them as internal).
func domainErr(err error, notFound *Error) error {
	if ce, ok := err.(*consult.Error); ok && ce.Kind == consult.ErrNotFound {
		return notFound
	}
	return err
}

// History is a parsed _history request.
type History struct {
	Types  []string
	Since  time.Time // zero: from the beginning
	Count  int
	after  string
	cursor string
	query  url.Values
	hash   string
	path   string // "Organization/_history" or "_history"
}

// ParseHistory checks the query of a history request on typ ("" for the
// system-level history): _since, _count, _cursor, _format and _pretty.
func ParseHistory(typ string, q url.Values) (*History, error) {
	h := &History{Count: DefaultCount, query: url.Values{}}
	switch {
	case typ == "":
		h.Types, h.path = historyTypes, "_history"
	case slices.Contains(DirectoryTypes, typ):
		h.Types, h.path = []string{typ}, typ+"/_history"
		if !slices.Contains(historyTypes, typ) {
			h.Types = nil // Endpoints keep no change times: an empty history
		}
	default:
		return nil, Errorf(http.StatusNotFound, "not-supported", "no history of %.40q here; histories: %s and the system level",
			typ, strings.Join(DirectoryTypes, ", "))
	}
	for key, vals := range q {
		name, modifier, _ := strings.Cut(key, ":")
		if modifier != "" || len(vals) != 1 {
			return nil, invalid("%s takes one value and no modifier", name)
		}
		v := vals[0]
		switch name {
		case "_since":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, invalid("_since must be an instant with an offset, e.g. 2026-03-02T08:00:00Z")
			}
			h.Since = t
			h.query[key] = vals
		case "_count":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxCount {
				return nil, invalid("_count must be a whole number from 1 to %d", MaxCount)
			}
			h.Count = n
			h.query[key] = vals
		case "_cursor":
			h.cursor = v
		case "_format", "_pretty":
			if err := checkFormat(name, "", vals); err != nil {
				return nil, err
			}
			h.query[key] = vals
		default:
			return nil, invalid("unknown history parameter %.60q; supported: _since, _count, _cursor, _format, _pretty", key)
		}
	}
	h.hash = queryHash(h.path, h.query)
	if h.cursor != "" {
		after, err := decodeCursor(h.cursor, h.hash)
		if err != nil {
			return nil, err
		}
		h.after = after
	}
	return h, nil
}

// historyKey orders a history: by change time, then type, then id.
func historyKey(t time.Time, typ, id string) string {
	return fmt.Sprintf("%020d/%d/%s", t.UnixNano(), slices.Index(DirectoryTypes, typ), id)
}

// History returns one page of the directory's history: every resource of
// h.Types changed at or after h.Since, oldest change first, each as its
// current version (a PUT entry), and every one deleted since then and not
// stored again (a DELETE entry without a resource; the directory's
// deletion marks, directory.ScanDeleted).
func (d *Directory) History(baseURL string, h *History) (*Bundle, error) {
	type histItem struct {
		Item
		rel string // Type/id; Res is nil for a deletion
	}
	var items []histItem
	add := func(typ string, t time.Time, id string, mk func() Resource) {
		if key := historyKey(t, typ, id); key > h.after {
			var res Resource
			if mk != nil {
				res = mk()
			}
			items = append(items, histItem{Item: Item{Key: key, Res: res, Changed: t}, rel: typ + "/" + id})
		}
	}
	gone := func(facilities bool, types []string) error {
		return d.Dir.ScanDeleted(facilities, h.Since, func(del directory.Deletion) bool {
			for _, typ := range types {
				add(typ, del.At, ToID(del.ID), nil)
			}
			return true
		})
	}
	want := func(types ...string) (out []string) {
		for _, t := range types {
			if slices.Contains(h.Types, t) {
				out = append(out, t)
			}
		}
		return out
	}
	if ft := want("Organization", "Location", "HealthcareService"); len(ft) > 0 {
		err := d.Dir.ScanFacilities(directory.ScanFilter{Since: h.Since}, "", func(f directory.Facility, t time.Time) bool {
			if t.IsZero() || t.Before(h.Since) {
				return true
			}
			for _, typ := range ft {
				add(typ, t, ToID(f.ID), func() Resource {
					switch typ {
					case "Organization":
						return FacilityOrganization(&f, t)
					case "Location":
						return FacilityLocation(&f, t)
					}
					return FacilityService(&f, t)
				})
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		if err := gone(true, ft); err != nil {
			return nil, err
		}
	}
	if pt := want("Practitioner", "PractitionerRole"); len(pt) > 0 {
		err := d.Dir.ScanPractitioners(directory.ScanFilter{Since: h.Since}, "", func(p directory.Practitioner, t time.Time) bool {
			if t.IsZero() || t.Before(h.Since) {
				return true
			}
			for _, typ := range pt {
				add(typ, t, ToID(p.ID), func() Resource {
					if typ == "Practitioner" {
						return PractitionerResource(&p, t)
					}
					return PractitionerRoleResource(&p, t)
				})
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		if err := gone(false, pt); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(items, func(a, b histItem) int { return strings.Compare(a.Key, b.Key) })
	next := ""
	if len(items) > h.Count {
		items = items[:h.Count]
		next = encodeCursor(items[len(items)-1].Key, h.hash)
	}
	b := newPage("history", baseURL+"/"+h.path, h.query, h.cursor, next, h.cursor == "", len(items))
	for _, it := range items {
		if it.Res == nil {
			b.Entry = append(b.Entry, BundleEntry{FullURL: baseURL + "/" + it.rel,
				Request:  &BundleRequest{Method: "DELETE", URL: it.rel},
				Response: &BundleResponse{Status: "204 No Content", LastModified: instant(it.Changed)}})
			continue
		}
		b.Entry = append(b.Entry, BundleEntry{FullURL: baseURL + "/" + it.rel, Resource: it.Res,
			Request:  &BundleRequest{Method: "PUT", URL: it.rel},
			Response: &BundleResponse{Status: "200 OK", LastModified: instant(it.Changed)}})
	}
	return b, nil
}

// provinceHint returns the one province a search's parameters confine a
// facility or health-worker scan to, or "" when they do not: partof naming
// province departments, organization or location naming facilities,
// practitioner or _id naming records, all of one province. Records of
// every other province cannot match, so the scan skips them; the search's
// conditions still decide every match.
func provinceHint(s *Search) string {
	hint := ""
	agree := func(p string) bool {
		if p == "" || hint != "" && hint != p {
			return false
		}
		hint = p
		return true
	}
	for _, c := range s.conds {
		switch c.name {
		case "partof", "organization", "location", "practitioner", "_id":
		default:
			continue
		}
		for _, v := range c.values {
			id := v
			if c.def.kind == kindReference {
				var ok bool
				if id, ok = RefID(v, c.def.target); !ok {
					return "" // another type: let the conditions decide
				}
			}
			var p string
			if rest, ok := strings.CutPrefix(id, provinceOrgPrefix); ok && c.name == "partof" {
				p = FromID(rest)
			} else if i := strings.IndexByte(id, '-'); i > 0 && !strings.HasPrefix(id, provinceOrgPrefix) {
				p = FromID(id[:i])
			}
			if !agree(p) {
				return ""
			}
		}
	}
	if !directory.ValidProvinceCode(hint) {
		return ""
	}
	return hint
}

// scanFilter is what the directory can check on stored bytes for a
// search: the province (provinceHint), one folded text every match's
// search text contains (the longest name or commune condition with one
// value), one
// specialty or facility level a match must list, and the earliest change
// time _lastUpdated allows. It only ever skips records that cannot match.
func scanFilter(s *Search) directory.ScanFilter {
	f := directory.ScanFilter{Province: provinceHint(s)}
	for _, c := range s.conds {
		if len(c.values) != 1 {
			continue
		}
		v := c.values[0]
		switch c.name {
		case "name", "address-city":
			// Facilities' search text holds name, English name and
			// commune; health workers' their name.
			if s.Type == "Endpoint" || s.Type == "PractitionerRole" {
				continue
			}
			if c.name == "address-city" && (s.Type == "Practitioner" || s.Type == "HealthcareService") {
				continue
			}
			if c.modifier == "exact" {
				v = directory.Fold(v)
			}
			if len(v) > len(f.Text) { // the longest text is the most selective
				f.Text = v
			}
		case "specialty":
			if code, ok := ourCode(v, CSSpecialty); ok && consult.ValidSpecialty(code) {
				f.Specialty = code
			}
		case "type", "service-category":
			if s.Type == "Endpoint" {
				continue
			}
			if code, ok := ourCode(v, CSFacilityLevel); ok && consult.ValidLevel(consult.Level(code)) {
				f.Level = consult.Level(code)
			}
		}
	}
	if lo, _, ok := s.Bounds("_lastUpdated"); ok {
		f.Since = lo
	}
	return f
}

// ourCode reads a token value as a code of system: "code" or
// "system|code".
func ourCode(v, system string) (string, bool) {
	sys, code, hasSystem := strings.Cut(v, "|")
	if !hasSystem {
		return v, true
	}
	return code, sys == system
}
