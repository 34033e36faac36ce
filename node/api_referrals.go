package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/storage"
)

// clinicians may work referrals and consult requests: staff refer, doctors
// accept and report; admins and observers may not (403).
var clinicians = []consult.Role{consult.RoleStaff, consult.RoleDoctor}

// maxReferralBody bounds a create request: a record's attachments or a
// consult's photos (~2.9 MB decoded, base64 in JSON).
const maxReferralBody = 5 << 20

// referralRoutes registers the referral and consult-request routes.
func (n *Node) referralRoutes(h func(string, http.HandlerFunc)) {
	h("POST /api/v1/referrals", n.need(clinicians, n.createReferral))
	h("GET /api/v1/referrals", n.need(clinicians, n.listRequests(referral.TypeReferral)))
	h("GET /api/v1/referrals/stats", n.need(anyUser, n.referralStats))
	h("GET /api/v1/referrals/{id}", n.need(clinicians, n.getRequest))
	h("POST /api/v1/referrals/{id}/{action}", n.need(clinicians, n.requestAction(referral.TypeReferral)))
	h("POST /api/v1/consults", n.need(clinicians, n.createConsult))
	h("GET /api/v1/consults", n.need(clinicians, n.listRequests(referral.TypeConsult)))
	h("GET /api/v1/consults/{id}", n.need(clinicians, n.getRequest))
	h("POST /api/v1/consults/{id}/{action}", n.need(clinicians, n.requestAction(referral.TypeConsult)))
}

// who is the caller as the referral service sees it: the audit names the
// user, the statistics count at the user's facility.
func who(r *http.Request) referral.Actor {
	a := referral.Actor{User: actor(r)}
	if s := session(r); s != nil {
		a.Facility = s.Facility
	}
	return a
}

func (n *Node) createReferral(w http.ResponseWriter, r *http.Request) {
	var req referral.CreateRequest
	if err := decode(w, r, maxReferralBody, &req); err != nil {
		n.fail(w, r, err)
		return
	}
	v, err := n.ref.Create(r.Context(), who(r), req)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (n *Node) createConsult(w http.ResponseWriter, r *http.Request) {
	var req referral.ConsultRequest
	if err := decode(w, r, maxReferralBody, &req); err != nil {
		n.fail(w, r, err)
		return
	}
	v, err := n.ref.CreateConsult(r.Context(), who(r), req)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (n *Node) listRequests(typ referral.Type) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		limit, cursor, err := page(r)
		if err != nil {
			n.fail(w, r, err)
			return
		}
		q := r.URL.Query()
		items, next, err := n.ref.List(referral.Filter{Type: typ, Box: q.Get("box"), Status: referral.Status(q.Get("status"))}, limit, cursor)
		if err != nil {
			n.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, newList(items, next))
	}
}

func (n *Node) getRequest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !referral.ValidID(id) {
		n.fail(w, r, consult.Errorf(consult.ErrNotFound, "referral_not_found", "no such referral or consult request here"))
		return
	}
	v, err := n.ref.Get(r.Context(), actor(r), id)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// outcomeBody is the body of accept, decline, cancel, outcome and answer
// (each uses its own fields; unknown fields are refused).
type outcomeBody struct {
	referral.OutcomeRequest
	Reason string `json:"reason,omitempty"`
	Answer string `json:"answer,omitempty"`
}

func (n *Node) requestAction(typ referral.Type) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, action := r.PathValue("id"), r.PathValue("action")
		if !referral.ValidID(id) || referral.TypeOfID(id) != typ {
			n.fail(w, r, consult.Errorf(consult.ErrNotFound, "referral_not_found", "no such %s here", typ))
			return
		}
		var body outcomeBody
		if r.ContentLength != 0 {
			if err := decode(w, r, 64<<10, &body); err != nil {
				n.fail(w, r, err)
				return
			}
		}
		var (
			v   referral.View
			err error
		)
		status := http.StatusOK
		switch action {
		case "accept":
			v, err = n.ref.Accept(r.Context(), who(r), id, body.CallLink)
			if err == nil && v.Status == referral.StatusReceived {
				status = http.StatusAccepted // the referring province decides
			}
		case "decline":
			v, err = n.ref.Decline(r.Context(), who(r), id, body.Reason)
		case "cancel":
			v, err = n.ref.Cancel(r.Context(), actor(r), id, body.Reason)
		case "outcome":
			v, err = n.ref.Outcome(r.Context(), who(r), id, body.OutcomeRequest)
		case "answer":
			if typ != referral.TypeConsult {
				err = consult.Errorf(consult.ErrNotFound, "no_route", "answer is for consult requests; use outcome")
				break
			}
			req := body.OutcomeRequest
			req.Kind = referral.OutcomeFinal
			if body.Answer != "" {
				req.Note = body.Answer
			}
			v, err = n.ref.Outcome(r.Context(), who(r), id, req)
			if err == nil && v.Status == referral.StatusReceived {
				status = http.StatusAccepted
			}
		default:
			err = consult.Errorf(consult.ErrNotFound, "no_route", "unknown action %q: accept, decline, cancel, outcome%s", action,
				map[bool]string{true: " or answer"}[typ == referral.TypeConsult])
		}
		if err != nil {
			n.fail(w, r, err)
			return
		}
		writeJSON(w, status, v)
	}
}

func (n *Node) referralStats(w http.ResponseWriter, r *http.Request) {
	st, err := n.ref.Stats()
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// adminReferrals serves the operator socket's GET /referrals for
// `moinha referral list` while the node runs.
// adminPageSize is how many referrals one page of the operator socket's
// list holds; ListReferrals follows the pages. A variable for tests.
var adminPageSize = 500

func (n *Node) adminReferrals(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	items, next, err := n.ref.List(referral.Filter{Type: referral.Type(q.Get("type")), Box: q.Get("box"),
		Status: referral.Status(q.Get("status"))}, adminPageSize, q.Get("cursor"))
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(items, next))
}

// ListReferrals lists a node's referrals (or consult requests) for the
// CLI, without patient data: through the operator socket when the node
// runs, else from its data file read-only.
func ListReferrals(ctx context.Context, dataDir string, f referral.Filter) ([]referral.View, error) {
	if Running(dataDir) {
		var out []referral.View
		q := url.Values{"type": {string(f.Type)}, "box": {f.Box}, "status": {string(f.Status)}}
		for { // page by page, as the node hands them out
			l, err := adminReferralPage(ctx, dataDir, q)
			if err != nil {
				return nil, err
			}
			out = append(out, l.Items...)
			if l.Next == "" {
				return out, nil
			}
			q.Set("cursor", l.Next)
		}
	}
	cfg, err := LoadConfig(dataDir)
	if err != nil {
		return nil, err
	}
	db, err := storage.Open(filepath.Join(dataDir, DBFile), &storage.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var out []referral.View
	cursor := ""
	for {
		items, next, err := referral.ListStored(db, cfg.Province, f, 500, cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// adminReferralPage fetches one page of the operator socket's referral list.
func adminReferralPage(ctx context.Context, dataDir string, q url.Values) (list[referral.View], error) {
	var l list[referral.View]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://node/referrals?"+q.Encode(), nil)
	if err != nil {
		return l, err
	}
	resp, err := AdminClient(dataDir).Do(req)
	if err != nil {
		return l, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return l, err
	}
	if resp.StatusCode != http.StatusOK {
		return l, fmt.Errorf("node answered %s: %s", resp.Status, raw)
	}
	err = json.Unmarshal(raw, &l)
	return l, err
}
