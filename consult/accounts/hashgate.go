package accounts

import (
	"context"
	"sync"
)

// hashGate bounds the password hashes that run at once, by count and by
// the argon2 memory they hold. Logins are rare and each waits for a hash
// of tens of milliseconds, so a simple wake-everyone condition is enough.
type hashGate struct {
	mu     sync.Mutex    // guards the fields below
	slots  int           // hashes that may still start
	memory uint32        // KiB that hashes may still take
	max    uint32        // the memory budget
	wake   chan struct{} // closed (and replaced) by every release
}

func newHashGate(slots int, memory uint32) *hashGate {
	return &hashGate{slots: slots, memory: memory, max: memory, wake: make(chan struct{})}
}

// acquire waits until a hash that needs memory KiB may run, and returns
// what it holds (pass it to release). A hash that needs more than the
// whole budget holds the whole budget: it runs alone.
func (g *hashGate) acquire(ctx context.Context, memory uint32) (uint32, error) {
	need := min(memory, g.max)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	for {
		g.mu.Lock()
		if g.slots > 0 && g.memory >= need {
			g.slots--
			g.memory -= need
			g.mu.Unlock()
			return need, nil
		}
		wake := g.wake
		g.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

func (g *hashGate) release(held uint32) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.slots++
	g.memory += held
	close(g.wake)
	g.wake = make(chan struct{})
}
