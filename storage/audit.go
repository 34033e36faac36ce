package storage

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// AuditEntry records who read or changed which patient record. Entries form
// a hash chain: each Hash covers the previous Hash and this entry's fields,
// so editing, removing or reordering any entry breaks verification.
type AuditEntry struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`   // username, "resident", or "peer:<id>"
	Action  string    `json:"action"`  // e.g. "appointment.read"
	Subject string    `json:"subject"` // e.g. "appointment:<id>"; never patient data
	Detail  string    `json:"detail,omitempty"`
	Prev    string    `json:"prev"`
	Hash    string    `json:"hash"`
}

type auditHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

func (e *AuditEntry) digest() string {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], e.Seq)
	h.Write(n[:])
	for _, s := range []string{e.Prev, e.Time.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.Subject, e.Detail} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Audit appends an entry to the chain in this transaction, so it commits
// (or not) with the change it describes.
func (t *Tx) Audit(actor, action, subject, detail string) error {
	if !t.writable {
		return ErrReadOnly
	}
	var head auditHead
	if _, err := t.Get(BucketMeta, metaAuditHead, &head); err != nil {
		return err
	}
	e := AuditEntry{
		Seq: head.Seq + 1, Time: time.Now().UTC(), Actor: actor, Action: action,
		Subject: subject, Detail: detail, Prev: head.Hash,
	}
	e.Hash = e.digest()
	if err := t.Put(BucketAudit, SeqKey(e.Seq), &e); err != nil {
		return err
	}
	return t.Put(BucketMeta, metaAuditHead, auditHead{Seq: e.Seq, Hash: e.Hash})
}

// VerifyAudit walks the whole chain and returns the number of entries, or
// an error wrapping ErrAuditBroken that names the first bad entry.
func (db *DB) VerifyAudit() (int, error) {
	n := 0
	err := db.View(func(t *Tx) error {
		var head auditHead
		if _, err := t.Get(BucketMeta, metaAuditHead, &head); err != nil {
			return fmt.Errorf("%w: head: %v", ErrAuditBroken, err)
		}
		prev := ""
		var want uint64 = 1
		err := t.Scan(BucketAudit, "", "", func(key string, v Value) error {
			var e AuditEntry
			if err := json.Unmarshal(v[min(1, len(v)):], &e); err != nil || len(v) == 0 || v[0] != codecVersion {
				return fmt.Errorf("%w: entry %d undecodable", ErrAuditBroken, want)
			}
			switch {
			case key != SeqKey(e.Seq) || e.Seq != want:
				return fmt.Errorf("%w: entry %d out of sequence", ErrAuditBroken, want)
			case e.Prev != prev:
				return fmt.Errorf("%w: entry %d does not link to its predecessor", ErrAuditBroken, e.Seq)
			case e.digest() != e.Hash:
				return fmt.Errorf("%w: entry %d was altered", ErrAuditBroken, e.Seq)
			}
			prev, want = e.Hash, want+1
			n++
			return nil
		})
		if err != nil {
			return err
		}
		if head.Seq != uint64(n) || head.Hash != prev {
			return fmt.Errorf("%w: chain ends at %d but head says %d", ErrAuditBroken, n, head.Seq)
		}
		return nil
	})
	return n, err
}

// AuditEntries returns up to limit entries with Seq > after, oldest first;
// all of them when limit <= 0.
func (db *DB) AuditEntries(after uint64, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := db.View(func(t *Tx) error {
		start := ""
		if after > 0 {
			start = SeqKey(after)
		}
		return t.Scan(BucketAudit, "", start, func(_ string, v Value) error {
			var e AuditEntry
			if err := v.Decode(&e); err != nil {
				return err
			}
			out = append(out, e)
			if limit > 0 && len(out) >= limit {
				return ErrStop
			}
			return nil
		})
	})
	return out, err
}
