package node

import (
	"net/http"

	"github.com/moinha/moinha/consult"
)

type addUserRequest struct {
	Username    string       `json:"username"`
	Password    string       `json:"password"`
	Role        consult.Role `json:"role"`
	Facility    string       `json:"facility,omitempty"`
	DisplayName string       `json:"display_name,omitempty"`
}

func (n *Node) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := n.acct.ListUsers()
	if err != nil {
		n.fail(w, r, err)
		return
	}
	out := make([]userView, 0, len(users))
	for _, u := range users {
		out = append(out, userView{Username: u.Username, Role: u.Role, Facility: u.Facility, DisplayName: u.DisplayName})
	}
	writeJSON(w, http.StatusOK, newList(out, ""))
}

func (n *Node) addUser(w http.ResponseWriter, r *http.Request) {
	var req addUserRequest
	if err := decode(w, r, 8<<10, &req); err != nil {
		n.fail(w, r, err)
		return
	}
	if req.Facility != "" {
		if _, err := n.dir.BookableFacility(req.Facility); err != nil {
			n.fail(w, r, err)
			return
		}
	}
	u, err := n.acct.AddUser(r.Context(), actor(r), req.Username, req.Password, req.Role, req.Facility)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, userView{Username: u.Username, Role: u.Role, Facility: u.Facility})
}
