package calls

import (
	"fmt"
	"math"
	"strings"

	"github.com/moinha/moinha/storage"
)

// Key layout in storage.BucketCalls:
//
//	c/ID                               → Call
//	e/ID/NANOS(19 digits)-SEQ(6)       → Event (in time order per call)
//	u/USERKEY/REVNANOS(19 digits)/ID   → true (the calls a user hosts or is invited to, newest first)
//	s/KIND                             → Counters
const (
	prefixCall   = "c/"
	prefixEvent  = "e/"
	prefixUser   = "u/"
	prefixCounts = "s/"
)

func callKey(id string) string { return prefixCall + id }

func eventKey(id string, nanos int64, seq uint64) string {
	return fmt.Sprintf("%s%s/%019d-%06d", prefixEvent, id, nanos, seq%1000000)
}

func userIndexKey(u User, c *Call) string {
	return fmt.Sprintf("%s%s/%019d/%s", prefixUser, u.Key(), math.MaxInt64-c.Created.UnixNano(), c.ID)
}

func countsKey(k Kind) string { return prefixCounts + string(k) }

func getCall(tx *storage.Tx, id string) (*Call, error) {
	var c Call
	ok, err := tx.Get(storage.BucketCalls, callKey(id), &c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	return &c, nil
}

// putCall stores c and indexes it for each of its users on this node.
func putCall(tx *storage.Tx, c *Call, province string) error {
	if err := tx.Put(storage.BucketCalls, callKey(c.ID), c); err != nil {
		return err
	}
	for _, u := range append([]User{c.Host}, c.Invitees...) {
		if u.Province != province {
			continue
		}
		if err := tx.Put(storage.BucketCalls, userIndexKey(u, c), true); err != nil {
			return err
		}
	}
	return nil
}

func addCounts(tx *storage.Tx, k Kind, fn func(*Counters)) error {
	var c Counters
	if _, err := tx.Get(storage.BucketCalls, countsKey(k), &c); err != nil {
		return err
	}
	fn(&c)
	return tx.Put(storage.BucketCalls, countsKey(k), &c)
}

func putEvent(tx *storage.Tx, e Event, seq uint64) error {
	return tx.Put(storage.BucketCalls, eventKey(e.Call, e.Time.UnixNano(), seq), &e)
}

// callIDFromUserKey extracts ID from u/USERKEY/REV/ID.
func callIDFromUserKey(k string) string {
	return k[strings.LastIndexByte(k, '/')+1:]
}
