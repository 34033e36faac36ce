package node_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFHIRScheduling: schedules and slots are public and match the JSON
// API; appointments only to this node's desk, audited, with the resident
// in a contained Patient.
func TestFHIRScheduling(t *testing.T) {
	tn := newTestNode(t)
	station := tn.staffStation(t)
	anon := newFHIRClient(t, tn, "")

	// Schedules: one per facility of this province that has one.
	var want []string
	for _, f := range allFacilities(t, tn) {
		if _, err := tn.Booking().GetSchedule(f.ID); err == nil {
			want = append(want, "Schedule/"+fhirID(f.ID))
		}
	}
	require.Contains(t, want, "Schedule/"+fhirID(station))
	onceEach(t, want, anon.walk("/fhir/Schedule?_count=5", 5), "Schedule")
	onceEach(t, []string{"Schedule/" + fhirID(station)},
		anon.walk("/fhir/Schedule?actor=Location/"+fhirID(station), 50), "Schedule?actor")
	anon.ok("/fhir/Schedule/"+fhirID(station), "Schedule")

	// Slots of one day: the JSON API's, each once, across pages.
	date := tn.nextWeekday(time.Tuesday)
	jsonSlots := tn.slots(t, station, date)
	require.NotEmpty(t, jsonSlots)
	var slotIDs []string
	for _, s := range jsonSlots {
		slotIDs = append(slotIDs, "Slot/"+fhirID(station)+"."+s.Start.In(tn.hcm).Format("200601021504"))
	}
	sched := "schedule=Schedule/" + fhirID(station)
	onceEach(t, slotIDs, anon.walk("/fhir/Slot?"+sched+"&start="+date+"&_count=4", 4), "Slot")
	onceEach(t, slotIDs, anon.walk("/fhir/Slot?"+sched+"&start=ge"+date+"&start=lt"+date+"T23:59:59%2B07:00&status=free", 50), "Slot ge/lt")
	onceEach(t, slotIDs[1:2], anon.walk("/fhir/Slot?"+sched+"&start="+url.QueryEscape(jsonSlots[1].Start.Format(time.RFC3339)), 50), "Slot at one start")
	anon.ok("/"+strings.Replace(slotIDs[0], "Slot/", "fhir/Slot/", 1), "Slot")
	anon.outcome("GET", "/fhir/Slot?"+sched+"&start=ge2026-01-01&start=le2026-12-31", http.StatusBadRequest, "too-costly")
	anon.outcome("GET", "/fhir/Slot/"+fhirID(station)+".209901010800", http.StatusNotFound, "not-found")

	// An appointment, booked through the JSON API.
	a := tn.book(t, station, jsonSlots[0].Start)
	staff := newFHIRClient(t, tn, tn.login(t, "staff"))
	before := snapshot(t, tn.DB()).audit
	var appt struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		Contained   []json.RawMessage
		Participant []struct {
			Actor struct {
				Reference string `json:"reference"`
			} `json:"actor"`
		} `json:"participant"`
	}
	id := strings.ReplaceAll(a.Code, "-", "")
	_, _, body := staff.get("/fhir/Appointment/" + id)
	require.NoError(t, json.Unmarshal(body, &appt))
	assert.Equal(t, id, appt.ID)
	assert.Equal(t, "booked", appt.Status)
	assert.Contains(t, string(body), "Nguyễn Thị Lan")
	assert.Equal(t, "Location/"+fhirID(station), appt.Participant[0].Actor.Reference)
	assert.Equal(t, before+1, snapshot(t, tn.DB()).audit, "the read is audited")

	// The day's desk.
	desk := "/fhir/Appointment?location=Location/" + fhirID(station) + "&date=" + date
	onceEach(t, []string{"Appointment/" + id}, staff.walk(desk, 50), "Appointment search")
	onceEach(t, nil, staff.walk(desk+"&status=cancelled", 50), "Appointment status")
	tn.do(t, req{method: "POST", path: "/api/v1/appointments/" + a.Code + "/cancel"}).ok(t, http.StatusOK, nil)
	onceEach(t, []string{"Appointment/" + id}, staff.walk(desk+"&status=cancelled", 50), "Appointment cancelled")

	// No data for anyone else.
	anon.outcome("GET", "/fhir/Appointment/"+id, http.StatusUnauthorized, "login")
	anon.outcome("GET", desk, http.StatusUnauthorized, "login")
	staff.outcome("GET", "/fhir/Appointment/23456789ABCDE", http.StatusNotFound, "not-found")
	staff.outcome("GET", "/fhir/Appointment?location=Location/"+fhirID(station), http.StatusBadRequest, "required")
	var other string
	for _, f := range tn.stations(t) {
		if f.ID != station {
			other = f.ID
			break
		}
	}
	require.NotEmpty(t, other)
	staff.outcome("GET", "/fhir/Appointment?location=Location/"+fhirID(other)+"&date="+date, http.StatusForbidden, "forbidden")
}

