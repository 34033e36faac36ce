package fhir

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/internal/fhirvalid"
)

func TestFHIRDateParam(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return tm
	}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, ict)
	for _, c := range []struct {
		param string
		t     time.Time
		want  bool
	}{
		{"2026-03-02", day, true},
		{"2026-03-02", day.Add(24*time.Hour - time.Nanosecond), true},
		{"2026-03-02", day.Add(24 * time.Hour), false},
		{"2026-03-02", day.Add(-time.Nanosecond), false},
		{"eq2026-03", day, true},
		{"2026", day, true},
		{"ne2026-03-02", day, false},
		{"ne2026-03-02", day.AddDate(0, 0, 1), true},
		{"gt2026-03-02", day.Add(23 * time.Hour), false},
		{"gt2026-03-02", day.AddDate(0, 0, 1), true},
		{"ge2026-03-02", day, true},
		{"ge2026-03-02", day.Add(-time.Second), false},
		{"lt2026-03-02", day.Add(-time.Second), true},
		{"lt2026-03-02", day, false},
		{"le2026-03-02", day.Add(23 * time.Hour), true},
		{"le2026-03-02", day.AddDate(0, 0, 1), false},
		{"ge2026-03-02T08:00:00Z", at("2026-03-02T08:00:00Z"), true},
		{"gt2026-03-02T08:00:00Z", at("2026-03-02T08:00:00.5Z"), false}, // within the second written
		{"gt2026-03-02T08:00:00.123Z", at("2026-03-02T08:00:00.124Z"), true},
		{"2026-03-02T15:00:00+07:00", at("2026-03-02T08:00:00.999Z"), true},
	} {
		r, err := parseDateParam(c.param)
		require.NoError(t, err, c.param)
		assert.Equal(t, c.want, r.match(c.t), "%s at %s", c.param, c.t)
	}
	for _, bad := range []string{"sa2026-01-01", "xx2026", "2026-13-01", "2026-03-02T08:00", "2026-03-02T08:00:00", "yesterday", "20260302"} {
		_, err := parseDateParam(bad)
		assert.Error(t, err, bad)
	}
}

