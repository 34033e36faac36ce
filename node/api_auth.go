package node

import (
	"net/http"
	"time"

	"github.com/moinha/moinha/consult"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
	User    userView  `json:"user"`
}

type userView struct {
	Username    string       `json:"username"`
	Role        consult.Role `json:"role"`
	Facility    string       `json:"facility,omitempty"`
	DisplayName string       `json:"display_name,omitempty"`
}

func (n *Node) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decode(w, r, 4<<10, &req); err != nil {
		n.fail(w, r, err)
		return
	}
	if req.Username == "" || req.Password == "" {
		n.fail(w, r, consult.Errorf(consult.ErrInvalid, "invalid_credentials_shape", "send username and password"))
		return
	}
	tok, s, err := n.acct.Login(r.Context(), req.Username, req.Password)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: tok, Path: "/", Expires: s.Expires,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	writeJSON(w, http.StatusOK, loginResponse{Token: tok, Expires: s.Expires,
		User: userView{Username: s.Username, Role: s.Role, Facility: s.Facility}})
}

func (n *Node) logout(w http.ResponseWriter, r *http.Request) {
	if tok := bearer(r); tok != "" {
		if err := n.acct.Logout(r.Context(), tok); err != nil {
			n.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

func (n *Node) me(w http.ResponseWriter, r *http.Request) {
	s := session(r)
	writeJSON(w, http.StatusOK, userView{Username: s.Username, Role: s.Role, Facility: s.Facility})
}

type healthView struct {
	Status   string `json:"status"`
	Province string `json:"province"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Peers    int    `json:"peers"`
	Version  string `json:"version"`
	Uptime   int64  `json:"uptime_seconds"`
}

func (n *Node) healthz(w http.ResponseWriter, r *http.Request) {
	peers := 0
	if n.fed != nil {
		peers = n.fed.ConnectedPeers()
	}
	writeJSON(w, http.StatusOK, healthView{
		Status: "ok", Province: n.cfg.Province, Name: n.cfg.Name, Role: n.cfg.Role,
		Peers: peers, Version: Version, Uptime: int64(time.Since(n.started).Seconds()),
	})
}

func (n *Node) specialties(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, newList(consult.Specialties, ""))
}
