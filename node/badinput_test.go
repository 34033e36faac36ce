package node_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
)

// TestBadInput sends requests that must be refused and checks, for each,
// the status, the JSON error shape with its stable code, and that nothing
// the request could have touched changed.
func TestBadInput(t *testing.T) {
	tn := newTestNode(t)
	admin := tn.login(t, "admin")
	staff := tn.login(t, "staff")
	doctor := tn.login(t, "doctor")
	station := tn.staffStation(t)
	monday := tn.nextWeekday(time.Monday)
	free := tn.freeSlots(t, station, monday, 2)
	future := free[0].Start
	pastWeek := future.AddDate(0, 0, -14) // the same slot two weeks ago
	booked := tn.book(t, station, free[1].Start)

	// A facility with one seat per slot, its Monday 08:00 slot taken.
	tn.do(t, req{method: "POST", path: "/api/v1/facilities", token: admin, body: map[string]any{
		"code": "TYT-FULL", "name": "Trạm Y tế xã Đầy", "level": "commune_health_station",
	}}).ok(t, http.StatusOK, nil)
	full := province + "-TYT-FULL"
	tn.do(t, req{method: "PUT", path: "/api/v1/facilities/" + full + "/schedule", token: admin, body: map[string]any{
		"slot_minutes": 60, "capacity": 1, "hours": map[string]any{"mon": []map[string]string{{"open": "08:00", "close": "10:00"}}},
	}}).ok(t, http.StatusOK, nil)
	fullSlots := tn.freeSlots(t, full, monday, 2)
	tn.book(t, full, fullSlots[0].Start)
	movable := tn.book(t, full, fullSlots[1].Start)

	// A token that was valid once.
	stale := tn.login(t, "doctor")
	require.Equal(t, http.StatusNoContent, tn.do(t, req{method: "POST", path: "/api/v1/logout", token: stale}).status)

	bookJSON := func(mutate func(map[string]any)) map[string]any {
		b := bookBody(station, future)
		if mutate != nil {
			mutate(b)
		}
		return b
	}
	validBook := `{"facility":"` + station + `","start":"` + future.Format(time.RFC3339) + `","name":"Lan","phone":"0912345678","reason":"x"}`
	schedule := `{"slot_minutes":30,"capacity":"three","hours":{"mon":[{"open":"08:00","close":"11:00"}]}}`

	cases := []struct {
		name   string
		r      req
		status int
		code   string
	}{
		// Bodies.
		{"malformed JSON", req{method: "POST", path: "/api/v1/appointments", body: `{"facility":`}, 400, "malformed_json"},
		{"not JSON at all", req{method: "POST", path: "/api/v1/appointments", body: `facility=66-TYT`}, 400, "malformed_json"},
		{"empty body", req{method: "POST", path: "/api/v1/appointments", body: ``}, 400, "malformed_json"},
		{"JSON array instead of object", req{method: "POST", path: "/api/v1/appointments", body: `[1,2]`}, 400, "wrong_type"},
		{"wrong type: capacity as text", req{method: "PUT", path: "/api/v1/facilities/" + station + "/schedule", token: admin, body: schedule}, 400, "wrong_type"},
		{"wrong type: start as number", req{method: "POST", path: "/api/v1/appointments", body: bookJSON(func(b map[string]any) { b["start"] = 12 })}, 400, "wrong_type"},
		{"wrong type: start not RFC 3339", req{method: "POST", path: "/api/v1/appointments", body: bookJSON(func(b map[string]any) { b["start"] = "next monday" })}, 400, "wrong_type"},
		{"unknown field", req{method: "POST", path: "/api/v1/appointments", body: bookJSON(func(b map[string]any) { b["priority"] = "high" })}, 400, "unknown_field"},
		{"trailing object", req{method: "POST", path: "/api/v1/appointments", body: validBook + validBook}, 400, "malformed_json"},
		{"trailing garbage", req{method: "POST", path: "/api/v1/appointments", body: validBook + " x"}, 400, "malformed_json"},
		{"oversize booking", req{method: "POST", path: "/api/v1/appointments", body: bookJSON(func(b map[string]any) { b["reason"] = strings.Repeat("a", 20<<10) })}, 413, "body_too_large"},
		{"oversize facility", req{method: "POST", path: "/api/v1/facilities", token: admin, body: `{"code":"X","name":"` + strings.Repeat("a", 2<<20) + `"}`}, 413, "body_too_large"},
		{"wrong content type", req{method: "POST", path: "/api/v1/appointments", body: validBook, ctype: "text/plain"}, 415, "unsupported_media_type"},
		{"form content type", req{method: "POST", path: "/api/v1/login", body: "username=admin", ctype: "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},

		// Booking rules.
		{"unknown facility", req{method: "POST", path: "/api/v1/appointments", body: bookJSON(func(b map[string]any) { b["facility"] = province + "-NOPE" })}, 404, "facility_not_found"},
		{"facility of another province", req{method: "POST", path: "/api/v1/appointments", body: bookJSON(func(b map[string]any) { b["facility"] = "79-TYT001" })}, 404, "facility_not_found"},
		{"facility with a slash", req{method: "POST", path: "/api/v1/appointments", body: bookJSON(func(b map[string]any) { b["facility"] = station + "/x" })}, 404, "facility_not_found"},
		{"slots of unknown facility", req{method: "GET", path: "/api/v1/facilities/" + province + "-NOPE/slots?date=" + monday}, 404, "facility_not_found"},
		{"get unknown facility", req{method: "GET", path: "/api/v1/facilities/" + province + "-NOPE"}, 404, "facility_not_found"},
		{"schedule of unknown facility", req{method: "PUT", path: "/api/v1/facilities/" + province + "-NOPE/schedule", token: admin,
			body: `{"slot_minutes":30,"capacity":3,"hours":{"mon":[{"open":"08:00","close":"11:00"}]}}`}, 404, "facility_not_found"},
		{"slot in the past", req{method: "POST", path: "/api/v1/appointments", body: bookJSON(func(b map[string]any) { b["start"] = pastWeek.Format(time.RFC3339) })}, 422, booking.CodeSlotInPast},
		{"not a slot start", req{method: "POST", path: "/api/v1/appointments", body: bookJSON(func(b map[string]any) { b["start"] = future.Add(time.Minute).Format(time.RFC3339) })}, 400, booking.CodeNotASlot},
		{"full slot", req{method: "POST", path: "/api/v1/appointments", body: bookBody(full, fullSlots[0].Start)}, 409, booking.CodeSlotFull},
		{"missing name", req{method: "POST", path: "/api/v1/appointments", body: bookJSON(func(b map[string]any) { b["name"] = "  " })}, 400, "invalid_name"},
		{"bad phone", req{method: "POST", path: "/api/v1/appointments", body: bookJSON(func(b map[string]any) { b["phone"] = "call me" })}, 400, "invalid_phone"},
		{"bad date", req{method: "GET", path: "/api/v1/facilities/" + station + "/slots?date=2026-13-01"}, 400, booking.CodeInvalidDate},
		{"no date", req{method: "GET", path: "/api/v1/facilities/" + station + "/slots"}, 400, "invalid_date"},
		{"schedule capacity out of range", req{method: "PUT", path: "/api/v1/facilities/" + station + "/schedule", token: admin,
			body: `{"slot_minutes":30,"capacity":0,"hours":{"mon":[{"open":"08:00","close":"11:00"}]}}`}, 400, "invalid_capacity"},

		// Appointments.
		{"unknown appointment", req{method: "GET", path: "/api/v1/appointments/ABCD-EFGH-JKMN"}, 404, booking.CodeAppointmentNotFound},
		{"malformed code", req{method: "GET", path: "/api/v1/appointments/%00%01"}, 404, booking.CodeAppointmentNotFound},
		{"cancel unknown appointment", req{method: "POST", path: "/api/v1/appointments/ABCD-EFGH-JKMN/cancel"}, 404, booking.CodeAppointmentNotFound},
		{"unknown action", req{method: "POST", path: "/api/v1/appointments/" + booked.Code + "/explode"}, 404, "no_route"},
		{"no-show before the start", req{method: "POST", path: "/api/v1/appointments/" + booked.Code + "/noshow", token: staff}, 409, booking.CodeTooEarly},
		{"fulfil before check-in", req{method: "POST", path: "/api/v1/appointments/" + booked.Code + "/fulfil", token: staff}, 409, booking.CodeInvalidTransition},
		{"check-in without a login", req{method: "POST", path: "/api/v1/appointments/" + booked.Code + "/arrive"}, 401, "login_required"},
		{"reschedule to a full slot", req{method: "POST", path: "/api/v1/appointments/" + movable.Code + "/reschedule",
			body: map[string]any{"start": fullSlots[0].Start}}, 409, booking.CodeSlotFull},
		{"reschedule to a time that is no slot", req{method: "POST", path: "/api/v1/appointments/" + booked.Code + "/reschedule",
			body: map[string]any{"start": future.Add(7 * time.Minute)}}, 400, booking.CodeNotASlot},
		{"reschedule into the past", req{method: "POST", path: "/api/v1/appointments/" + booked.Code + "/reschedule",
			body: map[string]any{"start": pastWeek}}, 422, booking.CodeSlotInPast},
		{"reschedule with unknown field", req{method: "POST", path: "/api/v1/appointments/" + booked.Code + "/reschedule",
			body: `{"start":"` + future.Format(time.RFC3339) + `","facility":"x"}`}, 400, "unknown_field"},

		// Authentication and roles.
		{"wrong password", req{method: "POST", path: "/api/v1/login", body: map[string]string{"username": "staff", "password": "wrong password!"}}, 401, "bad_credentials"},
		{"unknown user", req{method: "POST", path: "/api/v1/login", body: map[string]string{"username": "nobody", "password": "wrong password!"}}, 401, "bad_credentials"},
		{"login without password", req{method: "POST", path: "/api/v1/login", body: map[string]string{"username": "staff"}}, 400, "invalid_credentials_shape"},
		{"missing token: desk", req{method: "GET", path: "/api/v1/appointments?facility=" + station + "&date=" + monday}, 401, "login_required"},
		{"missing token: add facility", req{method: "POST", path: "/api/v1/facilities", body: `{"code":"X1","name":"X","level":"commune_health_station"}`}, 401, "login_required"},
		{"forged token", req{method: "GET", path: "/api/v1/me", token: "Zm9yZ2VkLXRva2VuLWZvcmdlZC10b2tlbi1mb3JnZWQtdG9r"}, 401, "invalid_token"},
		{"forged token on a public route", req{method: "POST", path: "/api/v1/appointments", token: "forged", body: bookJSON(nil)}, 401, "invalid_token"},
		{"stale token", req{method: "GET", path: "/api/v1/appointments?facility=" + station + "&date=" + monday, token: stale}, 401, "invalid_token"},
		{"not a bearer token", req{method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="}}, 401, "invalid_token"},
		{"staff on an admin route: facility", req{method: "POST", path: "/api/v1/facilities", token: staff, body: `{"code":"X1","name":"X","level":"commune_health_station"}`}, 403, "forbidden"},
		{"staff on an admin route: schedule", req{method: "PUT", path: "/api/v1/facilities/" + station + "/schedule", token: staff,
			body: `{"slot_minutes":30,"capacity":3,"hours":{"mon":[{"open":"08:00","close":"11:00"}]}}`}, 403, "forbidden"},
		{"staff on an admin route: users", req{method: "POST", path: "/api/v1/users", token: staff, body: `{"username":"eve","password":"0123456789ab","role":"admin"}`}, 403, "forbidden"},
		{"doctor on another facility's desk", req{method: "GET", path: "/api/v1/appointments?facility=" + station + "&date=" + monday, token: doctor}, 403, "forbidden"},
		{"admin adds a user with a short password", req{method: "POST", path: "/api/v1/users", token: admin, body: `{"username":"eve","password":"short","role":"staff"}`}, 400, "invalid_password"},
		{"admin adds a user at an unknown facility", req{method: "POST", path: "/api/v1/users", token: admin,
			body: `{"username":"eve","password":"0123456789ab","role":"staff","facility":"66-NOPE"}`}, 404, "facility_not_found"},
		{"facility without a level", req{method: "POST", path: "/api/v1/facilities", token: admin, body: `{"code":"X1","name":"X"}`}, 400, "invalid_level"},

		// Lists and routes.
		{"limit zero", req{method: "GET", path: "/api/v1/facilities?limit=0"}, 400, "invalid_limit"},
		{"limit not a number", req{method: "GET", path: "/api/v1/facilities?limit=ten"}, 400, "invalid_limit"},
		{"limit too large", req{method: "GET", path: "/api/v1/facilities?limit=501"}, 400, "invalid_limit"},
		{"negative limit", req{method: "GET", path: "/api/v1/practitioners?limit=-1", token: admin}, 400, "invalid_limit"},
		{"unknown level", req{method: "GET", path: "/api/v1/facilities?level=hospital"}, 400, "invalid_level"},
		{"bad cursor", req{method: "GET", path: "/api/v1/facilities?cursor=" + strings.Repeat("z", 600)}, 400, "invalid_cursor"},
		{"unknown route", req{method: "GET", path: "/api/v1/nope"}, 404, "no_route"},
		{"unknown route, POST", req{method: "POST", path: "/api/v2/appointments", body: validBook}, 404, "no_route"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, tn.DB())
			r := tn.do(t, c.r)
			e := r.fails(t, c.status, c.code)
			assert.NotContains(t, e.Error.Message, "booking.", "no Go type names in messages")
			assert.NotContains(t, e.Error.Message, "directory.", "no Go type names in messages")
			after := snapshot(t, tn.DB())
			assert.Equal(t, before, after, "a refused request changed nothing")
		})
	}

	// Refusals did not break the node: the seats they tried are still free.
	var again appointment
	tn.do(t, req{method: "GET", path: "/api/v1/appointments/" + booked.Code}).ok(t, http.StatusOK, &again)
	assert.Equal(t, booking.StatusBooked, again.Status)
	for _, s := range tn.slots(t, station, monday) {
		if s.Start.Equal(future) {
			assert.Equal(t, free[0].Free, s.Free)
		}
	}
	_, err := tn.DB().VerifyAudit()
	require.NoError(t, err)
}

// TestLockout: five wrong passwords lock the account with 429 and
// Retry-After; while locked even the right password is refused, and no
// session is created.
func TestLockout(t *testing.T) {
	tn := newTestNode(t)
	const user, password = "ketoan", "mật khẩu đúng 123"
	_, err := tn.Accounts().AddUser(context.Background(), "test", user, password, consult.RoleStaff, "")
	require.NoError(t, err)
	wrong := map[string]string{"username": user, "password": "mật khẩu sai 123"}
	before := snapshot(t, tn.DB())
	for i := 1; i < 5; i++ {
		tn.do(t, req{method: "POST", path: "/api/v1/login", body: wrong}).fails(t, http.StatusUnauthorized, "bad_credentials")
	}
	r := tn.do(t, req{method: "POST", path: "/api/v1/login", body: wrong})
	r.fails(t, http.StatusTooManyRequests, "account_locked")
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After: %q", r.header.Get("Retry-After"))
	assert.InDelta(t, 30, secs, 2)

	r = tn.do(t, req{method: "POST", path: "/api/v1/login", body: map[string]string{"username": user, "password": password}})
	r.fails(t, http.StatusTooManyRequests, "account_locked")
	assert.NotEmpty(t, r.header.Get("Retry-After"))
	assert.Empty(t, r.header.Values("Set-Cookie"), "no session cookie while locked")

	after := snapshot(t, tn.DB())
	assert.Equal(t, before.domain, after.domain)
	assert.Equal(t, before.sessions, after.sessions, "no session while locked")
	assert.Equal(t, before.users, after.users)
	// Other accounts are not locked.
	tn.login(t, "staff")
}
