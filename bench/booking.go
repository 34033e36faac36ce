package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/node"
	"github.com/moinha/moinha/storage"
)

// benchProvince is the province every scenario initialises (Đắk Lắk).
const benchProvince = "66"

// maxRate bounds the bookings/s a phase can reach; it sizes the seats
// handed to one phase. Twice the bare bbolt floor of PITFALLS.md.
const maxRate = 25000

// fullNode initialises a full-size sample province in dir and returns its
// config (durable: fsync on), ready for node.New.
func fullNode(ctx context.Context, dir string, o Options) (node.Config, error) {
	if _, err := node.Init(ctx, node.InitOptions{DataDir: dir, Province: benchProvince, Sample: true, Full: true}); err != nil {
		return node.Config{}, err
	}
	cfg, err := node.LoadConfig(dir)
	if err != nil {
		return node.Config{}, err
	}
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Logger = o.Logger
	return cfg, nil
}

func runBooking(ctx context.Context, o Options) (*Result, error) {
	tmp, err := os.MkdirTemp("", "moinha-bench-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cfg, err := fullNode(ctx, filepath.Join(tmp, "node"), o)
	if err != nil {
		return nil, err
	}
	n, err := node.New(cfg)
	if err != nil {
		return nil, err
	}
	defer n.Close()
	if err := n.Start(ctx); err != nil {
		return nil, err
	}
	seats, err := newSeatSource(n)
	if err != nil {
		return nil, err
	}
	perPhase := int(float64(maxRate) * o.Duration.Seconds())

	hb := newHTTPBooker(n.URL(), o.Clients)
	defer hb.close()
	inProc := func(ctx context.Context, s seat) error {
		_, err := n.Booking().Book(ctx, "resident", bookRequest(s))
		return err
	}

	var rHTTP, rProc, rBolt []phaseResult
	var notes []string
	valueSize := 0
	for run := range o.Runs {
		for _, p := range []struct {
			name string
			do   func(context.Context, seat) error
			out  *[]phaseResult
		}{{"http", hb.book, &rHTTP}, {"in-process", inProc, &rProc}} {
			batch, err := seats.take(perPhase)
			if err != nil {
				return nil, err
			}
			r := runPhase(ctx, o.Clients, o.Duration, batch, p.do)
			o.Logger.Info("bench: booking phase", "run", run, "path", p.name, "ok", r.ok, "errors", r.errors, "per_s", r.perSecond())
			if r.ok == 0 {
				return nil, fmt.Errorf("%s: no booking succeeded: %v", p.name, r.firstErr)
			}
			if r.errors > 0 {
				notes = append(notes, fmt.Sprintf("run %d, %s: %d failed bookings (first: %v)", run+1, p.name, r.errors, r.firstErr))
			}
			if r.exhausted {
				notes = append(notes, fmt.Sprintf("run %d, %s: ran out of free seats before the phase ended", run+1, p.name))
			}
			*p.out = append(*p.out, r)
		}
		if valueSize == 0 {
			if valueSize, err = bookingBytes(n.DB()); err != nil {
				return nil, err
			}
		}
		r, err := bareBoltPhase(ctx, filepath.Join(tmp, fmt.Sprintf("bare-%d.db", run)), valueSize, o.Clients, o.Duration)
		if err != nil {
			return nil, err
		}
		o.Logger.Info("bench: booking phase", "run", run, "path", "bare bbolt", "ok", r.ok, "per_s", r.perSecond())
		rBolt = append(rBolt, r)
	}

	res := &Result{
		Scenario: "booking",
		Setup: fmt.Sprintf("province %s, full sample (%d facilities with schedules), fsync on, %d clients, %s per phase, GOMAXPROCS %d, median of %d runs; bare bbolt: one %d-byte put per Batch (the size of an appointment record and its audit entry), MaxBatchSize %d, MaxBatchDelay 2ms, map freelist",
			benchProvince, len(seats.facilities), o.Clients, o.Duration, runtime.GOMAXPROCS(0), o.Runs, valueSize, o.Clients),
		Notes: notes,
	}
	for _, p := range []struct {
		name string
		rs   []phaseResult
	}{{"http", rHTTP}, {"in_process", rProc}, {"bare_bbolt", rBolt}} {
		f := figure(p.name+".throughput", "bookings/s", mapRuns(p.rs, phaseResult.perSecond))
		if p.name == "http" {
			f = withGoal(f, true, 5000)
		}
		res.Figures = append(res.Figures, f,
			figure(p.name+".p50", "ms", mapRuns(p.rs, func(r phaseResult) float64 { return r.p50 })),
			figure(p.name+".p99", "ms", mapRuns(p.rs, func(r phaseResult) float64 { return r.p99 })))
	}
	ratio := func(a, b []phaseResult) []float64 {
		out := make([]float64, len(a))
		for i := range a {
			out[i] = a[i].perSecond() / b[i].perSecond()
		}
		return out
	}
	res.Figures = append(res.Figures,
		figure("ratio.http_vs_bare", "x", ratio(rHTTP, rBolt)),
		figure("ratio.in_process_vs_bare", "x", ratio(rProc, rBolt)))
	return res, nil
}

func mapRuns(rs []phaseResult, f func(phaseResult) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

// seat is one free place in a slot: one booking.
type seat struct {
	facility string
	start    time.Time
}

var names = []string{"Nguyễn Thị Lan", "Trần Văn Hùng", "Lê Thị Hoa", "Phạm Văn Đức", "H'Hen Niê", "Y Sơn Êban", "Võ Thị Mai", "Đặng Quốc Bảo"}

func bookRequest(s seat) booking.BookRequest {
	return booking.BookRequest{Facility: s.facility, Start: s.start,
		Name: names[s.start.Minute()%len(names)], Phone: "0912 345 678", Reason: "khám sức khoẻ định kỳ"}
}

// seatSource hands out free seats from the schedules of this province's
// facilities, from tomorrow on, a day at a time, with the facilities of a
// day interleaved so that concurrent bookings spread over many slots.
type seatSource struct {
	n          *node.Node
	facilities []string
	loc        *time.Location
	today      time.Time
	day        int    // next day (offset from today) to expand
	empty      int    // consecutive days without a free seat
	pending    []seat // expanded, not yet handed out
}

func newSeatSource(n *node.Node) (*seatSource, error) {
	s := &seatSource{n: n, day: 1}
	cursor := ""
	for {
		fs, next, err := n.Directory().ListFacilities(directory.FacilityFilter{Province: n.Config().Province}, directory.MaxLimit, cursor)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if _, err := n.Booking().GetSchedule(f.ID); err == nil {
				s.facilities = append(s.facilities, f.ID)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(s.facilities) == 0 {
		return nil, errors.New("no facility of the sample has a booking schedule")
	}
	loc, err := n.Directory().BookableFacility(s.facilities[0])
	if err != nil {
		return nil, err
	}
	s.loc = loc
	s.today = time.Now().In(loc)
	return s, nil
}

// take returns up to want seats; fewer only when the schedules' horizon
// has no more.
func (s *seatSource) take(want int) ([]seat, error) {
	for len(s.pending) < want && s.empty < 14 && s.day <= booking.MaxHorizonDays {
		date := s.today.AddDate(0, 0, s.day).Format(time.DateOnly)
		s.day++
		per := make([][]seat, 0, len(s.facilities))
		total := 0
		for _, f := range s.facilities {
			slots, err := s.n.Booking().Slots(f, date)
			if err != nil {
				return nil, fmt.Errorf("slots of %s on %s: %w", f, date, err)
			}
			var fs []seat
			for _, sl := range slots {
				for range sl.Free {
					fs = append(fs, seat{facility: f, start: sl.Start})
				}
			}
			per = append(per, fs)
			total += len(fs)
		}
		if total == 0 {
			s.empty++
			continue
		}
		s.empty = 0
		for i := 0; total > 0; i++ {
			for j := range per {
				if i < len(per[j]) {
					s.pending = append(s.pending, per[j][i])
					total--
				}
			}
		}
	}
	k := min(want, len(s.pending))
	out := slices.Clone(s.pending[:k])
	s.pending = s.pending[k:]
	if len(out) == 0 {
		return nil, errors.New("the schedules have no free seats left")
	}
	return out, nil
}

// phaseResult is one timed phase: successes, failures and latencies.
type phaseResult struct {
	ok, errors int
	firstErr   error
	elapsed    time.Duration
	p50, p99   float64 // ms
	exhausted  bool    // the seats ran out before the duration
}

func (r phaseResult) perSecond() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// runPhase runs do from clients goroutines over seats (each used once)
// until dur has passed, the seats run out or ctx ends.
func runPhase(ctx context.Context, clients int, dur time.Duration, seats []seat, do func(context.Context, seat) error) phaseResult {
	var (
		next     atomic.Int64
		failures atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	lat := make([][]time.Duration, clients)
	start := time.Now()
	deadline := start.Add(dur)
	for w := range clients {
		lat[w] = make([]time.Duration, 0, len(seats)/clients+1)
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := next.Add(1) - 1
				if i >= int64(len(seats)) {
					return
				}
				t0 := time.Now()
				err := do(ctx, seats[i])
				d := time.Since(t0)
				if err != nil {
					failures.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				lat[w] = append(lat[w], d)
			}
		})
	}
	wg.Wait()
	r := phaseResult{elapsed: time.Since(start), errors: int(failures.Load()), firstErr: firstErr,
		exhausted: next.Load() >= int64(len(seats))}
	all := slices.Concat(lat...)
	slices.Sort(all)
	r.ok = len(all)
	r.p50, r.p99 = percentile(all, 50), percentile(all, 99)
	return r
}

// httpBooker books through POST /api/v1/appointments over kept-alive
// loopback connections, one per client.
type httpBooker struct {
	url string
	tr  *http.Transport
	c   *http.Client
}

func newHTTPBooker(base string, clients int) *httpBooker {
	tr := &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients,
		IdleConnTimeout: time.Minute, DisableCompression: true}
	return &httpBooker{url: base + "/api/v1/appointments", tr: tr, c: &http.Client{Transport: tr, Timeout: time.Minute}}
}

func (h *httpBooker) book(ctx context.Context, s seat) error {
	body, err := json.Marshal(bookRequest(s))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

func (h *httpBooker) close() { h.tr.CloseIdleConnections() }

// bookingBytes is the size of one stored appointment record plus its audit
// entry: the payload of the bare bbolt baseline.
func bookingBytes(db *storage.DB) (int, error) {
	size := 0
	err := db.View(func(tx *storage.Tx) error {
		for _, b := range []storage.Bucket{storage.BucketAppointments, storage.BucketAudit} {
			if err := tx.Scan(b, "", "", func(_ string, v storage.Value) error {
				size += len(v)
				return storage.ErrStop
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && size == 0 {
		err = errors.New("no appointment stored to size the baseline")
	}
	return size, err
}

// bareBoltPhase is the floor: 64 writers each putting one value of
// valueSize bytes under a random 32-character key through bbolt's Batch,
// fsync on, on its own file.
func bareBoltPhase(ctx context.Context, path string, valueSize, clients int, dur time.Duration) (phaseResult, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType,
		InitialMmapSize: 64 << 20, Timeout: time.Second})
	if err != nil {
		return phaseResult{}, err
	}
	defer db.Close()
	db.MaxBatchSize = clients
	db.MaxBatchDelay = 2 * time.Millisecond
	bucket := []byte("appointments")
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		return phaseResult{}, err
	}
	value := bytes.Repeat([]byte("x"), valueSize)
	seats := make([]seat, maxRate*int(dur.Seconds()+1))
	r := runPhase(ctx, clients, dur, seats, func(context.Context, seat) error {
		var raw [16]byte
		_, _ = rand.Read(raw[:])
		key := []byte(hex.EncodeToString(raw[:]))
		return db.Batch(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key, value) })
	})
	if r.ok == 0 {
		return r, fmt.Errorf("bare bbolt: no write succeeded: %v", r.firstErr)
	}
	return r, nil
}
