package calltest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/moinha/moinha/consult/calls"
)

// Relays connects the calls Services of several provinces in one process,
// standing in for the federation's direct streams (/moinha/signal/1):
// messages from one province to another are delivered in order, by one
// goroutine per pair, to the receiver's HandleRelay with the sender's
// province.
type Relays struct {
	// mu guards the fields below.
	mu       sync.Mutex
	services map[string]*calls.Service
	queues   map[[2]string]chan []byte
	cut      map[[2]string]bool
	closed   bool
	wg       sync.WaitGroup

	// Rejected counts messages a receiver refused (ErrBadRelay).
	Rejected atomic.Int64
	// Delivered counts messages handed to a receiver.
	Delivered atomic.Int64
}

// NewRelays returns an empty set of relays.
func NewRelays() *Relays {
	return &Relays{services: map[string]*calls.Service{}, queues: map[[2]string]chan []byte{}, cut: map[[2]string]bool{}}
}

// For returns the Relay the Service of province uses.
func (r *Relays) For(province string) calls.Relay { return relayFrom{r, province} }

// Register makes s the receiver of messages sent to province.
func (r *Relays) Register(province string, s *calls.Service) {
	r.mu.Lock()
	r.services[province] = s
	r.mu.Unlock()
}

// Cut drops messages between a and b (both ways) until Heal.
func (r *Relays) Cut(a, b string) {
	r.mu.Lock()
	r.cut[[2]string{a, b}], r.cut[[2]string{b, a}] = true, true
	r.mu.Unlock()
}

// Heal undoes Cut.
func (r *Relays) Heal(a, b string) {
	r.mu.Lock()
	delete(r.cut, [2]string{a, b})
	delete(r.cut, [2]string{b, a})
	r.mu.Unlock()
}

// Close stops delivering and waits for the delivery goroutines.
func (r *Relays) Close() {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		for _, q := range r.queues {
			close(q)
		}
	}
	r.mu.Unlock()
	r.wg.Wait()
}

var errRelayClosed = errors.New("calltest: relays closed")

type relayFrom struct {
	r    *Relays
	from string
}

func (f relayFrom) Send(ctx context.Context, to string, msg []byte) error {
	r := f.r
	pair := [2]string{f.from, to}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return errRelayClosed
	}
	if r.cut[pair] {
		r.mu.Unlock()
		return nil // lost in the partition
	}
	q := r.queues[pair]
	if q == nil {
		q = make(chan []byte, 4096)
		r.queues[pair] = q
		r.wg.Add(1)
		go r.deliver(f.from, to, q)
	}
	r.mu.Unlock()
	select {
	case q <- append([]byte(nil), msg...):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Relays) deliver(from, to string, q chan []byte) {
	defer r.wg.Done()
	for msg := range q {
		r.mu.Lock()
		s := r.services[to]
		r.mu.Unlock()
		if s == nil {
			continue
		}
		r.Delivered.Add(1)
		if err := s.HandleRelay(context.Background(), from, msg); errors.Is(err, calls.ErrBadRelay) {
			r.Rejected.Add(1)
		}
	}
}
