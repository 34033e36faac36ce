package directory_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
)

func TestPutFacilityValidation(t *testing.T) {
	s, rec, _ := newService(t)
	cases := []struct {
		name string
		edit func(f *directory.Facility)
		code string // expected consult.Error code; "" means valid
	}{
		{"valid", func(*directory.Facility) {}, ""},
		{"code missing", func(f *directory.Facility) { f.Code = " " }, "invalid_code"},
		{"code bad char", func(f *directory.Facility) { f.Code = "TYT/1" }, "invalid_code"},
		{"code with space", func(f *directory.Facility) { f.Code = "TYT 1" }, "invalid_code"},
		{"code too long", func(f *directory.Facility) { f.Code = strings.Repeat("A", 33) }, "invalid_code"},
		{"code at limit", func(f *directory.Facility) { f.Code = strings.Repeat("A", 32) }, ""},
		{"code Vietnamese letter", func(f *directory.Facility) { f.Code = "TYTĐ" }, "invalid_code"},
		{"name missing", func(f *directory.Facility) { f.Name = "  " }, "invalid_name"},
		{"name 200 runes", func(f *directory.Facility) { f.Name = strings.Repeat("Đ", 200) }, ""},
		{"name 201 runes", func(f *directory.Facility) { f.Name = strings.Repeat("Đ", 201) }, "invalid_name"},
		{"name control char", func(f *directory.Facility) { f.Name = "Trạm\x00" }, "invalid_name"},
		{"name bad utf8", func(f *directory.Facility) { f.Name = "Tr\xffm" }, "invalid_name"},
		{"level missing", func(f *directory.Facility) { f.Level = "" }, "invalid_level"},
		{"level unknown", func(f *directory.Facility) { f.Level = "clinic" }, "invalid_level"},
		{"every level", func(f *directory.Facility) { f.Level = consult.CentralHospital }, ""},
		{"specialty unknown", func(f *directory.Facility) { f.Specialties = []string{"cardiology", "magic"} }, "invalid_specialties"},
		{"specialties nil", func(f *directory.Facility) { f.Specialties = nil }, ""},
		{"20 services", func(f *directory.Facility) { f.Services = numbered("dịch vụ", 20) }, ""},
		{"21 services", func(f *directory.Facility) { f.Services = numbered("dịch vụ", 21) }, "invalid_services"},
		{"service too long", func(f *directory.Facility) { f.Services = []string{strings.Repeat("ạ", 101)} }, "invalid_services"},
		{"phone letters", func(f *directory.Facility) { f.Phone = "0262-385" }, "invalid_phone"},
		{"phone plus inside", func(f *directory.Facility) { f.Phone = "0262+385" }, "invalid_phone"},
		{"phone international", func(f *directory.Facility) { f.Phone = "+84 262 3852 123" }, ""},
		{"phone too long", func(f *directory.Facility) { f.Phone = "0262 3852 1234 5678 9" }, "invalid_phone"},
		{"phone empty", func(f *directory.Facility) { f.Phone = "" }, ""},
		{"email bad", func(f *directory.Facility) { f.Email = "tram at ea kao" }, "invalid_email"},
		{"email ok", func(f *directory.Facility) { f.Email = "tyt.eakao@syt.daklak.gov.vn" }, ""},
		{"geo Paris", func(f *directory.Facility) { f.Geo = &directory.Geo{Lat: 48.85, Lon: 2.35} }, "invalid_geo"},
		{"geo NaN", func(f *directory.Facility) { f.Geo = &directory.Geo{Lat: math.NaN(), Lon: 105} }, "invalid_geo"},
		{"geo Inf", func(f *directory.Facility) { f.Geo = &directory.Geo{Lat: 12, Lon: math.Inf(1)} }, "invalid_geo"},
		{"geo Trường Sa", func(f *directory.Facility) { f.Geo = &directory.Geo{Lat: 8.64, Lon: 111.92} }, ""},
		{"geo absent", func(f *directory.Facility) { f.Geo = nil }, ""},
		{"tz bad", func(f *directory.Facility) { f.TZ = "Asia/Nowhere" }, "invalid_tz"},
		{"tz Local", func(f *directory.Facility) { f.TZ = "Local" }, "invalid_tz"},
		{"tz ok", func(f *directory.Facility) { f.TZ = "Asia/Bangkok" }, ""},
		{"id mismatch", func(f *directory.Facility) { f.ID = "79-TYT01" }, "invalid_id"},
		{"id matching", func(f *directory.Facility) { f.ID = "66-TYT01" }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := station("TYT01", "Trạm Y tế xã Ea Kao")
			tc.edit(&f)
			out, err := s.PutFacility(context.Background(), "admin", f)
			if tc.code == "" {
				require.NoError(t, err)
				assert.Equal(t, "66", out.Province)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, consult.ErrInvalid)
			assert.Equal(t, tc.code, consultCode(err), "error: %v", err)
		})
	}
	assert.NotEmpty(t, rec.all())
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + " " + strings.Repeat("x", i+1)
	}
	return out
}

