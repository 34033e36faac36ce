package calls

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/storage"
)

// A call's start is counted once, whether the event writer stores it
// before the end or the end comes first.
func TestStartCountedOnceWhateverTheOrder(t *testing.T) {
	for _, endFirst := range []bool{false, true} {
		name := map[bool]string{false: "start stored first", true: "end stored first"}[endFirst]
		t.Run(name, func(t *testing.T) {
			db, err := storage.Open(filepath.Join(t.TempDir(), "moinha.db"), &storage.Options{NoSync: true})
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			s, err := New(db, Options{Province: "66", Loopback: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			c, err := s.Create(context.Background(), Caller{Username: "doctor", Role: consult.RoleDoctor},
				CreateRequest{Kind: KindConsult, Invite: []User{{Username: "staff"}}})
			require.NoError(t, err)
			call, err := s.load(c.ID)
			require.NoError(t, err)

			started := time.Date(2026, 3, 2, 16, 59, 0, 0, time.UTC) // 23:59 in Vietnam
			r := newRoom(s, call)
			r.startedAt = started
			start := pendingEvent{Event: Event{Call: c.ID, Time: started}, kind: KindConsult, started: true}
			if !endFirst {
				s.evw.add(start)
				s.evw.close() // stores what is queued
			}
			r.end(ReasonHostEnded)
			if endFirst {
				s.evw.add(start)
				s.evw.close()
			}

			st, err := s.Stats()
			require.NoError(t, err)
			assert.Equal(t, int64(1), st[KindConsult].Started)
			assert.Equal(t, int64(1), st[KindConsult].Ended)
			got := map[string]int64{}
			require.NoError(t, db.View(func(tx *storage.Tx) error {
				return DayCounts(tx, "2026-03-02", func(_, metric string, n int64) { got[metric] += n })
			}))
			assert.Equal(t, int64(1), got["calls_consult"])
			call, err = s.load(c.ID)
			require.NoError(t, err)
			assert.Equal(t, StateEnded, call.State)
			assert.True(t, call.Started.Equal(started))
		})
	}
}
