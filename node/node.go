package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/accounts"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/consult/stats"
	"github.com/moinha/moinha/federation"
	"github.com/moinha/moinha/storage"
)

// Version is the node software version, set at link time
// (-ldflags "-X github.com/moinha/moinha/node.Version=…").
var Version = "0.1.0-dev"

// Node is one running province, hospital or observer node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	key     crypto.PrivKey
	peer    peer.ID
	started time.Time

	db    *storage.DB
	fed   *federation.Federation // nil for a lone node (no charter/certificate)
	dir   *directory.Service
	book  *booking.Service
	acct  *accounts.Service
	stats *stats.Service // counts, reports and the network's statistics history (stats.go)
	calls *calls.Service
	ref   *referral.Service // referrals and consult requests (referrals.go)
	reg   *prometheus.Registry
	met   *metrics
	http  *http.Server
	admin *http.Server // operator commands on DataDir/admin.sock
	ln    net.Listener
	serve sync.WaitGroup // the HTTP serve goroutine

	statsLoop *statsLoop // publishes this node's statistics; nil until Start (stats.go)

	closeOnce sync.Once
	closeErr  error
}

// New opens the node's data and builds its services; it does not listen
// yet (see Start).
func New(cfg Config) (*Node, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = newLogger(cfg.LogLevel)
	}
	log = log.With("province", cfg.Province)
	key, id, err := federation.LoadIdentity(filepath.Join(cfg.DataDir, KeyFile))
	if err != nil {
		return nil, err
	}
	db, err := storage.Open(filepath.Join(cfg.DataDir, DBFile), &storage.Options{NoSync: cfg.NoSync})
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: log, key: key, peer: id, db: db, reg: prometheus.NewRegistry()}
	n.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	n.met = newMetrics(n.reg)
	if err := n.openFederation(); err != nil {
		db.Close()
		return nil, err
	}
	var repl consult.Replicator // stays a nil interface for a lone node
	if n.fed != nil {
		repl = n.fed
	}
	n.dir = directory.New(db, cfg.Province, repl)
	n.stats = n.newStats()
	n.book = booking.New(db, n.dir, booking.Options{OnStatus: n.stats.CountAppointment})
	if err := n.book.Upgrade(context.Background()); err != nil {
		if n.fed != nil {
			_ = n.fed.Close()
		}
		db.Close()
		return nil, err
	}
	n.acct = accounts.New(db, accounts.Options{})
	if n.calls, err = calls.New(db, n.callsOptions()); err != nil {
		if n.fed != nil {
			_ = n.fed.Close()
		}
		db.Close()
		return nil, err
	}
	n.reg.MustRegister(callsCollector{n})
	if err := n.openReferrals(); err != nil {
		_ = n.calls.Close()
		if n.fed != nil {
			_ = n.fed.Close()
		}
		db.Close()
		return nil, err
	}
	return n, nil
}

func newLogger(level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil || level == "" {
		lv = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
}

// Start listens on the HTTP address and serves until Close.
func (n *Node) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", n.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("node: listen %s: %w", n.cfg.HTTPAddr, err)
	}
	n.ln = ln
	n.started = time.Now()
	n.applyGC()
	n.http = &http.Server{
		Handler:           n.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelWarn),
	}
	if n.fed != nil {
		if err := n.fed.Start(ctx); err != nil {
			ln.Close()
			return fmt.Errorf("node: federation: %w", err)
		}
		n.serveSignalling()
		if err := n.shareOwnRecords(ctx); err != nil {
			ln.Close()
			return fmt.Errorf("node: share directory: %w", err)
		}
	}
	if err := n.startAdmin(); err != nil {
		ln.Close()
		return err
	}
	n.startStats()
	n.ref.Start()
	n.serve.Add(1)
	go func() {
		defer n.serve.Done()
		if err := n.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("http serve", "err", err)
		}
	}()
	var p2p []string
	if n.fed != nil {
		for _, a := range n.fed.Addrs() {
			p2p = append(p2p, a.String())
		}
	}
	n.log.Info("node started", "http", ln.Addr().String(), "role", n.cfg.Role, "version", Version,
		"peer", n.peer.String(), "p2p", p2p)
	return nil
}

// applyGC sets the process's GC target from Config.GCPercent.
func (n *Node) applyGC() {
	pct := n.cfg.GCPercent
	if pct == 0 {
		if os.Getenv("GOGC") != "" {
			return // the operator's setting stands
		}
		pct = DefaultGCPercent
	}
	debug.SetGCPercent(pct)
}

// HTTPAddr is the address the API listens on (after Start).
func (n *Node) HTTPAddr() string {
	if n.ln == nil {
		return ""
	}
	return n.ln.Addr().String()
}

// URL is the node's base URL (after Start).
func (n *Node) URL() string { return "http://" + n.HTTPAddr() }

// Close drains in-flight requests (up to ShutdownTimeout), then closes the
// services and the data file, in reverse order of New/Start. Idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		if n.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), n.cfg.ShutdownTimeout)
			if err := n.http.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("http shutdown: %w", err))
				_ = n.http.Close()
			}
			cancel()
		}
		if n.admin != nil {
			_ = n.admin.Close()
			_ = os.Remove(filepath.Join(n.cfg.DataDir, AdminSocket))
		}
		n.serve.Wait()
		n.stopStats()
		n.ref.Close()
		if err := n.calls.Close(); err != nil {
			errs = append(errs, fmt.Errorf("calls: %w", err))
		}
		if n.fed != nil {
			if err := n.fed.Close(); err != nil {
				errs = append(errs, fmt.Errorf("federation: %w", err))
			}
		}
		if err := n.db.Close(); err != nil {
			errs = append(errs, err)
		}
		n.closeErr = errors.Join(errs...)
		n.log.Info("node stopped")
	})
	return n.closeErr
}

// Abort stops the node at once, as close to a crash as one process
// allows: open HTTP connections are cut, nothing is drained or announced.
// Whatever was committed stays in the data file; nothing else survives.
func (n *Node) Abort() error {
	if n.http != nil {
		_ = n.http.Close()
	}
	n.cfg.ShutdownTimeout = time.Nanosecond
	return n.Close()
}

// Directory, Booking, Accounts and DB expose the services to in-process
// callers (testnet, benchmarks, the CLI).
func (n *Node) Directory() *directory.Service { return n.dir }

// Booking is the node's booking service.
func (n *Node) Booking() *booking.Service { return n.book }

// Accounts is the node's account service.
func (n *Node) Accounts() *accounts.Service { return n.acct }

// DB is the node's data file.
func (n *Node) DB() *storage.DB { return n.db }

// Config is the effective configuration.
func (n *Node) Config() Config { return n.cfg }

// PeerID is the node's libp2p identity.
func (n *Node) PeerID() string { return n.peer.String() }
