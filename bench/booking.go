package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
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
	dir := filepath.Join(tmp, "node")
	cfg, err := fullNode(ctx, dir, o)
	if err != nil {
		return nil, err
	}
	// The child node serves a copy of the same province, made before any
	// booking: one seat source serves both, and hands each seat out once.
	exe := moinhaExe(o)
	var notes []string
	if exe != "" {
		if err := copyDir(dir, filepath.Join(tmp, "child")); err != nil {
			return nil, err
		}
	} else {
		notes = append(notes, "not running under the moinha binary: the lean client's node is the in-process one, in this "+
			"process (run `moinha bench booking` for the child-process figure)")
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

	leanAddr, nodePID := n.HTTPAddr(), "" // nodePID "": the node is this process
	if exe != "" {
		child, err := startChild(ctx, exe, filepath.Join(tmp, "child"))
		if err != nil {
			return nil, err
		}
		defer child.stop()
		leanAddr, nodePID = child.addr, strconv.Itoa(child.cmd.Process.Pid)
	}
	lean := newLeanClient(leanAddr, o.Clients)
	defer lean.close()
	hb := newHTTPBooker(n.URL(), o.Clients)
	defer hb.close()
	inProc := func(ctx context.Context, s seat) error {
		_, err := n.Booking().Book(ctx, "resident", bookRequest(s))
		return err
	}

	type phase struct {
		name string
		do   func(context.Context, seat) error
		pid  string // the node's process when it is not this one
		out  []phaseResult
	}
	phases := []*phase{
		{name: "http", do: lean.book, pid: nodePID}, // node in a child process, lean client here
		{name: "http_shared", do: hb.book},          // node and net/http client in this process
		{name: "in_process", do: inProc},
	}
	var rBolt []phaseResult
	valueSize := 0
	for run := range o.Runs {
		for _, p := range phases {
			batch, err := seats.take(perPhase)
			if err != nil {
				return nil, err
			}
			r, err := runPhaseCPU(ctx, o.Clients, o.Duration, batch, p.do, p.pid)
			if err != nil {
				return nil, err
			}
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
			p.out = append(p.out, r)
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

	where := "a child process `moinha run` (" + exe + ")"
	if exe == "" {
		where = "this process"
	}
	res := &Result{
		Scenario: "booking",
		Setup: fmt.Sprintf("province %s, full sample (%d facilities with schedules), fsync on, %d clients, %s per phase, GOMAXPROCS %d, median of %d runs. "+
			"http: the node in %s, driven by a lean HTTP/1.1 client in the bench process (one kept-alive connection per client, "+
			"request written from a reused buffer, headers parsed by hand, body discarded; a 201 counts); "+
			"http_shared: node and net/http client in the bench process (the former figure); in_process: booking.Book from %d goroutines; "+
			"cpu: CPU time (user+system) per booking of the node's and the client's process, µs (in one process: both); "+
			"bare bbolt: one %d-byte put per Batch (the size of an appointment record and its audit entry), MaxBatchSize %d, MaxBatchDelay 2ms, map freelist",
			benchProvince, len(seats.facilities), o.Clients, o.Duration, runtime.GOMAXPROCS(0), o.Runs, where, o.Clients, valueSize, o.Clients),
		Notes: notes,
	}
	bare := &phase{name: "bare_bbolt", out: rBolt}
	for _, p := range append(phases, bare) {
		f := figure(p.name+".throughput", "bookings/s", mapRuns(p.out, phaseResult.perSecond))
		if p.name == "http" {
			f = withGoal(f, true, 5000)
		}
		res.Figures = append(res.Figures, f,
			figure(p.name+".p50", "ms", mapRuns(p.out, func(r phaseResult) float64 { return r.p50 })),
			figure(p.name+".p99", "ms", mapRuns(p.out, func(r phaseResult) float64 { return r.p99 })))
		if p == bare {
			continue
		}
		if p.pid != "" {
			res.Figures = append(res.Figures,
				figure(p.name+".cpu.node", "µs/booking", mapRuns(p.out, func(r phaseResult) float64 { return r.cpuPer(r.nodeCPU) })),
				figure(p.name+".cpu.client", "µs/booking", mapRuns(p.out, func(r phaseResult) float64 { return r.cpuPer(r.selfCPU) })))
		} else {
			res.Figures = append(res.Figures,
				figure(p.name+".cpu", "µs/booking", mapRuns(p.out, func(r phaseResult) float64 { return r.cpuPer(r.selfCPU) })))
		}
	}
	ratio := func(a, b []phaseResult) []float64 {
		out := make([]float64, len(a))
		for i := range a {
			out[i] = a[i].perSecond() / b[i].perSecond()
		}
		return out
	}
	for _, p := range phases {
		res.Figures = append(res.Figures, figure("ratio."+p.name+"_vs_bare", "x", ratio(p.out, rBolt)))
	}
	return res, nil
}

// runPhaseCPU is runPhase, with the CPU time this process and (when pid
// is not "") the node's process spent during it.
func runPhaseCPU(ctx context.Context, clients int, dur time.Duration, seats []seat, do func(context.Context, seat) error, pid string) (phaseResult, error) {
	cpu := func() (self, node time.Duration, err error) {
		if self, err = procCPU("self"); err != nil || pid == "" {
			return self, 0, err
		}
		node, err = procCPU(pid)
		return self, node, err
	}
	self0, node0, err := cpu()
	if err != nil {
		return phaseResult{}, err
	}
	r := runPhase(ctx, clients, dur, seats, do)
	self1, node1, err := cpu()
	r.selfCPU, r.nodeCPU = self1-self0, node1-node0
	return r, err
}

// procCPU is the user+system CPU time of a process ("self" for this one),
// from /proc/PID/stat (clock ticks of 10 ms).
func procCPU(pid string) (time.Duration, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0, fmt.Errorf("read CPU time (Linux only): %w", err)
	}
	// The command name (field 2) may hold spaces; the fields after it do not.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%s/stat: unexpected format", pid)
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%s/stat: unexpected format", pid)
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(utime+stime) * tick, nil
}

// copyDir copies the regular files of src (not its subdirectories) into
// a new directory dst, with their modes.
func copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.Mkdir(dst, 0o700); err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		raw, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), raw, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
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
	// selfCPU and nodeCPU are the CPU time this process and the node's
	// child process (if any) spent during the phase.
	selfCPU, nodeCPU time.Duration
}

