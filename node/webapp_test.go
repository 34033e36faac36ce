package node_test

import (
	"net/http"
	"net/http/cookiejar"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The web app is mounted at "/" without taking anything from the API.
func TestWebAppIsMounted(t *testing.T) {
	tn := newTestNode(t)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	home := doOn(t, c, tn.URL(), req{method: "GET", path: "/"})
	require.Equal(t, http.StatusOK, home.status)
	assert.Equal(t, "text/html; charset=utf-8", home.header.Get("Content-Type"))
	assert.Contains(t, string(home.body), `<html lang="vi">`)
	assert.Contains(t, string(home.body), tn.Config().Name)

	// The booking page offers the communes of the province's stations.
	book := doOn(t, c, tn.URL(), req{method: "GET", path: "/book"})
	require.Equal(t, http.StatusOK, book.status)
	f, err := tn.Directory().GetFacility(tn.staffStation(t))
	require.NoError(t, err)
	require.NotEmpty(t, f.Commune)
	assert.Contains(t, string(book.body), "<option>"+f.Commune+"</option>")

	// API routes, unknown ones included, stay with the API.
	tn.do(t, req{method: "GET", path: "/api/v1/nope"}).fails(t, http.StatusNotFound, "no_route")
	tn.do(t, req{method: "GET", path: "/healthz"}).ok(t, http.StatusOK, nil)

	// The desk needs a login; the API's session cookie opens it.
	desk := doOn(t, c, tn.URL(), req{method: "GET", path: "/desk"})
	assert.Equal(t, http.StatusSeeOther, desk.status)
	assert.Equal(t, "/login?next=%2Fdesk", desk.header.Get("Location"))
	doOn(t, c, tn.URL(), req{method: "POST", path: "/api/v1/login",
		body: map[string]string{"username": "staff", "password": tn.users["staff"]}}).ok(t, http.StatusOK, nil)
	desk = doOn(t, c, tn.URL(), req{method: "GET", path: "/desk"})
	require.Equal(t, http.StatusOK, desk.status)
	assert.Contains(t, string(desk.body), `"username":"staff"`)
}
