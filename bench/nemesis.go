package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/node"
	"github.com/moinha/moinha/testnet"
)

// NemesisOptions configure ReferralNemesis. Zero values are documented
// per field.
type NemesisOptions struct {
	// Provinces is how many province nodes run. Zero means 5.
	Provinces int
	// Kills is how many times the nemesis kills a node. Zero means 20.
	Kills int
	// Seed makes the nemesis and the workload reproducible. Zero means 1.
	Seed uint64
	// Logger receives progress. Zero means discard.
	Logger *slog.Logger
}

// NemesisReport is what the checker found over the recorded history.
type NemesisReport struct {
	Seed          uint64        `json:"seed"`
	Kills         int           `json:"kills"`
	Partitions    int           `json:"partitions"`
	Acked         int           `json:"acked_referrals"` // creations acknowledged to the workload
	Stored        int           `json:"stored_referrals"`
	Accepted      int           `json:"accepted"` // referrals accepted by some province (at their referrer)
	Completed     int           `json:"completed"`
	OutcomesAcked int           `json:"acked_outcomes"`
	Lost          int           `json:"lost"`       // acknowledged referrals or outcomes missing at the end
	Duplicated    int           `json:"duplicated"` // a referral accepted twice, by two provinces, or an outcome stored twice
	Stuck         int           `json:"stuck"`      // referrals not closed after the drain
	Problems      []string      `json:"problems,omitempty"`
	Elapsed       time.Duration `json:"elapsed_ns"`
	Chaos         time.Duration `json:"chaos_ns"` // the workload under the nemesis
	Drain         time.Duration `json:"drain_ns"` // from the last restart until everything ended
}

