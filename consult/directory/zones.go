package directory

import (
	"sync"
	"time"
)

// zoneCache remembers the zones of this province's facilities for
// BookableFacility, which every booking calls: without it each booking
// decoded the whole stored facility for one field.
//
// Only this node writes its own province's facilities (PutFacility,
// ImportFacilities, DeleteFacility; ApplyRemote and RemoveProvince refuse
// the own province), and each of them calls forget after its commit. A
// lookup that read the file before such a commit must not cache what it
// read afterwards: gen counts the forgets, and a lookup caches its result
// only if gen did not move while it read.
type zoneCache struct {
	mu   sync.Mutex                // guards gen and byID
	gen  uint64                    // incremented by every forget
	byID map[string]*time.Location // own facility ID → zone
}

// get returns the cached zone and, on a miss, the generation to pass to put.
func (c *zoneCache) get(id string) (*time.Location, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byID[id], c.gen
}

// put caches a zone read at generation gen, unless a forget came since.
func (c *zoneCache) put(id string, loc *time.Location, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.byID == nil {
		c.byID = make(map[string]*time.Location)
	}
	c.byID[id] = loc
}

// forget drops the given facilities, or every one when ids is empty. Call
// it after the commit that changed them (whether or not it succeeded).
func (c *zoneCache) forget(ids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if len(ids) == 0 {
		clear(c.byID)
		return
	}
	for _, id := range ids {
		delete(c.byID, id)
	}
}
