package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Tx is a transaction handed to View or Update callbacks. Its verbs are the
// only way the rest of the node reads and writes the file.
type Tx struct {
	tx       *bolt.Tx
	writable bool
	dirty    bool        // this op wrote something
	batch    *batchState // shared by the ops of one commit attempt; nil in View
}

func (t *Tx) bucket(b Bucket) (*bolt.Bucket, error) {
	bk := t.tx.Bucket([]byte(b))
	if bk == nil {
		return nil, fmt.Errorf("storage: unknown bucket %q", b)
	}
	return bk, nil
}

// Get decodes the value at key into v and reports whether it existed.
func (t *Tx) Get(b Bucket, key string, v any) (bool, error) {
	bk, err := t.bucket(b)
	if err != nil {
		return false, err
	}
	raw := bk.Get([]byte(key))
	if raw == nil {
		return false, nil
	}
	if err := Value(raw).Decode(v); err != nil {
		return true, fmt.Errorf("%s/%s: %w", b, key, err)
	}
	return true, nil
}

// GetValue returns the stored bytes at key without decoding them, and
// whether the key existed. The Value is valid only inside this transaction
// (copy it to keep it); comparing it with a copy kept from an earlier
// transaction is a cheap way to learn whether the record changed.
func (t *Tx) GetValue(b Bucket, key string) (Value, bool, error) {
	bk, err := t.bucket(b)
	if err != nil {
		return nil, false, err
	}
	raw := bk.Get([]byte(key))
	return Value(raw), raw != nil, nil
}

// GetInt reads an integer that Put (or PutInt) stored at key, zero and
// false when absent. It skips the JSON decoder for the canonical form.
func (t *Tx) GetInt(b Bucket, key string) (int64, bool, error) {
	bk, err := t.bucket(b)
	if err != nil {
		return 0, false, err
	}
	raw := bk.Get([]byte(key))
	if raw == nil {
		return 0, false, nil
	}
	n, err := parseInt(Value(raw))
	if err != nil {
		return 0, true, fmt.Errorf("%s/%s: %w", b, key, err)
	}
	return n, true, nil
}

// PutInt stores n at key, encoded exactly as Put(b, key, n) would (so Get
// and Value.Decode read it as usual), without the JSON encoder.
func (t *Tx) PutInt(b Bucket, key string, n int64) error {
	if !t.writable {
		return ErrReadOnly
	}
	bk, err := t.bucket(b)
	if err != nil {
		return err
	}
	t.dirty = true
	return bk.Put([]byte(key), appendInt(make([]byte, 0, 21), n))
}

// Has reports whether key exists in b.
func (t *Tx) Has(b Bucket, key string) bool {
	bk, err := t.bucket(b)
	return err == nil && bk.Get([]byte(key)) != nil
}

// Put encodes v and stores it at key. An Encoded v (see Encode) is stored
// as it is.
func (t *Tx) Put(b Bucket, key string, v any) error {
	return t.put(b, key, v, false)
}

// appendFill is how full Append packs a bucket's pages (bbolt's default,
// for keys that land anywhere, is half).
const appendFill = 0.95

// Append is Put for a key that sorts after every key already in b (IDs
// that begin with their creation time, sequence numbers), or that comes
// in a run of increasing keys (one origin's sequence numbers inside a
// bucket shared by origins; a replica pulling records in order). It packs
// b's pages nearly full instead of half full, so a commit of many appends
// writes about half the pages. A key that does not sort last is stored
// all the same; its page is merely split fuller.
func (t *Tx) Append(b Bucket, key string, v any) error {
	return t.put(b, key, v, true)
}

func (t *Tx) put(b Bucket, key string, v any, appending bool) error {
	if !t.writable {
		return ErrReadOnly
	}
	bk, err := t.bucket(b)
	if err != nil {
		return err
	}
	var val []byte
	switch e := v.(type) {
	case Encoded:
		val = e.b
	case *Encoded:
		if e != nil {
			val = e.b
		}
	default:
		if val, err = encode(v); err != nil {
			return err
		}
	}
	if val == nil {
		return errEmptyEncoded
	}
	if appending {
		bk.FillPercent = appendFill // for the rest of this transaction
	}
	t.dirty = true
	return bk.Put([]byte(key), val)
}

// Delete removes key from b (no error if absent).
func (t *Tx) Delete(b Bucket, key string) error {
	if !t.writable {
		return ErrReadOnly
	}
	bk, err := t.bucket(b)
	if err != nil {
		return err
	}
	t.dirty = true
	return bk.Delete([]byte(key))
}

// Scan calls fn for each key in b that starts with prefix and sorts after
// `after` (empty: from the first), in key order. fn returns ErrStop to end
// early. Do not write to b from inside fn (bbolt cursors skip keys then).
func (t *Tx) Scan(b Bucket, prefix, after string, fn func(key string, v Value) error) error {
	bk, err := t.bucket(b)
	if err != nil {
		return err
	}
	c := bk.Cursor()
	p := []byte(prefix)
	var k, v []byte
	if after != "" && after >= prefix {
		k, v = c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
	} else {
		k, v = c.Seek(p)
	}
	for ; k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if err := fn(string(k), Value(v)); err != nil {
			if err == ErrStop {
				return nil
			}
			return err
		}
	}
	return nil
}

// Count returns how many keys in b start with prefix.
func (t *Tx) Count(b Bucket, prefix string) (int, error) {
	n := 0
	err := t.Scan(b, prefix, "", func(string, Value) error { n++; return nil })
	return n, err
}

// NextSeq returns the next value of b's sequence counter.
func (t *Tx) NextSeq(b Bucket) (uint64, error) {
	if !t.writable {
		return 0, ErrReadOnly
	}
	bk, err := t.bucket(b)
	if err != nil {
		return 0, err
	}
	t.dirty = true
	return bk.NextSequence()
}

// SeqKey renders a sequence number as a key that sorts numerically.
func SeqKey(n uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return string(b[:])
}
