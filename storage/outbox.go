package storage

import (
	"fmt"
	"strings"
	"time"
)

// OutboxMessage is a message to another node, stored in the same
// transaction as the change it announces and kept until the receiver
// acknowledges it.
type OutboxMessage struct {
	Key         string    `json:"key"`  // destination/seq; set by EnqueueOutbox
	ID          string    `json:"id"`   // message ID; receivers dedupe on it
	Dest        string    `json:"dest"` // destination (a peer ID)
	Kind        string    `json:"kind"` // protocol-level message kind
	Payload     []byte    `json:"payload"`
	Created     time.Time `json:"created"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
}

func outboxPrefix(dest string) string { return dest + "/" }

// EnqueueOutbox stores m for its destination, due at once.
func (t *Tx) EnqueueOutbox(m *OutboxMessage) error {
	if m.Dest == "" || strings.Contains(m.Dest, "/") || m.ID == "" {
		return fmt.Errorf("storage: outbox message needs an ID and a destination without '/'")
	}
	seq, err := t.NextSeq(BucketOutbox)
	if err != nil {
		return err
	}
	m.Key = outboxPrefix(m.Dest) + fmt.Sprintf("%020d", seq)
	if m.Created.IsZero() {
		m.Created = time.Now().UTC()
	}
	if m.NextAttempt.IsZero() {
		m.NextAttempt = m.Created
	}
	return t.Put(BucketOutbox, m.Key, m)
}

// AckOutbox removes a delivered message.
func (t *Tx) AckOutbox(key string) error { return t.Delete(BucketOutbox, key) }

// DeferOutbox records a failed attempt and when to try again.
func (t *Tx) DeferOutbox(key string, next time.Time, lastErr string) error {
	var m OutboxMessage
	ok, err := t.Get(BucketOutbox, key, &m)
	if err != nil || !ok {
		return err
	}
	m.Attempts++
	m.NextAttempt = next
	m.LastError = lastErr
	return t.Put(BucketOutbox, key, &m)
}

// Outbox returns up to limit messages (all when limit <= 0) for dest, in
// the order they were enqueued. When dest is empty it returns every
// destination's messages, grouped by destination (in key order) and in
// enqueue order within each. With due non-zero, only messages whose
// NextAttempt is not after due.
func (t *Tx) Outbox(dest string, due time.Time, limit int) ([]OutboxMessage, error) {
	prefix := ""
	if dest != "" {
		prefix = outboxPrefix(dest)
	}
	var out []OutboxMessage
	err := t.Scan(BucketOutbox, prefix, "", func(_ string, v Value) error {
		var m OutboxMessage
		if err := v.Decode(&m); err != nil {
			return err
		}
		if !due.IsZero() && m.NextAttempt.After(due) {
			return nil
		}
		out = append(out, m)
		if limit > 0 && len(out) >= limit {
			return ErrStop
		}
		return nil
	})
	return out, err
}

// OutboxStats reports the number of queued messages and the creation time
// of the oldest (zero when empty).
func (t *Tx) OutboxStats() (depth int, oldest time.Time, err error) {
	err = t.Scan(BucketOutbox, "", "", func(_ string, v Value) error {
		var m OutboxMessage
		if err := v.Decode(&m); err != nil {
			return err
		}
		depth++
		if oldest.IsZero() || m.Created.Before(oldest) {
			oldest = m.Created
		}
		return nil
	})
	return depth, oldest, err
}
