package node_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/directory"
)

func TestHealthz(t *testing.T) {
	tn := newTestNode(t)
	var h struct {
		Status   string `json:"status"`
		Province string `json:"province"`
		Name     string `json:"name"`
		Role     string `json:"role"`
		Peers    int    `json:"peers"`
		Version  string `json:"version"`
		Uptime   int64  `json:"uptime_seconds"`
	}
	tn.do(t, req{method: "GET", path: "/healthz"}).ok(t, http.StatusOK, &h)
	assert.Equal(t, "ok", h.Status)
	assert.Equal(t, province, h.Province)
	assert.Equal(t, "province", h.Role)
	assert.NotEmpty(t, h.Name)
	assert.GreaterOrEqual(t, h.Peers, 0)
}

type facilityPage struct {
	Items []directory.Facility `json:"items"`
	Next  string               `json:"next"`
}

func TestListFacilities(t *testing.T) {
	tn := newTestNode(t)
	listAll := func(t *testing.T, query string, limit int) []directory.Facility {
		t.Helper()
		var all []directory.Facility
		cursor := ""
		for range 1000 {
			var p facilityPage
			tn.do(t, req{method: "GET", path: "/api/v1/facilities?" + query + "&limit=" + strconv.Itoa(limit) + "&cursor=" + url.QueryEscape(cursor)}).
				ok(t, http.StatusOK, &p)
			assert.LessOrEqual(t, len(p.Items), limit)
			all = append(all, p.Items...)
			if p.Next == "" {
				return all
			}
			require.Len(t, p.Items, limit, "a page before the last is full")
			cursor = p.Next
		}
		t.Fatal("pagination does not end")
		return nil
	}
	ids := func(fs []directory.Facility) []string {
		out := make([]string, len(fs))
		for i, f := range fs {
			out[i] = f.ID
		}
		return out
	}

	t.Run("pagination", func(t *testing.T) {
		whole := listAll(t, "province="+province, 500)
		require.Greater(t, len(whole), 7, "the sample is too small to page")
		paged := listAll(t, "province="+province, 7)
		assert.Equal(t, ids(whole), ids(paged), "pages of 7 give the same facilities, in the same order, once each")
		assert.True(t, slices.IsSorted(ids(whole)), "facilities come in ID order")
		for _, f := range whole {
			assert.Equal(t, province, f.Province)
			assert.True(t, strings.HasPrefix(f.ID, province+"-"), f.ID)
			assert.NotEmpty(t, f.Name)
			assert.True(t, consult.ValidLevel(f.Level), f.Level)
		}
	})
	t.Run("level", func(t *testing.T) {
		got := listAll(t, "level="+string(consult.CommuneHealthStation), 50)
		require.NotEmpty(t, got)
		for _, f := range got {
			assert.Equal(t, consult.CommuneHealthStation, f.Level)
		}
	})
	t.Run("specialty", func(t *testing.T) {
		whole := listAll(t, "province="+province, 500)
		spec := ""
		for _, f := range whole {
			if len(f.Specialties) > 0 {
				spec = f.Specialties[0]
				break
			}
		}
		require.NotEmpty(t, spec, "no facility of the sample has a specialty")
		got := listAll(t, "specialty="+spec, 50)
		require.NotEmpty(t, got)
		want := 0
		for _, f := range whole {
			if slices.Contains(f.Specialties, spec) {
				want++
			}
		}
		assert.Len(t, got, want)
		for _, f := range got {
			assert.Contains(t, f.Specialties, spec)
		}
	})
	t.Run("q without diacritics", func(t *testing.T) {
		whole := listAll(t, "province="+province, 500)
		target := whole[len(whole)/2]
		q := directory.Fold(target.Name)
		got := listAll(t, "q="+url.QueryEscape(strings.ToUpper(q)), 50)
		assert.Contains(t, ids(got), target.ID)
	})
}

