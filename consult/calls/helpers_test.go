package calls_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/accounts"
	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/calls/calltest"
	"github.com/moinha/moinha/internal/netns"
	"github.com/moinha/moinha/storage"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(netns.Main(m))
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// testUsers are every test node's accounts (password "password-123").
var testUsers = map[string]consult.Role{
	"doctor": consult.RoleDoctor, "staff": consult.RoleStaff, "nurse1": consult.RoleStaff,
	"nurse2": consult.RoleStaff, "nurse3": consult.RoleStaff, "nurse4": consult.RoleStaff,
	"nurse5": consult.RoleStaff, "intruder": consult.RoleStaff, "observer": consult.RoleObserver,
}

// node is one province's calls service behind a real HTTP server that
// authenticates like the node does.
type node struct {
	province string
	db       *storage.DB
	acct     *accounts.Service
	svc      *calls.Service
	srv      *httptest.Server
	tokens   map[string]string
}

type nodeOpt func(*calls.Options)

func newNode(t testing.TB, province string, relays *calltest.Relays, opts ...nodeOpt) *node {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "moinha.db"), &storage.Options{NoSync: true})
	require.NoError(t, err)
	n := &node{province: province, db: db, tokens: map[string]string{}}
	n.acct = accounts.New(db, accounts.Options{Params: accounts.Params{Time: 1, Memory: 64, Threads: 1}})
	ctx := context.Background()
	for u, role := range testUsers {
		_, err := n.acct.AddUser(ctx, "test", u, "password-123", role, "")
		require.NoError(t, err)
		tok, _, err := n.acct.Login(ctx, u, "password-123")
		require.NoError(t, err)
		n.tokens[u] = tok
	}
	o := calls.Options{
		Province: province, Users: n.acct, Loopback: true, Logger: quietLog,
		BaseURL:                func() string { return n.srv.URL },
		ICEDisconnectedTimeout: time.Second, ICEFailedTimeout: 3 * time.Second, ICEKeepAlive: 250 * time.Millisecond,
	}
	if relays != nil {
		o.Relay = relays.For(province)
	}
	for _, f := range opts {
		f(&o)
	}
	n.svc, err = calls.New(db, o)
	require.NoError(t, err)
	if relays != nil {
		relays.Register(province, n.svc)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/calls/{id}/signal", n.signal)
	n.srv = httptest.NewServer(mux)
	t.Cleanup(n.close)
	return n
}

func (n *node) close() {
	n.srv.Close()
	n.svc.Close()
	n.db.Close()
}

// signal is node/api_calls.go's handler in miniature.
func (n *node) signal(w http.ResponseWriter, r *http.Request) {
	tok, _ := cutBearer(r.Header.Get("Authorization"))
	s, err := n.acct.Authenticate(tok)
	if err != nil {
		writeErr(w, err)
		return
	}
	if err := n.svc.Accept(w, r, r.PathValue("id"), calls.Caller{Username: s.Username, Role: s.Role}); err != nil {
		writeErr(w, err)
	}
}

func cutBearer(h string) (string, bool) {
	const p = "Bearer "
	if len(h) < len(p) || h[:len(p)] != p {
		return "", false
	}
	return h[len(p):], true
}

func writeErr(w http.ResponseWriter, err error) {
	var ce *consult.Error
	status := http.StatusInternalServerError
	code := "internal"
	if errors.As(err, &ce) {
		code = ce.Code
		switch {
		case errors.Is(ce, consult.ErrNotFound):
			status = http.StatusNotFound
		case errors.Is(ce, consult.ErrUnauthorized):
			status = http.StatusUnauthorized
		case errors.Is(ce, consult.ErrForbidden):
			status = http.StatusForbidden
		case errors.Is(ce, consult.ErrGone):
			status = http.StatusUnprocessableEntity
		default:
			status = http.StatusBadRequest
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":{"code":"` + code + `","message":""}}`))
}

func (n *node) user(name string) calls.User { return calls.User{Province: n.province, Username: name} }

func (n *node) caller(name string) calls.Caller {
	return calls.Caller{Username: name, Role: testUsers[name]}
}

// create opens a call hosted by host on n.
func (n *node) create(t testing.TB, host string, kind calls.Kind, invite ...calls.User) string {
	t.Helper()
	c, err := n.svc.Create(context.Background(), n.caller(host), calls.CreateRequest{Kind: kind, Invite: invite})
	require.NoError(t, err)
	return c.ID
}

// dial connects user to call id through n's signalling.
func (n *node) dial(t testing.TB, id, user string, o calltest.Options) *calltest.Client {
	t.Helper()
	o.Token = n.tokens[user]
	c, err := calltest.Dial(context.Background(), n.srv.URL, id, o)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitMedia waits until every receiver has n valid video frames and audio
// packets from every sender.
func waitMedia(t testing.TB, ctx context.Context, n uint64, receivers []*calltest.Client, senders []*calltest.Client) {
	t.Helper()
	for _, r := range receivers {
		for _, s := range senders {
			if r == s {
				continue
			}
			require.NoError(t, r.WaitMedia(ctx, s.Key(), "audio", n))
			require.NoError(t, r.WaitMedia(ctx, s.Key(), "video", n))
		}
	}
}

// waitUntil polls cond (for states no event announces) until it holds or
// ctx ends.
func waitUntil(t testing.TB, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}
