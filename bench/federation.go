package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/sample"
	"github.com/moinha/moinha/federation/fedbench"
)

// The federation scenarios drive networks of federation nodes
// (federation/fedbench) on 127.0.0.1; each measures against a baseline
// taken in the same run: bare gossipsub on the same topology, or the
// Ed25519 verification floor.

// federationScenarios are what `moinha bench federation` runs.
var federationScenarios = []string{"propagation", "throughput", "sync", "heal"}

// propagationSizes are the network sizes of the propagation scenario.
var propagationSizes = []int{8, 32, 64}

func runPropagation(ctx context.Context, o Options) (*Result, error) {
	const samples = 100
	type runs struct{ p50, p99, b50, b99, ratio50, ratio99, dropped, late []float64 }
	by := make(map[int]*runs)
	size := 0
	for run := range o.Runs {
		for _, n := range propagationSizes {
			prof, err := o.profile(fmt.Sprintf("propagation-n%d-run%d", n, run+1))
			if err != nil {
				return nil, err
			}
			po := fedbench.PropagationOptions{N: n, Samples: samples, Net: fedbench.Options{Logger: o.Logger}}
			if prof != nil {
				po.Profile = prof
			}
			res, err := fedbench.Propagation(ctx, po)
			if cerr := prof.Close(); err == nil && cerr != nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("N=%d: %w", n, err)
			}
			size = res.Size
			r := by[n]
			if r == nil {
				r = &runs{}
				by[n] = r
			}
			p50, p99 := fedbench.Percentile(res.Fed, 50), fedbench.Percentile(res.Fed, 99)
			b50, b99 := fedbench.Percentile(res.Bare, 50), fedbench.Percentile(res.Bare, 99)
			r.p50, r.p99 = append(r.p50, fedbench.Ms(p50)), append(r.p99, fedbench.Ms(p99))
			r.b50, r.b99 = append(r.b50, fedbench.Ms(b50)), append(r.b99, fedbench.Ms(b99))
			r.ratio50 = append(r.ratio50, float64(p50)/float64(b50))
			r.ratio99 = append(r.ratio99, float64(p99)/float64(b99))
			r.dropped = append(r.dropped, float64(res.Dropped))
			r.late = append(r.late, float64(res.Late))
			o.Logger.Info("bench: propagation", "run", run, "n", n, "p50_ms", fedbench.Ms(p50), "p99_ms", fedbench.Ms(p99),
				"bare_p50_ms", fedbench.Ms(b50), "bare_p99_ms", fedbench.Ms(b99))
		}
	}
	res := &Result{
		Scenario: "propagation",
		Setup: fmt.Sprintf("one record (1 KiB payload, staged in its own transaction) from Stage until committed at every other node "+
			"(readable there), against a bare gossipsub message of the envelope's size (%d B) from Publish until delivered to every other "+
			"host's subscription: same gossipsub parameters, flood publish, content IDs, queues and topology, without the federation's "+
			"validator (signature, rules, stale check), peer scoring (admission) and storage; alternating, %d samples each; "+
			"N nodes in one process, each dialling up to 4 earlier ones, NoSync data files, 100 ms heartbeat; meshes and membership complete before timing; "+
			"sync every 10 s (a record gossip lost would show as a late sample); GOMAXPROCS %d; median of %d runs",
			size, samples, runtime.GOMAXPROCS(0), o.Runs),
	}
	for _, n := range propagationSizes {
		r := by[n]
		p := fmt.Sprintf("n%d.", n)
		res.Figures = append(res.Figures,
			figure(p+"p50", "ms", r.p50), figure(p+"p99", "ms", r.p99),
			figure(p+"bare.p50", "ms", r.b50), figure(p+"bare.p99", "ms", r.b99),
			figure(p+"ratio.p50", "×", r.ratio50),
			withGoal(figure(p+"ratio.p99", "×", r.ratio99), false, 1.2),
			withGoal(figure(p+"dropped", "messages", r.dropped), false, 0),
			withGoal(figure(p+"late", "samples over 1 s", r.late), false, 0))
	}
	return res, nil
}

