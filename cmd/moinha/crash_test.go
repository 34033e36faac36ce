package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/moinha/moinha/node"
	"github.com/moinha/moinha/storage"
)

// seat is one place in a slot of a facility.
type seat struct {
	Facility string
	Start    time.Time
	Day      string
}

// ack is a booking the node answered 201 to.
type ack struct {
	Code, Facility string
	Start          time.Time
}

// openSeats lists, through the API, the free seats of every commune
// station of province 66 on the next weekdays, and each station's capacity.
func openSeats(t *testing.T, base string, weekdays int) (seats []seat, capacity map[string]int) {
	t.Helper()
	capacity = map[string]int{}
	var stations []string
	cursor := ""
	for {
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			Next string `json:"next"`
		}
		api(t, http.DefaultClient, "GET", base+"/api/v1/facilities?province=66&level=commune_health_station&limit=100&cursor="+cursor, "", nil, http.StatusOK, &page)
		for _, f := range page.Items {
			stations = append(stations, f.ID)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	require.NotEmpty(t, stations)
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	require.NoError(t, err)
	for _, id := range stations {
		var sc struct {
			Capacity int `json:"capacity"`
		}
		status, raw := apiRaw(t, http.DefaultClient, "GET", base+"/api/v1/facilities/"+id+"/schedule", "", nil)
		if status == http.StatusNotFound {
			continue // takes no bookings
		}
		require.Equal(t, http.StatusOK, status, "%s", raw)
		require.NoError(t, json.Unmarshal(raw, &sc))
		capacity[id] = sc.Capacity
		day, found := time.Now().In(hcm), 0
		for found < weekdays {
			day = day.AddDate(0, 0, 1)
			if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
				continue
			}
			found++
			date := day.Format(time.DateOnly)
			var slots struct {
				Items []struct {
					Start time.Time `json:"start"`
					Free  int       `json:"free"`
				} `json:"items"`
			}
			api(t, http.DefaultClient, "GET", base+"/api/v1/facilities/"+id+"/slots?date="+date, "", nil, http.StatusOK, &slots)
			for _, s := range slots.Items {
				for range s.Free {
					seats = append(seats, seat{id, s.Start, date})
				}
			}
		}
	}
	require.NotEmpty(t, seats, "no free seats in the sample's schedules")
	return seats, capacity
}

