package calltest

import (
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// Resources are a process's goroutine and open file counts.
type Resources struct {
	Goroutines int
	FDs        int
}

// Snapshot counts the process's goroutines and open file descriptors
// (sockets included).
func Snapshot() Resources {
	n := -1
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		n = len(ents)
	}
	return Resources{Goroutines: runtime.NumGoroutine(), FDs: n}
}

// CheckLeaks records the process's goroutines and file descriptors now and
// returns a function that fails t unless both come back down to (at most)
// those counts within ten seconds, printing the goroutines left over.
func CheckLeaks(t testing.TB) func() {
	t.Helper()
	before := Snapshot()
	return func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		var now Resources
		for {
			runtime.GC()
			now = Snapshot()
			if now.Goroutines <= before.Goroutines && (before.FDs < 0 || now.FDs <= before.FDs) {
				return
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond) // goroutines exit on their own schedule; nothing to wait on
		}
		var b strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		t.Errorf("leak: goroutines %d → %d, open files %d → %d\n%s", before.Goroutines, now.Goroutines, before.FDs, now.FDs, b.String())
	}
}
