package testnet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/booking"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/stats"
	"github.com/moinha/moinha/federation"
	"github.com/moinha/moinha/node"
	"github.com/moinha/moinha/storage"
	"github.com/moinha/moinha/testnet"
	"github.com/moinha/moinha/testnet/testnettest"
)

// api is a small JSON client for one node.
type api struct {
	t     *testing.T
	base  string
	token string
	c     *http.Client
}

func newAPI(t *testing.T, nd *testnet.Node, user string) *api {
	t.Helper()
	a := &api{t: t, base: nd.URL(), c: &http.Client{Timeout: 30 * time.Second}}
	if user != "" {
		var out struct {
			Token string `json:"token"`
		}
		status := a.do("POST", "/api/v1/login", map[string]string{"username": user, "password": nd.Users[user]}, &out)
		require.Equal(t, http.StatusOK, status)
		a.token = out.Token
	}
	return a
}

// do sends body as JSON and decodes a 2xx answer into out; it returns
// the status.
func (a *api) do(method, path string, body, out any) int {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(a.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, a.base+path, rd)
	require.NoError(a.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	res, err := a.c.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	if res.StatusCode/100 == 2 && out != nil {
		require.NoError(a.t, json.Unmarshal(raw, out), "%s", raw)
	}
	if res.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		if p, ok := out.(*string); ok {
			*p = e.Error.Code
		}
	}
	return res.StatusCode
}

// visits is one facility's share of the workload.
type visits struct {
	booked, checkIns, noShows, cancels int
}

// patient is a resident of the workload: what must never reach the observer.
type patient struct{ name, phone, id, code string }

// runWorkload books, checks in, cancels and records no-shows at facility
// through the province node's API (the no-shows' appointments are booked
// with a clock an hour behind, so that their start has passed now).
func runWorkload(t *testing.T, nd *testnet.Node, facility string, v visits, tag string) []patient {
	t.Helper()
	ctx := context.Background()
	all := map[string][]booking.Interval{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		all[d] = []booking.Interval{{Open: "00:00", Close: "24:00"}}
	}
	_, err := nd.Booking().PutSchedule(ctx, "admin", booking.Schedule{Facility: facility, SlotMinutes: 5, Capacity: 100, Hours: all})
	require.NoError(t, err)
	resident, staff := newAPI(t, nd, ""), newAPI(t, nd, "staff")
	var out []patient
	book := func(i int, via *booking.Service, start time.Time) booking.Appointment {
		p := patient{name: fmt.Sprintf("Trần Thị ZQXPATIENT%s%02d", tag, i), phone: fmt.Sprintf("0987%s%04d", tag, i)}
		var a booking.Appointment
		if via != nil {
			var err error
			a, err = via.Book(ctx, "resident", booking.BookRequest{Facility: facility, Start: start, Name: p.name, Phone: p.phone})
			require.NoError(t, err)
		} else {
			status := resident.do("POST", "/api/v1/appointments", map[string]any{"facility": facility,
				"start": start.Format(time.RFC3339), "name": p.name, "phone": p.phone, "reason": "ho kéo dài " + tag}, &a)
			require.Equal(t, http.StatusCreated, status)
		}
		p.id, p.code = a.ID, a.Code
		out = append(out, p)
		return a
	}
	soon := time.Now().Add(10 * time.Minute).Truncate(5 * time.Minute)
	var booked []booking.Appointment
	for i := range v.booked {
		booked = append(booked, book(i, nil, soon))
	}
	for _, a := range booked[:v.checkIns] {
		require.Equal(t, http.StatusOK, staff.do("POST", "/api/v1/appointments/"+a.Code+"/arrive", nil, nil))
	}
	for _, a := range booked[v.checkIns : v.checkIns+v.cancels] {
		require.Equal(t, http.StatusOK, resident.do("POST", "/api/v1/appointments/"+a.Code+"/cancel", nil, nil))
	}
	hourAgo := nd.BookingWithClock(func() time.Time { return time.Now().Add(-time.Hour) })
	past := time.Now().Add(-50 * time.Minute).Truncate(5 * time.Minute)
	for i := range v.noShows {
		a := book(v.booked+i, hourAgo, past)
		require.Equal(t, http.StatusOK, staff.do("POST", "/api/v1/appointments/"+a.Code+"/noshow", nil, nil))
	}
	return out
}

// pickFacility returns a facility of the province at level, or at any
// level but a commune station when level is empty.
func pickFacility(t *testing.T, nd *testnet.Node, level consult.Level) directory.Facility {
	t.Helper()
	fs, _, err := nd.Directory().ListFacilities(directory.FacilityFilter{Province: nd.Province, Level: level}, 500, "")
	require.NoError(t, err)
	for _, f := range fs {
		if level != "" || f.Level != consult.CommuneHealthStation {
			return f
		}
	}
	t.Fatalf("province %s has no facility at level %q", nd.Province, level)
	return directory.Facility{}
}

