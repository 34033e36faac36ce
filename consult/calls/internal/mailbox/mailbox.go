// Package mailbox is an unbounded, never-blocking queue of work for the one
// goroutine that owns an object's state (a call room, an SFU room).
package mailbox

import "sync"

// Mailbox is an unbounded queue of work for one goroutine. Posting never
// blocks, so pion callbacks and other goroutines can hand work to a Room's
// loop without risking a deadlock against it.
type Mailbox struct {
	Wake chan struct{} // receives when work is queued (one pending wake-up at most)

	// mu guards q and closed.
	mu     sync.Mutex
	q      []func()
	closed bool
}

// New returns an empty Mailbox.
func New() *Mailbox { return &Mailbox{Wake: make(chan struct{}, 1)} }

// Post queues fn; it reports false once the Mailbox is closed.
func (m *Mailbox) Post(fn func()) bool {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return false
	}
	m.q = append(m.q, fn)
	m.mu.Unlock()
	select {
	case m.Wake <- struct{}{}:
	default:
	}
	return true
}

// Drain takes everything queued.
func (m *Mailbox) Drain() []func() {
	m.mu.Lock()
	q := m.q
	m.q = nil
	m.mu.Unlock()
	return q
}

// Close refuses further posts.
func (m *Mailbox) Close() {
	m.mu.Lock()
	m.closed = true
	m.q = nil
	m.mu.Unlock()
}

// Len is the number of queued items.
func (m *Mailbox) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.q)
}
