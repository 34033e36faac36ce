package fedbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/moinha/moinha/federation"
	"github.com/moinha/moinha/storage"
)

// Payload is one record to stage: a data kind, its key and payload.
type Payload struct {
	Kind, Key string
	Data      []byte
}

// Origin is one province's share of a directory.
type Origin struct {
	Province string
	Records  []Payload
}

// DirectoryOptions tune BuildDirectory.
type DirectoryOptions struct {
	// Origins are the provinces and their records. Required.
	Origins []Origin
	// Sources is how many of the origins run, each holding the whole
	// directory (the others are members that are offline). Zero means 4.
	Sources int
	// Net tunes the network.
	Net Options
}

// Directory is a running network whose source nodes hold a directory
// staged and signed by every origin.
type Directory struct {
	Net     *Net
	Sources []*Node
	Records int // data records in the directory
}

// BuildDirectory signs every origin's records with its own key into one
// data file (each origin also announces itself, so its member record is
// there) and signs each origin's manifests, as its maintenance would
// after such an import; then it copies that file for each source and
// starts the sources, which then hold everything. Signing is serial (a record is sealed inside its
// transaction): 165,000 records take tens of seconds.
func BuildDirectory(ctx context.Context, o DirectoryOptions) (d *Directory, err error) {
	if len(o.Origins) == 0 {
		return nil, errors.New("fedbench: no origins")
	}
	if o.Sources <= 0 {
		o.Sources = 4
	}
	o.Sources = min(o.Sources, len(o.Origins))
	net, err := NewNet(ctx, o.Net)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			net.Close()
		}
	}()
	d = &Directory{Net: net}
	template := filepath.Join(net.opts.Dir, "directory.db")
	keys := make([]crypto.PrivKey, len(o.Origins))
	for j, og := range o.Origins {
		if keys[j], _, err = crypto.GenerateEd25519Key(nil); err != nil {
			return nil, err
		}
		nd, err := net.prepare(NodeOptions{Key: keys[j], Province: og.Province, DBPath: template}, -1)
		if err != nil {
			return nil, err
		}
		// Announce (the member record), then stage offline, so that
		// nothing but the member record is ever published.
		if err := nd.Start(ctx); err != nil {
			return nil, err
		}
		if err := nd.Stop(); err != nil {
			return nil, err
		}
		if err := stageOffline(ctx, nd, og.Records); err != nil {
			return nil, fmt.Errorf("fedbench: origin %s: %w", og.Province, err)
		}
		d.Records += len(og.Records)
	}
	for s := range o.Sources {
		path := filepath.Join(net.opts.Dir, fmt.Sprintf("source-%d.db", s))
		if err := copyFile(template, path); err != nil {
			return nil, err
		}
		dial := make([]int, s)
		for i := range dial {
			dial[i] = i
		}
		nd, err := net.Add(ctx, NodeOptions{Key: keys[s], Province: o.Origins[s].Province, DBPath: path, Dial: dial})
		if err != nil {
			return nil, err
		}
		d.Sources = append(d.Sources, nd)
	}
	if err := os.Remove(template); err != nil {
		return nil, err
	}
	if err := net.WaitTopology(ctx, 3*time.Minute); err != nil {
		return nil, err
	}
	return d, nil
}