// statsItems is the observer's GET /api/v1/network/stats, all pages.
type statsItem struct {
	Province string              `json:"province"`
	Day      string              `json:"day"`
	Levels   []stats.LevelReport `json:"levels"`
}

func observerStats(a *api, from, to string) map[string]statsItem {
	out := map[string]statsItem{}
	cursor := ""
	for {
		var page struct {
			Items []statsItem `json:"items"`
			Next  string      `json:"next"`
		}
		path := "/api/v1/network/stats?limit=500&from=" + from + "&to=" + to
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		require.Equal(a.t, http.StatusOK, a.do("GET", path, nil, &page))
		for _, it := range page.Items {
			out[it.Province+"/"+it.Day] = it
		}
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}

// cellKey names one published cell.
type cellKey struct {
	province, day string
	level         consult.Level
	metric        string
}

// ownTallies reads each province's own raw counts of days.
func ownTallies(t *testing.T, provinces []*testnet.Node, days []string) map[string]map[string]*stats.Tally {
	t.Helper()
	own := map[string]map[string]*stats.Tally{}
	for _, nd := range provinces {
		own[nd.Province] = map[string]*stats.Tally{}
		for _, day := range days {
			tl, err := nd.Stats().Tally(day)
			require.NoError(t, err)
			own[nd.Province][day] = tl
		}
	}
	return own
}

// cells lists every cell a province's own tally gives rise to, with the
// value it must be published as (nil when suppressed). A count is checked
// against its raw value here, independently of the publisher; minutes and
// medians, which are not counts, as the publisher derives them.
func cells(province, day string, tl *stats.Tally) map[cellKey]*int64 {
	out := map[cellKey]*int64{}
	for _, l := range stats.Publish(tl) {
		for m, p := range l.Values {
			k := cellKey{province, day, l.Level, m}
			raw, samples, _ := tl.Raw(l.Level, m)
			switch {
			case samples > 0 || strings.Contains(m, "minutes"):
				out[k] = p
			case stats.Suppressed(raw):
				out[k] = nil
			default:
				out[k] = &raw
			}
		}
	}
	return out
}

// matches reports whether the observer's reports hold exactly the
// provinces' own counts (suppressed where small), or the first difference.
func matches(obs map[string]statsItem, own map[string]map[string]*stats.Tally) (bool, string) {
	for province, byDay := range own {
		for day, tally := range byDay {
			want := cells(province, day, tally)
			it, ok := obs[province+"/"+day]
			if !ok {
				if len(want) == 0 {
					continue
				}
				return false, "no report of " + province + " for " + day
			}
			rep := stats.Report{Levels: it.Levels}
			for k, w := range want {
				v, sup, found := rep.Value(k.level, k.metric)
				switch {
				case !found:
					return false, fmt.Sprintf("%v missing", k)
				case w == nil && !sup:
					return false, fmt.Sprintf("%v should be suppressed, is %d", k, v)
				case w != nil && (sup || v != *w):
					return false, fmt.Sprintf("%v is %d (suppressed %v), want %d", k, v, sup, *w)
				}
			}
		}
	}
	return true, ""
}

// referAndAccept creates n referrals from one province to another through
// the API, has the target's doctor accept each, and waits until the
// referring province knows. It returns their patients.
func referAndAccept(t *testing.T, from, to *testnet.Node, n int, tag string) []patient {
	t.Helper()
	staff, doctor := newAPI(t, from, "staff"), newAPI(t, to, "doctor")
	var out []patient
	var ids []string
	for i := range n {
		p := patient{name: fmt.Sprintf("Lê Văn ZQXREFERRAL%s%02d", tag, i), phone: fmt.Sprintf("0966%s%04d", tag, i),
			id: fmt.Sprintf("0791720%s%03d", tag, i)}
		var created struct {
			ID string `json:"id"`
		}
		status := staff.do("POST", "/api/v1/referrals", map[string]any{
			"specialty": "cardiology", "urgency": "routine", "reason": "đau ngực khi gắng sức", "target_province": to.Province,
			"patient": map[string]any{"name": p.name, "phone": p.phone, "birth_year": 1970, "sex": "male", "id_number": p.id,
				"summary": "tăng huyết áp"},
		}, &created)
		require.Equal(t, http.StatusCreated, status)
		p.code = created.ID
		ids = append(ids, created.ID)
		out = append(out, p)
	}
	for _, id := range ids {
		testnettest.Eventually(t, waitLong, "offer reaches the target", func() (bool, error) {
			return doctor.do("POST", "/api/v1/referrals/"+id+"/accept", nil, nil)/100 == 2, nil
		})
	}
	for _, id := range ids {
		testnettest.Eventually(t, waitLong, "the referring province sees the acceptance", func() (bool, error) {
			var v struct {
				Status string `json:"status"`
			}
			return staff.do("GET", "/api/v1/referrals/"+id, nil, &v) == http.StatusOK && v.Status == "accepted", nil
		})
	}
	return out
}

func TestObserverStatsEqualProvinceCounts(t *testing.T) {
	net := testnettest.Start(t, testnet.Options{Provinces: 3, Observer: true})
	testnettest.WaitConverged(t, net, waitLong)
	provinces, obs := net.Nodes[:3], net.Nodes[3]
	require.Equal(t, "observer", obs.Role)

	// The workload: small and large cells at two levels in each province.
	workload := [][2]visits{
		{{booked: 9, checkIns: 6, noShows: 2, cancels: 1}, {booked: 3, checkIns: 1}},
		{{booked: 5, checkIns: 5, cancels: 0}, {booked: 7, checkIns: 0, noShows: 5, cancels: 2}},
		{{booked: 2}, {booked: 6, checkIns: 4, noShows: 7, cancels: 1}},
	}
	var patients []patient
	type facilityVisits struct {
		level consult.Level
		v     visits
	}
	planned := map[string][]facilityVisits{}
	for i, nd := range provinces {
		station, other := pickFacility(t, nd, consult.CommuneHealthStation), pickFacility(t, nd, "")
		patients = append(patients, runWorkload(t, nd, station.ID, workload[i][0], fmt.Sprintf("%d1", i))...)
		patients = append(patients, runWorkload(t, nd, other.ID, workload[i][1], fmt.Sprintf("%d2", i))...)
		planned[nd.Province] = []facilityVisits{{station.Level, workload[i][0]}, {other.Level, workload[i][1]}}
	}

	// Referrals: five from the first province to the second (published
	// cells), two back (suppressed ones).
	patients = append(patients, referAndAccept(t, provinces[0], provinces[1], 5, "01")...)
	patients = append(patients, referAndAccept(t, provinces[1], provinces[0], 2, "10")...)

	// The observer's statistics come to equal each province's own counts
	// (read afresh on every try: a referral's last counts may still be on
	// their way), small cells suppressed.
	days := slices.Compact([]string{stats.Day(time.Now().Add(-time.Hour)), stats.Day(time.Now())})
	observer := newAPI(t, obs, "observer")
	from, to := days[0], days[len(days)-1]
	var own map[string]map[string]*stats.Tally
	testnettest.Eventually(t, waitLong, "observer's stats equal the provinces' counts", func() (bool, error) {
		own = ownTallies(t, provinces, days)
		ok, _ := matches(observerStats(observer, from, to), own)
		return ok, nil
	})

	// The provinces' own counts are what the workload did, on the day it
	// did it (an hour ago may be yesterday).
	total := map[string]map[consult.Level]map[string]int64{}
	network := map[string]int64{}
	for province, byDay := range own {
		total[province] = map[consult.Level]map[string]int64{}
		for _, tl := range byDay {
			for _, l := range tl.Levels() {
				if total[province][l] == nil {
					total[province][l] = map[string]int64{}
				}
				for _, m := range []string{stats.MetricBookings, stats.MetricCheckIns, stats.MetricNoShows, stats.MetricCancellations} {
					total[province][l][m] += tl.Count(l, m)
				}
				for _, m := range []string{stats.MetricReferralsSent, stats.MetricReferralsReceived} {
					network[m] += tl.Count(l, m)
				}
			}
		}
	}
	for province, fvs := range planned {
		for _, fv := range fvs {
			assert.Equal(t, map[string]int64{
				stats.MetricBookings: int64(fv.v.booked + fv.v.noShows), stats.MetricCheckIns: int64(fv.v.checkIns),
				stats.MetricNoShows: int64(fv.v.noShows), stats.MetricCancellations: int64(fv.v.cancels),
			}, total[province][fv.level], "province %s, %s", province, fv.level)
		}
	}
	assert.Equal(t, map[string]int64{stats.MetricReferralsSent: 7, stats.MetricReferralsReceived: 7}, network)

	// Summed over the network, the observer's published cells equal the
	// provinces' own counts, except the suppressed ones.
	got := observerStats(observer, from, to)
	sums := map[cellKey]int64{} // by level and metric over provinces and days
	want := map[cellKey]int64{}
	suppressed := 0
	for province, byDay := range own {
		for day, tl := range byDay {
			rep := stats.Report{Levels: got[province+"/"+day].Levels}
			for k, w := range cells(province, day, tl) {
				if strings.Contains(k.metric, "minutes") {
					continue // not a count: not summed
				}
				sum := cellKey{level: k.level, metric: k.metric}
				if w != nil {
					want[sum] += *w
				} else {
					suppressed++
				}
				if v, sup, _ := rep.Value(k.level, k.metric); !sup {
					sums[sum] += v
				}
			}
		}
	}
	assert.Equal(t, want, sums, "observer's sums equal the provinces' own, except suppressed cells")
	assert.Positive(t, suppressed, "the workload has small cells")
	assert.Positive(t, want[cellKey{level: consult.CommuneHealthStation, metric: stats.MetricBookings}])

	// Every node serves the same network statistics.
	for _, nd := range provinces {
		ok, diff := matches(observerStats(newAPI(t, nd, "doctor"), from, to), own)
		assert.True(t, ok, "province %s: %s", nd.Province, diff)
	}

	// The observer is read-only: HTTP writes are refused and change nothing,
	// its federation stages nothing, and it published only its membership.
	admin := newAPI(t, obs, "admin")
	fCount, pCount, err := obs.Directory().Counts("BYT")
	require.NoError(t, err)
	station := pickFacility(t, provinces[0], consult.CommuneHealthStation)
	for _, w := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/facilities", map[string]any{"code": "OBS", "name": "Không được phép", "level": "health_centre"}},
		{"PUT", "/api/v1/availability/cardiology", map[string]any{"accepting": true, "capacity": 5, "wait_days": 1}},
		{"POST", "/api/v1/appointments", map[string]any{"facility": station.ID, "start": time.Now().Add(time.Hour).Truncate(5 * time.Minute).Format(time.RFC3339), "name": "Trần Văn Quan Sát", "phone": "0900000000"}},
		{"POST", "/api/v1/referrals/" + provinces[0].Province + "-R1/accept", map[string]any{}},
	} {
		var code string
		assert.Equal(t, http.StatusForbidden, admin.do(w.method, w.path, w.body, &code), "%s %s", w.method, w.path)
		assert.Equal(t, "observer_read_only", code, "%s %s", w.method, w.path)
	}
	f2, p2, err := obs.Directory().Counts("BYT")
	require.NoError(t, err)
	assert.Equal(t, [2]int{fCount, pCount}, [2]int{f2, p2})
	err = obs.DB().Update(context.Background(), func(tx *storage.Tx) error {
		return obs.Federation().Stage(tx, federation.KindStats, stats.Day(time.Now()), []byte(`{}`), false)
	})
	require.ErrorIs(t, err, federation.ErrObserver)
	obsPeer := obs.Federation().PeerID()
	for _, nd := range net.Nodes {
		for _, kind := range []string{federation.KindFacility, federation.KindPractitioner, federation.KindService,
			federation.KindAvailability, federation.KindStats, federation.KindLeave} {
			require.NoError(t, nd.Federation().Records(kind, func(r federation.Record) error {
				assert.NotEqual(t, obsPeer, r.Origin, "%s holds a %s record from the observer", nd.Province, kind)
				return nil
			}))
		}
	}

	// A province that stops is flagged as not reporting (and offline);
	// the others keep reporting.
	stopped := provinces[2].Province
	require.NoError(t, net.StopNode(2))
	testnettest.Eventually(t, waitLong, "stopped province flagged not reporting", func() (bool, error) {
		var page struct {
			Items []stats.Reporting `json:"items"`
		}
		if observer.do("GET", "/api/v1/network/reporting", nil, &page) != http.StatusOK {
			return false, nil
		}
		seen := 0
		for _, r := range page.Items {
			switch r.Province {
			case stopped:
				if !r.NotReporting || r.Online {
					return false, nil
				}
				seen++
			case provinces[0].Province, provinces[1].Province:
				if r.NotReporting || !r.Online || r.ReceivedDays == 0 {
					return false, nil
				}
				seen++
			case obs.Province:
				return false, fmt.Errorf("the observer is listed as a reporter")
			}
		}
		return seen == 3, nil
	})

	// No patient name, phone, appointment ID or booking code anywhere in
	// the observer's data file: every record it received is stored there.
	path := filepath.Join(obs.DataDir, node.DBFile)
	require.NoError(t, net.StopNode(3))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NotEmpty(t, patients)
	assert.NotContains(t, string(raw), "ZQXPATIENT")
	assert.NotContains(t, string(raw), "ho kéo dài")
	for _, p := range patients {
		for _, secret := range []string{p.name, p.phone, p.id, p.code, strings.ReplaceAll(p.code, "-", "")} {
			require.NotEmpty(t, secret)
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("the observer's data file holds patient data (%d bytes of it)", len(secret))
			}
		}
	}
	// The same scan finds them in a province's own file: the scan works.
	require.NoError(t, net.StopNode(0))
	own0, err := os.ReadFile(filepath.Join(provinces[0].DataDir, node.DBFile))
	require.NoError(t, err)
	assert.Contains(t, string(own0), patients[0].phone)
}