func TestBookingLifecycle(t *testing.T) {
	tn := newTestNode(t)
	station := tn.staffStation(t)
	monday := tn.nextWeekday(time.Monday)

	var sc booking.Schedule
	tn.do(t, req{method: "GET", path: "/api/v1/facilities/" + station + "/schedule"}).ok(t, http.StatusOK, &sc)
	slots := tn.freeSlots(t, station, monday, 4)
	for _, s := range slots {
		assert.Equal(t, time.Duration(sc.SlotMinutes)*time.Minute, s.End.Sub(s.Start))
		assert.LessOrEqual(t, s.Free, sc.Capacity)
		_, off := s.Start.Zone()
		assert.Equal(t, 7*3600, off, "slot times are rendered in the facility's zone")
	}
	free := func(start time.Time) int {
		t.Helper()
		for _, s := range tn.slots(t, station, monday) {
			if s.Start.Equal(start) {
				return s.Free
			}
		}
		t.Fatalf("no slot at %s", start)
		return 0
	}

	// Book: 201 with API.md's shape.
	raw := tn.do(t, req{method: "POST", path: "/api/v1/appointments", body: bookBody(station, slots[0].Start)})
	require.Equal(t, http.StatusCreated, raw.status, "body: %s", raw.body)
	var shape map[string]any
	raw.json(t, &shape)
	for _, k := range []string{"id", "code", "status", "facility", "start"} {
		assert.Contains(t, shape, k)
	}
	var a appointment
	raw.json(t, &a)
	assert.Equal(t, booking.StatusBooked, a.Status)
	assert.Equal(t, station, a.Facility)
	assert.True(t, a.Start.Equal(slots[0].Start))
	assert.NotEmpty(t, a.ID)
	assert.NotEmpty(t, a.Code)
	assert.Equal(t, slots[0].Free-1, free(slots[0].Start), "the seat is taken")

	// Get by code: the holder needs no account; any case, dashes optional.
	var got appointment
	tn.do(t, req{method: "GET", path: "/api/v1/appointments/" + a.Code}).ok(t, http.StatusOK, &got)
	assert.Equal(t, a.ID, got.ID)
	tn.do(t, req{method: "GET", path: "/api/v1/appointments/" + strings.ToLower(strings.ReplaceAll(a.Code, "-", ""))}).ok(t, http.StatusOK, &got)
	assert.Equal(t, a.ID, got.ID)

	// Reschedule to the next slot: the seats move.
	var moved appointment
	tn.do(t, req{method: "POST", path: "/api/v1/appointments/" + a.Code + "/reschedule",
		body: map[string]any{"start": slots[1].Start}}).ok(t, http.StatusOK, &moved)
	assert.True(t, moved.Start.Equal(slots[1].Start))
	assert.Equal(t, booking.StatusBooked, moved.Status)
	assert.Equal(t, slots[0].Free, free(slots[0].Start), "the old seat is free again")
	assert.Equal(t, slots[1].Free-1, free(slots[1].Start))

	// Cancel: the seat is free again; a second cancel is a conflict.
	var cancelled appointment
	tn.do(t, req{method: "POST", path: "/api/v1/appointments/" + a.Code + "/cancel"}).ok(t, http.StatusOK, &cancelled)
	assert.Equal(t, booking.StatusCancelled, cancelled.Status)
	assert.Equal(t, slots[1].Free, free(slots[1].Start))
	tn.do(t, req{method: "POST", path: "/api/v1/appointments/" + a.Code + "/cancel"}).fails(t, http.StatusConflict, booking.CodeAlreadyCancelled)

	// The desk: staff see the day's appointments, every status.
	staff := tn.login(t, "staff")
	b := tn.book(t, station, slots[2].Start)
	c := tn.book(t, station, slots[3].Start)
	var desk struct {
		Items []appointment `json:"items"`
	}
	tn.do(t, req{method: "GET", path: "/api/v1/appointments?facility=" + station + "&date=" + monday, token: staff}).ok(t, http.StatusOK, &desk)
	byCode := map[string]appointment{}
	for _, d := range desk.Items {
		byCode[d.Code] = d
		assert.Equal(t, monday, d.Day)
	}
	assert.Equal(t, booking.StatusCancelled, byCode[a.Code].Status)
	assert.Equal(t, booking.StatusBooked, byCode[b.Code].Status)
	assert.Equal(t, booking.StatusBooked, byCode[c.Code].Status)
	assert.Equal(t, "Nguyễn Thị Lan", byCode[b.Code].Name, "staff see the patient's name")
	assert.True(t, slices.IsSortedFunc(desk.Items, func(x, y appointment) int { return x.Start.Compare(y.Start) }))
	// With no facility, the desk is the staff member's own.
	var own struct {
		Items []appointment `json:"items"`
	}
	tn.do(t, req{method: "GET", path: "/api/v1/appointments?date=" + monday, token: staff}).ok(t, http.StatusOK, &own)
	assert.Len(t, own.Items, len(desk.Items))

	// Check-in, then fulfil.
	var st appointment
	tn.do(t, req{method: "POST", path: "/api/v1/appointments/" + b.Code + "/arrive", token: staff}).ok(t, http.StatusOK, &st)
	assert.Equal(t, booking.StatusArrived, st.Status)
	tn.do(t, req{method: "POST", path: "/api/v1/appointments/" + b.Code + "/fulfil", token: staff}).ok(t, http.StatusOK, &st)
	assert.Equal(t, booking.StatusFulfilled, st.Status)

	// A no-show only once the start has passed.
	tn.do(t, req{method: "POST", path: "/api/v1/appointments/" + c.Code + "/noshow", token: staff}).fails(t, http.StatusConflict, booking.CodeTooEarly)
	tn.clock.Advance(time.Until(c.Start) + time.Minute)
	t.Cleanup(tn.clock.Reset)
	tn.do(t, req{method: "POST", path: "/api/v1/appointments/" + c.Code + "/noshow", token: staff}).ok(t, http.StatusOK, &st)
	assert.Equal(t, booking.StatusNoShow, st.Status)

	var final appointment
	tn.do(t, req{method: "GET", path: "/api/v1/appointments/" + b.Code}).ok(t, http.StatusOK, &final)
	assert.Equal(t, booking.StatusFulfilled, final.Status)
	n, err := tn.DB().VerifyAudit()
	require.NoError(t, err)
	assert.Positive(t, n)
}

