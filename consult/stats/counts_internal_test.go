package stats

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/storage"
)

// parse reads back what encoding/json writes for the counters.
func TestApptCountsParseReadsEncodingJSON(t *testing.T) {
	for _, c := range []apptCounts{
		{},
		{Bookings: 1},
		{Bookings: 12345, CheckIns: 3, NoShows: 1, Cancellations: 2, Fulfilled: 9},
		{CheckIns: 7, Fulfilled: 1 << 40},
		{Cancellations: -1},
	} {
		got, err := json.Marshal(c)
		require.NoError(t, err)
		var back apptCounts
		require.True(t, back.parse(storage.Value(append([]byte{1}, got...))), string(got))
		assert.Equal(t, c, back)
	}
}

// parse refuses what it does not know, so the JSON decoder judges it.
func TestApptCountsParseLeavesOtherFormsToJSON(t *testing.T) {
	for _, v := range []string{
		`{"bookings": 1}`, `{"bookings":1,"bookings":2}`, `{"other":1}`, `{"bookings":"1"}`,
		`{"bookings":1,}`, `[1]`, `{`, `{"bookings":1.5}`,
	} {
		var c apptCounts
		assert.False(t, c.parse(storage.Value(append([]byte{1}, v...))), v)
	}
	var c apptCounts
	assert.False(t, c.parse(storage.Value(`x{"bookings":1}`)), "another codec byte")
}
