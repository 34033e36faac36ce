// Package testnettest wraps testnet for Go tests: it starts a network,
// stops it in t.Cleanup, and fails the test on a bounded wait. It is the
// only part of testnet that imports testing.
package testnettest

import (
	"context"
	"testing"
	"time"

	"github.com/moinha/moinha/testnet"
)

// Start runs a network for the test and stops it when the test ends.
func Start(t testing.TB, o testnet.Options) *testnet.Net {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
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
	})
	return net
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