// cpuPer is d per successful booking, in µs.
func (r phaseResult) cpuPer(d time.Duration) float64 {
	if r.ok == 0 {
		return 0
	}
	return float64(d) / float64(time.Microsecond) / float64(r.ok)
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

// leanClient books through POST /api/v1/appointments as a cheap load
// generator on another machine would: one kept-alive HTTP/1.1 connection
// per client; each request (the same JSON body as bookRequest's) written
// from a reused buffer; the status line and headers parsed by hand
// (Content-Length, chunked, Connection: close); the body discarded. A 201
// counts; anything else is an error with the start of the body.
type leanClient struct {
	addr  string
	conns chan *leanConn // idle connections, one per client
}

type leanConn struct {
	c        net.Conn // nil until dialled, and after an I/O error
	r        *bufio.Reader
	req, msg []byte
}

func newLeanClient(addr string, clients int) *leanClient {
	lc := &leanClient{addr: addr, conns: make(chan *leanConn, clients)}
	for range clients {
		lc.conns <- &leanConn{}
	}
	return lc
}

func (lc *leanClient) close() {
	for range cap(lc.conns) {
		if c := <-lc.conns; c.c != nil {
			_ = c.c.Close()
		}
	}
}

// leanTimeout bounds one request of the lean client.
const leanTimeout = time.Minute

func (lc *leanClient) book(ctx context.Context, s seat) error {
	var c *leanConn
	select {
	case c = <-lc.conns:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { lc.conns <- c }()
	if c.c == nil {
		conn, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", lc.addr)
		if err != nil {
			return err
		}
		c.c = conn
		if c.r == nil {
			c.r = bufio.NewReaderSize(conn, 4096)
		} else {
			c.r.Reset(conn)
		}
	}
	status, keep, err := c.roundTrip(lc.addr, s)
	if err != nil || !keep {
		_ = c.c.Close()
		c.c = nil
	}
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return fmt.Errorf("%d %s: %s", status, http.StatusText(status), bytes.TrimSpace(c.msg))
	}
	return nil
}

// appendLeanBody appends bookRequest(s) as json.Marshal writes it.
func appendLeanBody(dst []byte, s seat) []byte {
	r := bookRequest(s)
	dst = append(dst, `{"facility":`...)
	dst = appendJSONString(dst, r.Facility)
	dst = append(dst, `,"start":"`...)
	dst = r.Start.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","name":`...)
	dst = appendJSONString(dst, r.Name)
	dst = append(dst, `,"phone":`...)
	dst = appendJSONString(dst, r.Phone)
	dst = append(dst, `,"reason":`...)
	dst = appendJSONString(dst, r.Reason)
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string; the strings of the benchmark
// (IDs, the sample's names) need no escaping, anything else goes through
// encoding/json.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c == 0xe2 {
			raw, _ := json.Marshal(s)
			return append(dst, raw...)
		}
	}
	return append(append(append(dst, '"'), s...), '"')
}

