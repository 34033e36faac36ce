package accounts

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
	s := New(db, Options{Params: testParams})
	_, err = s.AddUser(t.Context(), "test", "staff", "a good password", consult.RoleStaff, "")
	require.NoError(t, err)
	held, err := s.hashes.acquire(t.Context(), s.params.Memory)
	require.NoError(t, err)
	t.Cleanup(func() { s.hashes.release(held) })
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

// The gate bounds the memory of the running hashes, not only their number;
// a hash bigger than the budget runs alone.
func TestHashGateBoundsMemory(t *testing.T) {
	g := newHashGate(4, 100)
	ctx := t.Context()
	a, err := g.acquire(ctx, 60)
	require.NoError(t, err)
	require.EqualValues(t, 60, a)

	blocked := func(memory uint32) bool {
		c, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		held, err := g.acquire(c, memory)
		if err == nil {
			g.release(held)
		}
		return errors.Is(err, context.DeadlineExceeded)
	}
	require.True(t, blocked(60), "60 + 60 KiB exceed the budget")
	require.False(t, blocked(40), "60 + 40 KiB fit")
	require.True(t, blocked(1000), "a hash bigger than the budget waits for all of it")

	done := make(chan uint32)
	go func() {
		held, err := g.acquire(ctx, 1000)
		assert.NoError(t, err)
		done <- held
	}()
	g.release(a)
	held := <-done
	require.EqualValues(t, 100, held, "it holds the whole budget")
	require.True(t, blocked(1), "and runs alone")
	g.release(held)
	require.False(t, blocked(100))
}

// Unknown users are checked against a dummy of the current parameters
// that no password matches, and making it costs no hash.
func TestDummyHash(t *testing.T) {
	s := New(nil, Options{})
	h, err := parsePHC(s.dummy)
	require.NoError(t, err)
	assert.Equal(t, Params{}.withDefaults(), h.params)
	assert.Len(t, h.salt, saltLen)
	assert.Len(t, h.key, keyLen)
	assert.NotEqual(t, make([]byte, keyLen), h.key)
	assert.NotEqual(t, s.dummy, New(nil, Options{}).dummy, "random per service")
}

// By default one hash runs at a time; MaxConcurrentHashes scales the
// memory budget with the count.
func TestHashGateDefaults(t *testing.T) {
	g := New(nil, Options{}).hashes
	assert.Equal(t, 1, g.slots)
	assert.EqualValues(t, DefaultMemory, g.max)
	g = New(nil, Options{MaxConcurrentHashes: 3, Params: Params{Memory: 1000}}).hashes
	assert.Equal(t, 3, g.slots)
	assert.EqualValues(t, 3000, g.max)
}
