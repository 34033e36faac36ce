package storage

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// These benchmarks are in package storage so that they can read bbolt's
// transaction ID and report ops/commit (how well writes are grouped),
// which varies much less with a busy disk than ops/s does.

// benchWriters is the number of concurrent writers in the parallel
// benchmarks (PITFALLS.md measures bbolt's Batch floor with 64).
const benchWriters = 64

var benchValue = []byte(`{"status":"booked","facility":"66-TYT-001"}`)

func benchKey(i int64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(i))
	return k[:]
}

func lastTxID(b *testing.B, db *bolt.DB) int {
	b.Helper()
	var id int
	if err := db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		b.Fatal(err)
	}
	return id
}

// runWriters runs b.N operations spread over n goroutines and reports
// operations per second and per commit.
func runWriters(b *testing.B, db *bolt.DB, n int, do func(i int64) error) {
	b.Helper()
	var next atomic.Int64
	tx0 := lastTxID(b, db)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := do(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	if commits := lastTxID(b, db) - tx0; commits > 0 {
		b.ReportMetric(float64(b.N)/float64(commits), "ops/commit")
	}
}

func openBench(b *testing.B) *DB {
	b.Helper()
	db, err := Open(filepath.Join(b.TempDir(), "node.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return db
}

// BenchmarkUpdateParallel: 64 goroutines, each Update one small Put, with
// fsync on (the default). Group commit shares one fsync per batch.
func BenchmarkUpdateParallel(b *testing.B) {
	db := openBench(b)
	ctx := context.Background()
	runWriters(b, db.bolt, benchWriters, func(i int64) error {
		return db.Update(ctx, func(tx *Tx) error {
			return tx.Put(BucketRecords, string(benchKey(i)), benchValue)
		})
	})
}

// BenchmarkUpdateSerial: one goroutine, one Put per Update; every Update
// pays its own commit (and no batching delay).
func BenchmarkUpdateSerial(b *testing.B) {
	db := openBench(b)
	ctx := context.Background()
	runWriters(b, db.bolt, 1, func(i int64) error {
		return db.Update(ctx, func(tx *Tx) error {
			return tx.Put(BucketRecords, string(benchKey(i)), benchValue)
		})
	})
}

// BenchmarkBareBoltBatch is the floor to compare BenchmarkUpdateParallel
// with: the same puts straight through bbolt's own Batch, tuned as
// PITFALLS.md recommends (MaxBatchSize 64, MaxBatchDelay 2 ms, map
// freelist), on a separate file.
func BenchmarkBareBoltBatch(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bare.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 64 << 20,
		Timeout:         time.Second,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	db.MaxBatchSize = benchWriters
	db.MaxBatchDelay = 2 * time.Millisecond
	bucket := []byte("records")
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket(bucket)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	runWriters(b, db, benchWriters, func(i int64) error {
		return db.Batch(func(tx *bolt.Tx) error {
			return tx.Bucket(bucket).Put(benchKey(i), append([]byte{1}, benchValue...))
		})
	})
}
