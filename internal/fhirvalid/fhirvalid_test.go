package fhirvalid

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const validPatient = `{
  "resourceType": "Patient",
  "id": "bn-0001",
  "meta": {"lastUpdated": "2026-11-23T20:30:00+07:00"},
  "active": true,
  "name": [{"family": "Nguyễn", "given": ["Thị", "Hoa"]}],
  "gender": "female",
  "birthDate": "1987-02-28",
  "address": [{"city": "Từ Sơn", "state": "Bắc Ninh", "country": "VN"}]
}`

const validOrganization = `{
  "resourceType": "Organization",
  "id": "tram-y-te-dong-ngan",
  "identifier": [{"system": "urn:moinha:facility", "value": "27-0042"}],
  "active": true,
  "type": [{"coding": [{"system": "https://moinha.vn/fhir/CodeSystem/facility-level", "code": "commune", "display": "Trạm y tế xã"}]}],
  "name": "Trạm Y tế phường Đông Ngàn",
  "telecom": [{"system": "phone", "value": "+84 222 3831 234", "use": "work"}],
  "address": [{"line": ["Số 1 Lý Thái Tổ"], "city": "Từ Sơn", "state": "27", "country": "VN"}],
  "partOf": {"reference": "Organization/ttyt-tu-son"}
}`

// bundle wraps resources (raw JSON) in a searchset Bundle.
func bundle(resources ...string) string {
	entries := make([]string, len(resources))
	for i, r := range resources {
		var head struct{ ResourceType, ID string }
		if err := json.Unmarshal([]byte(r), &head); err != nil {
			panic(err)
		}
		entries[i] = fmt.Sprintf(`{"fullUrl": "https://bn.example/fhir/%s/%s", "resource": %s, "search": {"mode": "match"}}`, head.ResourceType, head.ID, r)
	}
	return fmt.Sprintf(`{
  "resourceType": "Bundle",
  "type": "searchset",
  "total": %d,
  "link": [{"relation": "self", "url": "https://bn.example/fhir/Organization?_count=50"}],
  "entry": [%s]
}`, len(resources), strings.Join(entries, ","))
}

// with returns doc with field set to raw JSON value (or removed when value
// is ""), so every invalid case differs from a valid document by one thing.
func with(t *testing.T, doc, field, value string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(doc), &m))
	if value == "" {
		delete(m, field)
	} else {
		m[field] = json.RawMessage(value)
	}
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

func TestValidDocumentsPass(t *testing.T) {
	v := ForTest(t)
	t.Log(v.Info())
	for name, doc := range map[string]string{
		"Patient":      validPatient,
		"Organization": validOrganization,
		"Bundle":       bundle(validPatient, validOrganization),
		"empty Bundle": bundle(),
	} {
		t.Run(name, func(t *testing.T) {
			assert.NoError(t, v.Validate([]byte(doc)))
		})
	}
}

