package booking_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/storage"
)

// BenchmarkBookParallel books from ~32 goroutines (as concurrent HTTP
// requests would) on a data file with the default, synced commits. The
// bookings go round-robin over 16 facilities and, within each, to
// successive 5-minute slots, so capacity never runs out and every call
// succeeds.
func BenchmarkBookParallel(b *testing.B) {
	db, err := storage.Open(filepath.Join(b.TempDir(), "db"), benchStorage)
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	hcm := mustZone(b, "Asia/Ho_Chi_Minh")
	const facilities = 16
	z := zones{}
	now := time.Date(2030, 3, 4, 6, 0, 0, 0, hcm)
	svc := booking.New(db, z, booking.Options{Now: func() time.Time { return now }})
	allDay := []booking.Interval{{Open: "00:00", Close: "24:00"}}
	ctx := context.Background()
	for i := range facilities {
		id := fmt.Sprintf("66-B%03d", i)
		z[id] = hcm
		_, err := svc.PutSchedule(ctx, "admin", booking.Schedule{
			Facility: id, SlotMinutes: 5, Capacity: 100, HorizonDays: 365,
			Hours: map[string][]booking.Interval{"mon": allDay, "tue": allDay, "wed": allDay, "thu": allDay, "fri": allDay, "sat": allDay, "sun": allDay},
		})
		require.NoError(b, err)
	}
	first := time.Date(2030, 3, 5, 0, 0, 0, 0, hcm)
	var next atomic.Int64
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			_, err := svc.Book(ctx, "resident", booking.BookRequest{
				Facility: fmt.Sprintf("66-B%03d", i%facilities),
				Start:    first.Add(time.Duration(i/facilities) * 5 * time.Minute),
				Name:     "Phạm Văn Đức", Phone: "0987654321", Reason: "khám định kỳ",
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bookings/s")
}

// benchStorage is nil (default, synced) unless a profiling run edits it.
var benchStorage *storage.Options
