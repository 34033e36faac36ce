package accounts_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/accounts"
	"github.com/moinha/moinha/storage"
)

// cheap argon2 parameters keep tests fast; one test uses the defaults.
var cheap = accounts.Params{Time: 1, Memory: 64, Threads: 1}

// clock is a settable clock for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time // guarded by mu
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a Service over a real data file in a temporary directory.
type env struct {
	t     *testing.T
	path  string
	db    *storage.DB
	clock *clock
	opts  accounts.Options
	svc   *accounts.Service
}

func newEnv(t *testing.T, opts accounts.Options) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "node.db"),
		clock: &clock{now: time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)}}
	if opts.Params == (accounts.Params{}) {
		opts.Params = cheap
	}
	opts.Now = e.clock.Now
	e.opts = opts
	e.open()
	return e
}

func (e *env) open() {
	e.t.Helper()
	db, err := storage.Open(e.path, &storage.Options{NoSync: true, Timeout: time.Second})
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = db.Close() })
	e.db = db
	e.svc = accounts.New(db, e.opts)
}

// reopen closes the data file and opens it again with a new Service, as a
// restart of the node would.
func (e *env) reopen() {
	e.t.Helper()
	require.NoError(e.t, e.db.Close())
	e.open()
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func (e *env) addUser(name, password string, role consult.Role) accounts.User {
	e.t.Helper()
	u, err := e.svc.AddUser(ctx(e.t), "test", name, password, role, "")
	require.NoError(e.t, err)
	return u
}

// stored reads the raw user record, hash and lockout included.
func (e *env) stored(name string) accounts.User {
	e.t.Helper()
	var u accounts.User
	require.NoError(e.t, e.db.View(func(tx *storage.Tx) error {
		ok, err := tx.Get(storage.BucketUsers, name, &u)
		require.True(e.t, ok, "user %s stored", name)
		return err
	}))
	return u
}

func (e *env) sessionCount() int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.db.View(func(tx *storage.Tx) (err error) {
		n, err = tx.Count(storage.BucketSessions, "")
		return err
	}))
	return n
}

func (e *env) auditActions() []string {
	e.t.Helper()
	entries, err := e.db.AuditEntries(0, 0)
	require.NoError(e.t, err)
	var out []string
	for _, a := range entries {
		out = append(out, a.Action+" "+a.Subject)
	}
	_, err = e.db.VerifyAudit()
	require.NoError(e.t, err)
	return out
}

// requireCode asserts err is a *consult.Error of the kind and code.
func requireCode(t *testing.T, err error, kind error, code string) *consult.Error {
	t.Helper()
	require.Error(t, err)
	var ce *consult.Error
	require.True(t, errors.As(err, &ce), "%v is a *consult.Error", err)
	require.ErrorIs(t, err, kind)
	require.Equal(t, code, ce.Code)
	return ce
}