func TestInvalidDocumentsAreRejected(t *testing.T) {
	v := ForTest(t)
	badEntry := string(with(t, validOrganization, "active", `"yes"`))
	for _, c := range []struct {
		name     string
		doc      []byte
		path     string // the violation's JSON pointer
		contains string // in its message
	}{
		{"unknown resourceType", with(t, validPatient, "resourceType", `"Patiant"`), "/resourceType", `unknown resourceType "Patiant"`},
		{"no resourceType", with(t, validPatient, "resourceType", ""), "", "resourceType"},
		{"not an object", []byte(`[{"resourceType": "Patient"}]`), "", "must be a FHIR resource"},
		{"unknown property", with(t, validPatient, "nickname", `"Hoa"`), "/nickname", `unknown property "nickname"`},
		{"string for a boolean", with(t, validPatient, "active", `"true"`), "/active", "must be boolean"},
		{"bad date", with(t, validPatient, "birthDate", `"1987-02-30x"`), "/birthDate", "(FHIR date)"},
		{"month 13", with(t, validPatient, "birthDate", `"1987-13-01"`), "/birthDate", "(FHIR date)"},
		{"dateTime without zone", with(t, validPatient, "deceasedDateTime", `"2026-11-23T20:30:00"`), "/deceasedDateTime", "(FHIR dateTime)"},
		{"instant without seconds", with(t, validPatient, "meta", `{"lastUpdated": "2026-11-23T20:30+07:00"}`), "/meta/lastUpdated", "(FHIR instant)"},
		{"bad code pattern", with(t, validOrganization, "type", `[{"coding": [{"code": "commune  station"}]}]`), "/type/0/coding/0/code", "(FHIR code)"},
		{"code outside a required binding", with(t, validPatient, "gender", `"nữ"`), "/gender", `must be one of "male", "female", "other", "unknown"`},
		{"bad id", with(t, validPatient, "id", `"bn_0001"`), "/id", "(FHIR id)"},
		{"Bundle with an invalid entry", []byte(bundle(validPatient, badEntry)), "/entry/1/resource/active", "must be boolean"},
		{"Bundle with an unknown entry type", []byte(bundle(validPatient, `{"resourceType": "Facility", "id": "x"}`)), "/entry/1/resource/resourceType", `unknown resourceType "Facility"`},
		{"contained resource with an unknown property", with(t, validOrganization, "contained", `[{"resourceType": "Location", "id": "l1", "floor": 2}]`), "/contained/0/floor", `unknown property "floor"`},
		{"Slot without schedule", []byte(`{"resourceType": "Slot", "id": "s1", "status": "free", "start": "2026-11-24T08:00:00+07:00", "end": "2026-11-24T08:15:00+07:00"}`), "", `missing required property "schedule"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := v.Validate(c.doc)
			require.Error(t, err, "accepted %s", c.doc)
			var inv *InvalidError
			require.ErrorAs(t, err, &inv)
			found := false
			for _, viol := range inv.Violations {
				if viol.Path == c.path && strings.Contains(viol.Message, c.contains) {
					found = true
				}
			}
			assert.True(t, found, "no violation at %q containing %q in:\n%v", c.path, c.contains, err)
			assert.Contains(t, err.Error(), c.contains, "the error text names the problem")
		})
	}
}

func TestEveryViolationIsListed(t *testing.T) {
	v := ForTest(t)
	doc := with(t, string(with(t, validPatient, "active", `1`)), "birthDate", `"yesterday"`)
	err := v.Validate(doc)
	var inv *InvalidError
	require.ErrorAs(t, err, &inv)
	paths := map[string]bool{}
	for _, viol := range inv.Violations {
		paths[viol.Path] = true
	}
	assert.True(t, paths["/active"] && paths["/birthDate"], "both violations listed: %v", err)
}

func TestNonJSONIsRejected(t *testing.T) {
	v := ForTest(t)
	for _, doc := range []string{``, `{"resourceType": "Patient"`, `Patient/1`, "{\"resourceType\": \"Patient\"}\n{}"} {
		err := v.Validate([]byte(doc))
		require.Error(t, err, "%q", doc)
		assert.Contains(t, err.Error(), "not JSON")
	}
	// The validator still answers afterwards.
	assert.NoError(t, v.Validate([]byte(validPatient)))
}

func TestConcurrentValidate(t *testing.T) {
	v := ForTest(t)
	bad := with(t, validPatient, "active", `"no"`)
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			doc := []byte(validOrganization)
			if i%2 == 1 {
				doc = bad
			}
			errs[i] = v.Validate(doc)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i%2 == 1 {
			assert.ErrorContains(t, err, "/active", "call %d got another call's answer?", i)
		} else {
			assert.NoError(t, err, "call %d", i)
		}
	}
}

func TestValidateAfterCloseFails(t *testing.T) {
	ForTest(t) // skips or fails like the others when node is missing
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	v, err := Start(ctx)
	require.NoError(t, err)
	require.NoError(t, v.Validate([]byte(validPatient)))
	require.NoError(t, v.Close())
	done := make(chan error, 1)
	go func() { done <- v.Validate([]byte(validPatient)) }()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, ErrClosed)
	case <-time.After(30 * time.Second):
		t.Fatal("Validate after Close hangs")
	}
	assert.NoError(t, v.Close(), "Close is idempotent")
}

func TestSharedValidatorSurvivesClose(t *testing.T) {
	v := ForTest(t)
	require.NoError(t, v.Close())
	assert.Same(t, v, ForTest(t))
	assert.NoError(t, v.Validate([]byte(validPatient)))
}

// bundle100 is a searchset Bundle of 100 directory resources.
func bundle100() []byte {
	res := make([]string, 0, 100)
	for i := range 100 {
		switch i % 4 {
		case 0:
			res = append(res, strings.Replace(validOrganization, `"tram-y-te-dong-ngan"`, fmt.Sprintf(`"org-%d"`, i), 1))
		case 1:
			res = append(res, fmt.Sprintf(`{"resourceType": "Location", "id": "loc-%d", "status": "active", "name": "Trạm %d", "mode": "instance",
  "address": {"city": "Từ Sơn", "state": "27"}, "position": {"longitude": 105.96, "latitude": 21.12},
  "managingOrganization": {"reference": "Organization/org-%d"}}`, i, i, i-1))
		case 2:
			res = append(res, fmt.Sprintf(`{"resourceType": "Practitioner", "id": "pr-%d", "active": true,
  "name": [{"text": "Bác sĩ Lê Văn %d", "family": "Lê", "given": ["Văn"]}],
  "qualification": [{"code": {"coding": [{"system": "https://moinha.vn/fhir/CodeSystem/specialty", "code": "noi-khoa"}]}}]}`, i, i))
		case 3:
			res = append(res, fmt.Sprintf(`{"resourceType": "PractitionerRole", "id": "role-%d", "active": true,
  "practitioner": {"reference": "Practitioner/pr-%d"}, "organization": {"reference": "Organization/org-%d"},
  "specialty": [{"coding": [{"system": "https://moinha.vn/fhir/CodeSystem/specialty", "code": "noi-khoa"}]}],
  "availableTime": [{"daysOfWeek": ["mon", "tue"], "availableStartTime": "07:30:00", "availableEndTime": "16:30:00"}]}`, i, i-1, i-3))
		}
	}
	return []byte(bundle(res...))
}

func TestBundle100IsValid(t *testing.T) {
	assert.NoError(t, ForTest(t).Validate(bundle100()))
}

func BenchmarkValidateBundle100(b *testing.B) {
	v := ForTest(b)
	doc := bundle100()
	require.NoError(b, v.Validate(doc))
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if err := v.Validate(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidatePatient is the baseline for BenchmarkValidateBundle100:
// one small resource, mostly the pipe round trip.
func BenchmarkValidatePatient(b *testing.B) {
	v := ForTest(b)
	doc := []byte(validPatient)
	require.NoError(b, v.Validate(doc))
	for b.Loop() {
		if err := v.Validate(doc); err != nil {
			b.Fatal(err)
		}
	}
}
