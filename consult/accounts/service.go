package accounts

import (
	"context"
	"crypto/rand"
	"runtime"
	"sync"
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
	// defaults (t=2, m=19 MiB, p=1). Tests use cheap ones.
	Params Params
	// MaxConcurrentHashes caps how many password hashes run at once (each
	// holds Params.Memory); zero means GOMAXPROCS.
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
	hashes chan struct{} // semaphore: one token per running hash

	dummyOnce sync.Once
	dummy     string // a hash of a random password, verified for unknown users
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
	n := opts.MaxConcurrentHashes
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	s.hashes = make(chan struct{}, n)
	return s
}

// withHashSlot runs fn while holding one of the hash slots.
func (s *Service) withHashSlot(ctx context.Context, fn func() error) error {
	select {
	case s.hashes <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashes }()
	return fn()
}

// dummyHash is verified against when the username is unknown, so that the
// answer takes as long as for a known user. It has the current parameters.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		h, err := hashPassword(rand.Text(), s.params)
		if err != nil {
			// crypto/rand does not fail on supported platforms; keep the
			// cost anyway with a fixed salt.
			h = phc{params: s.params, salt: make([]byte, saltLen), key: make([]byte, keyLen)}.String()
		}
		s.dummy = h
	})
	return s.dummy
}
