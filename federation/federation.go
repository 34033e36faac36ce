package federation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

// Federation is this node's membership of the network: its libp2p host,
// the membership table, and the replication of signed records by gossip
// and anti-entropy sync. New prepares it without touching the network,
// Start joins, Close leaves (and is idempotent).
type Federation struct {
	cfg      Config
	log      *slog.Logger
	key      crypto.PrivKey
	self     peer.ID
	charter  charter.Charter
	netID    string // the charter's full network ID
	cert     charter.Certificate
	observer bool
	db       *storage.DB
	members  *membership
	metrics  *metrics
	events   eventQueue
	hooks    testHooks
	gater    *gater
	direct   *directState // durable direct messages (direct.go)
	signal   signalState  // call signalling handler (signal.go)

	protoHello protocol.ID
	protoSync  protocol.ID
	protoMesh  protocol.ID
	topicName  string

	pokeCh     chan struct{} // wakes the publisher; capacity 1
	applyCh    chan *incoming
	dialQ      chan peer.ID
	syncQ      chan peer.ID
	syncSlots  chan struct{} // bounds concurrent sync serving
	syncBudget int           // record bytes per sync response before "more"
	pullSem    chan struct{} // one sync round pulls at a time; capacity 1
	verifyQ    chan *pullChunkT
	names      peerNames // text form of origins' peer IDs
	mesh       meshTracer

	// Set by Start, read-only afterwards.
	ctx    context.Context
	cancel context.CancelFunc
	host   host.Host
	cm     *connmgr.BasicConnMgr
	ps     *pubsub.PubSub
	topic  *pubsub.Topic
	sub    *pubsub.Subscription
	boot   []peer.AddrInfo

	// goMu guards state and wg.Add, so no goroutine starts after Close.
	goMu  sync.Mutex
	state int // stateNew, stateStarted, stateClosed
	wg    sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	// pubMu serializes publishing and guards lastPublished, the highest
	// own version handed to gossip.
	pubMu         sync.Mutex
	lastPublished uint64
	// stagedHint is the highest own version Stage assigned; it may never
	// commit (rolled back), so it only tells the publisher to look again.
	stagedHint atomic.Uint64
	// manifestsSeen is this node's version counter when WriteManifests
	// last found nothing to sign: until it moves, there is nothing.
	manifestsSeen atomic.Uint64

	// sessMu guards sessions: the hello state of each connected peer.
	sessMu   sync.Mutex
	sessions map[peer.ID]*session

	// queueMu guards dialPending and syncPending (dedupe of the queues),
	// dialBackoff (failed redials) and syncRetried.
	queueMu     sync.Mutex
	dialPending map[peer.ID]bool
	syncPending map[peer.ID]bool
	dialBackoff map[peer.ID]backoff
	syncRetried map[peer.ID]int // failed pulls in a row, for retrySync
}

const (
	stateNew = iota
	stateStarted
	stateClosed
)

// testHooks let in-package tests observe and perturb; zero in production.
type testHooks struct {
	applied func(r Record) // after a remote record is committed
	// serveSync, when set, answers sync requests in place of serveSync
	// (a hostile responder).
	serveSync func(w *syncWriter, have map[peer.ID]uint64) error
}

