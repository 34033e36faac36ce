package federation

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

// The test cluster: N real libp2p hosts on 127.0.0.1, one charter, one
// bbolt file each in t.TempDir(), everything closed by t.Cleanup. Waits
// poll conditions with a deadline; no test sleeps for a fixed time.

const waitTimeout = 30 * time.Second

type testNet struct {
	t     testing.TB
	auth  crypto.PrivKey
	ch    charter.Charter
	nodes []*testNode
	tweak func(*Federation) // applied to every node after New, before Start
}

type testNode struct {
	net      *testNet
	i        int
	key      crypto.PrivKey
	id       peer.ID
	province string
	cert     charter.Certificate
	dbPath   string
	db       *storage.DB
	f        *Federation
	cfg      Config
	tweak    func(*Federation) // applied after New, before Start

	mu      sync.Mutex        // guards applied and left
	applied map[string]Record // origin/kind/key → latest applied
	left    []string          // provinces OnLeave was called with
}

func newTestNet(t testing.TB) *testNet {
	t.Helper()
	auth, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	ch, err := charter.NewCharter("Mọi Nhà test", auth)
	require.NoError(t, err)
	return &testNet{t: t, auth: auth, ch: ch}
}

// startNet builds and starts n nodes; node i > 0 bootstraps from node 0.
func startNet(t testing.TB, n int, opts ...func(i int, cfg *Config)) *testNet {
	t.Helper()
	return newTestNet(t).start(n, opts...)
}

// start builds and starts n nodes; node i > 0 bootstraps from node 0.
func (tn *testNet) start(n int, opts ...func(i int, cfg *Config)) *testNet {
	t := tn.t
	t.Helper()
	for i := range n {
		tn.add(charter.RoleProvince, func(n *testNode) {
			if i > 0 {
				n.cfg.Bootstrap = []string{tn.nodes[0].addr()}
			}
			for _, o := range opts {
				o(i, &n.cfg)
			}
		})
	}
	return tn
}

// add creates, starts and returns a new node of role role; edit may change
// its Config and tweak before it starts.
func (tn *testNet) add(role charter.Role, edit func(n *testNode)) *testNode {
	t := tn.t
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	i := len(tn.nodes)
	n := &testNode{net: tn, i: i, key: key, province: fmt.Sprintf("P%02d", i), applied: make(map[string]Record)}
	n.id, err = peer.IDFromPrivateKey(key)
	require.NoError(t, err)
	n.cert, err = charter.Admit(tn.ch, tn.auth, n.id, n.province, "Node "+n.province, role, time.Hour)
	require.NoError(t, err)
	n.dbPath = filepath.Join(t.TempDir(), "node.db")
	n.cfg = Config{
		Key:             key,
		Charter:         tn.ch,
		Certificate:     n.cert,
		GossipHeartbeat: 100 * time.Millisecond,
		SyncInterval:    500 * time.Millisecond,
		HelloTimeout:    defaultHelloTimeout, // less fails hellos when CI runs every package at once
		Logger:          testLogger(),
		Apply:           n.apply,
		OnLeave:         n.onLeave,
	}
	if edit != nil {
		edit(n)
	}
	tn.nodes = append(tn.nodes, n)
	n.start()
	return n
}

// start opens the node's data file and starts its federation.
func (n *testNode) start() {
	t := n.net.t
	t.Helper()
	db, err := storage.Open(n.dbPath, &storage.Options{NoSync: true})
	require.NoError(t, err)
	n.db = db
	n.cfg.DB = db
	f, err := New(n.cfg)
	require.NoError(t, err)
	n.f = f
	if n.tweak != nil {
		n.tweak(f)
	}
	if n.net.tweak != nil {
		n.net.tweak(f)
	}
	require.NoError(t, f.Start(context.Background()))
	t.Cleanup(n.stop)
}

