package node

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/fhir"
	"github.com/moinha/moinha/consult/referral"
)

// maxSlotDays bounds the days one Slot search covers.
const maxSlotDays = 31

// careSource returns the items of a Schedule, Slot, Appointment,
// ServiceRequest or Task search; fhirMayRead has checked the caller.
func (n *Node) careSource(r *http.Request, s *fhir.Search) (fhir.Source, error) {
	switch s.Type {
	case "Schedule":
		return n.scheduleSource(), nil
	case "Slot":
		return n.slotSource(s)
	case "Appointment":
		return n.appointmentSource(r, s)
	case "ServiceRequest", "Task":
		return n.referralSource(s.Type), nil
	}
	return nil, fhir.Errorf(http.StatusNotFound, "not-supported", "resource type %.40q is not served here", s.Type)
}

// careRead reads one Schedule, Slot, Appointment, ServiceRequest or Task.
func (n *Node) careRead(r *http.Request, typ, id string) (fhir.Resource, error) {
	notFound := fhir.Errorf(http.StatusNotFound, "not-found", "%s/%.80s is not known here", typ, id)
	switch typ {
	case "Schedule":
		fid := fhir.FromID(id)
		loc, err := n.dir.BookableFacility(fid)
		if err != nil {
			return nil, notFoundOr(err, notFound)
		}
		sc, err := n.book.GetSchedule(fid)
		if err != nil {
			return nil, notFoundOr(err, notFound)
		}
		return fhir.ScheduleResource(&sc, time.Now(), loc), nil
	case "Slot":
		fid, stamp, ok := fhir.ParseSlotID(id)
		if !ok {
			return nil, notFound
		}
		loc, err := n.dir.BookableFacility(fid)
		if err != nil {
			return nil, notFoundOr(err, notFound)
		}
		start, err := time.ParseInLocation("200601021504", stamp, loc)
		if err != nil {
			return nil, notFound
		}
		slots, err := n.book.Slots(fid, start.Format(time.DateOnly))
		if err != nil {
			return nil, notFoundOr(err, notFound)
		}
		for _, sl := range slots {
			if sl.Start.Equal(start) {
				return fhir.SlotResource(fid, sl), nil
			}
		}
		return nil, notFound
	case "Appointment":
		a, err := n.book.Get(r.Context(), actor(r), id)
		if err != nil {
			return nil, notFoundOr(err, notFound)
		}
		if !n.atFacility(r, a.Facility) {
			return nil, fhir.Errorf(http.StatusForbidden, "forbidden", "this appointment is at another facility than yours")
		}
		return fhir.AppointmentResource(&a), nil
	case "ServiceRequest", "Task":
		if !referral.ValidID(id) {
			return nil, notFound
		}
		v, err := n.ref.Get(r.Context(), actor(r), id)
		if err != nil {
			return nil, notFoundOr(err, notFound)
		}
		if typ == "Task" {
			return fhir.TaskResource(&v), nil
		}
		return fhir.ServiceRequestResource(&v), nil
	}
	return nil, fhir.Errorf(http.StatusNotFound, "not-supported", "resource type %.40q is not served here", typ)
}

// notFoundOr turns a domain not-found (or an invalid ID) into notFound.
func notFoundOr(err error, notFound *fhir.Error) error {
	if ce, ok := err.(*consult.Error); ok && (ce.Kind == consult.ErrNotFound || ce.Kind == consult.ErrInvalid) {
		return notFound
	}
	return err
}

// atFacility reports whether the caller may see a facility's desk: admins
// and accounts without a facility anywhere in this province, others only
// at their own facility (as GET /api/v1/appointments).
func (n *Node) atFacility(r *http.Request, facility string) bool {
	s := session(r)
	return s != nil && (s.Role == consult.RoleAdmin || s.Facility == "" || s.Facility == facility)
}

// scheduleSource: the schedules of this province's facilities, in
// facility ID order.
func (n *Node) scheduleSource() fhir.Source {
	return func(after string, yield func(fhir.Item) bool) error {
		var facs []directory.Facility
		if err := n.dir.ScanFacilities(directory.ScanFilter{Province: n.cfg.Province}, after, func(f directory.Facility, _ time.Time) bool {
			facs = append(facs, f)
			return true
		}); err != nil {
			return err
		}
		now := time.Now()
		for _, f := range facs {
			sc, err := n.book.GetSchedule(f.ID)
			if err != nil {
				if ce, ok := err.(*consult.Error); ok && ce.Kind == consult.ErrNotFound {
					continue
				}
				return err
			}
			loc, err := n.dir.BookableFacility(f.ID)
			if err != nil {
				continue
			}
			if !yield(fhir.Item{Key: f.ID, Res: fhir.ScheduleResource(&sc, now, loc), Changed: sc.Updated}) {
				return nil
			}
		}
		return nil
	}
}

