package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/node"
	"github.com/moinha/moinha/storage"
)

// acked is a booking the node answered 201 to.
type acked struct {
	code, facility string
	start          time.Time
}

// booker books seats from many goroutines and records every 201.
type booker struct {
	tn      *testNode
	client  *http.Client
	seats   []seat
	next    atomic.Int64
	stop    atomic.Bool
	mu      sync.Mutex // guards ok and failed
	ok      []acked
	failed  int
	okCount atomic.Int64
	wg      sync.WaitGroup
}

func newBooker(t testing.TB, tn *testNode, seats []seat, workers int) *booker {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	t.Cleanup(tr.CloseIdleConnections)
	b := &booker{tn: tn, seats: seats, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	for range workers {
		b.wg.Go(b.work)
	}
	t.Cleanup(b.halt)
	return b
}

func (b *booker) work() {
	for !b.stop.Load() {
		i := b.next.Add(1) - 1
		if i >= int64(len(b.seats)) {
			return
		}
		s := b.seats[i]
		raw, _ := json.Marshal(bookBody(s.facility, s.start))
		resp, err := b.client.Post(b.tn.URL()+"/api/v1/appointments", "application/json", bytes.NewReader(raw))
		if err != nil {
			b.mu.Lock()
			b.failed++
			b.mu.Unlock()
			continue
		}
		var a booking.Appointment
		derr := json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		b.mu.Lock()
		if resp.StatusCode == http.StatusCreated && derr == nil {
			b.ok = append(b.ok, acked{a.Code, a.Facility, a.Start})
			b.okCount.Add(1)
		} else {
			b.failed++
		}
		b.mu.Unlock()
	}
}

// halt stops the workers after their current request and waits for them.
func (b *booker) halt() {
	b.stop.Store(true)
	b.wg.Wait()
}

// waitAcked waits until at least n bookings were acknowledged.
func (b *booker) waitAcked(t testing.TB, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return b.okCount.Load() >= n }, 30*time.Second, 5*time.Millisecond,
		"only %d bookings acknowledged", b.okCount.Load())
}

func (b *booker) acked() []acked {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]acked(nil), b.ok...)
}

// TestCloseDrainsInFlight: Close lets requests already being handled
// finish — a login hashing its password, and bookings from 64 clients —
// and every booking that got a 201 is in the data file after reopening.
func TestCloseDrainsInFlight(t *testing.T) {
	tn := newTestNode(t)
	seats := tn.seats(t, 3000)
	b := newBooker(t, tn, seats, 64)
	b.waitAcked(t, 200)

	// A login (argon2id, tens of milliseconds) that the node is handling
	// when Close starts: with "Expect: 100-continue" the client sends the
	// body only once the handler reads it, so Got100Continue proves the
	// handler is running.
	type result struct {
		status int
		err    error
	}
	reading := make(chan struct{})
	loginDone := make(chan result, 1)
	go func() {
		body, _ := json.Marshal(map[string]string{"username": "admin", "password": tn.users["admin"]})
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			Got100Continue: func() { close(reading) },
		})
		r, _ := http.NewRequestWithContext(ctx, http.MethodPost, tn.URL()+"/api/v1/login", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Expect", "100-continue")
		c := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}, Timeout: 30 * time.Second}
		resp, err := c.Do(r)
		if err != nil {
			loginDone <- result{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		loginDone <- result{status: resp.StatusCode}
	}()
	select {
	case <-reading:
	case r := <-loginDone:
		t.Fatalf("the login ended before the node read its body: %+v", r)
	case <-time.After(10 * time.Second):
		t.Fatal("the node did not start handling the login")
	}
	require.NoError(t, tn.Close())
	select {
	case r := <-loginDone:
		require.NoError(t, r.err, "Close cut off an in-flight login")
		assert.Equal(t, http.StatusOK, r.status)
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight login never finished")
	}
	b.halt()
	ok := b.acked()
	require.GreaterOrEqual(t, len(ok), 200)

	// Reopen the data directory: every acknowledged booking is there.
	n2, _ := openNode(t, tn.dir)
	ctx := context.Background()
	for _, a := range ok {
		got, err := n2.Booking().Get(ctx, "test", a.code)
		require.NoError(t, err, "acknowledged booking %s lost", a.code)
		assert.Equal(t, booking.StatusBooked, got.Status)
		assert.Equal(t, a.facility, got.Facility)
		assert.True(t, a.start.Equal(got.Start))
	}
	// Nothing was committed without its client being told: the drain
	// answered every request it had started.
	s := snapshot(t, n2.DB())
	assert.Equal(t, len(ok), s.appts, "appointments stored vs acknowledged")
	_, err := n2.DB().VerifyAudit()
	require.NoError(t, err)
	t.Logf("%d bookings acknowledged before and during Close, %d refused or cut off after", len(ok), b.failed)
}

// TestAdminBackupWhileServing takes a hot backup through the admin socket
// while 16 clients book, and restores it into a new data directory.
func TestAdminBackupWhileServing(t *testing.T) {
	tn := newTestNode(t)
	ctx := context.Background()
	seats := tn.seats(t, 2000)
	b := newBooker(t, tn, seats, 16)
	b.waitAcked(t, 100)
	require.True(t, node.Running(tn.dir))

	before := int(b.okCount.Load())
	path := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(path)
	require.NoError(t, err)
	size, err := node.AdminBackup(ctx, tn.dir, f)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.Positive(t, size)
	b.waitAcked(t, int64(before)+50) // the node kept serving
	b.halt()
	after := len(b.acked())

	// storage.Restore accepts it; a node runs on it.
	dir2 := t.TempDir()
	for _, name := range []string{node.ConfigFile, node.KeyFile} {
		raw, err := os.ReadFile(filepath.Join(tn.dir, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir2, name), raw, 0o600))
	}
	require.NoError(t, storage.Restore(path, filepath.Join(dir2, node.DBFile)))
	n2, _ := openNode(t, dir2)
	s := snapshot(t, n2.DB())
	assert.GreaterOrEqual(t, s.appts, before, "the backup holds what was acknowledged before it began")
	assert.LessOrEqual(t, s.appts, after, "and nothing that was never acknowledged")
	_, err = n2.DB().VerifyAudit()
	require.NoError(t, err)
	for _, a := range b.acked()[:before] {
		_, err := n2.Booking().Get(ctx, "test", a.code)
		assert.NoError(t, err)
	}

	// A backup of a closed node fails cleanly.
	require.NoError(t, tn.Close())
	assert.False(t, node.Running(tn.dir))
	_, err = node.AdminBackup(ctx, tn.dir, io.Discard)
	require.Error(t, err)
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}
