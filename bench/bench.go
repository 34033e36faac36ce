// Package bench holds the scenarios of `moinha bench`: real nodes driven
// the way residents and operators drive them, measured, and printed as a
// table or JSON. It is linked into the moinha binary, so it imports
// neither testing nor testify; node/bench_test.go has the `go test -bench`
// equivalents.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Options select and tune the scenarios. Zero values are documented per
// field.
type Options struct {
	// Scenarios are the names to run, in order. Zero means all (see List).
	Scenarios []string
	// JSON prints the results as one JSON document instead of a table.
	JSON bool
	// Runs is how many times each scenario is repeated; figures are medians
	// over runs. Zero means 1.
	Runs int
	// Out receives the results. Zero means os.Stdout.
	Out io.Writer
	// Duration is how long each timed phase of a throughput scenario runs.
	// Zero means 3 s.
	Duration time.Duration
	// Clients is the number of concurrent clients (HTTP connections or
	// goroutines) of a throughput scenario. Zero means 64.
	Clients int
	// Exe is a moinha binary for the scenarios that measure a node in a
	// child process (rss; booking's http phase). Zero means this executable if it is a moinha
	// binary; otherwise the node is measured in-process, and the figures
	// say so.
	Exe string
	// Logger receives progress and the nodes' logs. Zero means discard.
	Logger *slog.Logger
	// CPUProfile, when set, is a file that receives a CPU profile of the
	// timed part of the scenarios that support it (sync: the joins;
	// propagation: the samples, goroutines labelled net=federation or
	// net=bare), each run appending its own profile as PATH.N.
	CPUProfile string
}

func (o *Options) withDefaults() {
	if o.Runs <= 0 {
		o.Runs = 1
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Duration <= 0 {
		o.Duration = 3 * time.Second
	}
	if o.Clients <= 0 {
		o.Clients = 64
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Result is what one scenario measured.
type Result struct {
	Scenario string   `json:"scenario"`
	Setup    string   `json:"setup"`           // what was measured, in one line
	Notes    []string `json:"notes,omitempty"` // caveats worth reading
	Figures  []Figure `json:"figures"`
}

// Figure is one measured quantity: its median over runs and every run's value.
type Figure struct {
	Name   string    `json:"name"`
	Unit   string    `json:"unit"`
	Median float64   `json:"median"`
	Runs   []float64 `json:"runs"`
	Goal   string    `json:"goal,omitempty"` // e.g. ">= 5000"; empty when none
	Met    *bool     `json:"met,omitempty"`  // whether the median meets Goal
}

type scenario struct {
	name  string
	about string
	run   func(ctx context.Context, o Options) (*Result, error)
}

func scenarios() []scenario {
	return []scenario{
		{"booking", "durable bookings/s and latency: HTTP on loopback, in-process, and bare bbolt Batch as the floor (full-size province, fsync on)", runBooking},
		{"rss", "resident memory of a node holding one province's full directory (~500 facilities, ~5,000 staff)", runRSS},
		{"referral", "referral round trip between two provinces (p50/p99 against the two-fsync floor) and 1,000 referrals in flight among 8 provinces", runReferral},
		{"referral-nemesis", "referrals while a seeded nemesis kills and restarts nodes (≥ 20 kills); a checker counts lost and duplicated", runReferralNemesis},
		{"propagation", "time for one record to reach all N nodes (N = 8, 32, 64), p50/p99, against bare gossipsub on the same topology", runPropagation},
		{"throughput", "highest record rate 32 nodes sustain with every record stored everywhere and no pubsub drop, against bare gossipsub", runThroughput},
		{"sync", "a new node's sync of a national directory (15,000 facilities, 150,000 health workers) against the Ed25519 floor; its idle memory after", runSync},
		{"heal", "convergence after a 30 s partition of 32 nodes heals", runHeal},
	}
}

// List writes the scenario names and what each measures.
func List(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range scenarios() {
		fmt.Fprintf(tw, "%s\t%s\n", s.name, s.about)
	}
	fmt.Fprintf(tw, "federation\tall of: %s\n", strings.Join(federationScenarios, ", "))
	return tw.Flush()
}

// Run runs the chosen scenarios and prints their results.
func Run(ctx context.Context, o Options) error {
	o.withDefaults()
	all := scenarios()
	var chosen []scenario
	if len(o.Scenarios) == 0 {
		chosen = all
	}
	var names []string
	for _, name := range o.Scenarios {
		if name == "federation" {
			names = append(names, federationScenarios...)
			continue
		}
		names = append(names, name)
	}
	for _, name := range names {
		i := slices.IndexFunc(all, func(s scenario) bool { return s.name == name })
		if i < 0 {
			names := make([]string, len(all))
			for j, s := range all {
				names[j] = s.name
			}
			return fmt.Errorf("bench: unknown scenario %q; known: %s", name, strings.Join(names, ", "))
		}
		chosen = append(chosen, all[i])
	}
	var results []*Result
	for _, s := range chosen {
		o.Logger.Info("bench: scenario", "name", s.name, "runs", o.Runs)
		r, err := s.run(ctx, o)
		if err != nil {
			return fmt.Errorf("bench %s: %w", s.name, err)
		}
		results = append(results, r)
		if !o.JSON {
			if err := writeTable(o.Out, r); err != nil {
				return err
			}
		}
	}
	if o.JSON {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"results": results})
	}
	return nil
}

func writeTable(w io.Writer, r *Result) error {
	fmt.Fprintf(w, "%s — %s\n", r.Scenario, r.Setup)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "figure\tmedian\tunit\tgoal\truns\t")
	for _, f := range r.Figures {
		runs := make([]string, len(f.Runs))
		for i, v := range f.Runs {
			runs[i] = format(v)
		}
		goal := f.Goal
		if f.Met != nil {
			if *f.Met {
				goal += " ok"
			} else {
				goal += " MISSED"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", f.Name, format(f.Median), f.Unit, goal, strings.Join(runs, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	fmt.Fprintln(w)
	return nil
}

func format(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// figure builds a Figure from per-run values.
func figure(name, unit string, runs []float64) Figure {
	return Figure{Name: name, Unit: unit, Median: median(runs), Runs: runs}
}

// withGoal marks whether the figure's median meets a goal: at least min
// when atLeast, else at most min.
func withGoal(f Figure, atLeast bool, limit float64) Figure {
	met := f.Median <= limit
	f.Goal = "<= " + format(limit)
	if atLeast {
		met = f.Median >= limit
		f.Goal = ">= " + format(limit)
	}
	f.Met = &met
	return f
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile returns the p-th percentile (0..100) of sorted durations, in ms.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return float64(sorted[i]) / float64(time.Millisecond)
}
