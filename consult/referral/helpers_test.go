package referral

import (
	"context"
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/storage"
)

// The test network: one Service per province over its own data file,
// whose Sender is the real storage outbox (so a message exists only if the
// transaction that sent it committed), and a pump that delivers outboxes
// the way the federation does: once per message ID, in the receiver's
// transaction, acknowledged after commit.

type testClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type outboxSender struct {
	// unreachable provinces fail with ErrUnreachable.
	unreachable map[string]bool
}

func (o outboxSender) Send(tx *storage.Tx, to, kind, id string, payload []byte) error {
	if o.unreachable[to] {
		return ErrUnreachable
	}
	return tx.EnqueueOutbox(&storage.OutboxMessage{ID: id, Dest: to, Kind: kind, Payload: payload})
}

type staticAvailability []Availability

func (a staticAvailability) Available(spec string) ([]Availability, error) {
	var out []Availability
	for _, x := range a {
		if x.Specialty == spec {
			out = append(out, x)
		}
	}
	return out, nil
}

type tnode struct {
	prov string
	db   *storage.DB
	s    *Service
	// received are the payloads this node's Receive got, for privacy scans.
	received []string
}

type tnet struct {
	t     testing.TB
	clock *testClock
	nodes map[string]*tnode
	avail staticAvailability
	down  map[string]bool // provinces whose messages wait in the outbox
}

func newNet(t testing.TB, provinces ...string) *tnet {
	n := &tnet{t: t, clock: &testClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)},
		nodes: map[string]*tnode{}, down: map[string]bool{}}
	for _, p := range provinces {
		n.add(p, nil)
	}
	return n
}

func (n *tnet) add(prov string, edit func(*Options)) *tnode {
	db, err := storage.Open(filepath.Join(n.t.TempDir(), "moinha.db"), &storage.Options{NoSync: true})
	require.NoError(n.t, err)
	n.t.Cleanup(func() { db.Close() })
	o := Options{Province: prov, Sender: outboxSender{}, Availability: &n.avail, Now: n.clock.now,
		Geo: func(p string) (float64, float64, bool) {
			// a line of provinces 100 km apart, by code order
			geo := map[string]float64{"01": 21, "46": 16.5, "66": 12.7, "79": 10.8, "92": 10.0, "48": 15.9}
			lat, ok := geo[p]
			return lat, 106, ok
		}}
	if edit != nil {
		edit(&o)
	}
	s, err := New(db, o)
	require.NoError(n.t, err)
	nd := &tnode{prov: prov, db: db, s: s}
	n.nodes[prov] = nd
	return nd
}

func (n *tnet) setAvail(prov, spec string, accepting bool, capacity, wait int) {
	for i := range n.avail {
		if n.avail[i].Province == prov && n.avail[i].Specialty == spec {
			n.avail[i] = Availability{prov, spec, accepting, capacity, wait}
			return
		}
	}
	n.avail = append(n.avail, Availability{prov, spec, accepting, capacity, wait})
}

// pump delivers every queued message (and the answers they cause) until
// all outboxes to running provinces are empty; it returns how many it
// delivered.
func (n *tnet) pump() int {
	n.t.Helper()
	total := 0
	for range 100 {
		moved := 0
		provs := make([]string, 0, len(n.nodes))
		for p := range n.nodes {
			provs = append(provs, p)
		}
		sort.Strings(provs)
		for _, p := range provs {
			src := n.nodes[p]
			var msgs []storage.OutboxMessage
			require.NoError(n.t, src.db.View(func(tx *storage.Tx) error {
				var err error
				msgs, err = tx.Outbox("", time.Time{}, 0)
				return err
			}))
			for _, m := range msgs {
				if n.down[m.Dest] {
					continue
				}
				dst := n.nodes[m.Dest]
				require.NotNil(n.t, dst, "message to unknown province %s", m.Dest)
				err := n.deliver(src.prov, dst, m.Kind, m.ID, m.Payload)
				var refused *RefusedError
				if err != nil && !errors.As(err, &refused) {
					require.NoError(n.t, err, "deliver %s %s", m.Kind, m.ID)
				}
				require.NoError(n.t, src.db.Update(context.Background(), func(tx *storage.Tx) error {
					return tx.AckOutbox(m.Key)
				}))
				moved++
			}
		}
		total += moved
		if moved == 0 {
			return total
		}
	}
	n.t.Fatal("pump: messages keep coming")
	return total
}

// deliver hands one message to dst like the federation: once per sender
// and ID, in one transaction with the seen mark.
func (n *tnet) deliver(from string, dst *tnode, kind, id string, payload []byte) error {
	dst.received = append(dst.received, string(payload))
	err := dst.db.Update(context.Background(), func(tx *storage.Tx) error {
		key := from + "/" + id
		if tx.Has(storage.BucketInboxSeen, key) {
			return nil
		}
		if err := dst.s.Receive(tx, from, kind, id, payload); err != nil {
			return err
		}
		return tx.Put(storage.BucketInboxSeen, key, "seen")
	})
	return err
}

func (n *tnet) get(prov, id string) View {
	n.t.Helper()
	v, err := n.nodes[prov].s.Get(context.Background(), "doctor", id)
	require.NoError(n.t, err)
	return v
}

func (n *tnet) has(prov, id string) bool {
	var ok bool
	_ = n.nodes[prov].db.View(func(tx *storage.Tx) error {
		ok = tx.Has(storage.BucketReferrals, id)
		return nil
	})
	return ok
}

func staff(fac string) Actor  { return Actor{User: "staff", Facility: fac} }
func doctor(fac string) Actor { return Actor{User: "doctor", Facility: fac} }

func samplePatient() *Patient {
	return &Patient{Name: "Nguyễn Thị Hoa", Phone: "0905123456", BirthYear: 1980, Sex: "female",
		IDNumber: "066180001234", Address: "thôn 3, xã Ea Kao", Summary: "đau ngực 2 ngày"}
}

// noPatientData fails if s holds any of the sample patient's identifiers.
func noPatientData(t *testing.T, where, s string) {
	t.Helper()
	p := samplePatient()
	for _, secret := range []string{p.Name, p.Phone, p.IDNumber, p.Address, "Nguy\\u1ec5n"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s holds patient data %q", where, secret)
		}
	}
}