func TestPutFacilityNormalises(t *testing.T) {
	s, _, _ := newService(t)
	f := station(" TYT02 ", "  Trạm Y t\u00ea\u0301 xã Hòa Thắng ")
	f.Specialties = []string{" obstetrics", "obstetrics", ""}
	f.Services = nil
	f.Province = "79" // forced to the node's own
	out := mustPutFacility(t, s, f)
	assert.Equal(t, "66-TYT02", out.ID)
	assert.Equal(t, "66", out.Province)
	assert.Equal(t, "Trạm Y tế xã Hòa Thắng", out.Name, "trimmed and NFC")
	assert.Equal(t, []string{"obstetrics"}, out.Specialties)
	assert.NotNil(t, out.Services, "lists are never null in JSON")
	assert.False(t, out.Updated.IsZero())
}

func TestPutPractitionerValidation(t *testing.T) {
	s, _, _ := newService(t)
	mustPutFacility(t, s, station("TYT01", "Trạm Y tế xã Ea Kao"))
	cases := []struct {
		name string
		edit func(p *directory.Practitioner)
		code string
	}{
		{"valid", func(*directory.Practitioner) {}, ""},
		{"name missing", func(p *directory.Practitioner) { p.Name = "" }, "invalid_name"},
		{"role missing", func(p *directory.Practitioner) { p.Role = "" }, "invalid_role"},
		{"role unknown", func(p *directory.Practitioner) { p.Role = "surgeon" }, "invalid_role"},
		{"every role", func(p *directory.Practitioner) { p.Role = directory.RolePhysicianAssistant }, ""},
		{"facility missing", func(p *directory.Practitioner) { p.Facility = "" }, "invalid_facility"},
		{"facility unknown", func(p *directory.Practitioner) { p.Facility = "66-NOPE" }, "invalid_facility"},
		{"facility of another province", func(p *directory.Practitioner) { p.Facility = "79-BV01" }, "invalid_facility"},
		{"facility not an ID", func(p *directory.Practitioner) { p.Facility = "TYT01" }, "invalid_facility"},
		{"specialty unknown", func(p *directory.Practitioner) { p.Specialties = []string{"alchemy"} }, "invalid_specialties"},
		{"language ede", func(p *directory.Practitioner) { p.Languages = []string{"vi", "ede", "rad"} }, ""},
		{"language upper case is folded", func(p *directory.Practitioner) { p.Languages = []string{"VI"} }, ""},
		{"language bad", func(p *directory.Practitioner) { p.Languages = []string{"vietnamese"} }, "invalid_languages"},
		{"language digits", func(p *directory.Practitioner) { p.Languages = []string{"v1"} }, "invalid_languages"},
		{"licence 40", func(p *directory.Practitioner) { p.Licence = strings.Repeat("9", 40) }, ""},
		{"licence 41", func(p *directory.Practitioner) { p.Licence = strings.Repeat("9", 41) }, "invalid_licence"},
		{"local id", func(p *directory.Practitioner) { p.ID = "bs_01" }, ""},
		{"full own id", func(p *directory.Practitioner) { p.ID = "66-bs-02" }, ""},
		{"other province id", func(p *directory.Practitioner) { p.ID = "79-bs01" }, "invalid_id"},
		{"bad local id", func(p *directory.Practitioner) { p.ID = "bs/01" }, "invalid_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := directory.Practitioner{Name: "Nguyễn Thị Hương", Role: "nurse", Facility: "66-TYT01",
				Specialties: []string{"paediatrics"}, Languages: []string{"vi"}}
			tc.edit(&p)
			out, err := s.PutPractitioner(context.Background(), "admin", p)
			if tc.code == "" {
				require.NoError(t, err)
				assert.True(t, strings.HasPrefix(out.ID, "66-"), out.ID)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, consult.ErrInvalid)
			assert.Equal(t, tc.code, consultCode(err), "error: %v", err)
		})
	}
}