func (r *NemesisReport) problem(counter *int, format string, args ...any) {
	*counter++
	if len(r.Problems) < 20 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// guardedNet lets the workload use nodes while the nemesis kills and
// restarts them: mu[i] guards net.Nodes[i].Node.
type guardedNet struct {
	net *testnet.Net
	mu  []sync.RWMutex
}

// node returns node i, or nil while it is down.
func (g *guardedNet) node(i int) *node.Node {
	g.mu[i].RLock()
	defer g.mu[i].RUnlock()
	return g.net.Nodes[i].Node
}

func (g *guardedNet) lockAll() {
	for i := range g.mu {
		g.mu[i].Lock()
	}
}

func (g *guardedNet) unlockAll() {
	for i := range g.mu {
		g.mu[i].Unlock()
	}
}

// history is what the workload was told: acknowledged operations only.
type history struct {
	mu       sync.Mutex        // guards the maps
	created  map[string]int    // referral ID → referring node index
	outcomes map[string]string // outcome ID → referral ID
}

// ReferralNemesis runs a workload of referrals (create, accept, decline,
// report, cancel) on a local network while a seeded nemesis kills and
// restarts random nodes (and cuts the network in two now and then); then
// it restarts everything, lets the network drain, and checks the recorded
// history: nothing acknowledged is lost, nothing is accepted or recorded
// twice, and everything ends.
func ReferralNemesis(ctx context.Context, o NemesisOptions) (NemesisReport, error) {
	if o.Provinces <= 1 {
		o.Provinces = 5
	}
	if o.Kills <= 0 {
		o.Kills = 20
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	rep := NemesisReport{Seed: o.Seed}
	start := time.Now()
	ro := referral.Options{EmergencyDeadline: 2 * time.Second, UrgentDeadline: 3 * time.Second,
		RoutineDeadline: 5 * time.Second, TimerPoll: 50 * time.Millisecond}
	net, err := testnet.Start(ctx, testnet.Options{Provinces: o.Provinces, Referrals: ro, Logger: o.Logger})
	if err != nil {
		return rep, err
	}
	defer net.Stop()
	if err := net.WaitConnected(ctx, 2*time.Minute, o.Provinces-1); err != nil {
		return rep, err
	}
	if err := publishAvailability(ctx, net, "cardiology"); err != nil {
		return rep, err
	}
	g := &guardedNet{net: net, mu: make([]sync.RWMutex, o.Provinces)}
	h := &history{created: map[string]int{}, outcomes: map[string]string{}}

	wctx, stopWork := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { createLoop(wctx, g, h, rand.New(rand.NewPCG(o.Seed, 1))) })
	wg.Go(func() { workLoop(wctx, g, h, rand.New(rand.NewPCG(o.Seed, 2)), 15*time.Millisecond) })
	wg.Go(func() { cancelLoop(wctx, g, rand.New(rand.NewPCG(o.Seed, 3))) })
	chaos := time.Now()
	err = nemesis(ctx, g, o, &rep, rand.New(rand.NewPCG(o.Seed, 4)))
	rep.Chaos = time.Since(chaos)
	stopWork()
	wg.Wait()
	if err != nil {
		return rep, err
	}

	// Everything back up and connected; the doctors keep working until
	// every referral has ended and every outbox is empty.
	g.lockAll()
	for i := range net.Nodes {
		if net.Nodes[i].Node == nil {
			if err := net.Restart(ctx, i); err != nil {
				g.unlockAll()
				return rep, err
			}
		}
	}
	all := make([]int, o.Provinces)
	for i := range all {
		all[i] = i
	}
	net.Heal(all, all)
	g.unlockAll()
	o.Logger.Info("nemesis: draining", "acked", len(h.created))
	drain := time.Now()
	dctx, stopDrain := context.WithCancel(ctx)
	var dwg sync.WaitGroup
	dwg.Go(func() { workLoop(dctx, g, h, rand.New(rand.NewPCG(o.Seed, 5)), 5*time.Millisecond) })
	err = testnet.WaitFor(ctx, 3*time.Minute, "referrals end and outboxes drain", func() (bool, error) {
		return drained(net)
	})
	rep.Drain = time.Since(drain)
	stopDrain()
	dwg.Wait()
	if err != nil {
		return rep, err
	}
	check(net, h, &rep)
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// publishAvailability has every province accept specialty, through the
// API, and waits until every node sees all of them.
func publishAvailability(ctx context.Context, net *testnet.Net, specialty string) error {
	for i, nd := range net.Nodes {
		var tok struct{ Token string }
		if err := post(ctx, nd.URL()+"/api/v1/login", "", map[string]string{"username": "admin", "password": nd.Users["admin"]}, http.StatusOK, &tok); err != nil {
			return err
		}
		body := map[string]any{"accepting": true, "capacity": 1000, "wait_days": i % 3}
		if err := do(ctx, "PUT", nd.URL()+"/api/v1/availability/"+specialty, tok.Token, body, http.StatusOK, nil); err != nil {
			return err
		}
	}
	return testnet.WaitFor(ctx, time.Minute, "availability everywhere", func() (bool, error) {
		for _, nd := range net.Nodes {
			var tok struct{ Token string }
			if err := post(ctx, nd.URL()+"/api/v1/login", "", map[string]string{"username": "staff", "password": nd.Users["staff"]}, http.StatusOK, &tok); err != nil {
				return false, err
			}
			var l struct{ Items []json.RawMessage }
			if err := get(ctx, nd.URL()+"/api/v1/network/availability?specialty="+specialty, tok.Token, &l); err != nil {
				return false, err
			}
			if len(l.Items) < len(net.Nodes) {
				return false, nil
			}
		}
		return true, nil
	})
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

var urgencies = []string{referral.UrgencyEmergency, referral.UrgencyUrgent, referral.UrgencyRoutine}

func createLoop(ctx context.Context, g *guardedNet, h *history, rng *rand.Rand) {
	n := len(g.mu)
	for sleepCtx(ctx, time.Duration(15+rng.IntN(30))*time.Millisecond) {
		i := rng.IntN(n)
		nd := g.node(i)
		target := ""
		if rng.IntN(2) == 0 {
			j := rng.IntN(n - 1)
			if j >= i {
				j++
			}
			target = g.net.Nodes[j].Province
		}
		urgency := urgencies[rng.IntN(len(urgencies))]
		if nd == nil {
			continue
		}
		v, err := nd.Referrals().Create(ctx, referral.Actor{User: "staff"}, benchReferral(target, urgency))
		if err != nil {
			continue // not acknowledged: the workload makes no claim about it
		}
		h.mu.Lock()
		h.created[v.ID] = i
		h.mu.Unlock()
	}
}

// workLoop is the doctors: they accept (or now and then decline) the
// offers in their inbox and report on what they accepted.
func workLoop(ctx context.Context, g *guardedNet, h *history, rng *rand.Rand, every time.Duration) {
	n := len(g.mu)
	doc := referral.Actor{User: "doctor"}
	for sleepCtx(ctx, every) {
		nd := g.node(rng.IntN(n))
		if nd == nil {
			continue
		}
		svc := nd.Referrals()
		items, _, err := svc.List(referral.Filter{Box: referral.BoxInbox}, 500, "")
		if err != nil {
			continue
		}
		rng.Shuffle(len(items), func(a, b int) { items[a], items[b] = items[b], items[a] })
		for _, v := range items[:min(len(items), 8)] {
			switch {
			case v.Status == referral.StatusReceived && v.SubStatus == referral.SubOffered,
				v.Status == referral.StatusRequested && localOffer(v, nd.Config().Province):
				if rng.IntN(10) == 0 {
					_, _ = svc.Decline(ctx, doc, v.ID, "bận")
				} else {
					_, _ = svc.Accept(ctx, doc, v.ID, "")
				}
			case v.Status == referral.StatusAccepted && acceptedHere(v, nd.Config().Province):
				out, err := svc.Outcome(ctx, doc, v.ID, referral.OutcomeRequest{Kind: referral.OutcomeFinal, Note: "xong"})
				if err == nil && len(out.Outcomes) > 0 {
					h.mu.Lock()
					h.outcomes[out.Outcomes[len(out.Outcomes)-1].ID] = v.ID
					h.mu.Unlock()
				}
			}
		}
	}
}

// localOffer: an owner's record whose own province has the offer.
func localOffer(v referral.View, self string) bool {
	for _, c := range v.Candidates {
		if c.Local && c.Province == self && c.State == referral.CandOffered {
			return true
		}
	}
	return false
}

func acceptedHere(v referral.View, self string) bool {
	return v.TargetProvince == self
}

func cancelLoop(ctx context.Context, g *guardedNet, rng *rand.Rand) {
	n := len(g.mu)
	for sleepCtx(ctx, time.Duration(200+rng.IntN(300))*time.Millisecond) {
		nd := g.node(rng.IntN(n))
		if nd == nil {
			continue
		}
		items, _, err := nd.Referrals().List(referral.Filter{Box: referral.BoxOutbox}, 100, "")
		if err != nil || len(items) == 0 {
			continue
		}
		v := items[rng.IntN(len(items))]
		_, _ = nd.Referrals().Cancel(ctx, "staff", v.ID, "gia đình đổi ý")
	}
}

// nemesis kills a random node (at most two down at once) every few
// hundred milliseconds and restarts it a little later; every fifth action
// also splits the network in two for a moment.
func nemesis(ctx context.Context, g *guardedNet, o NemesisOptions, rep *NemesisReport, rng *rand.Rand) error {
	down := map[int]time.Time{} // node → when to restart it
	restartDue := func(force bool) error {
		for i, at := range down {
			if force || time.Now().After(at) {
				g.mu[i].Lock()
				err := g.net.Restart(ctx, i)
				g.mu[i].Unlock()
				if err != nil {
					return fmt.Errorf("restart %d: %w", i, err)
				}
				delete(down, i)
			}
		}
		return nil
	}
	for rep.Kills < o.Kills {
		if !sleepCtx(ctx, time.Duration(150+rng.IntN(250))*time.Millisecond) {
			return ctx.Err()
		}
		if err := restartDue(false); err != nil {
			return err
		}
		if len(down) >= 2 {
			continue
		}
		i := rng.IntN(len(g.mu))
		if _, ok := down[i]; ok {
			continue
		}
		g.mu[i].Lock()
		err := g.net.Kill(i)
		g.mu[i].Unlock()
		if err != nil && !errors.Is(err, context.Canceled) {
			o.Logger.Debug("nemesis: kill", "node", i, "err", err) // a killed node's close errors are expected
		}
		down[i] = time.Now().Add(time.Duration(200+rng.IntN(600)) * time.Millisecond)
		rep.Kills++
		o.Logger.Info("nemesis: killed", "node", i, "kills", rep.Kills)
		if rep.Kills%5 == 0 {
			left, right := split(len(g.mu), rng)
			g.lockAll()
			g.net.Partition(left, right)
			g.unlockAll()
			sleepCtx(ctx, time.Duration(300+rng.IntN(500))*time.Millisecond)
			g.lockAll()
			g.net.Heal(left, right)
			g.unlockAll()
			rep.Partitions++
		}
	}
	return restartDue(true)
}

func split(n int, rng *rand.Rand) (a, b []int) {
	perm := rng.Perm(n)
	k := 1 + rng.IntN(n-1)
	return perm[:k], perm[k:]
}

// drained reports whether every node's outbox is empty and every referral
// has ended.
func drained(net *testnet.Net) (bool, error) {
	for _, nd := range net.Nodes {
		if d, _, err := nd.Federation().OutboxStats(); err != nil || d > 0 {
			return false, err
		}
		for _, box := range []string{referral.BoxOutbox, referral.BoxInbox} {
			items, err := listAll(nd, box)
			if err != nil {
				return false, err
			}
			for _, v := range items {
				if !ended(v.Status) {
					return false, nil
				}
			}
		}
	}
	return true, nil
}

func ended(s referral.Status) bool {
	switch s {
	case referral.StatusCompleted, referral.StatusCancelled, referral.StatusRejected, referral.StatusFailed:
		return true
	}
	return false
}

func listAll(nd *testnet.Node, box string) ([]referral.View, error) {
	var out []referral.View
	cursor := ""
	for {
		items, next, err := nd.Referrals().List(referral.Filter{Box: box}, 500, cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if cursor = next; cursor == "" {
			return out, nil
		}
	}
}

// check compares the end state with the history.
func check(net *testnet.Net, h *history, rep *NemesisReport) {
	owners := map[string]referral.View{}
	holders := map[string][]string{} // referral → provinces that hold it as accepted
	for _, nd := range net.Nodes {
		out, err := listAll(nd, referral.BoxOutbox)
		if err != nil {
			rep.problem(&rep.Lost, "%s: list outbox: %v", nd.Province, err)
			continue
		}
		for _, v := range out {
			if _, dup := owners[v.ID]; dup {
				rep.problem(&rep.Duplicated, "%s listed twice", v.ID)
			}
			owners[v.ID] = v
			for _, c := range v.Candidates {
				if c.Local && c.State == referral.CandAccepted {
					holders[v.ID] = append(holders[v.ID], nd.Province)
				}
			}
		}
		in, err := listAll(nd, referral.BoxInbox)
		if err != nil {
			rep.problem(&rep.Lost, "%s: list inbox: %v", nd.Province, err)
			continue
		}
		for _, v := range in {
			if v.OriginProvince != nd.Province && v.AcceptedAt != nil {
				holders[v.ID] = append(holders[v.ID], nd.Province)
			}
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	rep.Acked, rep.Stored, rep.OutcomesAcked = len(h.created), len(owners), len(h.outcomes)
	for id, i := range h.created {
		v, ok := owners[id]
		if !ok {
			rep.problem(&rep.Lost, "acknowledged referral %s missing at its referrer %s", id, net.Nodes[i].Province)
			continue
		}
		if v.OriginProvince != net.Nodes[i].Province {
			rep.problem(&rep.Lost, "referral %s held by %s, created at %s", id, v.OriginProvince, net.Nodes[i].Province)
		}
	}
	for id, v := range owners {
		if !ended(v.Status) {
			rep.problem(&rep.Stuck, "%s still %s/%s", id, v.Status, v.SubStatus)
		}
		accepts := 0
		for _, e := range v.History {
			if e.Status == referral.StatusAccepted {
				accepts++
			}
		}
		if accepts > 1 {
			rep.problem(&rep.Duplicated, "%s accepted %d times at its referrer", id, accepts)
		}
		if accepts > 0 {
			rep.Accepted++
		}
		if v.Status == referral.StatusCompleted {
			rep.Completed++
		}
		seen := map[string]bool{}
		for _, oc := range v.Outcomes {
			if seen[oc.ID] {
				rep.problem(&rep.Duplicated, "%s: outcome %s stored twice", id, oc.ID)
			}
			seen[oc.ID] = true
		}
		hs := holders[id]
		if len(hs) > 1 {
			rep.problem(&rep.Duplicated, "%s held as accepted by %v", id, hs)
		}
		if v.Status == referral.StatusCompleted && (len(hs) != 1 || hs[0] != v.TargetProvince) {
			rep.problem(&rep.Duplicated, "%s completed by %s but held by %v", id, v.TargetProvince, hs)
		}
	}
	for oid, id := range h.outcomes {
		v, ok := owners[id]
		if !ok {
			continue // counted above if it was acknowledged
		}
		found := slices.ContainsFunc(v.Outcomes, func(o referral.Outcome) bool { return o.ID == oid })
		if !found && v.Status != referral.StatusCancelled {
			rep.problem(&rep.Lost, "acknowledged outcome %s of %s missing at the referrer (%s)", oid, id, v.Status)
		}
	}
}

func runReferralNemesis(ctx context.Context, o Options) (*Result, error) {
	var lost, dup, acked, kills, secs []float64
	var notes []string
	for run := range o.Runs {
		rep, err := ReferralNemesis(ctx, NemesisOptions{Seed: uint64(run + 1), Logger: o.Logger})
		if err != nil {
			return nil, err
		}
		lost = append(lost, float64(rep.Lost+rep.Stuck))
		dup = append(dup, float64(rep.Duplicated))
		acked = append(acked, float64(rep.Acked))
		kills = append(kills, float64(rep.Kills))
		secs = append(secs, rep.Elapsed.Seconds())
		notes = append(notes, fmt.Sprintf("seed %d: %d kills, %d partitions, %d referrals acknowledged, %d accepted, %d completed, %d outcomes acknowledged",
			rep.Seed, rep.Kills, rep.Partitions, rep.Acked, rep.Accepted, rep.Completed, rep.OutcomesAcked))
		notes = append(notes, rep.Problems...)
	}
	return &Result{
		Scenario: "referral-nemesis",
		Setup:    "5 provinces; a workload creates, accepts, declines, reports on and cancels referrals while a seeded nemesis kills and restarts random nodes (≥ 20 kills, partitions now and then); then a checker over the acknowledged history",
		Notes:    notes,
		Figures: []Figure{
			withGoal(figure("lost", "referrals+outcomes", lost), false, 0),
			withGoal(figure("duplicated", "referrals+outcomes", dup), false, 0),
			figure("acknowledged", "referrals", acked),
			figure("kills", "kills", kills),
			figure("elapsed", "s", secs),
		},
	}, nil
}
