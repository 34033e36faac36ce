package accounts

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// newHeldService returns a Service with one hash slot, taken, so that any
// call that hashes blocks until its context ends.
func newHeldService(t *testing.T) *Service {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "node.db"), &storage.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	s := New(db, Options{Params: testParams, MaxConcurrentHashes: 1})
	_, err = s.AddUser(t.Context(), "test", "staff", "a good password", consult.RoleStaff, "")
	require.NoError(t, err)
	s.hashes <- struct{}{}
	t.Cleanup(func() { <-s.hashes })
	return s
}

// An unknown username waits for a hash slot like a known one: it does the
// same (dummy) hash, so the two take the same time.
func TestUnknownUserHashesToo(t *testing.T) {
	s := newHeldService(t)
	for _, name := range []string{"staff", "nobody"} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, _, err := s.Login(ctx, name, "a wrong password")
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded, name)
	}
}

func TestHashingHonoursContext(t *testing.T) {
	s := newHeldService(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := s.Login(ctx, "staff", "a good password")
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.AddUser(ctx, "test", "other", "a good password", consult.RoleStaff, "")
	require.ErrorIs(t, err, context.Canceled)
}
