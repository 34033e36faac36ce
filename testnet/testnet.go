package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/node"
)

// Options describe a local network. Zero values are documented per field.
type Options struct {
	// Provinces is how many province nodes to run. Zero means 1.
	Provinces int
	// Observer adds a ministry observer node.
	Observer bool
	// HTTPBase is the first HTTP port; node i listens on HTTPBase+i. Zero
	// means free ports chosen by the kernel.
	HTTPBase int
	// Dir holds the nodes' data directories. Zero means a new temporary
	// directory, removed by Stop.
	Dir string
	// Seed makes the sample data reproducible. Zero means 1.
	Seed int64
	// FullSize gives each province a full-size directory (~500 facilities).
	FullSize bool
	// NoSync turns fsync off (benchmarks of non-durable paths only).
	NoSync bool
	// Logger receives every node's logs. Zero means discard.
	Logger *slog.Logger
	// GossipHeartbeat and SyncInterval tune every node's federation. Zero
	// means 100 ms and 2 s: a small local network converges at once.
	GossipHeartbeat time.Duration
	SyncInterval    time.Duration
	// StatsInterval is how often every province node publishes its
	// statistics. Zero means 1 s, so that an observer sees a workload's
	// counts, and a stopped province as not reporting, within seconds.
	StatsInterval time.Duration
	// Alone starts the nodes without a charter: no federation at all.
	Alone bool
	// DemoAvailability makes every province accept referrals in a few
	// specialties (demoSpecialties), so that a demo referral finds a
	// candidate at once. Zero means no availability is published (tests
	// set their own).
	DemoAvailability bool
	// Referrals tunes every node's referral service (node.Config's
	// Referrals): offer deadlines, fan-out, auto-accept. Zero fields mean
	// the referral package's defaults.
	Referrals referral.Options
}

// Node is one member of the test network.
type Node struct {
	*node.Node
	Name     string
	Province string
	Role     string
	DataDir  string
	Users    map[string]string // username → password
	cfg      node.Config
}

// Net is a running local network.
type Net struct {
	Nodes   []*Node
	opts    Options
	tempDir string
	authKey crypto.PrivKey
	charter charter.Charter
}

// Start creates and starts the network; it returns once every node serves.
func Start(ctx context.Context, o Options) (*Net, error) {
	if o.Provinces <= 0 {
		o.Provinces = 1
	}
	if o.Provinces > len(demoOrder) {
		return nil, fmt.Errorf("testnet: at most %d provinces", len(demoOrder))
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	net := &Net{opts: o}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "moinha-testnet-*")
		if err != nil {
			return nil, err
		}
		o.Dir, net.tempDir = d, d
		net.opts.Dir = d
	}
	if o.GossipHeartbeat == 0 {
		net.opts.GossipHeartbeat = 100 * time.Millisecond
	}
	if o.SyncInterval == 0 {
		net.opts.SyncInterval = 2 * time.Second
	}
	if o.StatsInterval == 0 {
		net.opts.StatsInterval = time.Second
	}
	if !o.Alone {
		if err := net.makeCharter(); err != nil {
			return nil, err
		}
	}
	total := o.Provinces
	if o.Observer {
		total++
	}
	for i := 0; i < total; i++ {
		code, role := demoOrder[i], "province"
		if o.Observer && i == total-1 {
			code, role = "BYT", "observer"
		}
		nd, err := net.addNode(ctx, i, code, role)
		if err != nil {
			net.Stop()
			return nil, err
		}
		net.Nodes = append(net.Nodes, nd)
	}
	return net, nil
}

// demoOrder is the order in which provinces join a demo network.
var demoOrder = []string{"66", "79", "01", "46", "92", "31", "48", "22", "15", "52", "56", "68", "75", "91", "96", "86",
	"82", "80", "51", "44", "40", "42", "38", "37", "33", "24", "25", "19", "08", "04", "20", "12", "11", "14"}

