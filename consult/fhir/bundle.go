package fhir

import (
	"net/url"
	"time"
)

// SearchBundle is the searchset Bundle of one page: entries with fullUrl
// under baseURL (the server's FHIR base, e.g. "http://host/fhir"), self
// and next links, and total when the whole result is this page.
func SearchBundle(baseURL string, s *Search, items []Item, next string) *Bundle {
	b := &Bundle{base: base{ResourceType: "Bundle"}, Type: "searchset", Timestamp: instant(time.Now())}
	if s.First() && next == "" {
		n := len(items)
		b.Total = &n
	}
	self := cloneValues(s.query)
	if s.cursor != "" {
		self.Set("_cursor", s.cursor)
	}
	b.Link = []BundleLink{{Relation: "self", URL: link(baseURL+"/"+s.Type, self)}}
	if next != "" {
		q := cloneValues(s.query)
		q.Set("_cursor", next)
		b.Link = append(b.Link, BundleLink{Relation: "next", URL: link(baseURL+"/"+s.Type, q)})
	}
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
