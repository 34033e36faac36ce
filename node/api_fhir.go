package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/fhir"
)

// fhirRoutes registers the read-only FHIR R4 views (docs/fhir.md): the
// mapping lives in consult/fhir, the handlers here decide who may read
// what. Every answer under /fhir, errors included, is FHIR JSON.
func (n *Node) fhirRoutes(h func(string, http.HandlerFunc)) {
	h("GET /fhir/metadata", n.fhirMetadata)
	h("GET /fhir/_history", n.fhirSystemHistory)
	h("GET /fhir/{type}", n.fhirSearch)
	h("GET /fhir/{type}/_history", n.fhirTypeHistory)
	h("GET /fhir/{type}/{id}", n.fhirRead)
	h("/fhir/", n.fhirOther)
	h("/fhir", n.fhirOther)
}

// isFHIRPath reports whether path is under /fhir, where every answer,
// errors from the middleware and the observer guard included, is FHIR.
func isFHIRPath(path string) bool { return path == "/fhir" || strings.HasPrefix(path, "/fhir/") }

const fhirContentType = "application/fhir+json; charset=utf-8"

// writeFHIR writes a resource as FHIR JSON (indented with _pretty=true).
func writeFHIR(w http.ResponseWriter, r *http.Request, status int, res fhir.Resource) {
	b, err := fhir.Marshal(res)
	if err != nil { // our own structs always encode
		status, b = http.StatusInternalServerError, []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"exception"}]}`)
	}
	if fhir.Pretty(r.URL.Query()) {
		var buf bytes.Buffer
		if json.Indent(&buf, b, "", "  ") == nil {
			b = buf.Bytes()
		}
	}
	w.Header().Set("Content-Type", fhirContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// fhirFail writes err as an OperationOutcome: a *fhir.Error as it says, a
// *consult.Error by its kind, anything else as a logged 500.
func (n *Node) fhirFail(w http.ResponseWriter, r *http.Request, err error) {
	var fe *fhir.Error
	if errors.As(err, &fe) {
		writeFHIR(w, r, fe.Status, fhir.OutcomeOf(fe))
		return
	}
	var ce *consult.Error
	if errors.As(err, &ce) {
		status, code := http.StatusBadRequest, "invalid"
		switch {
		case errors.Is(ce.Kind, consult.ErrNotFound):
			status, code = http.StatusNotFound, "not-found"
		case errors.Is(ce.Kind, consult.ErrForbidden):
			status, code = http.StatusForbidden, "forbidden"
		case errors.Is(ce.Kind, consult.ErrUnauthorized):
			status, code = http.StatusUnauthorized, "login"
		case errors.Is(ce.Kind, consult.ErrConflict):
			status, code = http.StatusConflict, "conflict"
		}
		writeFHIR(w, r, status, fhir.Outcome(code, ce.Code+": "+ce.Message))
		return
	}
	n.log.Error("fhir request failed", "method", r.Method, "route", r.Pattern, "err", err)
	writeFHIR(w, r, http.StatusInternalServerError, fhir.Outcome("exception", "internal error; the node's log has details"))
}

// fhirAllowed is need() for the FHIR views: 401 (issue code login) without
// a session, 403 (forbidden) for another role, as OperationOutcomes.
func (n *Node) fhirAllowed(w http.ResponseWriter, r *http.Request, roles []consult.Role) bool {
	s := session(r)
	if s == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="moinha"`)
		writeFHIR(w, r, http.StatusUnauthorized, fhir.Outcome("login",
			"log in first: POST /api/v1/login, then send Authorization: Bearer TOKEN"))
		return false
	}
	if slices.Contains(roles, s.Role) {
		return true
	}
	writeFHIR(w, r, http.StatusForbidden, fhir.Outcome("forbidden", "your role ("+string(s.Role)+") may not read this"))
	return false
}

// fhirBase is this node's FHIR base URL as the client reached it.
func fhirBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/fhir"
}

// readQuery checks the query of a read or of metadata: only _format and
// _pretty.
func readQuery(q url.Values) error {
	for k, v := range q {
		switch k {
		case "_format":
			if len(v) != 1 || !fhir.JSONFormat(v[0]) {
				return fhir.Errorf(http.StatusNotAcceptable, "not-supported", "only JSON is served (_format=json or application/fhir+json)")
			}
		case "_pretty":
		default:
			return fhir.Errorf(http.StatusBadRequest, "invalid", "unknown parameter %.60q on a read", k)
		}
	}
	return nil
}

func (n *Node) fhirMetadata(w http.ResponseWriter, r *http.Request) {
	if err := readQuery(r.URL.Query()); err != nil {
		n.fhirFail(w, r, err)
		return
	}
	writeFHIR(w, r, http.StatusOK, fhir.Capability(fhirBase(r), Version, n.started))
}