func (net *Net) addNode(ctx context.Context, i int, code, role string) (*Node, error) {
	dir := filepath.Join(net.opts.Dir, code)
	name := ""
	if role == "observer" {
		name = "Bộ Y tế (quan sát)"
	}
	chPath := ""
	if !net.opts.Alone {
		chPath = filepath.Join(net.opts.Dir, "charter.json")
	}
	id, err := node.Init(ctx, node.InitOptions{DataDir: dir, Province: code, Name: name, Role: role,
		Charter: chPath, Sample: role != "observer", Full: net.opts.FullSize, Seed: net.opts.Seed + int64(i)})
	if err != nil {
		return nil, fmt.Errorf("testnet: init %s: %w", code, err)
	}
	cfg, err := node.LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	if !net.opts.Alone {
		cert, err := charter.Admit(net.charter, net.authKey, id, code, cfg.Name, charter.Role(role), 365*24*time.Hour)
		if err != nil {
			return nil, err
		}
		if err := charter.WriteCertificate(filepath.Join(dir, node.CertName), cert); err != nil {
			return nil, err
		}
		if len(net.Nodes) > 0 && net.Nodes[0].Federation() != nil {
			for _, a := range net.Nodes[0].Federation().Addrs() {
				cfg.Bootstrap = append(cfg.Bootstrap, a.String())
			}
		}
	}
	cfg.GossipHeartbeat = net.opts.GossipHeartbeat
	cfg.SyncInterval = net.opts.SyncInterval
	cfg.Referrals = net.opts.Referrals
	cfg.StatsInterval = net.opts.StatsInterval
	cfg.HTTPAddr = "127.0.0.1:0"
	if net.opts.HTTPBase > 0 {
		cfg.HTTPAddr = fmt.Sprintf("127.0.0.1:%d", net.opts.HTTPBase+i)
	}
	cfg.Logger = net.opts.Logger.With("node", code)
	cfg.NoSync = net.opts.NoSync
	if err := cfg.Save(); err != nil {
		return nil, err
	}
	n, err := node.New(cfg)
	if err != nil {
		return nil, err
	}
	users, err := n.DemoUsers(ctx)
	if err != nil {
		n.Close()
		return nil, err
	}
	if err := n.Start(ctx); err != nil {
		n.Close()
		return nil, err
	}
	if net.opts.DemoAvailability && role != "observer" && !net.opts.Alone {
		// Every demo province takes referrals in a few specialties, so
		// that a referral made in the demo finds a candidate at once.
		for j, spec := range demoSpecialties {
			if _, err := n.SetAvailability(ctx, spec, true, 5+(i+j)%10, 1+(i*3+j)%14); err != nil {
				n.Close()
				return nil, err
			}
		}
	}
	// Pin the chosen ports so that Restart comes back on the same addresses.
	cfg.HTTPAddr = n.HTTPAddr()
	if f := n.Federation(); f != nil {
		cfg.P2PAddrs = nil
		for _, a := range f.ListenAddrs() {
			cfg.P2PAddrs = append(cfg.P2PAddrs, a.String())
		}
	}
	return &Node{Node: n, Name: cfg.Name, Province: code, Role: role, DataDir: dir, Users: users, cfg: cfg}, nil
}

// Stop closes every node and removes a temporary directory. Idempotent.
func (net *Net) Stop() error {
	var errs []error
	for _, nd := range net.Nodes {
		if nd.Node != nil {
			errs = append(errs, nd.Close())
		}
	}
	if net.tempDir != "" {
		errs = append(errs, os.RemoveAll(net.tempDir))
		net.tempDir = ""
	}
	return errors.Join(errs...)
}

// Manifest is API.md's testnet manifest.
type Manifest struct {
	Nodes []ManifestNode `json:"nodes"`
}

// ManifestNode describes one node in the manifest.
type ManifestNode struct {
	Name     string            `json:"name"`
	Province string            `json:"province"`
	Role     string            `json:"role"`
	HTTP     string            `json:"http"`
	Peer     string            `json:"peer"`
	Data     string            `json:"data"`
	Users    map[string]string `json:"users"`
}

// Manifest describes the running network.
func (net *Net) Manifest() Manifest {
	var m Manifest
	for _, nd := range net.Nodes {
		m.Nodes = append(m.Nodes, ManifestNode{Name: nd.Name, Province: nd.Province, Role: nd.Role,
			HTTP: nd.URL(), Peer: nd.PeerID(), Data: nd.DataDir, Users: nd.Users})
	}
	return m
}

// WriteManifest writes the manifest as JSON to path (mode 0600: it holds passwords).
func (net *Net) WriteManifest(path string) error {
	raw, err := json.MarshalIndent(net.Manifest(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o600)
}

func (net *Net) makeCharter() error {
	key, err := charter.CreateAuthorityKey(filepath.Join(net.opts.Dir, "authority.key"))
	if err != nil {
		return err
	}
	ch, err := charter.NewCharter("Mọi Nhà testnet", key)
	if err != nil {
		return err
	}
	if err := charter.WriteCharter(filepath.Join(net.opts.Dir, "charter.json"), ch); err != nil {
		return err
	}
	net.authKey, net.charter = key, ch
	return nil
}

// demoSpecialties are the specialties every demo province accepts referrals in.
var demoSpecialties = []string{"cardiology", "paediatrics", "obstetrics", "internal_medicine", "surgery"}