// TestCrashKeepsAcknowledgedBookings: a node in a child process takes
// bookings from 32 clients at full speed and is killed with SIGKILL after
// a few hundred acknowledgements. Restarted on the same data directory,
// it has every booking it acknowledged, and no slot holds more than its
// capacity.
func TestCrashKeepsAcknowledgedBookings(t *testing.T) {
	dir, password := initNode(t)
	p := startNode(t, dir)
	const clients, killAfter, pool, offers = 32, 400, 600, 3
	seats, capacity := openSeats(t, p.url, 10)
	// A random pool of slots, each seat offered three times, so that
	// clients race for the last seats of slots and the capacity check runs
	// under load: about pool bookings can succeed, twice as many are full.
	seed := uint64(time.Now().UnixNano())
	rng := mrand.New(mrand.NewPCG(seed, 0))
	t.Logf("%d free seats at %d stations; shuffle seed %d", len(seats), len(capacity), seed)
	// Whole slots (every free seat of each), picked at random.
	slots := map[string][]seat{}
	var keys []string
	for _, s := range seats {
		k := s.Facility + "/" + s.Start.UTC().Format(time.RFC3339)
		if slots[k] == nil {
			keys = append(keys, k)
		}
		slots[k] = append(slots[k], s)
	}
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	seats = seats[:0]
	for _, k := range keys {
		if len(seats) >= pool {
			break
		}
		seats = append(seats, slots[k]...)
	}
	require.GreaterOrEqual(t, len(seats), pool)
	var attempts []seat
	for range offers {
		attempts = append(attempts, seats...)
	}
	rng.Shuffle(len(attempts), func(i, j int) { attempts[i], attempts[j] = attempts[j], attempts[i] })

	var (
		next     atomic.Int64
		stop     atomic.Bool
		acked    atomic.Int64
		mu       sync.Mutex // guards acks, full, lost, odd
		acks     []ack
		full     int
		lost     int      // requests cut off by the kill (outcome unknown)
		odd      []string // any other answer
		wg       sync.WaitGroup
		tr       = &http.Transport{MaxIdleConnsPerHost: clients}
		hc       = &http.Client{Transport: tr, Timeout: 30 * time.Second}
		bookings = p.url + "/api/v1/appointments"
	)
	t.Cleanup(tr.CloseIdleConnections)
	for range clients {
		wg.Go(func() {
			for !stop.Load() {
				i := next.Add(1) - 1
				if i >= int64(len(attempts)) {
					return
				}
				s := attempts[i]
				body, _ := json.Marshal(map[string]any{"facility": s.Facility, "start": s.Start,
					"name": "Y Khu Niê", "phone": "0905 123 456", "reason": "tái khám"})
				resp, err := hc.Post(bookings, "application/json", bytes.NewReader(body))
				if err != nil {
					mu.Lock()
					lost++
					mu.Unlock()
					continue
				}
				raw, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				switch {
				case rerr != nil:
					lost++
				case resp.StatusCode == http.StatusCreated:
					var a struct {
						Code     string    `json:"code"`
						Status   string    `json:"status"`
						Facility string    `json:"facility"`
						Start    time.Time `json:"start"`
					}
					if err := json.Unmarshal(raw, &a); err != nil || a.Code == "" || a.Status != "booked" {
						odd = append(odd, "201 with "+string(raw))
						break
					}
					acks = append(acks, ack{a.Code, a.Facility, a.Start})
					acked.Add(1)
				case resp.StatusCode == http.StatusConflict && strings.Contains(string(raw), `"slot_full"`):
					full++
				default:
					odd = append(odd, resp.Status+" "+string(raw))
				}
				mu.Unlock()
			}
		})
	}
	require.Eventually(t, func() bool { return acked.Load() >= killAfter }, time.Minute, time.Millisecond,
		"only %d bookings acknowledged", acked.Load())
	p.kill() // kill -9, with bookings in flight
	stop.Store(true)
	wg.Wait()
	require.Error(t, p.waitErr, "the node was killed")
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, odd, "answers other than 201 and slot_full")
	t.Logf("%d acknowledged, %d refused as full, %d cut off by the kill", len(acks), full, lost)
	require.GreaterOrEqual(t, len(acks), killAfter)

	// Restart on the same data directory.
	p2 := startNode(t, dir)
	token := login(t, p2.url, "auditor", password)
	for _, a := range acks {
		var got struct {
			Code     string    `json:"code"`
			Status   string    `json:"status"`
			Facility string    `json:"facility"`
			Start    time.Time `json:"start"`
		}
		api(t, http.DefaultClient, "GET", p2.url+"/api/v1/appointments/"+a.Code, token, nil, http.StatusOK, &got)
		assert.Equal(t, "booked", got.Status, a.Code)
		assert.Equal(t, a.Facility, got.Facility, a.Code)
		assert.True(t, a.Start.Equal(got.Start), "%s: %s vs %s", a.Code, a.Start, got.Start)
	}

	// No slot over capacity; the slot counters agree with the desk lists.
	type facilityDay struct{ facility, day string }
	ackedAt := map[facilityDay]int{}
	ackedStart := map[string]facilityDay{}
	for _, s := range seats {
		ackedStart[s.Facility+"/"+s.Start.UTC().Format(time.RFC3339)] = facilityDay{s.Facility, s.Day}
	}
	for _, a := range acks {
		fd, ok := ackedStart[a.Facility+"/"+a.Start.UTC().Format(time.RFC3339)]
		require.True(t, ok, "booking %s is at a seat no client asked for", a.Code)
		ackedAt[fd]++
	}
	days := map[facilityDay]bool{}
	for _, s := range seats {
		days[facilityDay{s.Facility, s.Day}] = true
	}
	booked := 0
	for fd := range days {
		var desk struct {
			Items []struct {
				Status string    `json:"status"`
				Start  time.Time `json:"start"`
			} `json:"items"`
		}
		api(t, http.DefaultClient, "GET", p2.url+"/api/v1/appointments?facility="+fd.facility+"&date="+fd.day, token, nil, http.StatusOK, &desk)
		perSlot := map[string]int{}
		for _, a := range desk.Items {
			if a.Status != "cancelled" {
				perSlot[a.Start.UTC().Format(time.RFC3339)]++
				booked++
			}
		}
		total := 0
		for start, n := range perSlot {
			assert.LessOrEqual(t, n, capacity[fd.facility], "%s %s over capacity", fd.facility, start)
			total += n
		}
		assert.GreaterOrEqual(t, total, ackedAt[fd], "%s on %s lost bookings", fd.facility, fd.day)
		if total == 0 {
			continue
		}
		var slots struct {
			Items []struct {
				Start time.Time `json:"start"`
				Free  int       `json:"free"`
			} `json:"items"`
		}
		api(t, http.DefaultClient, "GET", p2.url+"/api/v1/facilities/"+fd.facility+"/slots?date="+fd.day, "", nil, http.StatusOK, &slots)
		for _, s := range slots.Items {
			assert.Equal(t, capacity[fd.facility]-perSlot[s.Start.UTC().Format(time.RFC3339)], s.Free,
				"%s %s: the slot counter disagrees with the appointments", fd.facility, s.Start)
		}
	}
	assert.GreaterOrEqual(t, booked, len(acks))
	assert.LessOrEqual(t, booked, len(acks)+lost, "bookings nobody was told about came only from cut-off requests")

	// A clean stop, and the audit chain of the file verifies.
	p2.stop(t)
	db, err := storage.Open(filepath.Join(dir, node.DBFile), &storage.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	n, err := db.VerifyAudit()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, len(acks))
}