func runThroughput(ctx context.Context, o Options) (*Result, error) {
	var fed, bare, ratio, p99, bareP99, dropped []float64
	var notes []string
	for run := range o.Runs {
		res, err := fedbench.Throughput(ctx, fedbench.ThroughputOptions{N: 32, Net: fedbench.Options{Logger: o.Logger}})
		if err != nil {
			return nil, err
		}
		fed, bare = append(fed, res.FedRate), append(bare, res.BareRate)
		if res.BareRate > 0 {
			ratio = append(ratio, res.FedRate/res.BareRate)
		}
		p99, bareP99 = append(p99, fedbench.Ms(res.FedBest.P99)), append(bareP99, fedbench.Ms(res.BareBest.P99))
		dropped = append(dropped, float64(res.FedBest.Dropped))
		for _, ph := range res.Fed {
			if !ph.OK {
				notes = append(notes, fmt.Sprintf("run %d: federation at %.0f/s: %d of %d deliveries lost, %d drops, p99 %.0f ms",
					run+1, ph.Rate, ph.Lost, ph.Sent*31, ph.Dropped, fedbench.Ms(ph.P99)))
			}
		}
		o.Logger.Info("bench: throughput", "run", run, "fed_per_s", res.FedRate, "bare_per_s", res.BareRate)
	}
	return &Result{
		Scenario: "throughput",
		Setup: fmt.Sprintf("32 nodes (each dialling up to 4 earlier ones), records of 1 KiB staged round robin at every node at a fixed rate for 5 s; "+
			"a rate counts when every record is stored at every node (counted at each node), pubsub's tracer counts no drop and p99 "+
			"staged→everywhere ≤ 1 s; rates double from 25/s until one fails, then 2 bisections; the same search for bare gossipsub "+
			"on the same topology in the same run; sync off; GOMAXPROCS %d; median of %d runs", runtime.GOMAXPROCS(0), o.Runs),
		Notes: notes,
		Figures: []Figure{
			figure("records_per_s", "records/s", fed),
			figure("bare.msgs_per_s", "msgs/s", bare),
			figure("ratio", "×", ratio),
			figure("p99_at_rate", "ms", p99),
			figure("bare.p99_at_rate", "ms", bareP99),
			withGoal(figure("dropped_at_rate", "messages", dropped), false, 0),
		},
	}, nil
}

func runHeal(ctx context.Context, o Options) (*Result, error) {
	var conv, first, staged []float64
	for run := range o.Runs {
		res, err := fedbench.Heal(ctx, fedbench.HealOptions{N: 32, Net: fedbench.Options{Logger: o.Logger}})
		if err != nil {
			return nil, err
		}
		conv, first = append(conv, res.Converged.Seconds()), append(first, res.FirstCross.Seconds())
		staged = append(staged, float64(res.Staged))
		o.Logger.Info("bench: heal", "run", run, "converged", res.Converged, "first_cross", res.FirstCross)
	}
	return &Result{
		Scenario: "heal",
		Setup: fmt.Sprintf("32 nodes (each dialling up to 4 earlier ones) cut into two halves for 30 s (both gaters refuse, connections close) "+
			"while every node stages 1 KiB records in turn, 10/s in all; then healed: time until every node stores every record, brought "+
			"by the nodes' own redial and sync only (production SyncInterval, 45 s); GOMAXPROCS %d; median of %d runs", runtime.GOMAXPROCS(0), o.Runs),
		Figures: []Figure{
			withGoal(figure("converged", "s", conv), false, 5),
			figure("first_record_crossed", "s", first),
			figure("records_staged", "records", staged),
		},
	}, nil
}

// nationalDirectory is the sample data of the 34 provinces cut to the
// national size: 441 facilities and 4,412 health workers each (14,994 and
// 150,008), as the JSON records the directory stages.
func nationalDirectory() ([]fedbench.Origin, int, int, error) {
	var out []fedbench.Origin
	facilities, workers := 0, 0
	for _, p := range sample.Provinces() {
		d := sample.Province(p.Code, 1, sample.Full)
		og := fedbench.Origin{Province: p.Code}
		kept := make(map[string]bool)
		for _, f := range d.Facilities[:min(441, len(d.Facilities))] {
			raw, err := json.Marshal(&f)
			if err != nil {
				return nil, 0, 0, err
			}
			kept[f.ID] = true
			og.Records = append(og.Records, fedbench.Payload{Kind: directory.KindFacility, Key: f.ID, Data: raw})
			facilities++
		}
		n := 0
		for _, w := range d.Practitioners {
			if !kept[w.Facility] || n == 4412 {
				continue
			}
			raw, err := json.Marshal(&w)
			if err != nil {
				return nil, 0, 0, err
			}
			og.Records = append(og.Records, fedbench.Payload{Kind: directory.KindPractitioner, Key: w.ID, Data: raw})
			n++
			workers++
		}
		out = append(out, og)
	}
	return out, facilities, workers, nil
}

// joinerProvince is the province code of the node that joins in the sync
// scenario: it must own none of the directory.
const joinerProvince = "99"