// TestFHIRReferrals: a referral within one province as ServiceRequest and
// Task, through its states, to the node's clinicians only.
func TestFHIRReferrals(t *testing.T) {
	tn := newTestNode(t)
	staffTok := tn.login(t, "staff")
	var created struct {
		ID string `json:"id"`
	}
	r := tn.do(t, req{method: "POST", path: "/api/v1/referrals", token: staffTok, body: map[string]any{
		"specialty": "cardiology", "urgency": "urgent", "reason": "đau ngực khi gắng sức", "target_province": "66",
		"patient": map[string]any{"name": "Lê Văn Tám", "phone": "0987654321", "birth_year": 1961, "sex": "male"},
	}})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	require.NoError(t, json.Unmarshal(r.body, &created))
	require.NotEmpty(t, created.ID)

	staff := newFHIRClient(t, tn, staffTok)
	doctor := newFHIRClient(t, tn, tn.login(t, "doctor"))
	var task struct {
		Status         string `json:"status"`
		BusinessStatus struct {
			Coding []struct{ Code string } `json:"coding"`
		} `json:"businessStatus"`
		Focus     struct{ Reference string }  `json:"focus"`
		Requester struct{ Reference string }  `json:"requester"`
		Owner     *struct{ Reference string } `json:"owner"`
	}
	_, _, body := staff.get("/fhir/Task/" + created.ID)
	require.NoError(t, json.Unmarshal(body, &task))
	assert.Contains(t, []string{"requested", "received"}, task.Status)
	assert.Equal(t, "ServiceRequest/"+created.ID, task.Focus.Reference)
	assert.Equal(t, "Organization/province.66", task.Requester.Reference)
	assert.Nil(t, task.Owner, "no owner before acceptance")

	before := snapshot(t, tn.DB()).audit
	d := staff.ok("/fhir/ServiceRequest/"+created.ID, "ServiceRequest")
	assert.Equal(t, created.ID, d.ID)
	_, _, body = staff.get("/fhir/ServiceRequest/" + created.ID)
	assert.Contains(t, string(body), "Lê Văn Tám", "the referring node sees its patient")
	assert.Contains(t, string(body), `"code":"cardiology"`)
	assert.Greater(t, snapshot(t, tn.DB()).audit, before, "reads with patient data are audited")

	// Searches carry no patient data, and page over every request.
	_, _, body = doctor.get("/fhir/ServiceRequest")
	assert.NotContains(t, string(body), "Lê Văn Tám")
	assert.NotContains(t, string(body), "0987654321")
	onceEach(t, []string{"ServiceRequest/" + created.ID}, doctor.walk("/fhir/ServiceRequest?status=active", 50), "ServiceRequest search")
	onceEach(t, []string{"Task/" + created.ID}, doctor.walk("/fhir/Task?requester=Organization/province.66&_count=1", 1), "Task search")

	// Accepted: the Task gets its owner and status.
	r = tn.do(t, req{method: "POST", path: "/api/v1/referrals/" + created.ID + "/accept", token: doctor.token})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	_, _, body = doctor.get("/fhir/Task/" + created.ID)
	task.Owner = nil
	require.NoError(t, json.Unmarshal(body, &task))
	assert.Equal(t, "accepted", task.Status)
	require.NotNil(t, task.Owner)
	assert.Equal(t, "Organization/province.66", task.Owner.Reference)
	onceEach(t, []string{"Task/" + created.ID}, doctor.walk("/fhir/Task?status=accepted&owner=province.66", 50), "Task?status")
	onceEach(t, nil, doctor.walk("/fhir/Task?status=completed", 50), "Task?status=completed")

	doctor.outcome("GET", "/fhir/Task/66-r-aaaaaaaaaaaaaaaa", http.StatusNotFound, "not-found")
	doctor.outcome("GET", "/fhir/ServiceRequest/nope", http.StatusNotFound, "not-found")
	newFHIRClient(t, tn, "").outcome("GET", "/fhir/ServiceRequest/"+created.ID, http.StatusUnauthorized, "login")
}
