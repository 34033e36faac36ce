package stats_test

import (
	"encoding/json"
	"fmt"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/stats"
)

// A day's tally becomes a report's levels: 12 bookings are published, 3
// check-ins are not (null, and named in "suppressed"), 0 no-shows are.
func ExamplePublish() {
	t := stats.NewTally()
	t.Add(consult.CommuneHealthStation, stats.MetricBookings, 12)
	t.Add(consult.CommuneHealthStation, stats.MetricCheckIns, 3)
	raw, _ := json.Marshal(stats.Publish(t))
	fmt.Println(string(raw))
	// Output:
	// [{"level":"commune_health_station","values":{"bookings":12,"cancellations":0,"checkins":null,"fulfilled":0,"noshows":0},"suppressed":["checkins"]}]
}
