package booking

import (
	"bytes"
	"sync"

	"github.com/moinha/moinha/storage"
)

// A booking decides on its facility's schedule, which is about 1 KB of
// JSON. Decoding it in every booking's transaction cost the single storage
// writer about a quarter of its time, so the Service keeps the schedules
// it has decoded, each with the exact stored bytes it came from. Decisions
// are prepared outside the transaction from the cached schedule; inside
// it, the stored bytes are compared with the cached ones (no decoding),
// and only when they differ (the schedule was replaced meanwhile) is the
// stored schedule decoded and the decision taken again. A booking is thus
// always decided on the schedule the transaction reads; the cache is never
// trusted, only checked.

// cachedSchedule is a decoded schedule and the stored value it was
// decoded from. Both are read-only once built.
type cachedSchedule struct {
	raw []byte
	sc  Schedule
}

// schedules caches decoded schedules by facility. Entries are replaced
// whenever a transaction finds other bytes, and dropped by PutSchedule.
// It holds at most one entry per bookable facility of this province.
type schedules struct {
	mu   sync.RWMutex               // guards byID
	byID map[string]*cachedSchedule // facility ID → latest schedule seen
}

func (c *schedules) get(facility string) *cachedSchedule {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.byID[facility]
}

func (c *schedules) put(facility string, cs *cachedSchedule) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID = make(map[string]*cachedSchedule)
	}
	c.byID[facility] = cs
}

func (c *schedules) drop(facility string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byID, facility)
}

// decodeSchedule copies a stored schedule value and decodes it.
func decodeSchedule(v storage.Value) (*cachedSchedule, error) {
	cs := &cachedSchedule{raw: bytes.Clone(v)}
	if err := v.Decode(&cs.sc); err != nil {
		return nil, err
	}
	return cs, nil
}

// scheduleIn returns the facility's schedule as stored in tx: known when
// its bytes equal known's (no decoding), freshly decoded otherwise. It
// neither reads nor writes the cache, so it may run inside an Update fn.
func scheduleIn(tx *storage.Tx, facility string, known *cachedSchedule) (*cachedSchedule, error) {
	v, ok, err := tx.GetValue(storage.BucketSchedules, facility)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errScheduleNotFound()
	}
	if known != nil && bytes.Equal(v, known.raw) {
		return known, nil
	}
	return decodeSchedule(v)
}

// currentSchedule returns the facility's committed schedule: the cached
// one if the file still holds its bytes, otherwise the stored one, which
// it caches.
func (s *Service) currentSchedule(facility string) (*cachedSchedule, error) {
	known := s.scheds.get(facility)
	var cs *cachedSchedule
	err := s.db.View(func(tx *storage.Tx) error {
		var err error
		cs, err = scheduleIn(tx, facility, known)
		return err
	})
	if err != nil {
		return nil, err
	}
	if cs != known {
		s.scheds.put(facility, cs)
	}
	return cs, nil
}

// cachedOrCurrent returns the cached schedule without reading the file
// (it may be stale: use it only for a decision that a transaction checks),
// or the committed one when none is cached.
func (s *Service) cachedOrCurrent(facility string) (*cachedSchedule, error) {
	if cs := s.scheds.get(facility); cs != nil {
		return cs, nil
	}
	return s.currentSchedule(facility)
}

// remember caches a schedule that a transaction read. Whichever schedule
// ends up cached is safe (every use checks it against the file); a stale
// one costs a decode in the next transaction, which replaces it.
func (s *Service) remember(facility string, seen *cachedSchedule) {
	if seen != nil && seen != s.scheds.get(facility) {
		s.scheds.put(facility, seen)
	}
}
