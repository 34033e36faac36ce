package accounts

import (
	"context"
	"crypto/rand"
	"runtime"
	"time"

	"github.com/moinha/moinha/storage"
)

// Options configure a Service. The zero value is the production setting.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SessionTTL is how long a session lasts after login; zero means 12h.
	SessionTTL time.Duration
	// Params are the argon2id costs for new hashes; zero fields mean the
	// defaults (t=4, m=9 MiB, p=1). Tests use cheap ones.
	Params Params
	// MaxConcurrentHashes caps how many password hashes run at once, and
	// with it the node's memory during a burst of logins: a hash holds
	// Params.Memory while it runs (9 MiB by default), and a stored hash of
	// larger parameters runs alone. Zero means 1, which keeps a node
	// holding a full province within 64 MiB; more only helps a node with
	// cores and memory to spare.
	MaxConcurrentHashes int
}

// DefaultSessionTTL is the session lifetime when Options.SessionTTL is zero.
const DefaultSessionTTL = 12 * time.Hour

// Service manages accounts and sessions in one node's storage. It is safe
// for concurrent use.
type Service struct {
	db     *storage.DB
	now    func() time.Time
	ttl    time.Duration
	params Params
	hashes *hashGate
	dummy  string // a PHC string no password matches, verified for unknown users
}

// New returns a Service over db.
func New(db *storage.DB, opts Options) *Service {
	s := &Service{db: db, now: opts.Now, ttl: opts.SessionTTL, params: opts.Params.withDefaults()}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ttl <= 0 {
		s.ttl = DefaultSessionTTL
	}
	n := max(1, opts.MaxConcurrentHashes)
	s.hashes = newHashGate(n, uint32(min(uint64(n)*uint64(s.params.Memory), maxMemory)))
	// Random salt and key: verifying against it costs one hash with the
	// current parameters, like a known user's, and matches nothing. No
	// hash is computed to make it.
	dummy := phc{params: s.params, salt: make([]byte, saltLen), key: make([]byte, keyLen)}
	_, _ = rand.Read(dummy.salt) // crypto/rand.Read never fails (Go ≥ 1.24)
	_, _ = rand.Read(dummy.key)
	s.dummy = dummy.String()
	return s
}

// gcAfterHash is the argon2 memory (KiB) from which a hash's memory is
// handed back to the heap as soon as it is done.
const gcAfterHash = 1 << 10

// withHashSlot runs fn, which hashes with memory KiB of argon2 memory,
// once the gate lets it.
//
// argon2 allocates its memory afresh for every hash. Left to the garbage
// collector, a burst of logins grows the heap by several hashes' worth (a
// collection that runs while a hash holds its memory counts it as live,
// and the next heap goal doubles it): 32 concurrent logins took a node
// holding a full province from 31 MiB to 84 MiB with two hashes at a time
// and to 65 MiB with one. Collecting before the next hash may start lets
// it reuse the same memory (39–46 MiB); logins are rare and each costs
// tens of milliseconds anyway.
func (s *Service) withHashSlot(ctx context.Context, memory uint32, fn func() error) error {
	held, err := s.hashes.acquire(ctx, memory)
	if err != nil {
		return err
	}
	defer s.hashes.release(held)
	if memory >= gcAfterHash {
		defer runtime.GC()
	}
	return fn()
}