// New checks cfg and loads the membership and versions from cfg.DB. It
// does not touch the network: a node that is not running (the CLI writing
// a leave) can use New, Stage, StageLeave and Close.
func New(cfg Config) (*Federation, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	self, err := peer.IDFromPrivateKey(cfg.Key)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if err := cfg.Certificate.VerifyPeer(cfg.Charter, self, now); err != nil {
		return nil, fmt.Errorf("%w: this node's certificate: %w", ErrConfig, err)
	}
	short := cfg.Charter.ShortID()
	f := &Federation{
		cfg:         cfg,
		log:         cfg.Logger.With("component", "federation"),
		key:         cfg.Key,
		self:        self,
		charter:     cfg.Charter,
		netID:       cfg.Charter.NetworkID(),
		cert:        cfg.Certificate,
		observer:    cfg.Observer || cfg.Certificate.Role == charter.RoleObserver,
		db:          cfg.DB,
		protoHello:  protocol.ID("/moinha/" + short + "/hello/1"),
		protoSync:   protocol.ID("/moinha/" + short + "/sync/1"),
		protoMesh:   protocol.ID("/moinha/" + short + "/meshsub/1.2.0"),
		topicName:   "/moinha/" + short + "/records/1",
		pokeCh:      make(chan struct{}, 1),
		applyCh:     make(chan *incoming, 4096),
		dialQ:       make(chan peer.ID, 1024),
		syncQ:       make(chan peer.ID, 1024),
		syncSlots:   make(chan struct{}, maxSyncServing),
		syncBudget:  syncResponseBytes,
		pullSem:     make(chan struct{}, 1),
		verifyQ:     make(chan *pullChunkT, pullAhead),
		sessions:    make(map[peer.ID]*session),
		dialPending: make(map[peer.ID]bool),
		syncPending: make(map[peer.ID]bool),
		dialBackoff: make(map[peer.ID]backoff),
		syncRetried: make(map[peer.ID]int),
	}
	f.events.init()
	f.gater = newGater(f)
	f.members = newMembership(nil)
	f.metrics = newMetrics(f.ConnectedPeers)
	if err := f.load(now); err != nil {
		return nil, err
	}
	f.members.notify = f.events.push
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(f.metrics); err != nil {
			return nil, fmt.Errorf("federation: register metrics: %w", err)
		}
	}
	if err := f.initDirect(); err != nil {
		return nil, err
	}
	return f, nil
}

