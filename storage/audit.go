package storage

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
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

// digest is the SHA-256 (hex) of Seq and the length-prefixed Prev, Time
// (RFC 3339, UTC), Actor, Action, Subject and Detail.
func (e *AuditEntry) digest() string {
	// One buffer, on the stack for the usual entry, hashed in one call: the
	// writer goroutine appends an entry for every audited change.
	var stack [512]byte
	var ts [64]byte
	t := e.Time.UTC().AppendFormat(ts[:0], time.RFC3339Nano)
	buf := binary.BigEndian.AppendUint64(stack[:0], e.Seq)
	for _, s := range [...]string{e.Prev, string(t), e.Actor, e.Action, e.Subject, e.Detail} {
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:])
}

// batchState is what the ops of one commit attempt share: the audit head,
// read once and written once per commit instead of once per entry.
type batchState struct {
	head       auditHead
	headLoaded bool // head is the chain's head as of the last op
	headDirty  bool // entries were appended: write head before the commit
}

// flush writes what the attempt deferred (the audit head). commit calls it
// after the attempt's last op, inside the same bbolt transaction.
func (st *batchState) flush(t *Tx) error {
	if !st.headDirty {
		return nil
	}
	return t.Put(BucketMeta, metaAuditHead, st.head)
}

// auditHead returns the chain's head as of this point of the transaction.
func (t *Tx) auditHead() (auditHead, error) {
	if st := t.batch; st != nil && st.headLoaded {
		return st.head, nil
	}
	var head auditHead
	if _, err := t.Get(BucketMeta, metaAuditHead, &head); err != nil {
		return auditHead{}, err
	}
	if st := t.batch; st != nil {
		st.head, st.headLoaded = head, true
	}
	return head, nil
}

// Audit appends an entry to the chain in this transaction, so it commits
// (or not) with the change it describes.
func (t *Tx) Audit(actor, action, subject, detail string) error {
	if !t.writable {
		return ErrReadOnly
	}
	head, err := t.auditHead()
	if err != nil {
		return err
	}
	e := AuditEntry{
		Seq: head.Seq + 1, Time: time.Now().UTC(), Actor: actor, Action: action,
		Subject: subject, Detail: detail, Prev: head.Hash,
	}
	e.Hash = e.digest()
	val, ok := appendEntryJSON(make([]byte, 0, 384), &e)
	if !ok {
		if val, err = encode(&e); err != nil {
			return err
		}
	}
	bk, err := t.bucket(BucketAudit)
	if err != nil {
		return err
	}
	bk.FillPercent = appendFill // entries are appended: see Append
	t.dirty = true
	if err := bk.Put([]byte(SeqKey(e.Seq)), val); err != nil {
		return err
	}
	next := auditHead{Seq: e.Seq, Hash: e.Hash}
	if st := t.batch; st != nil {
		st.head, st.headLoaded, st.headDirty = next, true, true
		return nil
	}
	return t.Put(BucketMeta, metaAuditHead, next)
}

// appendEntryJSON appends e as encode would store it (the codec byte, then
// exactly the bytes json.Marshal writes) when every string of e is ASCII
// without control characters and the time is one json.Marshal accepts;
// otherwise it reports false and the caller uses encode.
func appendEntryJSON(dst []byte, e *AuditEntry) ([]byte, bool) {
	if y := e.Time.Year(); y < 0 || y > 9999 {
		return dst, false
	}
	for _, s := range [...]string{e.Actor, e.Action, e.Subject, e.Detail, e.Prev, e.Hash} {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				return dst, false
			}
		}
	}
	dst = append(dst, codecVersion)
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, e.Seq, 10)
	dst = append(dst, `,"time":"`...)
	dst = e.Time.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","actor":"`...)
	dst = appendASCII(dst, e.Actor)
	dst = append(dst, `","action":"`...)
	dst = appendASCII(dst, e.Action)
	dst = append(dst, `","subject":"`...)
	dst = appendASCII(dst, e.Subject)
	if e.Detail != "" {
		dst = append(dst, `","detail":"`...)
		dst = appendASCII(dst, e.Detail)
	}
	dst = append(dst, `","prev":"`...)
	dst = appendASCII(dst, e.Prev)
	dst = append(dst, `","hash":"`...)
	dst = appendASCII(dst, e.Hash)
	return append(dst, `"}`...), true
}

// appendASCII appends printable ASCII s as encoding/json writes it inside
// quotes: '"' and '\\' escaped, and '<', '>', '&' as \u003c, \u003e,
// \u0026 (json.Marshal escapes HTML).
func appendASCII(dst []byte, s string) []byte {
	const digits = "0123456789abcdef"
	last := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			dst = append(append(dst, s[last:i]...), '\\', c)
		case '<', '>', '&':
			dst = append(append(dst, s[last:i]...), '\\', 'u', '0', '0', digits[c>>4], digits[c&0xf])
		default:
			continue
		}
		last = i + 1
	}
	return append(dst, s[last:]...)
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
