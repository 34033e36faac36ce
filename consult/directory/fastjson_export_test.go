package directory

import (
	"encoding/json"
	"reflect"
	"slices"
	"time"
)

// Test-only access to the fast JSON paths and to the encoding/json path
// they must agree with, for the differential tests of package
// directory_test (which can use package sample: this package cannot).

// FastDecodePractitioner is the fast decoder remotePractitioner tries
// first.
func FastDecodePractitioner(payload []byte) (Practitioner, bool) {
	return decodePractitionerFast(payload)
}

// JSONDecodePractitioner decodes payload the way remotePractitioner did
// before the fast decoder, and does when it declines.
func JSONDecodePractitioner(payload []byte) (Practitioner, error) {
	var p Practitioner
	err := decodeRemote(KindPractitioner, "key", payload, &p)
	return p, err
}

// FastEncodeStoredPractitioner is the fast encoder PrepareRemote tries
// first, for the stored form of p.
func FastEncodeStoredPractitioner(search string, p Practitioner, applied time.Time) ([]byte, bool) {
	return appendStoredPractitioner(nil, &storedPractitioner{Search: search, Practitioner: p, Applied: applied})
}

// JSONEncodeStoredPractitioner is json.Marshal of the stored form of p.
func JSONEncodeStoredPractitioner(search string, p Practitioner, applied time.Time) ([]byte, error) {
	return json.Marshal(&storedPractitioner{Search: search, Practitioner: p, Applied: applied})
}

// FastPrepareBody is the part of PrepareRemote that the fast paths
// changed, for a health worker of province: decoding, checks and
// encoding.
func FastPrepareBody(key, province string, payload []byte) ([]byte, error) {
	sp, err := remotePractitioner(key, province, payload)
	if err != nil {
		return nil, err
	}
	return encodeRecord(sp)
}

// JSONPrepareBody is FastPrepareBody as it was before the fast paths:
// encoding/json both ways, with the same checks. For a record it accepts,
// it also returns the stored record's Search and Practitioner.
func JSONPrepareBody(key, province string, payload []byte) (body []byte, search string, stored Practitioner, err error) {
	var p Practitioner
	if err := decodeRemote(KindPractitioner, key, payload, &p); err != nil {
		return nil, "", p, err
	}
	return JSONStoreBody(key, province, p)
}

// JSONStoreBody is JSONPrepareBody after decoding, for p as decoded.
func JSONStoreBody(key, province string, p Practitioner) (body []byte, search string, stored Practitioner, err error) {
	p.Specialties = slices.Clone(p.Specialties) // the checks rewrite them
	p.Languages = slices.Clone(p.Languages)
	sp, err := checkRemotePractitioner(key, province, &p)
	if err != nil {
		return nil, "", p, err
	}
	body, err = json.Marshal(sp)
	return body, sp.Search, sp.Practitioner, err
}

// PreparedBody is the stored record's bytes that c holds.
func PreparedBody(c *RemoteChange) []byte { return c.body }

// StoredPractitionerFields lists the fields of the stored health worker,
// embedded ones flattened, as "Name type `tag`".
func StoredPractitionerFields() []string {
	var out []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for f := range t.Fields() {
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			out = append(out, f.Name+" "+f.Type.String()+" `"+string(f.Tag)+"`")
		}
	}
	walk(reflect.TypeFor[storedPractitioner]())
	return out
}

// FoldSlow is Fold by its definition, without the fast path's tables.
var FoldSlow = foldSlow
