package storage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// auditDB returns a DB with n audit entries, each from its own Update.
func auditDB(t *testing.T, n int) *DB {
	t.Helper()
	db := openInternal(t)
	for i := range n {
		require.NoError(t, db.Update(t.Context(), func(tx *Tx) error {
			if err := tx.Put(BucketAppointments, fmt.Sprintf("a%03d", i), i); err != nil {
				return err
			}
			return tx.Audit("alice", "appointment.update", fmt.Sprintf("appointment:a%03d", i), "status=arrived")
		}))
	}
	got, err := db.VerifyAudit()
	require.NoError(t, err)
	require.Equal(t, n, got)
	return db
}

// rawAudit edits the audit bucket directly, as someone with the file would.
func rawAudit(t *testing.T, db *DB, fn func(b *bolt.Bucket)) {
	t.Helper()
	require.NoError(t, db.bolt.Update(func(tx *bolt.Tx) error {
		fn(tx.Bucket([]byte(BucketAudit)))
		return nil
	}))
}

func rawEntry(t *testing.T, b *bolt.Bucket, seq uint64) (AuditEntry, []byte) {
	t.Helper()
	raw := bytes.Clone(b.Get([]byte(SeqKey(seq))))
	require.NotNil(t, raw)
	var e AuditEntry
	require.NoError(t, json.Unmarshal(raw[1:], &e))
	return e, raw
}

func putEntry(t *testing.T, b *bolt.Bucket, e AuditEntry) {
	t.Helper()
	raw, err := encode(&e)
	require.NoError(t, err)
	require.NoError(t, b.Put([]byte(SeqKey(e.Seq)), raw))
}

func TestAuditChainVerifies(t *testing.T) {
	db := auditDB(t, 40)
	entries, err := db.AuditEntries(0, 0)
	require.NoError(t, err)
	require.Len(t, entries, 40)
	for i, e := range entries {
		assert.EqualValues(t, i+1, e.Seq)
		assert.Equal(t, "alice", e.Actor)
		if i > 0 {
			assert.Equal(t, entries[i-1].Hash, e.Prev)
		}
	}
	page, err := db.AuditEntries(10, 5)
	require.NoError(t, err)
	require.Len(t, page, 5)
	assert.EqualValues(t, 11, page[0].Seq)
	assert.EqualValues(t, 15, page[4].Seq)
	page, err = db.AuditEntries(38, 5)
	require.NoError(t, err)
	assert.Len(t, page, 2)

	empty := openInternal(t)
	n, err := empty.VerifyAudit()
	require.NoError(t, err)
	assert.Zero(t, n)

	// An Audit in a read-only transaction is refused.
	require.ErrorIs(t, db.View(func(tx *Tx) error { return tx.Audit("a", "b", "c", "") }), ErrReadOnly)
}