// load rebuilds the membership table, last-seen times and the publisher's
// position from the data file.
func (f *Federation) load(now time.Time) error {
	// This node's own certificate, as if from a member record older than
	// any stored one.
	f.members.learnMember(f.self, f.cert, 0, nil, now)
	return f.db.View(func(tx *storage.Tx) error {
		// Revocations first, then members, then leaves: each rule needs
		// the facts before it.
		for _, kind := range []string{KindRevocation, KindMember, KindLeave} {
			err := scanKind(tx, kind, func(r Record, env []byte) error {
				in := &incoming{rec: r, env: env}
				if f.check(in, now) == "" {
					f.learn(in, now)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		err := tx.Scan(storage.BucketPeers, "", "", func(k string, v storage.Value) error {
			p, err := peer.Decode(k)
			if err != nil {
				return nil
			}
			var pi peerInfo
			if err := v.Decode(&pi); err == nil {
				f.members.setLastSeen(p, pi.LastSeen)
			}
			return nil
		})
		if err != nil {
			return err
		}
		f.members.setOwnCert(f.self, f.cert)
		st, err := getOrigin(tx, f.self)
		f.lastPublished = st.Max
		return err
	})
}

// peerInfo is what BucketPeers keeps per peer.
type peerInfo struct {
	LastSeen time.Time `json:"last_seen"`
}

// Start creates the libp2p host, announces this node's member record,
// joins gossip and dials Bootstrap. ctx bounds the start only; the node
// runs until Close.
func (f *Federation) Start(ctx context.Context) (err error) {
	f.goMu.Lock()
	switch f.state {
	case stateStarted:
		f.goMu.Unlock()
		return errors.New("federation: already started")
	case stateClosed:
		f.goMu.Unlock()
		return ErrClosed
	}
	f.state = stateStarted
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.goMu.Unlock()
	defer func() {
		if err != nil {
			f.Close()
		}
	}()

	if f.boot, err = parseBootstrap(f.cfg.Bootstrap); err != nil {
		return err
	}
	if f.host, err = f.newHost(); err != nil {
		return err
	}
	if err := f.announce(ctx); err != nil {
		return err
	}
	f.host.Network().Notify(&network.NotifyBundle{
		ConnectedF:    func(_ network.Network, c network.Conn) { f.onConnected(c) },
		DisconnectedF: func(_ network.Network, c network.Conn) { f.onDisconnected(c) },
	})
	f.host.SetStreamHandler(f.protoHello, f.handleHello)
	f.host.SetStreamHandler(f.protoSync, f.handleSync)
	f.startDirect()
	if err := f.startGossip(); err != nil {
		return err
	}

	f.spawn(f.publishLoop)
	f.spawn(f.readLoop)
	f.spawn(f.applyLoop)
	f.spawn(f.eventLoop)
	f.spawn(f.maintainLoop)
	f.spawn(f.redialLoop)
	for range verifiers() {
		f.spawn(f.verifyLoop)
	}
	for range dialWorkers {
		f.spawn(f.dialLoop)
	}
	for range syncWorkers {
		f.spawn(f.syncLoop)
	}
	// Connections accepted before the notifiee was in place.
	for _, c := range f.host.Network().Conns() {
		f.onConnected(c)
	}
	for _, ai := range f.boot {
		f.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, bootstrapAddrTTL)
		f.enqueueDial(ai.ID)
	}
	now := time.Now()
	for _, p := range f.members.admittedPeers(f.self, now) {
		f.host.Peerstore().AddAddrs(p, f.members.addrs(p), memberAddrTTL)
		f.cm.Protect(p, protectTag)
		if f.shouldDial() {
			f.enqueueDial(p)
		}
	}
	f.poke()
	f.log.Info("federation started", "peer", f.self, "network", f.cfg.Charter.ShortID(),
		"addrs", len(f.host.Addrs()), "members", len(f.members.admittedPeers(f.self, now)))
	return nil
}

// announce stages this node's member record with its listen addresses,
// unless it has left or been revoked.
func (f *Federation) announce(ctx context.Context) error {
	_, _, left, revoked := f.members.cert(f.self)
	if left || revoked {
		f.log.Warn("not announcing membership", "left", left, "revoked", revoked)
		return nil
	}
	addrs := f.host.Addrs()
	mi := MemberInfo{
		Certificate: f.cert,
		Name:        f.cert.Name,
		Role:        f.cert.Role,
		Started:     time.Now().UTC().Truncate(time.Second),
	}
	for _, a := range addrs {
		mi.Addrs = append(mi.Addrs, a.String())
	}
	payload, err := jsonMarshal(mi)
	if err != nil {
		return err
	}
	var r Record
	err = f.db.Update(ctx, func(tx *storage.Tx) error {
		var err error
		r, _, err = f.stage(tx, Record{Kind: KindMember, Key: f.self.String(), Payload: payload})
		return err
	})
	if err != nil {
		return fmt.Errorf("federation: announce membership: %w", err)
	}
	f.members.learnMember(f.self, f.cert, r.Version, addrs, time.Now())
	return nil
}

// spawn runs fn in a goroutine that Close waits for; after Close it does
// nothing and reports false.
func (f *Federation) spawn(fn func()) bool {
	f.goMu.Lock()
	defer f.goMu.Unlock()
	if f.state != stateStarted {
		return false
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		fn()
	}()
	return true
}

// Close stops the federation: it closes the host (and so every connection
// and stream) and waits for its goroutines. It is idempotent. It does not
// close the DB.
func (f *Federation) Close() error {
	f.closeOnce.Do(func() {
		f.goMu.Lock()
		started := f.state == stateStarted
		f.state = stateClosed
		f.goMu.Unlock()
		if f.cancel != nil {
			f.cancel()
		}
		if f.sub != nil {
			f.sub.Cancel()
		}
		if f.host != nil {
			f.closeErr = f.host.Close()
		}
		f.wg.Wait()
		if started {
			f.persistOnline()
		}
		if f.cfg.Registerer != nil {
			f.cfg.Registerer.Unregister(f.metrics)
		}
		f.closeDirect()
	})
	return f.closeErr
}

// persistOnline records "last seen now" for the peers still online at
// Close.
func (f *Federation) persistOnline() {
	now := time.Now()
	var online []peer.ID
	for _, m := range f.members.list() {
		if m.Online && m.Peer != f.self {
			online = append(online, m.Peer)
			f.members.setOnline(m.Peer, false, now)
		}
	}
	if len(online) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := f.db.Update(ctx, func(tx *storage.Tx) error {
		for _, p := range online {
			if err := tx.Put(storage.BucketPeers, p.String(), peerInfo{LastSeen: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.log.Debug("persist last seen", "peers", len(online), "err", err)
	}
}

// PeerID is this node's peer ID.
func (f *Federation) PeerID() peer.ID { return f.self }

// NetworkID is the charter's network ID (hex SHA-256).
func (f *Federation) NetworkID() string { return f.netID }

// Certificate is this node's membership certificate.
func (f *Federation) Certificate() charter.Certificate { return f.cert }

// Observer reports whether this node is read-only.
func (f *Federation) Observer() bool { return f.observer }

// Addrs are this node's listen addresses with /p2p/<peer ID>, ready to be
// handed to another node as Bootstrap. Nil before Start.
func (f *Federation) Addrs() []ma.Multiaddr {
	if f.host == nil {
		return nil
	}
	ai := peer.AddrInfo{ID: f.self, Addrs: f.host.Addrs()}
	out, err := peer.AddrInfoToP2pAddrs(&ai)
	if err != nil {
		return nil
	}
	return out
}

// ConnectedPeers is how many members are connected and past the hello.
func (f *Federation) ConnectedPeers() int {
	n := 0
	for _, m := range f.members.list() {
		if m.Online && m.Peer != f.self {
			n++
		}
	}
	return n
}

// Members lists every member this node knows of (itself included, always
// online), ordered by province code.
func (f *Federation) Members() []Member {
	list := f.members.list()
	for i := range list {
		if list[i].Peer == f.self {
			list[i].Online = true
			list[i].LastSeen = time.Now()
		}
	}
	return list
}

// Stats returns the federation's counters.
func (f *Federation) Stats() Stats { return f.metrics.stats() }

// Records calls fn for the latest record of kind from every origin that is
// not revoked and has not left, skipping tombstones, ordered by origin and
// key. fn returns storage.ErrStop to end early.
func (f *Federation) Records(kind string, fn func(Record) error) error {
	if !KnownKind(kind) {
		return ErrBadKind
	}
	return f.db.View(func(tx *storage.Tx) error {
		err := scanKind(tx, kind, func(r Record, _ []byte) error {
			if r.Deleted {
				return nil
			}
			if _, _, left, revoked := f.members.cert(r.Origin); left || revoked {
				return nil
			}
			return fn(r)
		})
		if errors.Is(err, storage.ErrStop) {
			return nil
		}
		return err
	})
}

// Record returns the latest stored version of (origin, kind, key),
// tombstones included.
func (f *Federation) Record(origin peer.ID, kind, key string) (Record, bool, error) {
	var (
		r  Record
		ok bool
	)
	err := f.db.View(func(tx *storage.Tx) error {
		var err error
		r, _, ok, err = loadStored(tx, origin, kind, key)
		return err
	})
	return r, ok, err
}

// Envelope returns the signed envelope of the latest stored version of
// (origin, kind, key), as it travels by gossip and sync.
func (f *Federation) Envelope(origin peer.ID, kind, key string) ([]byte, bool, error) {
	var (
		env []byte
		ok  bool
	)
	err := f.db.View(func(tx *storage.Tx) error {
		var err error
		_, env, ok, err = loadStored(tx, origin, kind, key)
		return err
	})
	return env, ok, err
}
