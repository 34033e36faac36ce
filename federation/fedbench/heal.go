package fedbench

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/moinha/moinha/federation"
)

// HealOptions tune Heal.
type HealOptions struct {
	// N is the number of nodes; the first half is cut off from the
	// second. Zero means 32.
	N int
	// Partition is how long the halves stay apart. Zero means 30 s.
	Partition time.Duration
	// Rate is the records per second staged during the partition, round
	// robin over every node of both halves. Zero means 10.
	Rate float64
	// Payload is the record size. Zero means 1 KiB.
	Payload int
	// Net tunes the network (N is taken from above). Its SyncInterval
	// stays federation's default (45 s) unless set.
	Net Options
}

// HealResult is one partition and its healing.
type HealResult struct {
	N           int
	Staged      int           // records staged during the partition
	Converged   time.Duration // heal → every node stores every record
	FirstCross  time.Duration // heal → the first record crossed
	CrossedLate int           // (record, node) pairs that crossed after the heal
}

// Heal starts N nodes, cuts every link between the two halves (both
// gaters refuse, connections close), stages records on both sides for the
// partition's length, heals, and times until every node has stored every
// record. Nothing but the nodes' own redial and sync brings the halves
// back together.
func Heal(ctx context.Context, o HealOptions) (*HealResult, error) {
	if o.N <= 0 {
		o.N = 32
	}
	if o.Partition <= 0 {
		o.Partition = 30 * time.Second
	}
	if o.Rate <= 0 {
		o.Rate = 10
	}
	if o.Payload <= 0 {
		o.Payload = 1024
	}
	o.Net.N = o.N
	net, err := NewNet(ctx, o.Net)
	if err != nil {
		return nil, err
	}
	defer net.Close()
	if err := net.WaitTopology(ctx, 3*time.Minute); err != nil {
		return nil, err
	}
	half := o.N / 2
	a, b := net.Nodes[:half], net.Nodes[half:]
	tr := newTracker(o.N - 1)
	healed := make(chan struct{})
	var firstCross time.Time
	crossed := 0
	side := func(n *Node) int { return min(n.Index/half, 1) }
	byID := make(map[peer.ID]*Node, len(net.Nodes))
	for _, n := range net.Nodes {
		byID[n.ID] = n
	}
	origin := make(map[string]int) // record key → side; written before its Stage
	net.Watch(func(n *Node, r federation.Record) {
		if r.Kind != federation.KindStats {
			return
		}
		tr.arrived(r.Key)
		select {
		case <-healed:
			tr.mu.Lock()
			if s, ok := origin[r.Key]; ok && s != side(n) {
				if crossed == 0 {
					firstCross = time.Now()
				}
				crossed++
			}
			tr.mu.Unlock()
		default:
		}
	})

	net.opts.Logger.Info("fedbench: partitioning")
	cut(a, b, true)
	err = WaitFor(ctx, time.Minute, "partition", func() bool {
		cut(a, b, true) // a dial in flight may have slipped through
		for _, n := range net.Nodes {
			for _, m := range n.F.Members() {
				if m.Online && m.Peer != n.ID && side(byID[m.Peer]) != side(n) {
					return false
				}
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}

	payload := make([]byte, o.Payload)
	_, _ = rand.Read(payload)
	res := &HealResult{N: o.N}
	var dones []<-chan struct{}
	start := time.Now()
	interval := time.Duration(float64(time.Second) / o.Rate)
	for k := 0; ; k++ {
		at := start.Add(time.Duration(k) * interval)
		if at.Sub(start) >= o.Partition {
			break
		}
		if d := time.Until(at); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		n := net.Nodes[k%o.N]
		key := fmt.Sprintf("heal-%d", k)
		tr.mu.Lock()
		origin[key] = side(n)
		tr.mu.Unlock()
		dones = append(dones, tr.expect(key))
		if err := n.Stage(ctx, federation.KindStats, key, payload); err != nil {
			return nil, err
		}
	}
	if d := time.Until(start.Add(o.Partition)); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	res.Staged = len(dones)

	log := net.opts.Logger
	log.Info("fedbench: healing", "staged", res.Staged)
	healAt := time.Now()
	close(healed)
	cut(a, b, false)
	timeout := time.After(5 * time.Minute)
	for _, d := range dones {
		select {
		case <-d:
		case <-timeout:
			return nil, fmt.Errorf("fedbench: not converged %v after the heal", 5*time.Minute)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	res.Converged = time.Since(healAt)
	log.Info("fedbench: converged", "after", res.Converged)
	tr.mu.Lock()
	res.CrossedLate = crossed
	if !firstCross.IsZero() {
		res.FirstCross = firstCross.Sub(healAt)
	}
	tr.mu.Unlock()
	return res, nil
}

// cut blocks (or unblocks) every link between a and b, both ways.
func cut(a, b []*Node, blocked bool) {
	for _, x := range a {
		for _, y := range b {
			x.F.Block(y.ID, blocked)
			y.F.Block(x.ID, blocked)
		}
	}
}
