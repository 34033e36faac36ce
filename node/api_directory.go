package node

import (
	"io"
	"net/http"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
)

func (n *Node) listFacilities(w http.ResponseWriter, r *http.Request) {
	limit, cursor, err := page(r)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	f := directory.FacilityFilter{Province: q.Get("province"), Level: consult.Level(q.Get("level")),
		Specialty: q.Get("specialty"), Q: q.Get("q")}
	if f.Level != "" && !consult.ValidLevel(f.Level) {
		n.fail(w, r, consult.Invalid("level", "unknown level %q", f.Level))
		return
	}
	if len(f.Q) > 200 {
		n.fail(w, r, consult.Invalid("q", "too long"))
		return
	}
	items, next, err := n.dir.ListFacilities(f, limit, cursor)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(items, next))
}

func (n *Node) getFacility(w http.ResponseWriter, r *http.Request) {
	f, err := n.dir.GetFacility(r.PathValue("id"))
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (n *Node) putFacility(w http.ResponseWriter, r *http.Request) {
	var f directory.Facility
	if err := decode(w, r, n.cfg.MaxBodyBytes, &f); err != nil {
		n.fail(w, r, err)
		return
	}
	out, err := n.dir.PutFacility(r.Context(), actor(r), f)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) deleteFacility(w http.ResponseWriter, r *http.Request) {
	if err := n.dir.DeleteFacility(r.Context(), actor(r), r.PathValue("id")); err != nil {
		n.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// importFacilities takes a CSV body (text/csv): all rows valid or nothing written.
func (n *Node) importFacilities(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, 16*n.cfg.MaxBodyBytes)
	fs, err := directory.ParseFacilitiesCSV(body)
	if err != nil {
		if _, rerr := io.Copy(io.Discard, body); rerr != nil {
			err = jsonError(rerr)
		}
		n.fail(w, r, err)
		return
	}
	count, err := n.dir.ImportFacilities(r.Context(), actor(r), fs)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"imported": count})
}

func (n *Node) listPractitioners(w http.ResponseWriter, r *http.Request) {
	limit, cursor, err := page(r)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	if len(q.Get("q")) > 200 {
		n.fail(w, r, consult.Invalid("q", "too long"))
		return
	}
	items, next, err := n.dir.ListPractitioners(directory.PractitionerFilter{
		Facility: q.Get("facility"), Specialty: q.Get("specialty"), Q: q.Get("q")}, limit, cursor)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(items, next))
}

func (n *Node) getPractitioner(w http.ResponseWriter, r *http.Request) {
	p, err := n.dir.GetPractitioner(r.PathValue("id"))
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (n *Node) putPractitioner(w http.ResponseWriter, r *http.Request) {
	var p directory.Practitioner
	if err := decode(w, r, n.cfg.MaxBodyBytes, &p); err != nil {
		n.fail(w, r, err)
		return
	}
	out, err := n.dir.PutPractitioner(r.Context(), actor(r), p)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
