package fedbench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/moinha/moinha/federation"
	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

// Options describe a network of federation nodes. Zero values are
// documented per field.
type Options struct {
	// N is how many nodes to start. Zero means none (add them with Add).
	N int
	// Degree is how many earlier nodes each node dials (a sparse
	// topology: nodes do not dial members on their own). Zero means 4;
	// negative means a full mesh (every node dials every member, as
	// production nodes do).
	Degree int
	// Dir holds the data files. Zero means a new temporary directory,
	// removed by Close.
	Dir string
	// Sync turns fsync on for every node's data file. Zero means off: on
	// one disk, many nodes' fsyncs would measure the disk, not the
	// protocol.
	Sync bool
	// Heartbeat is the gossipsub heartbeat. Zero means 100 ms (meshes
	// form at once; the bare baseline uses the same).
	Heartbeat time.Duration
	// SyncInterval is every node's anti-entropy interval. Zero means
	// federation's default (45 s).
	SyncInterval time.Duration
	// Logger receives the nodes' logs. Zero means discard.
	Logger *slog.Logger
}

func (o *Options) withDefaults() {
	if o.Degree == 0 {
		o.Degree = 4
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 100 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Net is a running network of federation nodes on 127.0.0.1, all admitted
// by one charter.
type Net struct {
	Nodes   []*Node
	Charter charter.Charter

	opts    Options
	auth    crypto.PrivKey
	tempDir string

	// watch, when set, is told of every record any node stores.
	watch atomic.Pointer[func(n *Node, r federation.Record)]
}

// Node is one member of a Net.
type Node struct {
	Index    int
	Province string
	Key      crypto.PrivKey
	ID       peer.ID
	Cert     charter.Certificate
	DB       *storage.DB
	F        *federation.Federation
	DBPath   string

	net  *Net
	cfg  federation.Config
	sync bool // fsync on
}

// NewNet creates a charter and starts opts.N nodes; node i dials up to
// Degree distinct earlier nodes chosen with a fixed seed (Topology).
func NewNet(ctx context.Context, opts Options) (*Net, error) {
	opts.withDefaults()
	auth, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, err
	}
	ch, err := charter.NewCharter("Mọi Nhà bench", auth)
	if err != nil {
		return nil, err
	}
	net := &Net{Charter: ch, opts: opts, auth: auth}
	if opts.Dir == "" {
		d, err := os.MkdirTemp("", "moinha-fedbench-*")
		if err != nil {
			return nil, err
		}
		net.opts.Dir, net.tempDir = d, d
	}
	topo := Topology(opts.N, opts.Degree)
	for i := range opts.N {
		if _, err := net.Add(ctx, NodeOptions{Dial: topo[i]}); err != nil {
			net.Close()
			return nil, err
		}
	}
	return net, nil
}

// Topology gives, for each of n nodes, the earlier nodes it dials: up to
// degree distinct ones at random with a fixed seed (so a federation and a
// bare gossipsub network get the same graph), or all of them when degree
// is negative.
func Topology(n, degree int) [][]int {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	out := make([][]int, n)
	for i := 1; i < n; i++ {
		perm := rng.Perm(i)
		if degree >= 0 {
			perm = perm[:min(degree, i)]
		}
		out[i] = perm
	}
	return out
}

// NodeOptions tune one node added with Add.
type NodeOptions struct {
	// Dial lists the indexes of the nodes it bootstraps from.
	Dial []int
	// Province is its certificate's province code. Zero means "P<index>".
	Province string
	// Key is its identity. Zero means a new one.
	Key crypto.PrivKey
	// DBPath is its data file. Zero means a new one in the net's
	// directory.
	DBPath string
	// Apply is handed to federation.Config.Apply. Zero means none.
	Apply func(tx *storage.Tx, r federation.Record) error
	// Durable turns fsync on for this node whatever Options.Sync says.
	Durable bool
	// Edit may change the config last.
	Edit func(cfg *federation.Config)
}

// Add creates, starts and returns one more node.
func (net *Net) Add(ctx context.Context, o NodeOptions) (*Node, error) {
	nd, err := net.NewNode(o)
	if err != nil {
		return nil, err
	}
	if err := nd.Start(ctx); err != nil {
		return nil, err
	}
	return nd, nil
}

// NewNode prepares a node (identity, certificate, config) without opening
// or starting it; Start does.
func (net *Net) NewNode(o NodeOptions) (*Node, error) {
	nd, err := net.prepare(o, len(net.Nodes))
	if err != nil {
		return nil, err
	}
	net.Nodes = append(net.Nodes, nd)
	return nd, nil
}

// prepare builds a node numbered i that is not (yet) in net.Nodes.
func (net *Net) prepare(o NodeOptions, i int) (*Node, error) {
	nd := &Node{Index: i, Province: o.Province, Key: o.Key, DBPath: o.DBPath, net: net, sync: o.Durable || net.opts.Sync}
	if nd.Province == "" {
		nd.Province = fmt.Sprintf("P%03d", i)
	}
	var err error
	if nd.Key == nil {
		if nd.Key, _, err = crypto.GenerateEd25519Key(nil); err != nil {
			return nil, err
		}
	}
	if nd.ID, err = peer.IDFromPrivateKey(nd.Key); err != nil {
		return nil, err
	}
	if nd.Cert, err = net.Admit(nd.ID, nd.Province, charter.RoleProvince); err != nil {
		return nil, err
	}
	if nd.DBPath == "" {
		nd.DBPath = filepath.Join(net.opts.Dir, fmt.Sprintf("node-%03d.db", i))
	}
	connect := -1 // keep the chosen topology
	if net.opts.Degree < 0 {
		connect = 0
	}
	nd.cfg = federation.Config{
		Key:             nd.Key,
		Charter:         net.Charter,
		Certificate:     nd.Cert,
		GossipHeartbeat: net.opts.Heartbeat,
		SyncInterval:    net.opts.SyncInterval,
		Logger:          net.opts.Logger.With("node", nd.Province),
		Apply:           o.Apply,
		ConnectMembers:  connect,
		Stored:          nd.stored,
	}
	for _, j := range o.Dial {
		for _, a := range net.Nodes[j].F.Addrs() {
			nd.cfg.Bootstrap = append(nd.cfg.Bootstrap, a.String())
		}
	}
	if o.Edit != nil {
		o.Edit(&nd.cfg)
	}
	return nd, nil
}

// Admit issues a certificate of the net's authority.
func (net *Net) Admit(p peer.ID, province string, role charter.Role) (charter.Certificate, error) {
	return charter.Admit(net.Charter, net.auth, p, province, "Node "+province, role, 24*time.Hour)
}

// Start opens the node's data file and starts its federation.
func (nd *Node) Start(ctx context.Context) error {
	db, err := storage.Open(nd.DBPath, &storage.Options{NoSync: !nd.sync})
	if err != nil {
		return err
	}
	nd.cfg.DB = db
	f, err := federation.New(nd.cfg)
	if err != nil {
		db.Close()
		return err
	}
	if err := f.Start(ctx); err != nil {
		db.Close()
		return err
	}
	nd.DB, nd.F = db, f
	return nil
}

// Stop closes the node's federation and data file. It is idempotent.
func (nd *Node) Stop() error {
	var errs []error
	if nd.F != nil {
		errs = append(errs, nd.F.Close())
		nd.F = nil
	}
	if nd.DB != nil {
		errs = append(errs, nd.DB.Close())
		nd.DB = nil
	}
	return errors.Join(errs...)
}

func (nd *Node) stored(r federation.Record) {
	if w := nd.net.watch.Load(); w != nil {
		(*w)(nd, r)
	}
}

// Watch sets the function told of every record any node stores (nil:
// none). It runs on the storing node's goroutine and must be quick.
func (net *Net) Watch(fn func(n *Node, r federation.Record)) {
	if fn == nil {
		net.watch.Store(nil)
		return
	}
	net.watch.Store(&fn)
}

// Stage stages one record at nd in its own transaction.
func (nd *Node) Stage(ctx context.Context, kind, key string, payload []byte) error {
	return nd.DB.Update(ctx, func(tx *storage.Tx) error {
		return nd.F.Stage(tx, kind, key, payload, false)
	})
}

// Close stops every node and removes a temporary directory.
func (net *Net) Close() error {
	var wg sync.WaitGroup
	errs := make([]error, len(net.Nodes))
	for i, nd := range net.Nodes {
		wg.Go(func() { errs[i] = nd.Stop() })
	}
	wg.Wait()
	if net.tempDir != "" {
		errs = append(errs, os.RemoveAll(net.tempDir))
		net.tempDir = ""
	}
	return errors.Join(errs...)
}

// WaitTopology waits until every running node is connected to at least as
// many members as it dialled.
func (net *Net) WaitTopology(ctx context.Context, timeout time.Duration) error {
	topo := Topology(len(net.Nodes), net.opts.Degree)
	return WaitFor(ctx, timeout, "topology", func() bool {
		for i, nd := range net.Nodes {
			if nd.F != nil && nd.F.ConnectedPeers() < len(topo[i]) {
				return false
			}
		}
		return true
	})
}

// WaitMesh waits, as NewBareNet does for the bare network, until the
// gossipsub mesh links of the running nodes join them all into one graph.
func (net *Net) WaitMesh(ctx context.Context, timeout time.Duration) error {
	return WaitFor(ctx, timeout, "meshes", func() bool {
		index := make(map[peer.ID]int, len(net.Nodes))
		var running []int
		for i, nd := range net.Nodes {
			if nd.F != nil {
				index[nd.ID] = i
				running = append(running, i)
			}
		}
		if len(running) == 0 {
			return true
		}
		seen := map[int]bool{running[0]: true}
		queue := []int{running[0]}
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			for _, p := range net.Nodes[i].F.MeshPeers() {
				if j, ok := index[p]; ok && !seen[j] {
					seen[j] = true
					queue = append(queue, j)
				}
			}
		}
		return len(seen) == len(running)
	})
}

// WaitMembers waits until every running node knows every other running
// node as a current member (gossip relays member records; sync fills the
// gaps at each SyncInterval): a record from an origin a node does not know
// yet is refused there.
func (net *Net) WaitMembers(ctx context.Context, timeout time.Duration) error {
	return WaitFor(ctx, timeout, "membership", func() bool {
		for _, nd := range net.Nodes {
			if nd.F == nil {
				continue
			}
			known := make(map[peer.ID]bool)
			for _, m := range nd.F.Members() {
				if !m.Left && !m.Revoked {
					known[m.Peer] = true
				}
			}
			for _, other := range net.Nodes {
				if other.F != nil && !known[other.ID] {
					return false
				}
			}
		}
		return true
	})
}

// Dropped sums what pubsub dropped at every running node.
func (net *Net) Dropped() uint64 {
	var n uint64
	for _, nd := range net.Nodes {
		if nd.F != nil {
			n += nd.F.Stats().GossipDropped
		}
	}
	return n
}

// WaitFor polls cond every 5 ms until it holds, ctx ends, or timeout
// passes.
func WaitFor(ctx context.Context, timeout time.Duration, what string, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("fedbench: waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}
