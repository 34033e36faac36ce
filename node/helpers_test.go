package node_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/accounts"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/node"
	"github.com/moinha/moinha/storage"
)

// province is the sample province every test node runs (Đắk Lắk).
const province = "66"

// testClock is the booking calendar's clock: real time plus an offset the
// test can move.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Reset puts the clock back to real time.
func (c *testClock) Reset() { c.offset.Store(0) }

// testNode is a real node on 127.0.0.1 with the small sample province and
// the demo users admin, staff and doctor.
type testNode struct {
	*node.Node
	dir    string
	users  map[string]string // username → password
	clock  *testClock
	client *http.Client
	hcm    *time.Location
}

// lockedBuffer collects a node's log lines; the test prints them if it fails.
type lockedBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// initDir initialises a data directory with the small sample province.
func initDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	_, err := node.Init(context.Background(), node.InitOptions{DataDir: dir, Province: province, Sample: true})
	require.NoError(t, err)
	return dir
}

// openNode builds (but does not start) a node on dir, closed at cleanup.
func openNode(t testing.TB, dir string) (*node.Node, *lockedBuffer) {
	t.Helper()
	cfg, err := node.LoadConfig(dir)
	require.NoError(t, err)
	cfg.HTTPAddr = "127.0.0.1:0"
	logs := &lockedBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n, err := node.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, n.Close())
		if t.Failed() {
			t.Logf("node log:\n%s", logs.String())
		}
	})
	return n, logs
}

// newTestNode initialises, opens and starts a node in a temporary data
// directory; t.Cleanup closes it.
func newTestNode(t testing.TB) *testNode {
	t.Helper()
	dir := initDir(t)
	return startNode(t, dir)
}

