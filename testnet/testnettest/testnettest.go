// Package testnettest wraps testnet for Go tests: it starts a network,
// stops it in t.Cleanup, and fails the test on a bounded wait. It is the
// only part of testnet that imports testing.
package testnettest

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/moinha/moinha/testnet"
)

// Start runs a network for the test and stops it when the test ends.
func Start(t testing.TB, o testnet.Options) *testnet.Net {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	before := goleak.IgnoreCurrent()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	net, err := testnet.Start(ctx, o)
	if err != nil {
		t.Fatalf("testnet: %v", err)
	}
	t.Cleanup(func() {
		if err := net.Stop(); err != nil {
			t.Errorf("testnet stop: %v", err)
		}
		// Every goroutine the network started must be gone once it stops
		// (goleak retries for a while, so slow exits are not flagged).
		if err := goleak.Find(append(knownLeftovers, before)...); err != nil {
			t.Errorf("goroutines left after the network stopped: %v", err)
		}
	})
	return net
}

// knownLeftovers are goroutines that libraries keep after their objects
// close, outside our control (go-libp2p#2514 and process-wide caches).
var knownLeftovers = []goleak.Option{
	goleak.IgnoreAnyFunction("github.com/ipfs/go-log/v2/writer.(*MirrorWriter).logRoutine"),
	goleak.IgnoreAnyFunction("go.opencensus.io/stats/view.(*worker).start"),
	goleak.IgnoreAnyFunction("github.com/libp2p/go-libp2p/p2p/transport/quicreuse.(*reuse).gc"),
	goleak.IgnoreAnyFunction("github.com/quic-go/quic-go.(*packetHandlerMap).runCloseQueue"),
	goleak.IgnoreAnyFunction("github.com/libp2p/go-flow-metrics.(*sweeper).run"),
}

// WaitConverged fails the test if the directories do not converge in time.
func WaitConverged(t testing.TB, net *testnet.Net, timeout time.Duration) {
	t.Helper()
	if err := net.WaitConverged(context.Background(), timeout); err != nil {
		t.Fatal(err)
	}
}

// Eventually fails the test unless cond holds within timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	if err := testnet.WaitFor(context.Background(), timeout, what, cond); err != nil {
		t.Fatal(err)
	}
}