// roundTrip writes one booking request and reads the response: its status,
// whether the connection may be reused, and (in c.msg) up to 512 bytes of
// the body when the status is not 201.
func (c *leanConn) roundTrip(addr string, s seat) (status int, keep bool, err error) {
	if err := c.c.SetDeadline(time.Now().Add(leanTimeout)); err != nil {
		return 0, false, err
	}
	c.msg = appendLeanBody(c.msg[:0], s)
	c.req = append(c.req[:0], "POST /api/v1/appointments HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, addr...)
	c.req = append(c.req, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	c.req = strconv.AppendInt(c.req, int64(len(c.msg)), 10)
	c.req = append(c.req, "\r\n\r\n"...)
	c.req = append(c.req, c.msg...)
	if _, err := c.c.Write(c.req); err != nil {
		return 0, false, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("malformed status line %.40q", line)
	}
	status, ok := atoiBytes(line[9:12])
	if !ok {
		return 0, false, fmt.Errorf("malformed status line %.40q", line)
	}
	length, chunked, keep := -1, false, true
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, _ := bytes.Cut(h, []byte(":"))
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, ok = atoiBytes(v); !ok {
				return 0, false, fmt.Errorf("malformed Content-Length %.20q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			keep = !bytes.EqualFold(v, []byte("close"))
		}
	}
	c.msg = c.msg[:0]
	switch {
	case chunked:
		for {
			line, err := c.r.ReadSlice('\n')
			if err != nil {
				return 0, false, err
			}
			size, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.SplitN(line, []byte(";"), 2)[0])), 16, 32)
			if err != nil || size < 0 {
				return 0, false, fmt.Errorf("malformed chunk size %.20q", line)
			}
			if err := c.body(int(size), status); err != nil {
				return 0, false, err
			}
			if size == 0 {
				break
			}
			if _, err := c.r.Discard(2); err != nil { // the chunk's CRLF
				return 0, false, err
			}
		}
		for { // trailer, up to the empty line
			h, err := c.r.ReadSlice('\n')
			if err != nil {
				return 0, false, err
			}
			if len(bytes.TrimRight(h, "\r\n")) == 0 {
				break
			}
		}
	case length >= 0:
		if err := c.body(length, status); err != nil {
			return 0, false, err
		}
	default: // the body runs to the end of the connection
		rest, err := io.ReadAll(io.LimitReader(c.r, 1<<20))
		c.msg = append(c.msg, rest[:min(len(rest), 512)]...)
		return status, false, err
	}
	return status, keep, nil
}

// body consumes n bytes of the response body, keeping up to 512 of them
// in c.msg unless status is 201.
func (c *leanConn) body(n, status int) error {
	if status != http.StatusCreated && len(c.msg) < 512 {
		k := min(n, 512-len(c.msg))
		start := len(c.msg)
		c.msg = append(c.msg, make([]byte, k)...)
		if _, err := io.ReadFull(c.r, c.msg[start:]); err != nil {
			return err
		}
		n -= k
	}
	_, err := c.r.Discard(n)
	return err
}

// atoiBytes parses a non-negative decimal number of at most 9 digits.
func atoiBytes(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

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
