package node

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/stats"
)

// Network statistics: every member's published reports, as this node holds
// them (docs/api.md, "Network statistics"). Public network data: any user.

// maxStatsDays bounds the range of one statistics query.
const maxStatsDays = 366

// statsFilter is the query of the statistics routes.
type statsFilter struct {
	province string
	from, to string
	level    consult.Level
}

// parseStatsFilter reads ?province=&from=&to=&level=. The range defaults
// to the 30 days that end today (Vietnam's date).
func parseStatsFilter(r *http.Request, withLevel bool) (statsFilter, error) {
	q := r.URL.Query()
	f := statsFilter{province: q.Get("province"), from: q.Get("from"), to: q.Get("to")}
	if f.province != "" && !provinceCode.MatchString(f.province) {
		return f, consult.Invalid("province", "a province code is 1–8 letters or digits")
	}
	if f.to == "" {
		f.to = stats.Day(time.Now())
	}
	to, ok := stats.ParseDay(f.to)
	if !ok {
		return f, consult.Invalid("to", "want YYYY-MM-DD")
	}
	if f.from == "" {
		f.from = to.AddDate(0, 0, -29).Format(time.DateOnly)
	}
	from, ok := stats.ParseDay(f.from)
	switch {
	case !ok:
		return f, consult.Invalid("from", "want YYYY-MM-DD")
	case from.After(to):
		return f, consult.Invalid("from", "must not be after to")
	case to.Sub(from) >= maxStatsDays*24*time.Hour:
		return f, consult.Invalid("from", "a query covers at most %d days", maxStatsDays)
	}
	if l := consult.Level(q.Get("level")); withLevel && l != "" {
		if !stats.ValidLevel(l) {
			return f, consult.Invalid("level", "unknown facility level %.40q", l)
		}
		f.level = l
	}
	return f, nil
}

// statsItem is one province's report for one day.
type statsItem struct {
	Province        string               `json:"province"`
	Name            string               `json:"name,omitempty"`
	Day             string               `json:"day"`
	Reported        time.Time            `json:"reported"`
	IntervalSeconds int64                `json:"interval_seconds"`
	Version         string               `json:"version"`
	UptimeSeconds   int64                `json:"uptime_seconds"`
	Levels          []stats.LevelReport  `json:"levels"`
	Availability    []stats.Availability `json:"availability"`
}

type statsPage struct {
	From  string      `json:"from"`
	To    string      `json:"to"`
	Items []statsItem `json:"items"`
	Next  string      `json:"next,omitempty"`
}

// networkView is what the statistics routes need of the membership:
// province names, the revoked origins, and the members expected to report.
type networkView struct {
	names     map[string]string // province → name
	revoked   map[string]bool   // peer ID → revoked
	reporters []stats.Member
}

func (n *Node) networkView() networkView {
	v := networkView{names: map[string]string{}, revoked: map[string]bool{}}
	if n.fed == nil {
		v.names[n.cfg.Province] = n.cfg.Name
		if n.cfg.Role != "observer" {
			v.reporters = []stats.Member{{Province: n.cfg.Province, Name: n.cfg.Name, Role: n.cfg.Role, Online: true}}
		}
		return v
	}
	seen := map[string]int{} // province → index in reporters
	for _, m := range n.fed.Members() {
		if m.Revoked {
			v.revoked[m.Peer.String()] = true
			continue
		}
		if _, ok := v.names[m.Province]; !ok {
			v.names[m.Province] = m.Name
		}
		if m.Left || string(m.Role) == "observer" {
			continue
		}
		if i, ok := seen[m.Province]; ok {
			v.reporters[i].Online = v.reporters[i].Online || m.Online
			continue
		}
		seen[m.Province] = len(v.reporters)
		v.reporters = append(v.reporters, stats.Member{Province: m.Province, Name: m.Name, Role: string(m.Role), Online: m.Online})
	}
	return v
}

func (v networkView) skip(origin string) bool { return origin != "" && v.revoked[origin] }