func runSync(ctx context.Context, o Options) (*Result, error) {
	origins, facilities, workers, err := nationalDirectory()
	if err != nil {
		return nil, err
	}
	o.Logger.Info("bench: sync: signing the directory", "facilities", facilities, "health_workers", workers)
	built := time.Now()
	d, err := fedbench.BuildDirectory(ctx, fedbench.DirectoryOptions{Origins: origins, Net: fedbench.Options{Logger: o.Logger}})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	o.Logger.Info("bench: sync: directory built", "records", d.Records, "took", time.Since(built))
	tmp, err := os.MkdirTemp("", "moinha-bench-sync-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	charterPath := filepath.Join(tmp, "charter.json")
	if err := writeCharter(charterPath, d); err != nil {
		return nil, err
	}
	exe := moinhaExe(o)
	var took, floor, ratio, rss, anon, file, hwm []float64
	var notes []string
	for run := range o.Runs {
		fl, err := fedbench.VerifyFloor(d.Records, 400)
		if err != nil {
			return nil, err
		}
		dir := filepath.Join(tmp, fmt.Sprintf("joiner-%d", run))
		elapsed, err := joinNode(ctx, d, dir, charterPath, facilities, workers, run, o)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", run+1, err)
		}
		took, floor = append(took, elapsed.Seconds()), append(floor, fl.Seconds())
		ratio = append(ratio, elapsed.Seconds()/fl.Seconds())
		o.Logger.Info("bench: sync", "run", run, "took", elapsed, "floor", fl)
		if exe != "" {
			m, err := idleChild(ctx, exe, dir)
			if err != nil {
				return nil, fmt.Errorf("run %d: idle node: %w", run+1, err)
			}
			rss, anon, file, hwm = append(rss, m.rss), append(anon, m.anon), append(file, m.file), append(hwm, m.hwm)
		}
		if run+1 < o.Runs {
			if err := os.RemoveAll(dir); err != nil {
				return nil, err
			}
		}
	}
	if exe == "" {
		notes = append(notes, "no moinha binary (run `moinha bench sync`): the idle node's memory was not measured")
	}
	res := &Result{
		Scenario: "sync",
		Setup: fmt.Sprintf("a new node (a full `node`, fsync on, directory applied) joins a network whose 4 running members hold a national "+
			"directory signed by 34 origins (%d facilities and %d health workers, sample JSON; 30 origins offline; each origin's manifests signed, "+
			"as its maintenance does after an import) and bootstraps from one: time from Start until every record is in its directory; "+
			"verify_floor: %d Ed25519 verifications on all cores, measured just before (a join checking each record's own signature; "+
			"with manifests one signature covers up to 1,024 records); "+
			"then the node runs idle in a child `moinha run` on the same data, joined to the same network: memory after it settled; "+
			"GOMAXPROCS %d; median of %d runs", facilities, workers, d.Records, runtime.GOMAXPROCS(0), o.Runs),
		Notes: notes,
		Figures: []Figure{
			withGoal(figure("sync", "s", took), false, 5),
			figure("verify_floor", "s", floor),
			figure("ratio_to_floor", "×", ratio),
		},
	}
	if len(rss) > 0 {
		res.Figures = append(res.Figures,
			withGoal(figure("idle.rss", "MiB", rss), false, 64),
			figure("idle.rss.anon", "MiB", anon),
			figure("idle.rss.file", "MiB", file),
			figure("idle.hwm", "MiB", hwm))
	}
	return res, nil
}

// profileFile is a CPU profile being written (nil: none asked for).
type profileFile struct{ f *os.File }

func (p *profileFile) Write(b []byte) (int, error) { return p.f.Write(b) }

// Close ends the file; it is a no-op on nil.
func (p *profileFile) Close() error {
	if p == nil {
		return nil
	}
	return p.f.Close()
}

// profile creates the file for one CPU profile, o.CPUProfile + "." + tag,
// when Options.CPUProfile asks for profiles; otherwise it returns nil.
func (o Options) profile(tag string) (*profileFile, error) {
	if o.CPUProfile == "" {
		return nil, nil
	}
	f, err := os.Create(o.CPUProfile + "." + tag)
	if err != nil {
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	o.Logger.Info("bench: writing a CPU profile", "path", f.Name())
	return &profileFile{f: f}, nil
}

// startProfile starts the process's CPU profile into p (nil: nothing);
// the returned function stops it.
func startProfile(p *profileFile) (stop func(), err error) {
	if p == nil {
		return func() {}, nil
	}
	if err := pprof.StartCPUProfile(p); err != nil {
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	return pprof.StopCPUProfile, nil
}
