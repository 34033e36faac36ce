package node

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/accounts"
)

// sessionCookie is the HttpOnly, SameSite=Strict cookie POST /api/v1/login sets.
const sessionCookie = "moinha_session"

type ctxKey int

const sessionKey ctxKey = 1

// session returns the caller's session, or nil for an anonymous request.
func session(r *http.Request) *accounts.Session {
	s, _ := r.Context().Value(sessionKey).(*accounts.Session)
	return s
}

// actor names the caller in the audit log.
func actor(r *http.Request) string {
	if s := session(r); s != nil {
		return s.Username
	}
	return "resident"
}

func (n *Node) routes() http.Handler {
	mux := http.NewServeMux()
	h := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, fn) }

	h("GET /healthz", n.healthz)
	mux.Handle("GET /metrics", loopbackOnly(promhttp.HandlerFor(n.reg, promhttp.HandlerOpts{})))

	h("POST /api/v1/login", n.login)
	h("POST /api/v1/logout", n.logout)
	h("GET /api/v1/me", n.need(anyUser, n.me))
	h("GET /api/v1/specialties", n.specialties)

	h("GET /api/v1/facilities", n.listFacilities)
	h("GET /api/v1/facilities/{id}", n.getFacility)
	h("POST /api/v1/facilities", n.need(admins, n.putFacility))
	h("POST /api/v1/facilities/import", n.need(admins, n.importFacilities))
	h("DELETE /api/v1/facilities/{id}", n.need(admins, n.deleteFacility))
	h("GET /api/v1/practitioners", n.need(anyUser, n.listPractitioners))
	h("GET /api/v1/practitioners/{id}", n.need(anyUser, n.getPractitioner))
	h("POST /api/v1/practitioners", n.need(admins, n.putPractitioner))

	h("GET /api/v1/facilities/{id}/schedule", n.getSchedule)
	h("PUT /api/v1/facilities/{id}/schedule", n.need(admins, n.putSchedule))
	h("GET /api/v1/facilities/{id}/slots", n.slots)
	h("POST /api/v1/appointments", n.bookAppointment)
	h("GET /api/v1/appointments", n.need(deskRoles, n.desk))
	h("GET /api/v1/appointments/{code}", n.getAppointment)
	h("POST /api/v1/appointments/{code}/{action}", n.appointmentAction)

	h("GET /api/v1/network/members", n.need(anyUser, n.networkMembers))
	h("POST /api/v1/network/leave", n.need(admins, n.networkLeave))
	h("GET /api/v1/network/availability", n.need(anyUser, n.networkAvailability))
	h("PUT /api/v1/availability/{specialty}", n.need(admins, n.putAvailability))
	h("GET /api/v1/network/stats", n.need(anyUser, n.getNetworkStats))
	h("GET /api/v1/network/stats.csv", n.need(anyUser, n.getNetworkStatsCSV))
	h("GET /api/v1/network/reporting", n.need(anyUser, n.getNetworkReporting))

	h("POST /api/v1/calls", n.need(deskRoles, n.createCall))
	h("GET /api/v1/calls", n.need(deskRoles, n.listCalls))
	h("GET /api/v1/calls/{id}", n.need(deskRoles, n.getCall))
	h("GET /api/v1/calls/{id}/signal", n.need(anyUser, n.callSignal))

	n.referralRoutes(h) // referrals and consult requests: api_referrals.go
	n.fhirRoutes(h)     // read-only FHIR R4 views under /fhir: api_fhir.go

	h("GET /api/v1/users", n.need(admins, n.listUsers))
	h("POST /api/v1/users", n.need(admins, n.addUser))

	mux.Handle("/", n.webApp()) // the web app (node/web): pages and /static/

	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "no_route", "no such API route: "+r.Method+" "+r.URL.Path)
	})
	return n.middleware(n.readOnly(mux))
}

// middleware: panic recovery, session lookup, metrics, security headers.
func (n *Node) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		defer func() {
			if p := recover(); p != nil {
				n.log.Error("handler panic", "route", r.Pattern, "panic", p)
				if !rec.wrote {
					writeErr(rec, http.StatusInternalServerError, "internal", "internal error")
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			n.met.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
			n.met.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}()
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if tok := bearer(r); tok != "" {
			s, err := n.acct.Authenticate(tok)
			if err != nil {
				// A stale or forged credential is an error, not an
				// anonymous request — unless it is only an old cookie on
				// a public route, which must keep working.
				if r.Header.Get("Authorization") != "" {
					if isFHIRPath(r.URL.Path) {
						n.fhirFail(rec, r, err) // an OperationOutcome
					} else {
						n.fail(rec, r, err)
					}
					return
				}
			} else {
				r = r.WithContext(context.WithValue(r.Context(), sessionKey, &s))
			}
		}
		next.ServeHTTP(rec, r)
	})
}

func headerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return strings.TrimSpace(tok), ok
}

func bearer(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, _ := headerToken(r)
		if tok == "" {
			return "\x00malformed" // makes Authenticate fail with invalid_token
		}
		return tok
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value
	}
	return ""
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Role sets for need().
var (
	anyUser   = []consult.Role{consult.RoleAdmin, consult.RoleStaff, consult.RoleDoctor, consult.RoleObserver}
	admins    = []consult.Role{consult.RoleAdmin}
	deskRoles = []consult.Role{consult.RoleAdmin, consult.RoleStaff, consult.RoleDoctor}
)

// need allows the handler only to sessions with one of roles.
func (n *Node) need(roles []consult.Role, fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := session(r)
		if s == nil {
			writeErr(w, http.StatusUnauthorized, "login_required", "log in first: POST /api/v1/login, then send Authorization: Bearer TOKEN")
			return
		}
		for _, role := range roles {
			if s.Role == role {
				fn(w, r)
				return
			}
		}
		writeErr(w, http.StatusForbidden, "forbidden", "your role ("+string(s.Role)+") may not do this")
	}
}

func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			writeErr(w, http.StatusForbidden, "forbidden", "metrics are served to the node's own host only")
			return
		}
		h.ServeHTTP(w, r)
	})
}
