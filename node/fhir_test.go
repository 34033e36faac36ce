package node_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/fhir"
	"github.com/moinha/moinha/internal/fhirvalid"
)

// fhirDoc is the part of a FHIR document the tests read generically.
type fhirDoc struct {
	ResourceType string          `json:"resourceType"`
	ID           string          `json:"id"`
	RawType      json.RawMessage `json:"type"` // a Bundle's type; an array in directory resources
	Type         string          `json:"-"`
	Total        *int            `json:"total"`
	Link         []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Request  *struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"request"`
		Response *struct {
			Status string `json:"status"`
		} `json:"response"`
	} `json:"entry"`
	Issue []struct {
		Severity    string `json:"severity"`
		Code        string `json:"code"`
		Diagnostics string `json:"diagnostics"`
	} `json:"issue"`
}

// fhirClient fetches FHIR documents from a node as one user and runs every
// answer through the independent R4 validator.
type fhirClient struct {
	t     *testing.T
	tn    *testNode
	v     *fhirvalid.Validator
	token string
}

func newFHIRClient(t *testing.T, tn *testNode, token string) *fhirClient {
	t.Helper()
	return &fhirClient{t: t, tn: tn, v: fhirvalid.ForTest(t), token: token}
}

// get fetches path (under the node's URL) and checks the answer is FHIR
// JSON that the validator accepts.
func (c *fhirClient) get(path string) (int, fhirDoc, []byte) {
	c.t.Helper()
	return c.send("GET", path)
}

func (c *fhirClient) send(method, path string) (int, fhirDoc, []byte) {
	c.t.Helper()
	r := c.tn.do(c.t, req{method: method, path: path, token: c.token})
	require.Contains(c.t, r.header.Get("Content-Type"), "application/fhir+json", "%s %s: %s", method, path, r.body)
	require.NoError(c.t, c.v.Validate(r.body), "%s %s: %s", method, path, r.body)
	var d fhirDoc
	require.NoError(c.t, json.Unmarshal(r.body, &d))
	_ = json.Unmarshal(d.RawType, &d.Type)
	return r.status, d, r.body
}

// ok fetches path and requires 200 and resourceType typ.
func (c *fhirClient) ok(path, typ string) fhirDoc {
	c.t.Helper()
	st, d, body := c.get(path)
	require.Equal(c.t, http.StatusOK, st, "GET %s: %s", path, body)
	require.Equal(c.t, typ, d.ResourceType)
	return d
}

// outcome fetches path and requires an OperationOutcome with status and
// issue code.
func (c *fhirClient) outcome(method, path string, status int, code string) {
	c.t.Helper()
	st, d, body := c.send(method, path)
	assert.Equal(c.t, status, st, "%s %s: %s", method, path, body)
	require.Equal(c.t, "OperationOutcome", d.ResourceType, "%s %s: %s", method, path, body)
	require.NotEmpty(c.t, d.Issue)
	assert.Equal(c.t, code, d.Issue[0].Code, "%s %s: %s", method, path, body)
	assert.Equal(c.t, "error", d.Issue[0].Severity)
	assert.NotContains(c.t, string(body), `"entry"`)
}

// walk follows a search's next links to the end and returns every entry's
// "Type/id", failing on a page larger than count.
func (c *fhirClient) walk(path string, count int) []string {
	c.t.Helper()
	var ids []string
	pages := 0
	for path != "" {
		d := c.ok(path, "Bundle")
		require.LessOrEqual(c.t, len(d.Entry), count)
		pages++
		require.Less(c.t, pages, 10000)
		for _, e := range d.Entry {
			if len(e.Resource) == 0 { // a history's deletion
				require.NotNil(c.t, e.Request, "an entry without a resource is a deletion")
				require.Equal(c.t, "DELETE", e.Request.Method)
				require.NotNil(c.t, e.Response)
				assert.Equal(c.t, "204 No Content", e.Response.Status)
				ids = append(ids, "DELETE "+e.Request.URL)
				assert.True(c.t, strings.HasSuffix(e.FullURL, "/fhir/"+e.Request.URL), e.FullURL)
				continue
			}
			var head fhirDoc
			require.NoError(c.t, json.Unmarshal(e.Resource, &head))
			ids = append(ids, head.ResourceType+"/"+head.ID)
			assert.True(c.t, strings.HasSuffix(e.FullURL, "/fhir/"+head.ResourceType+"/"+head.ID), e.FullURL)
		}
		path = ""
		for _, l := range d.Link {
			if l.Relation == "next" {
				u, err := url.Parse(l.URL)
				require.NoError(c.t, err)
				path = u.RequestURI()
			}
		}
	}
	return ids
}

// onceEach fails unless got holds every element of want exactly once and
// nothing else.
func onceEach(t *testing.T, want, got []string, what string) {
	t.Helper()
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	for g, n := range seen {
		assert.Equal(t, 1, n, "%s: %s listed %d times", what, g, n)
	}
	w, g := append([]string{}, want...), append([]string{}, slices.Compact(slices.Sorted(slices.Values(got)))...)
	sort.Strings(w)
	assert.Equal(t, w, g, what)
}

func allFacilities(t *testing.T, tn *testNode) []directory.Facility {
	t.Helper()
	var out []directory.Facility
	cursor := ""
	for {
		page, next, err := tn.Directory().ListFacilities(directory.FacilityFilter{}, 500, cursor)
		require.NoError(t, err)
		out = append(out, page...)
		if next == "" {
			return out
		}
		cursor = next
	}
}

func allPractitioners(t *testing.T, tn *testNode) []directory.Practitioner {
	t.Helper()
	var out []directory.Practitioner
	cursor := ""
	for {
		page, next, err := tn.Directory().ListPractitioners(directory.PractitionerFilter{}, 500, cursor)
		require.NoError(t, err)
		out = append(out, page...)
		if next == "" {
			return out
		}
		cursor = next
	}
}

func fhirID(id string) string { return strings.ReplaceAll(id, "_", ".") }

func ids[T any](typ string, list []T, id func(T) string, keep func(T) bool) []string {
	out := []string{}
	for _, x := range list {
		if keep == nil || keep(x) {
			out = append(out, typ+"/"+fhirID(id(x)))
		}
	}
	return out
}

func TestFHIRMetadata(t *testing.T) {
	tn := newTestNode(t)
	c := newFHIRClient(t, tn, "") // no login: metadata is public
	var cs struct {
		FHIRVersion string `json:"fhirVersion"`
		Rest        []struct {
			Resource []struct {
				Type        string `json:"type"`
				SearchParam []struct {
					Name string `json:"name"`
				} `json:"searchParam"`
				Interaction []struct {
					Code string `json:"code"`
				} `json:"interaction"`
			} `json:"resource"`
		} `json:"rest"`
	}
	_, _, body := c.get("/fhir/metadata")
	require.NoError(t, json.Unmarshal(body, &cs))
	assert.Equal(t, fhir.FHIRVersion, cs.FHIRVersion)
	assert.True(t, strings.HasPrefix(cs.FHIRVersion, "4.0."), "R4")
	require.Len(t, cs.Rest, 1)
	var types []string
	for _, r := range cs.Rest[0].Resource {
		types = append(types, r.Type)
		if r.Type == "Organization" {
			var names []string
			for _, p := range r.SearchParam {
				names = append(names, p.Name)
			}
			assert.Subset(t, names, []string{"name", "type", "partof", "address-city", "address-state", "_lastUpdated", "_id"})
		}
	}
	assert.ElementsMatch(t, []string{"Appointment", "Endpoint", "HealthcareService", "Location", "Organization",
		"Practitioner", "PractitionerRole", "Schedule", "ServiceRequest", "Slot", "Task"}, types)
	c.ok("/fhir/metadata?_format=json", "CapabilityStatement")
	c.outcome("GET", "/fhir/metadata?_format=xml", http.StatusNotAcceptable, "not-supported")
}

// TestFHIRDirectoryPaging walks every directory type in small pages: every
// page passes the validator, and every record of the directory appears
// exactly once.
func TestFHIRDirectoryPaging(t *testing.T) {
	tn := newTestNode(t)
	c := newFHIRClient(t, tn, tn.login(t, "doctor"))
	facs, pracs := allFacilities(t, tn), allPractitioners(t, tn)
	require.NotEmpty(t, facs)
	require.NotEmpty(t, pracs)
	facID := func(f directory.Facility) string { return f.ID }
	pracID := func(p directory.Practitioner) string { return p.ID }

	orgs := append(ids("Organization", facs, facID, nil), "Organization/province.66")
	onceEach(t, orgs, c.walk("/fhir/Organization?_count=7", 7), "Organization")
	onceEach(t, ids("Location", facs, facID, nil), c.walk("/fhir/Location?_count=13", 13), "Location")
	onceEach(t, ids("HealthcareService", facs, facID, nil), c.walk("/fhir/HealthcareService?_count=200", 200), "HealthcareService")
	onceEach(t, ids("Practitioner", pracs, pracID, nil), c.walk("/fhir/Practitioner?_count=11", 11), "Practitioner")
	onceEach(t, ids("PractitionerRole", pracs, pracID, nil), c.walk("/fhir/PractitionerRole", 50), "PractitionerRole")
	onceEach(t, []string{"Endpoint/fhir-base", "Endpoint/node." + tn.PeerID()}, c.walk("/fhir/Endpoint?_count=1", 1), "Endpoint")

	// One page that holds everything carries the total.
	d := c.ok("/fhir/Location?_count=200&type=provincial_hospital", "Bundle")
	require.NotNil(t, d.Total)
	assert.Equal(t, len(d.Entry), *d.Total)

	// Every resource reads on its own, and the read validates.
	f, p := facs[len(facs)/2], pracs[len(pracs)/2]
	for _, path := range []string{
		"/fhir/Organization/" + fhirID(f.ID), "/fhir/Location/" + fhirID(f.ID), "/fhir/HealthcareService/" + fhirID(f.ID),
		"/fhir/Practitioner/" + fhirID(p.ID), "/fhir/PractitionerRole/" + fhirID(p.ID),
		"/fhir/Organization/province.66", "/fhir/Endpoint/fhir-base", "/fhir/Endpoint/node." + tn.PeerID(),
	} {
		typ := strings.Split(path, "/")[2]
		d := c.ok(path+"?_pretty=true", typ)
		assert.Equal(t, path[strings.LastIndexByte(path, '/')+1:], d.ID)
	}
	var org struct {
		Name       string   `json:"name"`
		Alias      []string `json:"alias"`
		Identifier []struct {
			System, Value string
		} `json:"identifier"`
		PartOf struct {
			Reference string `json:"reference"`
		} `json:"partOf"`
	}
	_, _, body := c.get("/fhir/Organization/" + fhirID(f.ID))
	require.NoError(t, json.Unmarshal(body, &org))
	assert.Equal(t, f.Name, org.Name)
	assert.Equal(t, "Organization/province.66", org.PartOf.Reference)
	assert.Contains(t, org.Identifier, struct{ System, Value string }{"https://moinha.vn/fhir/sid/facility-code", f.Code})
	assert.Contains(t, string(body), `"code":"`+string(f.Level)+`"`)
}

// TestFHIRSearchFilters checks each search parameter against the
// directory's own records.
func TestFHIRSearchFilters(t *testing.T) {
	tn := newTestNode(t)
	c := newFHIRClient(t, tn, tn.login(t, "staff"))
	facs, pracs := allFacilities(t, tn), allPractitioners(t, tn)
	facID := func(f directory.Facility) string { return f.ID }
	pracID := func(p directory.Practitioner) string { return p.ID }
	some := facs[len(facs)/3]

	// name: diacritic- and case-insensitive, from the start of a word.
	word := strings.Fields(some.Name)[len(strings.Fields(some.Name))-1]
	folded := directory.Fold(word)
	byName := func(f directory.Facility) bool {
		n := directory.Fold(f.Name)
		e := directory.Fold(f.NameEN)
		return strings.HasPrefix(n, folded) || strings.Contains(n, " "+folded) ||
			strings.HasPrefix(e, folded) || strings.Contains(e, " "+folded)
	}
	got := c.walk("/fhir/Organization?name="+url.QueryEscape(strings.ToUpper(folded))+"&_count=200", 200)
	want := ids("Organization", facs, facID, byName)
	require.NotEmpty(t, want)
	onceEach(t, want, got, "Organization?name="+folded)
	got = c.walk("/fhir/Location?name:exact="+url.QueryEscape(some.Name), 50)
	onceEach(t, ids("Location", facs, facID, func(f directory.Facility) bool { return f.Name == some.Name }), got, "name:exact")

	// type: the facility level, with or without its system.
	lvl := func(l consult.Level) func(directory.Facility) bool {
		return func(f directory.Facility) bool { return f.Level == l }
	}
	onceEach(t, ids("Organization", facs, facID, lvl(consult.HealthCentre)),
		c.walk("/fhir/Organization?type=health_centre&_count=200", 200), "type")
	onceEach(t, ids("Location", facs, facID, func(f directory.Facility) bool {
		return f.Level == consult.HealthCentre || f.Level == consult.CommuneHealthStation
	}), c.walk("/fhir/Location?type="+url.QueryEscape("https://moinha.vn/fhir/CodeSystem/facility-level|health_centre,commune_health_station")+"&_count=200", 200), "type OR")
	onceEach(t, nil, c.walk("/fhir/Organization?type="+url.QueryEscape("http://example.org|health_centre"), 50), "type, other system")

	// partof: every facility is part of its province's health department.
	onceEach(t, ids("Organization", facs, facID, nil), c.walk("/fhir/Organization?partof=Organization/province.66&_count=200", 200), "partof")
	onceEach(t, nil, c.walk("/fhir/Organization?partof=province.01", 50), "partof another province")

	// address-city (the commune) and address-state (the province).
	onceEach(t, ids("Location", facs, facID, func(f directory.Facility) bool { return f.Commune == some.Commune }),
		c.walk("/fhir/Location?address-city:exact="+url.QueryEscape(some.Commune), 50), "address-city")
	onceEach(t, ids("Organization", facs, facID, nil),
		c.walk("/fhir/Organization?address-state=dak%20lak&partof=Organization/province.66&_count=200", 200), "address-state by name")
	onceEach(t, ids("Location", facs, facID, nil), c.walk("/fhir/Location?address-state=66&_count=200", 200), "address-state by code")

	// specialty and organization.
	var spec string
	for _, p := range pracs {
		if len(p.Specialties) > 0 && p.Specialties[0] != "general_practice" {
			spec = p.Specialties[0]
		}
	}
	require.NotEmpty(t, spec)
	hasSpec := func(list []string) bool { return slices.Contains(list, spec) }
	want = ids("HealthcareService", facs, facID, func(f directory.Facility) bool { return hasSpec(f.Specialties) })
	require.NotEmpty(t, want)
	onceEach(t, want, c.walk("/fhir/HealthcareService?specialty="+spec+"&_count=200", 200), "HealthcareService specialty")
	want = ids("PractitionerRole", pracs, pracID, func(p directory.Practitioner) bool { return hasSpec(p.Specialties) })
	require.NotEmpty(t, want)
	onceEach(t, want, c.walk("/fhir/PractitionerRole?specialty="+url.QueryEscape(spec)+"&_count=200", 200), "PractitionerRole specialty")
	staffed := pracs[0].Facility
	onceEach(t, ids("PractitionerRole", pracs, pracID, func(p directory.Practitioner) bool { return p.Facility == staffed }),
		c.walk("/fhir/PractitionerRole?organization=Organization/"+fhirID(staffed), 50), "PractitionerRole organization")
	onceEach(t, ids("HealthcareService", facs, facID, func(f directory.Facility) bool { return f.ID == staffed }),
		c.walk("/fhir/HealthcareService?organization="+fhirID(staffed), 50), "HealthcareService organization")

	// _id, with OR.
	two := []directory.Facility{facs[0], facs[len(facs)-1]}
	onceEach(t, ids("Location", two, facID, nil),
		c.walk("/fhir/Location?_id="+fhirID(two[0].ID)+","+fhirID(two[1].ID), 50), "_id")

	// _lastUpdated: only what changed since a moment.
	mark := time.Now().UTC()
	time.Sleep(2 * time.Millisecond) // the change must fall strictly after mark at ms precision
	changed := some
	changed.ID, changed.Updated = "", time.Time{}
	changed.Phone = "02623999999"
	_, err := tn.Directory().PutFacility(context.Background(), "test", changed)
	require.NoError(t, err)
	since := url.QueryEscape("ge" + mark.Format(time.RFC3339Nano))
	onceEach(t, []string{"Organization/" + fhirID(some.ID)}, c.walk("/fhir/Organization?_lastUpdated="+since, 50), "_lastUpdated ge")
	before := url.QueryEscape("lt" + mark.Format(time.RFC3339Nano))
	onceEach(t, ids("Location", facs, facID, func(f directory.Facility) bool { return f.ID != some.ID }),
		c.walk("/fhir/Location?_lastUpdated="+before+"&_count=200", 200), "_lastUpdated lt")
	day := url.QueryEscape(mark.In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly))
	assert.Contains(t, c.walk("/fhir/Location?_lastUpdated="+day+"&_count=200", 200), "Location/"+fhirID(some.ID), "_lastUpdated eq day")

	// A cursor belongs to its search.
	d := c.ok("/fhir/Location?_count=1", "Bundle")
	var next string
	for _, l := range d.Link {
		if l.Relation == "next" {
			u, _ := url.Parse(l.URL)
			next = u.Query().Get("_cursor")
		}
	}
	require.NotEmpty(t, next)
	c.outcome("GET", "/fhir/Location?type=health_centre&_cursor="+next, http.StatusBadRequest, "invalid")
	c.outcome("GET", "/fhir/Location?_cursor=bm90LWEtY3Vyc29y", http.StatusBadRequest, "invalid")
}

// TestFHIRErrors: every refusal is an OperationOutcome with the right
// issue code, never data.
func TestFHIRErrors(t *testing.T) {
	tn := newTestNode(t)
	_, err := tn.Accounts().AddUser(context.Background(), "test", "observer", "observer-password-1", consult.RoleObserver, "")
	require.NoError(t, err)
	tn.users["observer"] = "observer-password-1"
	anon := newFHIRClient(t, tn, "")
	anon.outcome("GET", "/fhir/Organization", http.StatusUnauthorized, "login")
	anon.outcome("GET", "/fhir/Practitioner/66-x", http.StatusUnauthorized, "login")
	anon.outcome("GET", "/fhir/_history", http.StatusUnauthorized, "login")
	anon.outcome("GET", "/fhir/Appointment?location=Location/66-x&date=2026-03-02", http.StatusUnauthorized, "login")
	anon.outcome("GET", "/fhir/Task", http.StatusUnauthorized, "login")

	obs := newFHIRClient(t, tn, tn.login(t, "observer"))
	obs.ok("/fhir/Organization?_count=1", "Bundle") // the directory is public to members' users
	obs.outcome("GET", "/fhir/Appointment?location=Location/66-x&date=2026-03-02", http.StatusForbidden, "forbidden")
	obs.outcome("GET", "/fhir/ServiceRequest", http.StatusForbidden, "forbidden")
	obs.outcome("GET", "/fhir/Task/66-r-aaaaaaaaaaaaaaaa", http.StatusForbidden, "forbidden")
	admin := newFHIRClient(t, tn, tn.login(t, "admin"))
	admin.outcome("GET", "/fhir/Task", http.StatusForbidden, "forbidden") // as the JSON API: clinicians only

	c := newFHIRClient(t, tn, tn.login(t, "doctor"))
	c.outcome("GET", "/fhir/Organization?colour=blue", http.StatusBadRequest, "invalid")
	c.outcome("GET", "/fhir/Organization?name:fuzzy=x", http.StatusBadRequest, "not-supported")
	c.outcome("GET", "/fhir/Organization?_count=0", http.StatusBadRequest, "invalid")
	c.outcome("GET", "/fhir/Organization?_count=201", http.StatusBadRequest, "invalid")
	c.outcome("GET", "/fhir/Organization?_count=x", http.StatusBadRequest, "invalid")
	c.outcome("GET", "/fhir/Organization?_lastUpdated=sa2026-01-01", http.StatusBadRequest, "invalid")
	c.outcome("GET", "/fhir/Organization?_lastUpdated=2026-13-01", http.StatusBadRequest, "invalid")
	c.outcome("GET", "/fhir/Organization?_format=xml", http.StatusNotAcceptable, "not-supported")
	c.outcome("GET", "/fhir/Organization/66-nope", http.StatusNotFound, "not-found")
	c.outcome("GET", "/fhir/Organization/bad_id!", http.StatusNotFound, "not-found")
	c.outcome("GET", "/fhir/Organization/province.99", http.StatusNotFound, "not-found")
	c.outcome("GET", "/fhir/Patient", http.StatusNotFound, "not-supported")
	c.outcome("GET", "/fhir/Organization/66-x/extra", http.StatusNotFound, "not-found")
	c.outcome("GET", "/fhir/_history?_since=yesterday", http.StatusBadRequest, "invalid")
	c.outcome("GET", "/fhir/_history?name=x", http.StatusBadRequest, "invalid")
	c.outcome("GET", "/fhir/Slot", http.StatusBadRequest, "required")
	c.outcome("GET", "/fhir/Appointment?location=Location/66-x", http.StatusNotFound, "not-found")
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		c.outcome(m, "/fhir/Organization", http.StatusMethodNotAllowed, "not-supported")
		c.outcome(m, "/fhir/Organization/66-x", http.StatusMethodNotAllowed, "not-supported")
	}
	c.outcome("POST", "/fhir", http.StatusMethodNotAllowed, "not-supported")

	// A stale or forged bearer token is refused by the middleware, before
	// any route: under /fhir that is an OperationOutcome too.
	forged := newFHIRClient(t, tn, "not-a-real-token")
	forged.outcome("GET", "/fhir/Organization", http.StatusUnauthorized, "login")
	forged.outcome("GET", "/fhir/Task", http.StatusUnauthorized, "login")
}

// TestFHIRObserverNode: an observer node serves the directory views, and
// its read-only guard answers writes under /fhir as OperationOutcomes.
func TestFHIRObserverNode(t *testing.T) {
	tn := newObserverNode(t)
	obs := newFHIRClient(t, tn, tn.login(t, "observer"))
	obs.ok("/fhir/Organization?_count=5", "Bundle")
	obs.outcome("GET", "/fhir/Task", http.StatusForbidden, "forbidden")
	admin := newFHIRClient(t, tn, tn.login(t, "admin"))
	before := snapshot(t, tn.DB())
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		admin.outcome(m, "/fhir/Organization", http.StatusForbidden, "forbidden")
		obs.outcome(m, "/fhir/Task/BYT-r-1", http.StatusForbidden, "forbidden")
	}
	assert.Equal(t, before, snapshot(t, tn.DB()), "a refused request changed nothing")
}

// TestFHIRHistory: _history?_since= returns what changed since, each
// resource once, oldest first, with request and response.
func TestFHIRHistory(t *testing.T) {
	tn := newTestNode(t)
	c := newFHIRClient(t, tn, tn.login(t, "doctor"))
	facs, pracs := allFacilities(t, tn), allPractitioners(t, tn)
	facID := func(f directory.Facility) string { return f.ID }
	pracID := func(p directory.Practitioner) string { return p.ID }

	// The whole history, paged: every directory resource once.
	var all []string
	for _, typ := range []string{"Organization", "Location", "HealthcareService"} {
		all = append(all, ids(typ, facs, facID, nil)...)
	}
	for _, typ := range []string{"Practitioner", "PractitionerRole"} {
		all = append(all, ids(typ, pracs, pracID, nil)...)
	}
	onceEach(t, all, c.walk("/fhir/_history?_count=200", 200), "system history")
	onceEach(t, ids("Location", facs, facID, nil), c.walk("/fhir/Location/_history?_count=9", 9), "Location history")
	onceEach(t, nil, c.walk("/fhir/Endpoint/_history", 50), "Endpoint history")

	// Later changes only, in order of change.
	mark := time.Now().UTC()
	time.Sleep(2 * time.Millisecond)
	a, b := facs[1], facs[2]
	for _, f := range []directory.Facility{b, a} {
		f.ID, f.Address = "", f.Address+" (mới)"
		_, err := tn.Directory().PutFacility(context.Background(), "test", f)
		require.NoError(t, err)
	}
	p := pracs[0]
	p.Scope = "Khám chữa bệnh nội khoa"
	_, err := tn.Directory().PutPractitioner(context.Background(), "test", p)
	require.NoError(t, err)
	gone := pracs[1]
	require.NoError(t, tn.Directory().DeletePractitioner(context.Background(), "test", gone.ID))

	since := url.QueryEscape(mark.Format(time.RFC3339Nano))
	d := c.ok("/fhir/Organization/_history?_since="+since, "Bundle")
	assert.Equal(t, "history", d.Type)
	require.Len(t, d.Entry, 2)
	for i, want := range []string{fhirID(b.ID), fhirID(a.ID)} {
		e := d.Entry[i]
		require.NotNil(t, e.Request)
		assert.Equal(t, "PUT", e.Request.Method)
		assert.Equal(t, "Organization/"+want, e.Request.URL)
		require.NotNil(t, e.Response)
		assert.Equal(t, "200 OK", e.Response.Status)
	}
	got := c.walk("/fhir/_history?_count=2&_since="+since, 2)
	assert.Equal(t, []string{
		"Organization/" + fhirID(b.ID), "Location/" + fhirID(b.ID), "HealthcareService/" + fhirID(b.ID),
		"Organization/" + fhirID(a.ID), "Location/" + fhirID(a.ID), "HealthcareService/" + fhirID(a.ID),
		"Practitioner/" + fhirID(p.ID), "PractitionerRole/" + fhirID(p.ID),
		"DELETE Practitioner/" + fhirID(gone.ID), "DELETE PractitionerRole/" + fhirID(gone.ID),
	}, got)
	assert.Equal(t, []string{"Practitioner/" + fhirID(p.ID), "DELETE Practitioner/" + fhirID(gone.ID)},
		c.walk("/fhir/Practitioner/_history?_since="+since, 50), "a type-level history names the deletion too")
	c.outcome("GET", "/fhir/Practitioner/"+fhirID(gone.ID), http.StatusNotFound, "not-found")
}