// item renders a stored report, keeping only level when it is set.
func (v networkView) item(e stats.Entry, level consult.Level) statsItem {
	it := statsItem{Province: e.Province, Name: v.names[e.Province], Day: e.Day, Reported: e.Reported,
		IntervalSeconds: e.IntervalSeconds, Version: e.Version, UptimeSeconds: e.UptimeSeconds,
		Levels: []stats.LevelReport{}, Availability: e.Availability}
	for _, l := range e.Levels {
		if level == "" || l.Level == level {
			it.Levels = append(it.Levels, l)
		}
	}
	if it.Availability == nil {
		it.Availability = []stats.Availability{}
	}
	return it
}

// getNetworkStats serves GET /api/v1/network/stats: reports per province and
// day, each with its levels, as a list (?limit=&cursor=).
func (n *Node) getNetworkStats(w http.ResponseWriter, r *http.Request) {
	f, err := parseStatsFilter(r, true)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	limit, cursor, err := page(r)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	view := n.networkView()
	entries, next, err := n.stats.History(stats.Query{Province: f.province, From: f.from, To: f.to,
		Skip: view.skip, Limit: limit, Cursor: cursor})
	if err != nil {
		n.fail(w, r, err)
		return
	}
	out := statsPage{From: f.from, To: f.to, Items: make([]statsItem, 0, len(entries)), Next: next}
	for _, e := range entries {
		out.Items = append(out.Items, view.item(e, f.level))
	}
	writeJSON(w, http.StatusOK, out)
}

// getNetworkStatsCSV serves GET /api/v1/network/stats.csv: the same reports,
// one row per province, day, level and metric, for spreadsheets (UTF-8
// with a byte-order mark, which Excel needs to read Vietnamese names).
func (n *Node) getNetworkStatsCSV(w http.ResponseWriter, r *http.Request) {
	f, err := parseStatsFilter(r, true)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	view := n.networkView()
	q := stats.Query{Province: f.province, From: f.from, To: f.to, Skip: view.skip, Limit: 500}
	entries, next, err := n.stats.History(q)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="moinha-stats-`+f.from+`-`+f.to+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("\uFEFF"))
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"province", "name", "day", "level", "metric", "value", "suppressed"})
	for {
		for _, e := range entries {
			it := view.item(e, f.level)
			for _, l := range it.Levels {
				for _, m := range sortedMetrics(l.Values) {
					value, suppressed := "", "true"
					if v := l.Values[m]; v != nil {
						value, suppressed = strconv.FormatInt(*v, 10), "false"
					}
					_ = cw.Write([]string{it.Province, csvText(it.Name), it.Day, string(l.Level), m, value, suppressed})
				}
			}
		}
		if next == "" {
			break
		}
		q.Cursor = next
		if entries, next, err = n.stats.History(q); err != nil {
			// The header is out: all that is left is to cut the file short.
			n.log.Error("stats csv", "err", err)
			break
		}
	}
	cw.Flush()
}

// sortedMetrics lists a level's metric names in order.
func sortedMetrics(values map[string]*int64) []string {
	out := make([]string, 0, len(values))
	for m := range values {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}

// csvText keeps a spreadsheet from reading a text cell as a formula.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type reportingPage struct {
	From  string            `json:"from"`
	To    string            `json:"to"`
	Now   time.Time         `json:"now"`
	Items []stats.Reporting `json:"items"`
}

// getNetworkReporting serves GET /api/v1/network/reporting: for every member
// expected to report (provinces and hospitals that have not left; or the
// one of ?province=), the
// days expected and received over the range, the last report, whether it
// is online now and whether it has stopped reporting.
func (n *Node) getNetworkReporting(w http.ResponseWriter, r *http.Request) {
	f, err := parseStatsFilter(r, false)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	members := n.networkView().reporters
	if f.province != "" {
		members = slices.DeleteFunc(members, func(m stats.Member) bool { return m.Province != f.province })
	}
	now := time.Now().UTC()
	items, err := n.stats.Reporting(members, f.from, f.to, now, n.statsInterval())
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, reportingPage{From: f.from, To: f.to, Now: now, Items: items})
}