// TestRunRefusesBadDataFile: `moinha run` on a damaged or foreign data
// file, or on a data directory another node holds, exits non-zero with a
// clear message and no panic.
func TestRunRefusesBadDataFile(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, dir, db string)
		want   string
	}{
		{"random bytes", func(t *testing.T, _, db string) {
			junk := make([]byte, 256<<10)
			_, _ = rand.Read(junk)
			require.NoError(t, os.WriteFile(db, junk, 0o600))
		}, "corrupt"},
		{"truncated", func(t *testing.T, _, db string) {
			// bbolt grows the file ahead of use; cut into the pages in use.
			require.NoError(t, os.Truncate(db, 64<<10))
		}, "corrupt"},
		{"foreign bbolt file", func(t *testing.T, _, db string) {
			require.NoError(t, os.Remove(db))
			b, err := bolt.Open(db, 0o600, &bolt.Options{Timeout: time.Second})
			require.NoError(t, err)
			require.NoError(t, b.Update(func(tx *bolt.Tx) error {
				bk, err := tx.CreateBucket([]byte("widgets"))
				if err != nil {
					return err
				}
				return bk.Put([]byte("a"), []byte("b"))
			}))
			require.NoError(t, b.Close())
		}, "not a Mọi Nhà data file"},
		{"held by a running node", func(t *testing.T, dir, _ string) {
			startNode(t, dir)
		}, "in use by another process"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			mustMoinha(t, "", "init", "--data", dir, "--province", "66", "--sample")
			c.damage(t, dir, filepath.Join(dir, node.DBFile))
			_, stderr, err := moinha(t, "", "run", "--data", dir, "--http", "127.0.0.1:0")
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "run must fail; stderr: %s", stderr)
			assert.Equal(t, 1, exit.ExitCode())
			assert.Contains(t, stderr, c.want)
			assert.Contains(t, stderr, "moinha: ")
			for _, bad := range []string{"panic", "goroutine ", ".go:", "SIGBUS", "SIGSEGV"} {
				assert.NotContains(t, stderr, bad)
			}
		})
	}
}