// oneFacility reads the one facility a search names through reference
// parameter name, of reference type typ.
func oneFacility(s *fhir.Search, name, typ string) (string, error) {
	vals := s.Refs(name)
	if len(vals) != 1 {
		return "", fhir.Errorf(http.StatusBadRequest, "required", "%s searches need exactly one %s=%s/ID", s.Type, name, typ)
	}
	id, ok := fhir.RefID(vals[0], typ)
	if !ok {
		return "", fhir.Errorf(http.StatusBadRequest, "invalid", "%s must name a %s", name, typ)
	}
	return fhir.FromID(id), nil
}

// slotSource: the slots of one schedule over the days the start
// parameter covers (today when absent; at most 31 days).
func (n *Node) slotSource(s *fhir.Search) (fhir.Source, error) {
	fid, err := oneFacility(s, "schedule", "Schedule")
	if err != nil {
		return nil, err
	}
	loc, err := n.dir.BookableFacility(fid)
	if err != nil {
		return nil, notFoundOr(err, fhir.Errorf(http.StatusNotFound, "not-found", "no schedule %.80s here", fid))
	}
	lo, hi, ok := s.Bounds("start")
	if s.Has("start") && !ok {
		return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "start takes one value per repeat and no ne")
	}
	now := time.Now().In(loc)
	if lo.IsZero() {
		lo = now
	}
	first := time.Date(lo.In(loc).Year(), lo.In(loc).Month(), lo.In(loc).Day(), 0, 0, 0, 0, loc)
	if hi.IsZero() {
		hi = first.AddDate(0, 0, 1)
	}
	if !hi.After(first) {
		return func(string, func(fhir.Item) bool) error { return nil }, nil
	}
	if hi.After(first.AddDate(0, 0, maxSlotDays)) {
		return nil, fhir.Errorf(http.StatusBadRequest, "too-costly", "a Slot search covers at most %d days", maxSlotDays)
	}
	return func(after string, yield func(fhir.Item) bool) error {
		for day := first; day.Before(hi); day = day.AddDate(0, 0, 1) {
			slots, err := n.book.Slots(fid, day.Format(time.DateOnly))
			if err != nil {
				if ce, ok := err.(*consult.Error); ok && ce.Kind == consult.ErrNotFound {
					return fhir.Errorf(http.StatusNotFound, "not-found", "facility %.80s has no schedule", fid)
				}
				return err
			}
			for _, sl := range slots {
				key := sl.Start.UTC().Format("20060102T150405")
				if key <= after {
					continue
				}
				if !yield(fhir.Item{Key: key, Res: fhir.SlotResource(fid, sl)}) {
					return nil
				}
			}
		}
		return nil
	}, nil
}

// appointmentSource: one facility's appointments on one day (the desk;
// audited as GET /api/v1/appointments).
func (n *Node) appointmentSource(r *http.Request, s *fhir.Search) (fhir.Source, error) {
	fid, err := oneFacility(s, "location", "Location")
	if err != nil {
		return nil, err
	}
	if _, err := n.dir.BookableFacility(fid); err != nil {
		return nil, notFoundOr(err, fhir.Errorf(http.StatusNotFound, "not-found", "no facility %.80s in this province", fid))
	}
	if !n.atFacility(r, fid) {
		return nil, fhir.Errorf(http.StatusForbidden, "forbidden", "you work at another facility")
	}
	lo, hi, ok := s.Bounds("date")
	if !ok || lo.IsZero() || hi.IsZero() {
		return nil, fhir.Errorf(http.StatusBadRequest, "required", "Appointment searches need date=YYYY-MM-DD (one day)")
	}
	if hi.Sub(lo) > 25*time.Hour {
		return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "date must name one day, YYYY-MM-DD")
	}
	date := lo.Format(time.DateOnly) // the day as written (Vietnam's calendar)
	return func(after string, yield func(fhir.Item) bool) error {
		list, err := n.book.Desk(r.Context(), actor(r), fid, date)
		if err != nil {
			return err
		}
		key := func(a *booking.Appointment) string { return a.Start.UTC().Format("20060102T150405") + "/" + a.ID }
		slices.SortFunc(list, func(a, b booking.Appointment) int { return strings.Compare(key(&a), key(&b)) })
		for i := range list {
			a := &list[i]
			if key(a) <= after {
				continue
			}
			if !yield(fhir.Item{Key: key(a), Res: fhir.AppointmentResource(a), Changed: a.Updated}) {
				return nil
			}
		}
		return nil
	}, nil
}

// referralSource: every referral and consult request this node holds, in
// ID order, without patient data (reading one shows what the JSON API
// would, audited).
func (n *Node) referralSource(typ string) fhir.Source {
	return func(after string, yield func(fhir.Item) bool) error {
		return n.ref.Scan(after, func(v referral.View) bool {
			var res fhir.Resource
			if typ == "Task" {
				res = fhir.TaskResource(&v)
			} else {
				res = fhir.ServiceRequestResource(&v)
			}
			return yield(fhir.Item{Key: v.ID, Res: res, Changed: v.Updated})
		})
	}
}
