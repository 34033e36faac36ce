package node

import (
	"net/http"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
)

func (n *Node) getSchedule(w http.ResponseWriter, r *http.Request) {
	s, err := n.book.GetSchedule(r.PathValue("id"))
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (n *Node) putSchedule(w http.ResponseWriter, r *http.Request) {
	var s booking.Schedule
	if err := decode(w, r, n.cfg.MaxBodyBytes, &s); err != nil {
		n.fail(w, r, err)
		return
	}
	if s.Facility != "" && s.Facility != r.PathValue("id") {
		n.fail(w, r, consult.Invalid("facility", "does not match the facility in the path"))
		return
	}
	s.Facility = r.PathValue("id")
	out, err := n.book.PutSchedule(r.Context(), actor(r), s)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) slots(w http.ResponseWriter, r *http.Request) {
	date := r.URL.Query().Get("date")
	if date == "" {
		n.fail(w, r, consult.Invalid("date", "give ?date=YYYY-MM-DD"))
		return
	}
	items, err := n.book.Slots(r.PathValue("id"), date)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(items, ""))
}

func (n *Node) bookAppointment(w http.ResponseWriter, r *http.Request) {
	var req booking.BookRequest
	if err := decode(w, r, 16<<10, &req); err != nil {
		n.fail(w, r, err)
		return
	}
	a, err := n.book.Book(r.Context(), actor(r), req)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	n.met.bookings.Inc()
	writeJSON(w, http.StatusCreated, a)
}

func (n *Node) getAppointment(w http.ResponseWriter, r *http.Request) {
	a, err := n.book.Get(r.Context(), actor(r), r.PathValue("code"))
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

type rescheduleRequest struct {
	Start time.Time `json:"start"`
}

// appointmentAction: cancel and reschedule for the holder of the code or
// staff; arrive (check-in), noshow and fulfil for staff only.
func (n *Node) appointmentAction(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	var (
		a   booking.Appointment
		err error
	)
	switch action := r.PathValue("action"); action {
	case "cancel":
		a, err = n.book.Cancel(r.Context(), actor(r), code)
	case "reschedule":
		var req rescheduleRequest
		if err = decode(w, r, 4<<10, &req); err == nil {
			a, err = n.book.Reschedule(r.Context(), actor(r), code, req.Start)
		}
	case "arrive", "checkin", "noshow", "fulfil", "fulfill":
		if !n.allowed(w, r, deskRoles) {
			return
		}
		status := map[string]string{"arrive": booking.StatusArrived, "checkin": booking.StatusArrived,
			"noshow": booking.StatusNoShow, "fulfil": booking.StatusFulfilled, "fulfill": booking.StatusFulfilled}[action]
		a, err = n.book.SetStatus(r.Context(), actor(r), code, status)
	default:
		writeErr(w, http.StatusNotFound, "no_route", "unknown appointment action "+action+
			"; use cancel, reschedule, arrive, noshow or fulfil")
		return
	}
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// allowed is need() for use inside a handler.
func (n *Node) allowed(w http.ResponseWriter, r *http.Request, roles []consult.Role) bool {
	ok := false
	n.need(roles, func(http.ResponseWriter, *http.Request) { ok = true })(w, r)
	return ok
}

func (n *Node) desk(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	facility, date := q.Get("facility"), q.Get("date")
	if facility == "" {
		facility = session(r).Facility
	}
	if facility == "" {
		n.fail(w, r, consult.Invalid("facility", "give ?facility=ID"))
		return
	}
	if s := session(r); s.Role != consult.RoleAdmin && s.Facility != "" && s.Facility != facility {
		writeErr(w, http.StatusForbidden, "forbidden", "you work at another facility")
		return
	}
	if date == "" {
		loc, err := n.dir.BookableFacility(facility)
		if err != nil {
			n.fail(w, r, err)
			return
		}
		date = time.Now().In(loc).Format(time.DateOnly)
	}
	items, err := n.book.Desk(r.Context(), actor(r), facility, date)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(items, ""))
}