func TestAuditTamperingIsDetected(t *testing.T) {
	const n = 30
	tests := []struct {
		name   string
		tamper func(t *testing.T, b *bolt.Bucket)
		want   string
	}{
		{"rewrite a field in place", func(t *testing.T, b *bolt.Bucket) {
			_, raw := rawEntry(t, b, 17)
			forged := bytes.Replace(raw, []byte(`"actor":"alice"`), []byte(`"actor":"bobby"`), 1)
			require.NotEqual(t, raw, forged)
			require.NoError(t, b.Put([]byte(SeqKey(17)), forged))
		}, "entry 17 was altered"},
		{"rewrite an entry and its hash", func(t *testing.T, b *bolt.Bucket) {
			e, _ := rawEntry(t, b, 17)
			e.Subject = "appointment:other"
			e.Hash = e.digest()
			putEntry(t, b, e)
		}, "entry 18 does not link"},
		{"flip a byte", func(t *testing.T, b *bolt.Bucket) {
			_, raw := rawEntry(t, b, 5)
			raw[len(raw)/2] ^= 0x40
			require.NoError(t, b.Put([]byte(SeqKey(5)), raw))
		}, "entry 5"},
		{"bad codec byte", func(t *testing.T, b *bolt.Bucket) {
			_, raw := rawEntry(t, b, 9)
			raw[0] = 7
			require.NoError(t, b.Put([]byte(SeqKey(9)), raw))
		}, "entry 9 undecodable"},
		{"delete one", func(t *testing.T, b *bolt.Bucket) {
			require.NoError(t, b.Delete([]byte(SeqKey(12))))
		}, "entry 12 out of sequence"},
		{"delete the first", func(t *testing.T, b *bolt.Bucket) {
			require.NoError(t, b.Delete([]byte(SeqKey(1))))
		}, "entry 1 out of sequence"},
		{"truncate the tail", func(t *testing.T, b *bolt.Bucket) {
			for s := uint64(n - 4); s <= n; s++ {
				require.NoError(t, b.Delete([]byte(SeqKey(s))))
			}
		}, "chain ends at 25 but head says 30"},
		{"swap two", func(t *testing.T, b *bolt.Bucket) {
			_, r3 := rawEntry(t, b, 3)
			_, r4 := rawEntry(t, b, 4)
			require.NoError(t, b.Put([]byte(SeqKey(3)), r4))
			require.NoError(t, b.Put([]byte(SeqKey(4)), r3))
		}, "entry 3 out of sequence"},
		{"append a forged entry", func(t *testing.T, b *bolt.Bucket) {
			last, _ := rawEntry(t, b, n)
			e := AuditEntry{Seq: n + 1, Time: last.Time, Actor: "mallory", Action: "x", Subject: "y", Prev: last.Hash}
			e.Hash = e.digest()
			putEntry(t, b, e)
		}, "head says 30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := auditDB(t, n)
			rawAudit(t, db, func(b *bolt.Bucket) { tt.tamper(t, b) })
			_, err := db.VerifyAudit()
			require.ErrorIs(t, err, ErrAuditBroken)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestAuditHeadTampering(t *testing.T) {
	db := auditDB(t, 5)
	require.NoError(t, db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(BucketMeta)).Put([]byte(metaAuditHead), []byte("garbage"))
	}))
	_, err := db.VerifyAudit()
	require.ErrorIs(t, err, ErrAuditBroken)
}

// The audit appender writes exactly what encode writes whenever it takes
// the fast path, and declines whatever JSON would escape.
func TestAppendEntryJSONMatchesEncode(t *testing.T) {
	base := AuditEntry{Seq: 1 << 40, Time: time.Date(2030, 3, 4, 1, 2, 3, 450600000, time.UTC),
		Actor: "resident", Action: "appointment.create", Subject: "appointment:0123abcd",
		Prev: strings.Repeat("ab", 32), Hash: strings.Repeat("cd", 32)}
	for _, tc := range []struct {
		name string
		edit func(*AuditEntry)
		fast bool
	}{
		{"plain", func(*AuditEntry) {}, true},
		{"detail", func(e *AuditEntry) { e.Detail = "booked->arrived" }, true},
		{"whole second", func(e *AuditEntry) { e.Time = e.Time.Truncate(time.Second) }, true},
		{"first entry", func(e *AuditEntry) { e.Seq, e.Prev = 1, "" }, true},
		{"vietnamese", func(e *AuditEntry) { e.Detail = "đã khám" }, false},
		{"html", func(e *AuditEntry) { e.Actor = "a<b>&c" }, true},
		{"quote", func(e *AuditEntry) { e.Subject = `x"y"` }, true},
		{"backslash", func(e *AuditEntry) { e.Detail = `\x\y\` }, true},
		{"every ascii", func(e *AuditEntry) {
			var b []byte
			for c := byte(0x20); c <= 0x7e; c++ {
				b = append(b, c)
			}
			e.Detail = string(b)
		}, true},
		{"control", func(e *AuditEntry) { e.Detail = "x\ny" }, false},
		{"invalid utf-8", func(e *AuditEntry) { e.Actor = "\xff" }, false},
		{"year 10000", func(e *AuditEntry) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := base
			tc.edit(&e)
			got, fast := appendEntryJSON(nil, &e)
			require.Equal(t, tc.fast, fast)
			if !fast {
				return
			}
			want, err := encode(&e)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		})
	}
}

// A batch appends several entries with one read and one write of the head.
func TestAuditInOneBatchChains(t *testing.T) {
	db := auditDB(t, 3)
	fns := make([]func(*Tx) error, 20)
	for i := range fns {
		fns[i] = func(tx *Tx) error {
			if err := tx.Audit("bob", "appointment.read", fmt.Sprintf("appointment:b%02d", i), ""); err != nil {
				return err
			}
			return tx.Audit("bob", "appointment.list", "facility:x/2030-03-04", strconv.Itoa(i))
		}
	}
	for _, err := range batchOf(t, db, fns) {
		require.NoError(t, err)
	}
	n, err := db.VerifyAudit()
	require.NoError(t, err)
	assert.Equal(t, 3+2*len(fns), n)
}
