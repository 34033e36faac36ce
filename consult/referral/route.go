package referral

import (
	"math"
	"slices"
	"strings"
)

// kmPerWaitDay weighs distance against waiting: a province 300 km further
// away ranks like one with a day's longer wait.
const kmPerWaitDay = 300

// rank orders the provinces that may take a referral of a specialty:
// provinces that accept it and have room (capacity left after the
// referrals this node already has open with them) first, then the others
// that accept it; within each group by wait plus distance, then capacity,
// then code. This node's own province comes first whenever it has room
// (referrals stay home when they can). target, when set, is always first.
// open counts this node's open referrals per province.
func rank(self, target string, avail []Availability, open map[string]int, geo func(string) (float64, float64, bool)) []string {
	type cand struct {
		prov  string
		room  bool
		score float64
		cap   int
	}
	var cs []cand
	seen := map[string]bool{}
	for _, a := range avail {
		if !a.Accepting || a.Capacity <= 0 || a.Province == "" || seen[a.Province] || a.Province == target {
			continue
		}
		seen[a.Province] = true
		left := a.Capacity - open[a.Province]
		c := cand{prov: a.Province, room: left > 0, cap: left, score: float64(a.WaitDays)}
		if d, ok := distance(self, a.Province, geo); ok {
			c.score += d / kmPerWaitDay
		}
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b cand) int {
		switch {
		case a.prov == self && a.room:
			return -1
		case b.prov == self && b.room:
			return 1
		case a.room != b.room:
			if a.room {
				return -1
			}
			return 1
		case a.score != b.score:
			if a.score < b.score {
				return -1
			}
			return 1
		case a.cap != b.cap:
			return b.cap - a.cap
		}
		return strings.Compare(a.prov, b.prov)
	})
	var out []string
	if target != "" {
		out = append(out, target)
	}
	for _, c := range cs {
		out = append(out, c.prov)
	}
	return out
}

// distance is the great-circle distance between two provinces' centroids
// in km.
func distance(a, b string, geo func(string) (float64, float64, bool)) (float64, bool) {
	if geo == nil {
		return 0, false
	}
	if a == b {
		return 0, true
	}
	lat1, lon1, ok1 := geo(a)
	lat2, lon2, ok2 := geo(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	const r = 6371.0
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h))), true
}
