package bench

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/moinha/moinha/consult/sample"
	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/federation/fedbench"
	"github.com/moinha/moinha/node"
)

func writeCharter(path string, d *fedbench.Directory) error {
	return charter.WriteCharter(path, d.Net.Charter)
}

// joinNode initialises a node in dir admitted to d's network, starts it
// bootstrapping from d's first source, and returns how long it took until
// its directory held every facility and health worker. The node is closed
// again; its data stays in dir (with the bootstrap in config.json).
func joinNode(ctx context.Context, d *fedbench.Directory, dir, charterPath string, facilities, workers, run int, o Options) (time.Duration, error) {
	id, err := node.Init(ctx, node.InitOptions{DataDir: dir, Province: joinerProvince, Name: "Bench joiner", Charter: charterPath})
	if err != nil {
		return 0, err
	}
	cert, err := d.Net.Admit(id, joinerProvince, charter.RoleProvince)
	if err != nil {
		return 0, err
	}
	if err := charter.WriteCertificate(filepath.Join(dir, node.CertName), cert); err != nil {
		return 0, err
	}
	cfg, err := node.LoadConfig(dir)
	if err != nil {
		return 0, err
	}
	cfg.Bootstrap = d.Bootstrap()
	cfg.HTTPAddr = "127.0.0.1:0"
	if err := cfg.Save(); err != nil {
		return 0, err
	}
	cfg.Logger = o.Logger
	n, err := node.New(cfg)
	if err != nil {
		return 0, err
	}
	defer n.Close()
	prof, err := o.profile(fmt.Sprintf("sync-run%d", run+1))
	if err != nil {
		return 0, err
	}
	defer prof.Close()
	stop, err := startProfile(prof)
	if err != nil {
		return 0, err
	}
	defer stop()
	start := time.Now()
	if err := n.Start(ctx); err != nil {
		return 0, err
	}
	complete := func() bool {
		st := n.Federation().Stats()
		if st.SyncRecordsPulled+st.GossipReceived < uint64(facilities+workers) {
			return false
		}
		f, w := 0, 0
		for _, p := range sample.Provinces() {
			pf, pw, err := n.Directory().Counts(p.Code)
			if err != nil {
				return false
			}
			f, w = f+pf, w+pw
		}
		return f == facilities && w == workers
	}
	if err := fedbench.WaitFor(ctx, 10*time.Minute, "the joiner's directory", complete); err != nil {
		return 0, err
	}
	elapsed := time.Since(start)
	stop()
	return elapsed, n.Close()
}

// idleChild runs `exe run` on dir (a node holding the national directory,
// configured to bootstrap from the network), waits until it is connected
// and its memory has settled, and returns its memory then.
func idleChild(ctx context.Context, exe, dir string) (memStatus, error) {
	cmd := exec.CommandContext(ctx, exe, "run", "--data", dir, "--http", "127.0.0.1:0", "--log-level", "info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return memStatus{}, err
	}
	if err := cmd.Start(); err != nil {
		return memStatus{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	addr, err := startedAddr(stderr, 2*time.Minute)
	if err != nil {
		return memStatus{}, err
	}
	base := "http://" + addr
	err = fedbench.WaitFor(ctx, time.Minute, "the idle node to connect", func() bool {
		var h struct {
			Peers int `json:"peers"`
		}
		return get(ctx, base+"/healthz", "", &h) == nil && h.Peers >= 1
	})
	if err != nil {
		return memStatus{}, err
	}
	// Settled: three readings half a second apart within 1% of each other
	// (at most 30 s).
	pid := strconv.Itoa(cmd.Process.Pid)
	var last []memStatus
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := readMem(pid)
		if err != nil {
			return memStatus{}, err
		}
		last = append(last, m)
		if n := len(last); n >= 3 {
			a, b := last[n-3].rss, last[n-1].rss
			if math.Abs(a-b) <= 0.01*b || time.Now().After(deadline) {
				return m, nil
			}
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return memStatus{}, fmt.Errorf("idle node: %w", ctx.Err())
		}
	}
}