// fhirOther answers every other request under /fhir: 405 for a write
// (the views are read-only), 404 for an unknown path.
func (n *Node) fhirOther(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeFHIR(w, r, http.StatusMethodNotAllowed, fhir.Outcome("not-supported",
			"the FHIR views are read-only: "+r.Method+" is not supported"))
		return
	}
	writeFHIR(w, r, http.StatusNotFound, fhir.Outcome("not-found", "no such FHIR route: "+r.URL.Path))
}

// fhirMembers lists the network's current members for the directory views
// (only this node when it runs alone).
func (n *Node) fhirMembers() []fhir.Member {
	if n.fed == nil {
		return []fhir.Member{{Peer: n.PeerID(), Province: n.cfg.Province, Name: n.cfg.Name, Role: n.cfg.Role, Self: true}}
	}
	var out []fhir.Member
	for _, m := range n.fed.Members() {
		if m.Left || m.Revoked {
			continue
		}
		fm := fhir.Member{Peer: m.Peer.String(), Province: m.Province, Name: m.Name, Role: string(m.Role), Self: m.Peer == n.peer}
		for _, a := range m.Addrs {
			fm.Addrs = append(fm.Addrs, a.String())
		}
		out = append(out, fm)
	}
	return out
}

func (n *Node) fhirDirectory(r *http.Request) *fhir.Directory {
	return &fhir.Directory{Dir: n.dir, Members: n.fhirMembers(), BaseURL: fhirBase(r)}
}

// fhirMayRead checks the caller may read resources of typ (docs/fhir.md):
// the directory any signed-in user; Schedule and Slot anyone (as the JSON
// API's slots); Appointment this node's desk roles; ServiceRequest and
// Task its clinicians (a node holds only referrals it is a party to).
// Observers are never desk roles or clinicians. An unknown type is 404.
func (n *Node) fhirMayRead(w http.ResponseWriter, r *http.Request, typ string) bool {
	switch {
	case isDirectoryType(typ):
		return n.fhirAllowed(w, r, anyUser)
	case typ == "Schedule", typ == "Slot":
		return true
	case typ == "Appointment":
		return n.fhirAllowed(w, r, deskRoles)
	case typ == "ServiceRequest", typ == "Task":
		return n.fhirAllowed(w, r, clinicians)
	}
	n.fhirFail(w, r, fhir.Errorf(http.StatusNotFound, "not-supported", "resource type %.40q is not served here; see /fhir/metadata", typ))
	return false
}

func isDirectoryType(typ string) bool { return slices.Contains(fhir.DirectoryTypes, typ) }

func (n *Node) fhirSearch(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	if !n.fhirMayRead(w, r, typ) {
		return
	}
	s, err := fhir.ParseSearch(typ, r.URL.Query())
	if err != nil {
		n.fhirFail(w, r, err)
		return
	}
	var src fhir.Source
	if isDirectoryType(typ) {
		src, err = n.fhirDirectory(r).SourceFor(s)
	} else {
		src, err = n.careSource(r, s)
	}
	if err != nil {
		n.fhirFail(w, r, err)
		return
	}
	items, next, err := s.Run(src)
	if err != nil {
		n.fhirFail(w, r, err)
		return
	}
	writeFHIR(w, r, http.StatusOK, fhir.SearchBundle(fhirBase(r), s, items, next))
}

func (n *Node) fhirRead(w http.ResponseWriter, r *http.Request) {
	typ, id := r.PathValue("type"), r.PathValue("id")
	if err := readQuery(r.URL.Query()); err != nil {
		n.fhirFail(w, r, err)
		return
	}
	if !n.fhirMayRead(w, r, typ) {
		return
	}
	var (
		res fhir.Resource
		err error
	)
	if isDirectoryType(typ) {
		res, err = n.fhirDirectory(r).Read(typ, id)
	} else {
		res, err = n.careRead(r, typ, id)
	}
	if err != nil {
		n.fhirFail(w, r, err)
		return
	}
	writeFHIR(w, r, http.StatusOK, res)
}

func (n *Node) fhirSystemHistory(w http.ResponseWriter, r *http.Request) { n.fhirHistory(w, r, "") }

func (n *Node) fhirTypeHistory(w http.ResponseWriter, r *http.Request) {
	n.fhirHistory(w, r, r.PathValue("type"))
}

func (n *Node) fhirHistory(w http.ResponseWriter, r *http.Request, typ string) {
	if typ != "" && !isDirectoryType(typ) && slices.Contains(fhir.ServedTypes(), typ) {
		n.fhirFail(w, r, fhir.Errorf(http.StatusNotFound, "not-supported",
			"%s has no history here; histories cover the directory types", typ))
		return
	}
	if !n.fhirAllowed(w, r, anyUser) {
		return
	}
	h, err := fhir.ParseHistory(typ, r.URL.Query())
	if err != nil {
		n.fhirFail(w, r, err)
		return
	}
	b, err := n.fhirDirectory(r).History(fhirBase(r), h)
	if err != nil {
		n.fhirFail(w, r, err)
		return
	}
	writeFHIR(w, r, http.StatusOK, b)
}
