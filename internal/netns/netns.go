// Package netns runs a test binary inside a loopback-only network
// namespace, so that WebRTC and browser tests, which gather every
// interface's address, can only ever reach 127.0.0.1 and ::1. It is for
// tests only (it imports testing) and never linked into the binary.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(netns.Main(m)) }
//
// When the process can create a namespace (root, with unshare and ip), Main
// re-runs the same test binary under `unshare -n` with lo up and returns
// its exit code; otherwise it runs the tests in place and Isolated reports
// false, so a test that needs isolation can skip (outside CI) or fail (CI).
package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

const marker = "MOINHA_NETNS"

// Main runs m isolated if it can; see the package comment.
func Main(m *testing.M) int {
	switch os.Getenv(marker) {
	case "inside", "unavailable":
		return m.Run()
	}
	if err := available(); err != nil {
		os.Setenv(marker, "unavailable")
		fmt.Fprintf(os.Stderr, "netns: running without a network namespace: %v\n", err)
		return m.Run()
	}
	args := append([]string{"-n", "sh", "-c", `ip link set lo up && exec "$@"`, "sh", os.Args[0]}, os.Args[1:]...)
	cmd := exec.Command("unshare", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), marker+"=inside")
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "netns: %v\n", err)
		return 2
	}
	return 0
}

func available() error {
	if os.Geteuid() != 0 {
		return errors.New("not root")
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found", tool)
		}
	}
	return exec.Command("unshare", "-n", "true").Run()
}

// Isolated reports whether this process runs in its own loopback-only
// namespace.
func Isolated() bool { return os.Getenv(marker) == "inside" }

// Require skips t (or fails it under CI, where isolation must work) when
// the process is not isolated.
func Require(t testing.TB) {
	t.Helper()
	if Isolated() {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("netns: CI must run this test in a loopback-only network namespace (root, unshare, ip)")
	}
	t.Skip("netns: not in a loopback-only network namespace (needs root, unshare and ip); skipping")
}