func TestFHIRMatchers(t *testing.T) {
	codings := []Coding{{System: CSFacilityLevel, Code: "health_centre"}, {Code: "bare"}}
	for v, want := range map[string]bool{
		"health_centre": true, CSFacilityLevel + "|health_centre": true, "|health_centre": false,
		"|bare": true, CSFacilityLevel + "|": true, "http://x|health_centre": false, "other": false,
	} {
		assert.Equal(t, want, tokenMatch(codings, v), v)
	}
	for _, c := range []struct {
		ref, v string
		want   bool
	}{
		{"Organization/66-A", "Organization/66-A", true},
		{"Organization/66-A", "66-A", true},
		{"Organization/66-A", "http://h/fhir/Organization/66-A", true},
		{"Organization/66-A", "Location/66-A", false},
		{"Organization/66-A", "66-B", false},
	} {
		assert.Equal(t, c.want, refMatch(c.ref, c.v, "Organization"), "%s ~ %s", c.ref, c.v)
	}
	for _, c := range []struct {
		text, v, mod string
		want         bool
	}{
		{"Trạm Y tế xã Ea Kao", "tram", "", true},
		{"Trạm Y tế xã Ea Kao", "ea ka", "", true},
		{"Trạm Y tế xã Ea Kao", "kao", "", true},
		{"Trạm Y tế xã Ea Kao", "ao", "", false},
		{"Trạm Y tế xã Ea Kao", "ao", "contains", true},
		{"Đắk Lắk", "dak lak", "", true},
		{"Đắk Lắk", "Đắk Lắk", "exact", true},
		{"Đắk Lắk", "Dak Lak", "exact", false},
	} {
		v := c.v
		if c.mod != "exact" {
			v = directory.Fold(v)
		}
		assert.Equal(t, c.want, stringMatch(c.text, v, c.mod), "%q %s:%s", c.text, c.mod, c.v)
	}
	assert.Equal(t, []string{"a", "b,c", `d\`}, splitOr(`a,b\,c,d\\`))
}

func TestFHIRParseSearch(t *testing.T) {
	ok := []string{"", "name=ea", "name:contains=ea&name:exact=Ea", "_count=200", "_count=1&_format=json&_pretty=true",
		"type=health_centre,commune_health_station", "_lastUpdated=ge2026-01-01&_lastUpdated=lt2026-02-01",
		"partof=Organization/province.66", "_format=application/fhir%2Bjson"}
	for _, q := range ok {
		vals, err := url.ParseQuery(q)
		require.NoError(t, err)
		_, err = ParseSearch("Organization", vals)
		assert.NoError(t, err, q)
	}
	for q, code := range map[string]string{
		"colour=blue": "invalid", "name:fuzzy=x": "not-supported", "_count=0": "invalid", "_count=201": "invalid",
		"_count=1&_count=2": "invalid", "name=": "invalid", "_lastUpdated=ap2026": "invalid", "_format=xml": "not-supported",
		"_cursor=abc": "invalid", "_include=Organization:partof": "invalid", "_sort=name": "invalid",
		"organization.name=x": "invalid", "type:text=x": "not-supported",
	} {
		vals, err := url.ParseQuery(q)
		require.NoError(t, err)
		_, err = ParseSearch("Organization", vals)
		var fe *Error
		require.ErrorAs(t, err, &fe, q)
		assert.Equal(t, code, fe.Code, q)
	}
	_, err := ParseSearch("Patient", nil)
	assert.Error(t, err)

	// A cursor works for its own search only.
	s, err := ParseSearch("Location", url.Values{"name": {"ea"}})
	require.NoError(t, err)
	c := encodeCursor("66-A", s.hash)
	_, err = ParseSearch("Location", url.Values{"name": {"ea"}, "_cursor": {c}, "_count": {"5"}})
	assert.NoError(t, err, "_count may change between pages")
	_, err = ParseSearch("Location", url.Values{"name": {"kao"}, "_cursor": {c}})
	assert.Error(t, err)
	_, err = ParseSearch("Organization", url.Values{"name": {"ea"}, "_cursor": {c}})
	assert.Error(t, err)
}

func TestFHIRIDs(t *testing.T) {
	for _, id := range []string{"66-TYT_01", "my_prov-a_b_c", "01-X"} {
		f := ToID(id)
		assert.True(t, validFHIRID(f), f)
		assert.Equal(t, id, FromID(f))
	}
	fac, stamp, ok := ParseSlotID(SlotID("66-TYT_01", time.Date(2026, 3, 2, 8, 15, 0, 0, time.UTC)))
	require.True(t, ok)
	assert.Equal(t, "66-TYT_01", fac)
	assert.Equal(t, "202603020815", stamp)
	for _, bad := range []string{"66-A", "66-A.2026", ".202603020815", "66-A.20260302081x", "66 A.202603020815"} {
		_, _, ok := ParseSlotID(bad)
		assert.False(t, ok, bad)
	}
}

// TestFHIRMappingValid runs the mapping of edge cases (minimal records,
// underscores in IDs, every status) through the independent validator.
func TestFHIRMappingValid(t *testing.T) {
	v := fhirvalid.ForTest(t)
	now := time.Date(2026, 3, 2, 1, 2, 3, 456000000, time.UTC)
	ict := time.FixedZone("ICT", 7*3600)
	valid := func(r Resource) {
		t.Helper()
		b, err := Marshal(r)
		require.NoError(t, err)
		assert.NoError(t, v.Validate(b), "%s", b)
	}
	full := directory.Facility{ID: "66-TYT_01", Code: "TYT_01", Name: "Trạm Y tế xã Ea Kao", NameEN: "Ea Kao Commune Health Station",
		Level: consult.CommuneHealthStation, Province: "66", Commune: "Ea Kao", Address: "Thôn 3",
		Specialties: []string{"general_practice", "obstetrics"}, Services: []string{"Tiêm chủng", "Khám thai"},
		Phone: "02623812345", Email: "tyt@example.vn", Geo: &directory.Geo{Lat: 12.6, Lon: 108.0}, Updated: now}
	bare := directory.Facility{ID: "zz-X", Code: "X", Name: "X", Level: consult.CentralHospital, Province: "zz"}
	for _, f := range []*directory.Facility{&full, &bare} {
		valid(FacilityOrganization(f, now))
		valid(FacilityLocation(f, time.Time{}))
		valid(FacilityService(f, now))
	}
	p := directory.Practitioner{ID: "66-p_1", Name: "Nguyễn Văn An", Role: "doctor", Facility: "66-TYT_01", Province: "66",
		Specialties: []string{"cardiology"}, Languages: []string{"vi", "en"}, Licence: "001234/ĐL-CCHN", Scope: "Nội khoa"}
	one := directory.Practitioner{ID: "66-q", Name: "An", Role: "nurse", Facility: "66-X", Province: "66"}
	for _, p := range []*directory.Practitioner{&p, &one} {
		valid(PractitionerResource(p, now))
		valid(PractitionerRoleResource(p, now))
	}
	for _, m := range []Member{
		{Peer: "12D3KooWabc", Province: "66", Name: "Đắk Lắk", Role: "province", Addrs: []string{"/ip4/127.0.0.1/tcp/4001"}, Self: true},
		{Peer: "12D3KooWdef", Province: "BYT", Name: "Bộ Y tế", Role: "observer"},
		{Peer: "12D3KooWghi", Province: "H1", Name: "Bệnh viện Bạch Mai", Role: "hospital"},
	} {
		valid(ProvinceOrganization(m))
		valid(NodeEndpoint(m))
		valid(FHIREndpoint(m, "http://127.0.0.1:8080/fhir"))
	}

	sc := booking.Schedule{Facility: "66-TYT_01", SlotMinutes: 15, Capacity: 3, Updated: now}
	valid(ScheduleResource(&sc, now, ict))
	start := time.Date(2026, 3, 3, 8, 0, 0, 0, ict)
	valid(SlotResource("66-TYT_01", booking.Slot{Start: start, End: start.Add(15 * time.Minute), Free: 0}))
	for _, st := range []string{booking.StatusBooked, booking.StatusCancelled, booking.StatusArrived, booking.StatusFulfilled, booking.StatusNoShow} {
		a := booking.Appointment{ID: "a1", Code: "ABCD-EFGH-JKMNP", Status: st, Facility: "66-TYT_01", Start: start,
			End: start.Add(15 * time.Minute), Name: "Nguyễn Thị Lan", Phone: "0912345678", Reason: "khám thai", BirthYear: 1990,
			Created: now, Updated: now}
		r := AppointmentResource(&a)
		assert.Equal(t, st, r.Status)
		valid(r)
	}
	valid(AppointmentResource(&booking.Appointment{Code: "ABCDEFGHJKMNP", Status: booking.StatusBooked, Facility: "66-A", Start: start, End: start}))

	deadline := now.Add(time.Hour)
	for _, st := range referral.Statuses {
		vw := referral.View{ID: "66-r-abcdefghijklmnop", Type: referral.TypeReferral, Status: st, SubStatus: referral.SubOffered,
			Specialty: "cardiology", Urgency: referral.UrgencyEmergency, Reason: "đau ngực", AgeBand: "45-54", Sex: "female",
			OriginProvince: "66", TargetProvince: "01", Created: now, Updated: now, Deadline: &deadline}
		sr, task := ServiceRequestResource(&vw), TaskResource(&vw)
		assert.Equal(t, string(st), task.Status)
		assert.NotEmpty(t, sr.Status)
		valid(sr)
		valid(task)
		vw.Patient = &referral.Patient{Name: "Trần Thị B", Phone: "0900000000", BirthYear: 1975, Sex: "female"}
		valid(ServiceRequestResource(&vw))
	}
	valid(TaskResource(&referral.View{ID: "66-c-abcdefghijklmnop", Type: referral.TypeConsult, Status: referral.StatusRequested, OriginProvince: "66"}))
	valid(Capability("http://127.0.0.1/fhir", "dev", now))
	valid(Outcome("invalid", "x"))
}

func TestFHIRProvinceHint(t *testing.T) {
	for _, c := range []struct {
		typ, q, want string
	}{
		{"Organization", "", ""},
		{"Organization", "partof=Organization/province.66", "66"},
		{"Organization", "partof=province.66,province.79", ""},
		{"Organization", "partof=province.66&_id=66-A", "66"},
		{"Organization", "partof=province.66&_id=79-A", ""},
		{"Organization", "_id=province.66", ""},
		{"Organization", "name=ea", ""},
		{"Location", "organization=Organization/66-TYT.01", "66"},
		{"Location", "organization=Organization/province.66", ""},
		{"PractitionerRole", "organization=66-A,66-B&specialty=cardiology", "66"},
		{"PractitionerRole", "practitioner=Practitioner/my.p-x", "my_p"},
		{"PractitionerRole", "location=Organization/66-A", ""},
		{"HealthcareService", "location=http://h/fhir/Location/79-X", "79"},
	} {
		vals, err := url.ParseQuery(c.q)
		require.NoError(t, err)
		s, err := ParseSearch(c.typ, vals)
		require.NoError(t, err, c.q)
		assert.Equal(t, c.want, provinceHint(s), "%s?%s", c.typ, c.q)
	}
}

func TestFHIRScanFilter(t *testing.T) {
	for _, c := range []struct {
		typ, q string
		want   directory.ScanFilter
	}{
		{"Organization", "", directory.ScanFilter{}},
		{"Organization", "name=Đắk", directory.ScanFilter{Text: "dak"}},
		{"Organization", "name=a,b", directory.ScanFilter{}},
		{"Location", "name:exact=Ea%20Kao&address-city=x", directory.ScanFilter{Text: "ea kao"}},
		{"Location", "address-city=Tân", directory.ScanFilter{Text: "tan"}},
		{"Organization", "type=prov", directory.ScanFilter{}},
		{"Organization", "type=health_centre", directory.ScanFilter{Level: consult.HealthCentre}},
		{"Organization", "type=http://x|health_centre", directory.ScanFilter{}},
		{"HealthcareService", "specialty=https://moinha.vn/fhir/CodeSystem/specialty|ent", directory.ScanFilter{Specialty: "ent"}},
		{"PractitionerRole", "specialty=ent,dentistry", directory.ScanFilter{}},
		{"PractitionerRole", "organization=66-X&specialty=ent", directory.ScanFilter{Province: "66", Specialty: "ent"}},
		{"Organization", "_lastUpdated=ge2026-01-01T00:00:00Z", directory.ScanFilter{Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"Organization", "_lastUpdated=lt2026-01-01T00:00:00Z", directory.ScanFilter{}},
	} {
		vals, err := url.ParseQuery(c.q)
		require.NoError(t, err)
		s, err := ParseSearch(c.typ, vals)
		require.NoError(t, err, c.q)
		got := scanFilter(s)
		assert.True(t, got.Since.Equal(c.want.Since), c.q)
		got.Since, c.want.Since = time.Time{}, time.Time{}
		assert.Equal(t, c.want, got, "%s?%s", c.typ, c.q)
	}
}
