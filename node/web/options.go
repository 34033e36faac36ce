package web

import (
	"context"
	"log/slog"
	"net/http"
)

// Options is what the web app needs from its node. Each field says what
// its zero value means.
type Options struct {
	// Province is the node's province code ("66"). Required: the booking
	// page lists this province's commune health stations.
	Province string
	// Name is the node's province or hospital name shown in the header.
	// Zero means the province code.
	Name string
	// Role is the node's role (province, hospital, observer). Zero means
	// province.
	Role string
	// User returns who is logged in on r (from the session cookie the API
	// sets). Nil means nobody is ever logged in: pages with roles always
	// redirect to the login page.
	User func(r *http.Request) (User, bool)
	// Communes returns the names of the communes with a health station
	// that takes bookings on this node, for the booking page's filter.
	// Nil, or an error, means no commune filter is shown.
	Communes func(ctx context.Context) ([]string, error)
	// Logger receives errors of rendering. Zero means discard.
	Logger *slog.Logger
}

// User is the logged-in account as the pages need it.
type User struct {
	Username string `json:"username"`
	Role     string `json:"role"`
	Facility string `json:"facility,omitempty"`
}
