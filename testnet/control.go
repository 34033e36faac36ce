package testnet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moinha/moinha/node"
)

// Stop closes node i cleanly (it stays in the list; Restart brings it back).
func (net *Net) StopNode(i int) error {
	nd := net.Nodes[i]
	if nd.Node == nil {
		return nil
	}
	err := nd.Close()
	nd.Node = nil
	return err
}

// Kill stops node i without any goodbye: no leave, no drain of the HTTP
// server (in-flight requests are cut). Its data file keeps exactly what was
// committed, as after a crash; the crash test of cmd/moinha does the real
// kill -9 of an OS process.
func (net *Net) Kill(i int) error {
	nd := net.Nodes[i]
	if nd.Node == nil {
		return nil
	}
	err := nd.Abort()
	nd.Node = nil
	return err
}

// Restart starts node i again on its data directory and addresses.
func (net *Net) Restart(ctx context.Context, i int) error {
	nd := net.Nodes[i]
	if nd.Node != nil {
		return fmt.Errorf("testnet: node %s is running", nd.Province)
	}
	n, err := node.New(nd.cfg)
	if err != nil {
		return err
	}
	if err := n.Start(ctx); err != nil {
		n.Close()
		return err
	}
	nd.Node = n
	return nil
}

// Running lists the nodes that are up.
func (net *Net) Running() []*Node {
	var out []*Node
	for _, nd := range net.Nodes {
		if nd.Node != nil {
			out = append(out, nd)
		}
	}
	return out
}

// Partition cuts every connection between the nodes of side a and those of
// side b and refuses new ones until Heal.
func (net *Net) Partition(a, b []int) { net.cut(a, b, true) }

// Heal undoes Partition for the same sides.
func (net *Net) Heal(a, b []int) { net.cut(a, b, false) }

func (net *Net) cut(a, b []int, blocked bool) {
	for _, i := range a {
		for _, j := range b {
			x, y := net.Nodes[i], net.Nodes[j]
			if x.Node == nil || y.Node == nil || x.Federation() == nil || y.Federation() == nil {
				continue
			}
			x.Federation().Block(y.Federation().PeerID(), blocked)
			y.Federation().Block(x.Federation().PeerID(), blocked)
		}
	}
}

// WaitFor polls cond every 20 ms until it holds, ctx ends, or timeout passes.
func WaitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := cond()
		if ok && err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("testnet: %s: %w (last error: %v)", what, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// Converged reports whether every running province node's directory holds
// exactly the facilities and practitioners that each running province node
// holds of itself.
func (net *Net) Converged() (bool, error) {
	type counts struct{ f, p int }
	own := map[string]counts{}
	for _, nd := range net.Running() {
		if nd.Role == "observer" {
			continue
		}
		f, p, err := nd.Directory().Counts(nd.Province)
		if err != nil {
			return false, err
		}
		own[nd.Province] = counts{f, p}
	}
	for _, nd := range net.Running() {
		for prov, want := range own {
			f, p, err := nd.Directory().Counts(prov)
			if err != nil {
				return false, err
			}
			if f != want.f || p != want.p {
				return false, nil
			}
		}
	}
	return true, nil
}

// WaitConverged waits until Converged holds.
func (net *Net) WaitConverged(ctx context.Context, timeout time.Duration) error {
	return WaitFor(ctx, timeout, "directories converge", net.Converged)
}

// WaitConnected waits until every running node is connected to at least
// want other members.
func (net *Net) WaitConnected(ctx context.Context, timeout time.Duration, want int) error {
	return WaitFor(ctx, timeout, "members connect", func() (bool, error) {
		for _, nd := range net.Running() {
			f := nd.Federation()
			if f == nil {
				return false, errors.New("node without federation")
			}
			if f.ConnectedPeers() < want {
				return false, nil
			}
		}
		return true, nil
	})
}

// AddProvince starts one more province node (the next in the demo order)
// that bootstraps from the first node only: a late joiner.
func (net *Net) AddProvince(ctx context.Context) (*Node, error) {
	i := len(net.Nodes)
	if i >= len(demoOrder) {
		return nil, fmt.Errorf("testnet: no province left to add")
	}
	nd, err := net.addNode(ctx, i, demoOrder[i], "province")
	if err != nil {
		return nil, err
	}
	net.Nodes = append(net.Nodes, nd)
	return nd, nil
}
