package node

import (
	"net/http"
	"strings"

	"github.com/moinha/moinha/consult/fhir"
)

// readOnly wraps the routes of an observer node: a request that is not a
// read (any method but GET, HEAD and OPTIONS, and any WebSocket upgrade,
// such as joining a call) is refused with 403 observer_read_only unless
// its route is one of observerWrites. The rule is generic, so routes added
// later (referrals, calls) are covered without naming them. Other nodes
// pass everything through.
func (n *Node) readOnly(mux *http.ServeMux) http.Handler {
	if n.cfg.Role != "observer" {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isRead(r) {
			_, pattern := mux.Handler(r)
			if !observerWrite(pattern) {
				const msg = "this is a read-only observer node: it changes no directory, booking, referral or call data"
				if isFHIRPath(r.URL.Path) {
					writeFHIR(w, r, http.StatusForbidden, fhir.Outcome("forbidden", "observer_read_only: "+msg))
					return
				}
				writeErr(w, http.StatusForbidden, "observer_read_only", msg)
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// isRead reports whether r only reads: a safe method and no protocol
// upgrade.
func isRead(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return r.Header.Get("Upgrade") == ""
	}
	return false
}

// observerWrite reports whether an observer serves the route of pattern
// although it is not a read: its own sessions, its own accounts and its
// own membership (a signed leave).
func observerWrite(pattern string) bool {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" {
		return false // a route for every method: the web app's pages
	}
	switch {
	case path == "/api/v1/login", path == "/api/v1/logout", path == "/api/v1/network/leave":
		return true
	case path == "/api/v1/users", strings.HasPrefix(path, "/api/v1/users/"):
		return true
	case path == "/api/v1/me", strings.HasPrefix(path, "/api/v1/me/"):
		return true
	}
	return false
}