// stop closes the federation and the data file (idempotent).
func (n *testNode) stop() {
	if n.f != nil {
		require.NoError(n.net.t, n.f.Close())
		assertNoFederationGoroutines(n.net.t, n.f)
	}
	if n.db != nil {
		require.NoError(n.net.t, n.db.Close())
	}
}

func (n *testNode) addr() string {
	addrs := n.f.Addrs()
	require.NotEmpty(n.net.t, addrs)
	return addrs[0].String()
}

func (n *testNode) apply(_ *storage.Tx, r Record) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := recordKey(r.Origin, r.Kind, r.Key)
	if old, ok := n.applied[k]; !ok || old.Version < r.Version {
		n.applied[k] = r
	}
	return nil
}

func (n *testNode) onLeave(_ context.Context, province string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.left = append(n.left, province)
}

func (n *testNode) leftProvinces() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.left...)
}

// stage stages a record at n in its own transaction.
func (n *testNode) stage(kind, key string, payload []byte) error {
	return n.db.Update(context.Background(), func(tx *storage.Tx) error {
		return n.f.Stage(tx, kind, key, payload, false)
	})
}

// has reports whether n stores origin's (kind, key) at version ≥ v.
func (n *testNode) has(origin peer.ID, kind, key string, v uint64) bool {
	r, ok, err := n.f.Record(origin, kind, key)
	return err == nil && ok && r.Version >= v
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting: "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitMesh waits until every node is connected to every other. A full
// mesh of 16 is the heaviest set-up here (120 handshakes and hellos), so
// it gets twice the usual bound: under CI, every package's tests share two
// cores.
func (tn *testNet) waitMesh() {
	tn.t.Helper()
	want := len(tn.nodes) - 1
	var short string // which node lacks what, for the failure message
	waitFor(tn.t, 2*waitTimeout, func() bool {
		for _, n := range tn.nodes {
			if conns := n.f.ConnectedPeers(); conns != want {
				short = fmt.Sprintf("node %d: %d connected of %d", n.i, conns, want)
				return false
			}
		}
		return true
	}, "full mesh of %d nodes (%v)", len(tn.nodes), lateString{&short})
}

// waitSubscribed waits until from's pubsub knows every node of to
// subscribed to the records topic: flood publish reaches only those, so a
// message published before could miss one.
func waitSubscribed(t testing.TB, from *testNode, to []*testNode) {
	t.Helper()
	waitFor(t, waitTimeout, func() bool {
		subs := make(map[peer.ID]bool)
		for _, p := range from.f.ps.ListPeers(from.f.topicName) {
			subs[p] = true
		}
		for _, n := range to {
			if !subs[n.id] {
				return false
			}
		}
		return true
	}, "node %d to see every target subscribed", from.i)
}

// waitAllHave waits until every node in nodes stores the record.
func waitAllHave(t testing.TB, nodes []*testNode, origin peer.ID, kind, key string, v uint64) {
	t.Helper()
	waitFor(t, waitTimeout, func() bool {
		for _, n := range nodes {
			if !n.has(origin, kind, key, v) {
				return false
			}
		}
		return true
	}, "%d nodes to have %s/%s v%d", len(nodes), kind, key, v)
}

// testLogger logs to stderr when MOINHA_TEST_LOG is set (zero: discard).
func testLogger() *slog.Logger {
	if os.Getenv("MOINHA_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// assertNoFederationGoroutines checks that no goroutine of this package
// outlives Close (libp2p's own leftovers, go-libp2p #2514, are ignored).
func assertNoFederationGoroutines(t testing.TB, f *Federation) {
	t.Helper()
	// Frames print the receiver as their first argument.
	self := fmt.Sprintf("(%p", f)
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<22)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var leaked []string
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "moinha/federation.(*Federation)") && strings.Contains(g, self) {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d federation goroutines still running after Close:\n%s", len(leaked), leaked[0])
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lateString prints what *s holds when it is printed, not when passed.
type lateString struct{ s *string }

func (l lateString) String() string { return *l.s }
