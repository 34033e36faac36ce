package node

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/federation"
	"github.com/moinha/moinha/storage"
)

type memberView struct {
	Peer     string     `json:"peer"`
	Province string     `json:"province"`
	Name     string     `json:"name"`
	Role     string     `json:"role"`
	Online   bool       `json:"online"`
	LastSeen *time.Time `json:"last_seen,omitempty"`
	Left     bool       `json:"left,omitempty"`
	Revoked  bool       `json:"revoked,omitempty"`
	Self     bool       `json:"self,omitempty"`
}

func (n *Node) networkMembers(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UTC()
	if n.fed == nil {
		writeJSON(w, http.StatusOK, newList([]memberView{{Peer: n.PeerID(), Province: n.cfg.Province,
			Name: n.cfg.Name, Role: n.cfg.Role, Online: true, LastSeen: &now, Self: true}}, ""))
		return
	}
	var out []memberView
	for _, m := range n.fed.Members() {
		v := memberView{Peer: m.Peer.String(), Province: m.Province, Name: m.Name, Role: string(m.Role),
			Online: m.Online, Left: m.Left, Revoked: m.Revoked, Self: m.Peer == n.peer}
		if !m.LastSeen.IsZero() {
			t := m.LastSeen.UTC()
			v.LastSeen = &t
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, newList(out, ""))
}

func (n *Node) networkLeave(w http.ResponseWriter, r *http.Request) {
	if err := n.Leave(r.Context()); err != nil {
		n.fail(w, r, consult.Errorf(consult.ErrConflict, "not_in_network", "%v", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "left"})
}

type availabilityRequest struct {
	Accepting bool `json:"accepting"`
	Capacity  int  `json:"capacity"`
	WaitDays  int  `json:"wait_days"`
}

const availabilityPrefix = "availability/"

// putAvailability stores this province's referral availability for one
// specialty and, in the same transaction, stages it for gossip.
func (n *Node) putAvailability(w http.ResponseWriter, r *http.Request) {
	spec := r.PathValue("specialty")
	if !consult.ValidSpecialty(spec) {
		n.fail(w, r, consult.Errorf(consult.ErrNotFound, "unknown_specialty", "unknown specialty %q; see GET /api/v1/specialties", spec))
		return
	}
	var req availabilityRequest
	if err := decode(w, r, 4<<10, &req); err != nil {
		n.fail(w, r, err)
		return
	}
	a, err := n.SetAvailability(r.Context(), spec, req.Accepting, req.Capacity, req.WaitDays)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// SetAvailability stores this province's referral availability for one
// specialty and, in the same transaction, stages it for gossip.
func (n *Node) SetAvailability(ctx context.Context, spec string, accepting bool, capacity, waitDays int) (availability, error) {
	if !consult.ValidSpecialty(spec) {
		return availability{}, consult.Errorf(consult.ErrNotFound, "unknown_specialty", "unknown specialty %q; see GET /api/v1/specialties", spec)
	}
	if capacity < 0 || capacity > 10000 {
		return availability{}, consult.Invalid("capacity", "must be 0 to 10000")
	}
	if waitDays < 0 || waitDays > 365 {
		return availability{}, consult.Invalid("wait_days", "must be 0 to 365")
	}
	a := availability{Province: n.cfg.Province, Specialty: spec, Accepting: accepting,
		Capacity: capacity, WaitDays: waitDays, Updated: time.Now().UTC().Format(time.RFC3339)}
	payload, err := json.Marshal(a)
	if err != nil {
		return a, err
	}
	err = n.db.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.Put(storage.BucketSettings, availabilityPrefix+spec, a); err != nil {
			return err
		}
		if n.fed != nil {
			return n.fed.Stage(tx, federation.KindAvailability, n.cfg.Province+"-"+spec, payload, false)
		}
		return nil
	})
	return a, err
}

// networkAvailability lists every province's gossiped availability (this
// node's own included), optionally for one specialty.
func (n *Node) networkAvailability(w http.ResponseWriter, r *http.Request) {
	spec := r.URL.Query().Get("specialty")
	if spec != "" && !consult.ValidSpecialty(spec) {
		n.fail(w, r, consult.Invalid("specialty", "unknown specialty %q", spec))
		return
	}
	out := []availability{}
	keep := func(a availability) {
		if spec == "" || a.Specialty == spec {
			out = append(out, a)
		}
	}
	var err error
	if n.fed != nil {
		err = n.fed.Records(federation.KindAvailability, func(rec federation.Record) error {
			if a, derr := decodeAvailability(rec.Payload); derr == nil {
				keep(a)
			}
			return nil
		})
	} else {
		err = n.db.View(func(tx *storage.Tx) error {
			return tx.Scan(storage.BucketSettings, availabilityPrefix, "", func(_ string, v storage.Value) error {
				var a availability
				if derr := v.Decode(&a); derr == nil {
					keep(a)
				}
				return nil
			})
		})
	}
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(out, ""))
}