func TestLoginCookie(t *testing.T) {
	tn := newTestNode(t)
	c := jarClient(t)
	r := doOn(t, c, tn.URL(), req{method: "POST", path: "/api/v1/login",
		body: map[string]string{"username": "staff", "password": tn.users["staff"]}})
	var out struct {
		Token   string    `json:"token"`
		Expires time.Time `json:"expires"`
		User    struct {
			Username string       `json:"username"`
			Role     consult.Role `json:"role"`
			Facility string       `json:"facility"`
		} `json:"user"`
	}
	r.ok(t, http.StatusOK, &out)
	require.NotEmpty(t, out.Token)
	assert.Equal(t, consult.RoleStaff, out.User.Role)
	assert.True(t, out.Expires.After(time.Now()))

	var session *http.Cookie
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == "moinha_session" {
			session = ck
		}
	}
	require.NotNil(t, session, "login sets the session cookie; headers: %v", r.header)
	assert.Equal(t, out.Token, session.Value)
	assert.True(t, session.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, session.SameSite)
	assert.Equal(t, "/", session.Path)

	// The cookie alone logs a later request in, as in the web app.
	var me struct {
		Username string       `json:"username"`
		Role     consult.Role `json:"role"`
		Facility string       `json:"facility"`
	}
	doOn(t, c, tn.URL(), req{method: "GET", path: "/api/v1/me"}).ok(t, http.StatusOK, &me)
	assert.Equal(t, "staff", me.Username)
	var desk struct {
		Items []appointment `json:"items"`
	}
	doOn(t, c, tn.URL(), req{method: "GET", path: "/api/v1/appointments?date=" + tn.nextWeekday(time.Monday)}).ok(t, http.StatusOK, &desk)
	// The bearer token works the same.
	tn.do(t, req{method: "GET", path: "/api/v1/me", token: out.Token}).ok(t, http.StatusOK, &me)

	// Logout ends the session and clears the cookie.
	lo := doOn(t, c, tn.URL(), req{method: "POST", path: "/api/v1/logout"})
	assert.Equal(t, http.StatusNoContent, lo.status)
	doOn(t, c, tn.URL(), req{method: "GET", path: "/api/v1/me"}).fails(t, http.StatusUnauthorized, "login_required")
	tn.do(t, req{method: "GET", path: "/api/v1/me", token: out.Token}).fails(t, http.StatusUnauthorized, "invalid_token")
}