// stageOffline stages records at nd without starting it, 512 per
// transaction, then signs its manifests.
func stageOffline(ctx context.Context, nd *Node, records []Payload) error {
	db, err := storage.Open(nd.DBPath, &storage.Options{NoSync: true})
	if err != nil {
		return err
	}
	cfg := nd.cfg
	cfg.DB = db
	f, err := federation.New(cfg)
	if err != nil {
		db.Close()
		return err
	}
	for len(records) > 0 && err == nil {
		part := records[:min(512, len(records))]
		records = records[len(part):]
		err = db.Update(ctx, func(tx *storage.Tx) error {
			for _, p := range part {
				if err := f.Stage(tx, p.Kind, p.Key, p.Data, false); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err == nil {
		// What the origin's maintenance would do within one sync
		// interval of such an import.
		_, err = f.WriteManifests(ctx)
	}
	return errors.Join(err, f.Close(), db.Close())
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Bootstrap is the first source's addresses, for a joiner's config.
func (d *Directory) Bootstrap() []string {
	var out []string
	for _, a := range d.Sources[0].F.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// Close stops the network.
func (d *Directory) Close() error { return d.Net.Close() }

// JoinOptions tune Join.
type JoinOptions struct {
	// Province is the joiner's province code (it must own none of the
	// directory's records). Zero means "J<n>".
	Province string
	// Apply is the joiner's federation.Config.Apply. Zero means none.
	Apply func(tx *storage.Tx, r federation.Record) error
	// NoSync turns the joiner's fsync off. Zero means on, as in
	// production.
	NoSync bool
	// Profile, when set, receives a CPU profile of the join (from Start
	// until every record is stored).
	Profile io.Writer
}

// JoinResult is one new node's initial sync.
type JoinResult struct {
	Records int           // data records stored
	Elapsed time.Duration // Start → every data record stored
	Stats   federation.Stats
}

// Join starts a new node that bootstraps from the first source and dials
// the members it learns, as a production node does, and times it until it
// has stored every record of the directory. The node is then stopped and
// its data file removed.
func (d *Directory) Join(ctx context.Context, o JoinOptions) (*JoinResult, error) {
	n := len(d.Net.Nodes)
	if o.Province == "" {
		o.Province = fmt.Sprintf("J%03d", n)
	}
	nd, err := d.Net.prepare(NodeOptions{Province: o.Province, Apply: o.Apply, Durable: !o.NoSync,
		Edit: func(cfg *federation.Config) {
			cfg.Bootstrap = d.Bootstrap()
			cfg.ConnectMembers = 0
		}}, n)
	if err != nil {
		return nil, err
	}
	defer os.Remove(nd.DBPath)
	var stored atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	d.Net.Watch(func(at *Node, r federation.Record) {
		if at != nd || r.Kind == federation.KindMember || r.Kind == federation.KindLeave || r.Kind == federation.KindRevocation ||
			r.Kind == federation.KindManifest {
			return
		}
		if stored.Add(1) == int64(d.Records) {
			once.Do(func() { close(done) })
		}
	})
	defer d.Net.Watch(nil)
	if o.Profile != nil {
		if err := pprof.StartCPUProfile(o.Profile); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	if err := nd.Start(ctx); err != nil {
		return nil, err
	}
	defer nd.Stop()
	if err := await(ctx, done, 10*time.Minute); err != nil {
		return nil, fmt.Errorf("fedbench: joiner stored %d of %d records: %w", stored.Load(), d.Records, err)
	}
	res := &JoinResult{Records: int(stored.Load()), Elapsed: time.Since(start), Stats: nd.F.Stats()}
	return res, nil
}

// VerifyFloor times n Ed25519 verifications of size-byte messages spread
// over every core (GOMAXPROCS goroutines): the floor of a sync of n
// records that checks each record's own signature, as one without
// manifests must (with manifests, one signature covers up to 1,024).
func VerifyFloor(n, size int) (time.Duration, error) {
	const keys, msgs = 34, 256
	type signed struct {
		pub      crypto.PubKey
		msg, sig []byte
	}
	set := make([]signed, msgs)
	privs := make([]crypto.PrivKey, keys)
	for i := range privs {
		var err error
		if privs[i], _, err = crypto.GenerateEd25519Key(nil); err != nil {
			return 0, err
		}
	}
	for i := range set {
		k := privs[i%keys]
		msg := make([]byte, size)
		copy(msg, fmt.Sprintf("message %d", i))
		sig, err := k.Sign(msg)
		if err != nil {
			return 0, err
		}
		set[i] = signed{k.GetPublic(), msg, sig}
	}
	workers := runtime.GOMAXPROCS(0)
	var next atomic.Int64
	var bad atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				s := set[i%msgs]
				// Unmarshal the key as an envelope's would be.
				raw, _ := crypto.MarshalPublicKey(s.pub)
				pub, err := crypto.UnmarshalPublicKey(raw)
				if err != nil {
					bad.Add(1)
					continue
				}
				if ok, err := pub.Verify(s.msg, s.sig); !ok || err != nil {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if bad.Load() > 0 {
		return 0, errors.New("fedbench: a signature failed to verify")
	}
	return elapsed, nil
}

// SyntheticDirectory makes a directory of the national size's shape for
// callers that have no real payloads: per province, facilities records of
// ~650 bytes and practitioners records of ~250 bytes (the average sizes of
// the sample directory's JSON), keyed "<province>-F…" and "<province>-p…".
func SyntheticDirectory(provinces, facilities, practitioners int) []Origin {
	filler := func(n, i int) []byte {
		b := make([]byte, 0, n)
		b = fmt.Appendf(b, `{"id":%d,"text":"`, i)
		for len(b) < n-2 {
			b = append(b, "abcdefghij"[len(b)%10])
		}
		return append(b, `"}`...)
	}
	out := make([]Origin, provinces)
	for p := range out {
		code := fmt.Sprintf("%02d", p+1)
		og := Origin{Province: code}
		for i := range facilities {
			og.Records = append(og.Records, Payload{federation.KindFacility, fmt.Sprintf("%s-F%04d", code, i), filler(650, i)})
		}
		for i := range practitioners {
			og.Records = append(og.Records, Payload{federation.KindPractitioner, fmt.Sprintf("%s-p%06d", code, i), filler(250, i)})
		}
		out[p] = og
	}
	return out
}