// startNode opens and starts a node on an initialised dir, with demo users.
func startNode(t testing.TB, dir string) *testNode {
	t.Helper()
	n, _ := openNode(t, dir)
	clock := &testClock{}
	node.SetBookingClock(n, clock.Now)
	users, err := n.DemoUsers(context.Background())
	require.NoError(t, err)
	require.NoError(t, n.Start(context.Background()))
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	require.NoError(t, err)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &testNode{Node: n, dir: dir, users: users, clock: clock, hcm: hcm,
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// req describes one API call. body is sent as is when it is a string or
// []byte, else JSON-encoded; ctype defaults to application/json when
// there is a body.
type req struct {
	method, path, token string
	body                any
	ctype               string
	header              map[string]string
}

func (tn *testNode) do(t testing.TB, r req) response {
	t.Helper()
	return doOn(t, tn.client, tn.URL(), r)
}

func doOn(t testing.TB, c *http.Client, base string, r req) response {
	t.Helper()
	var rd io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	hr, err := http.NewRequestWithContext(context.Background(), r.method, base+r.path, rd)
	require.NoError(t, err)
	if rd != nil {
		ct := r.ctype
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := c.Do(hr)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// json decodes the body into v, failing on fields v does not have.
func (r response) json(t testing.TB, v any) {
	t.Helper()
	require.Contains(t, r.header.Get("Content-Type"), "application/json")
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), "body: %s", r.body)
}

// ok asserts the status and decodes the body into v (if not nil).
func (r response) ok(t testing.TB, status int, v any) {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	if v != nil {
		r.json(t, v)
	}
}

// apiError is API.md's error shape, exactly.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// fails asserts an error answer: the status, the exact JSON error shape
// and the stable code.
func (r response) fails(t testing.TB, status int, code string) apiError {
	t.Helper()
	assert.Equal(t, status, r.status, "body: %s", r.body)
	var e apiError
	r.json(t, &e)
	assert.Equal(t, code, e.Error.Code, "message: %s", e.Error.Message)
	assert.NotEmpty(t, e.Error.Message)
	return e
}

// login logs a demo user in and returns the token.
func (tn *testNode) login(t testing.TB, username string) string {
	t.Helper()
	var out struct {
		Token   string    `json:"token"`
		Expires time.Time `json:"expires"`
		User    struct {
			Username string       `json:"username"`
			Role     consult.Role `json:"role"`
			Facility string       `json:"facility"`
		} `json:"user"`
	}
	tn.do(t, req{method: "POST", path: "/api/v1/login",
		body: map[string]string{"username": username, "password": tn.users[username]}}).ok(t, http.StatusOK, &out)
	require.NotEmpty(t, out.Token)
	return out.Token
}

// jarClient is a client with a cookie jar, as a browser has.
func jarClient(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// staffStation is the facility the demo staff user works at.
func (tn *testNode) staffStation(t testing.TB) string {
	t.Helper()
	users, err := tn.Accounts().ListUsers()
	require.NoError(t, err)
	i := slices.IndexFunc(users, func(u accounts.User) bool { return u.Username == "staff" })
	require.GreaterOrEqual(t, i, 0)
	require.NotEmpty(t, users[i].Facility)
	return users[i].Facility
}

// nextWeekday is the date of the next given weekday after today (in the
// facility zone, by the test clock), YYYY-MM-DD.
func (tn *testNode) nextWeekday(wd time.Weekday) string {
	today := tn.clock.Now().In(tn.hcm)
	days := (int(wd) - int(today.Weekday()) + 7) % 7
	if days == 0 {
		days = 7
	}
	return today.AddDate(0, 0, days).Format(time.DateOnly)
}

// slot is API.md's slot shape.
type slot struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Free  int       `json:"free"`
}

func (tn *testNode) slots(t testing.TB, facility, date string) []slot {
	t.Helper()
	var out struct {
		Items []slot `json:"items"`
	}
	tn.do(t, req{method: "GET", path: "/api/v1/facilities/" + facility + "/slots?date=" + date}).ok(t, http.StatusOK, &out)
	return out.Items
}

// freeSlots returns the slots of facility on date with a free seat; it
// requires at least want of them.
func (tn *testNode) freeSlots(t testing.TB, facility, date string, want int) []slot {
	t.Helper()
	var out []slot
	for _, s := range tn.slots(t, facility, date) {
		if s.Free > 0 {
			out = append(out, s)
		}
	}
	require.GreaterOrEqual(t, len(out), want, "free slots of %s on %s", facility, date)
	return out
}

// appointment is API.md's appointment shape as the node renders it.
type appointment = booking.Appointment

func bookBody(facility string, start time.Time) map[string]any {
	return map[string]any{"facility": facility, "start": start.Format(time.RFC3339),
		"name": "Nguyễn Thị Lan", "phone": "0912 345 678", "reason": "khám thai"}
}

// book books a seat through the API and requires a 201.
func (tn *testNode) book(t testing.TB, facility string, start time.Time) appointment {
	t.Helper()
	var a appointment
	tn.do(t, req{method: "POST", path: "/api/v1/appointments", body: bookBody(facility, start)}).ok(t, http.StatusCreated, &a)
	return a
}

// state fingerprints what a refused request must not change.
type state struct {
	domain   string // digest of directory, schedules, appointments and their indexes, replication
	users    int
	sessions int
	audit    int
	appts    int
}

var domainBuckets = []storage.Bucket{
	storage.BucketFacilities, storage.BucketPractitioners, storage.BucketSchedules,
	storage.BucketAppointments, storage.BucketApptCodes, storage.BucketApptByDay, storage.BucketSlotUse,
	storage.BucketRecords, storage.BucketOutbox, storage.BucketSettings,
}

func snapshot(t testing.TB, db *storage.DB) state {
	t.Helper()
	var s state
	h := sha256.New()
	require.NoError(t, db.View(func(tx *storage.Tx) error {
		for _, b := range domainBuckets {
			h.Write([]byte(b))
			if err := tx.Scan(b, "", "", func(k string, v storage.Value) error {
				h.Write([]byte(k))
				h.Write(v)
				return nil
			}); err != nil {
				return err
			}
		}
		var err error
		if s.users, err = tx.Count(storage.BucketUsers, ""); err != nil {
			return err
		}
		if s.sessions, err = tx.Count(storage.BucketSessions, ""); err != nil {
			return err
		}
		if s.audit, err = tx.Count(storage.BucketAudit, ""); err != nil {
			return err
		}
		s.appts, err = tx.Count(storage.BucketAppointments, "")
		return err
	}))
	s.domain = hex.EncodeToString(h.Sum(nil))
	return s
}

// stations lists this province's commune health stations that take bookings.
func (tn *testNode) stations(t testing.TB) []directory.Facility {
	t.Helper()
	var out []directory.Facility
	cursor := ""
	for {
		fs, next, err := tn.Directory().ListFacilities(directory.FacilityFilter{Province: province, Level: consult.CommuneHealthStation}, 500, cursor)
		require.NoError(t, err)
		for _, f := range fs {
			if _, err := tn.Booking().GetSchedule(f.ID); err == nil {
				out = append(out, f)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	require.NotEmpty(t, out, "the sample has no commune station with a schedule")
	return out
}

// seat is one free place in a slot.
type seat struct {
	facility string
	start    time.Time
}

// seats returns at least want free seats over this province's stations,
// from tomorrow on, interleaving facilities.
func (tn *testNode) seats(t testing.TB, want int) []seat {
	t.Helper()
	stations := tn.stations(t)
	var out []seat
	today := tn.clock.Now().In(tn.hcm)
	for d := 1; len(out) < want && d <= 60; d++ {
		date := today.AddDate(0, 0, d).Format(time.DateOnly)
		per := make([][]seat, len(stations))
		longest := 0
		for i, f := range stations {
			slots, err := tn.Booking().Slots(f.ID, date)
			require.NoError(t, err)
			for _, s := range slots {
				for range s.Free {
					per[i] = append(per[i], seat{f.ID, s.Start})
				}
			}
			longest = max(longest, len(per[i]))
		}
		for k := range longest {
			for i := range per {
				if k < len(per[i]) {
					out = append(out, per[i][k])
				}
			}
		}
	}
	require.GreaterOrEqual(t, len(out), want, "not enough free seats in the sample's schedules")
	return out
}
