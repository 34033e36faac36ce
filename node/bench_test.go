package node_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/storage"
)

// benchClients is the number of concurrent clients of the booking
// benchmarks (the goal: 5,000 durable bookings/s over HTTP with 64 clients
// on 2 cores). `moinha bench booking` measures the same on a full-size
// province, with latencies and medians over runs.
const benchClients = 64

// benchFacilities is how many stations get an all-day schedule with
// 5-minute slots (at most), so that bookings spread over slots and
// facilities as real ones do.
const benchFacilities = 16

// benchSeats prepares a node (small sample, fsync on) whose stations (up
// to benchFacilities) take a booking every 5 minutes, and returns the seat
// of booking i: every booking a slot of its own.
func benchSeats(b *testing.B) (*testNode, func(i int64) seat) {
	b.Helper()
	tn := newTestNode(b)
	stations := tn.stations(b)
	allDay := []booking.Interval{{Open: "00:00", Close: "24:00"}}
	week := map[string][]booking.Interval{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		week[d] = allDay
	}
	ids := make([]string, min(len(stations), benchFacilities))
	for i := range ids {
		ids[i] = stations[i].ID
		_, err := tn.Booking().PutSchedule(context.Background(), "bench", booking.Schedule{
			Facility: ids[i], SlotMinutes: 5, Capacity: 100, HorizonDays: booking.MaxHorizonDays, Hours: week})
		require.NoError(b, err)
	}
	y, m, d := time.Now().In(tn.hcm).AddDate(0, 0, 1).Date()
	first := time.Date(y, m, d, 0, 0, 0, 0, tn.hcm)
	return tn, func(i int64) seat {
		k := int64(len(ids))
		return seat{ids[i%k], first.Add(time.Duration(i/k) * 5 * time.Minute)}
	}
}

// runClients runs b.N calls of do from benchClients goroutines and reports
// bookings per second.
func runClients(b *testing.B, do func(i int64) error) {
	b.Helper()
	var next atomic.Int64
	b.SetParallelism(max(1, benchClients/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := do(next.Add(1) - 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bookings/s")
}

// BenchmarkBookHTTP: POST /api/v1/appointments over loopback keep-alive
// connections, fsync on.
func BenchmarkBookHTTP(b *testing.B) {
	tn, seatOf := benchSeats(b)
	tr := &http.Transport{MaxIdleConns: 2 * benchClients, MaxIdleConnsPerHost: 2 * benchClients, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: time.Minute}
	url := tn.URL() + "/api/v1/appointments"
	runClients(b, func(i int64) error {
		s := seatOf(i)
		body, err := json.Marshal(bookBody(s.facility, s.start))
		if err != nil {
			return err
		}
		resp, err := c.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			msg, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("%s: %s", resp.Status, msg)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	})
}

// BenchmarkBookInProcess: booking.Service.Book from 64 goroutines, fsync on.
func BenchmarkBookInProcess(b *testing.B) {
	tn, seatOf := benchSeats(b)
	ctx := context.Background()
	runClients(b, func(i int64) error {
		s := seatOf(i)
		_, err := tn.Booking().Book(ctx, "resident", booking.BookRequest{Facility: s.facility, Start: s.start,
			Name: "Nguyễn Thị Lan", Phone: "0912 345 678", Reason: "khám thai"})
		return err
	})
}

// BenchmarkBareBoltBatch is the floor: one put per call of the size of an
// appointment record and its audit entry, through bbolt's Batch from 64
// goroutines (MaxBatchSize 64, MaxBatchDelay 2 ms, map freelist), fsync on.
func BenchmarkBareBoltBatch(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "bare.db"), 0o600, &bolt.Options{
		FreelistType: bolt.FreelistMapType, InitialMmapSize: 64 << 20, Timeout: time.Second})
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	db.MaxBatchSize = benchClients
	db.MaxBatchDelay = 2 * time.Millisecond
	bucket := []byte("appointments")
	require.NoError(b, db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket(bucket)
		return err
	}))
	value := bytes.Repeat([]byte("x"), appointmentBytes(b))
	runClients(b, func(int64) error {
		var raw [16]byte
		_, _ = rand.Read(raw[:])
		key := []byte(hex.EncodeToString(raw[:]))
		return db.Batch(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key, value) })
	})
}

// appointmentBytes is the encoded size of a typical appointment and its
// audit entry (what a booking adds to the file, besides small indexes).
func appointmentBytes(b *testing.B) int {
	b.Helper()
	now := time.Now().UTC()
	a, err := json.Marshal(booking.Appointment{ID: strings.Repeat("a", 32), Code: "ABCD-EFGH-JKMN-PQRS", Status: booking.StatusBooked,
		Facility: "66-TYT-0001", Start: now, End: now, Day: "2026-03-02", Name: "Nguyễn Thị Lan", Phone: "0912345678",
		Reason: "khám thai", Created: now, Updated: now})
	require.NoError(b, err)
	e, err := json.Marshal(storage.AuditEntry{Seq: 1 << 20, Time: now, Actor: "resident", Action: "appointment.create",
		Subject: "appointment:" + strings.Repeat("a", 32), Prev: strings.Repeat("f", 64), Hash: strings.Repeat("f", 64)})
	require.NoError(b, err)
	return len(a) + len(e) + 2
}
