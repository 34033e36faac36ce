package fhir

import (
	"net/url"
	"time"
)

// SearchBundle is the searchset Bundle of one page: entries with fullUrl
// under baseURL (the server's FHIR base, e.g. "http://host/fhir"), self
// and next links, and total when the whole result is this page.
func SearchBundle(baseURL string, s *Search, items []Item, next string) *Bundle {
	b := newPage("searchset", baseURL+"/"+s.Type, s.query, s.cursor, next, s.First(), len(items))
	for _, it := range items {
		b.Entry = append(b.Entry, BundleEntry{FullURL: FullURL(baseURL, it.Res), Resource: it.Res,
			Search: &BundleSearch{Mode: "match"}})
	}
	return b
}

// FullURL is a resource's absolute URL under baseURL.
func FullURL(baseURL string, r Resource) string {
	return baseURL + "/" + TypeOf(r) + "/" + IDOf(r)
}

func link(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// newPage starts a Bundle of type typ that is one page of a paged answer
// at (a URL): self and next links (query plus the _cursor of this page and of
// the next), and total when this page is the whole answer (first is the
// first page and there is no next).
func newPage(typ, at string, query url.Values, cursor, next string, first bool, n int) *Bundle {
	b := &Bundle{base: base{ResourceType: "Bundle"}, Type: typ, Timestamp: instant(time.Now())}
	if first && next == "" {
		b.Total = &n
	}
	self := cloneValues(query)
	if cursor != "" {
		self.Set("_cursor", cursor)
	}
	b.Link = []BundleLink{{Relation: "self", URL: link(at, self)}}
	if next != "" {
		q := cloneValues(query)
		q.Set("_cursor", next)
		b.Link = append(b.Link, BundleLink{Relation: "next", URL: link(at, q)})
	}
	return b
}