func TestAdminAddsFacilityPractitionerScheduleUser(t *testing.T) {
	tn := newTestNode(t)
	admin := tn.login(t, "admin")

	var f directory.Facility
	tn.do(t, req{method: "POST", path: "/api/v1/facilities", token: admin, body: map[string]any{
		"code": "TYT-TEST01", "name": "Trạm Y tế xã Thử Nghiệm", "level": "commune_health_station",
		"commune": "Xã Thử Nghiệm", "address": "Thôn 1", "specialties": []string{"general_practice", "paediatrics"},
		"services": []string{"tiêm chủng"}, "phone": "0262 3850 000", "geo": map[string]float64{"lat": 12.68, "lon": 108.05},
	}}).ok(t, http.StatusOK, &f)
	assert.Equal(t, province+"-TYT-TEST01", f.ID)
	assert.Equal(t, province, f.Province)
	var again directory.Facility
	tn.do(t, req{method: "GET", path: "/api/v1/facilities/" + f.ID}).ok(t, http.StatusOK, &again)
	assert.Equal(t, f.Name, again.Name)
	assert.Equal(t, []string{"general_practice", "paediatrics"}, again.Specialties)

	var p directory.Practitioner
	tn.do(t, req{method: "POST", path: "/api/v1/practitioners", token: admin, body: map[string]any{
		"name": "BS. H'Linh Niê", "role": "doctor", "facility": f.ID,
		"specialties": []string{"paediatrics"}, "languages": []string{"vi", "rad"},
	}}).ok(t, http.StatusOK, &p)
	assert.NotEmpty(t, p.ID)
	assert.Equal(t, f.ID, p.Facility)
	var ps struct {
		Items []directory.Practitioner `json:"items"`
		Next  string                   `json:"next"`
	}
	tn.do(t, req{method: "GET", path: "/api/v1/practitioners?facility=" + f.ID, token: admin}).ok(t, http.StatusOK, &ps)
	require.Len(t, ps.Items, 1)
	assert.Equal(t, p.ID, ps.Items[0].ID)

	var sc booking.Schedule
	tn.do(t, req{method: "PUT", path: "/api/v1/facilities/" + f.ID + "/schedule", token: admin, body: map[string]any{
		"slot_minutes": 30, "capacity": 2,
		"hours": map[string][]map[string]string{"mon": {{"open": "07:30", "close": "11:30"}, {"open": "13:30", "close": "16:30"}}},
	}}).ok(t, http.StatusOK, &sc)
	assert.Equal(t, f.ID, sc.Facility)
	assert.Equal(t, 2, sc.Capacity)
	slots := tn.slots(t, f.ID, tn.nextWeekday(time.Monday))
	require.Len(t, slots, 8+6)
	assert.Equal(t, 2, slots[0].Free)
	assert.Equal(t, 7, slots[0].Start.Hour())
	assert.Equal(t, 30, slots[0].Start.Minute())
	assert.Empty(t, tn.slots(t, f.ID, tn.nextWeekday(time.Tuesday)), "closed on Tuesdays")

	var u struct {
		Username string       `json:"username"`
		Role     consult.Role `json:"role"`
		Facility string       `json:"facility"`
	}
	tn.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: map[string]any{
		"username": "lan.nt", "password": "một mật khẩu dài", "role": "staff", "facility": f.ID,
	}}).ok(t, http.StatusCreated, &u)
	assert.Equal(t, "lan.nt", u.Username)
	assert.Equal(t, f.ID, u.Facility)
	tn.users["lan.nt"] = "một mật khẩu dài"
	tok := tn.login(t, "lan.nt")
	var desk struct {
		Items []appointment `json:"items"`
	}
	tn.do(t, req{method: "GET", path: "/api/v1/appointments?date=" + tn.nextWeekday(time.Monday), token: tok}).ok(t, http.StatusOK, &desk)
	assert.Empty(t, desk.Items)
	var users struct {
		Items []struct {
			Username    string       `json:"username"`
			Role        consult.Role `json:"role"`
			Facility    string       `json:"facility"`
			DisplayName string       `json:"display_name"`
		} `json:"items"`
	}
	tn.do(t, req{method: "GET", path: "/api/v1/users", token: admin}).ok(t, http.StatusOK, &users)
	assert.Len(t, users.Items, 4)
}
