package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/bench"
)

// Flags among the scenario names are read as flags (urfave/cli stops at
// the first argument).
func TestTrailingBenchFlags(t *testing.T) {
	var o bench.Options
	list := false
	require.NoError(t, trailingBenchFlags([]string{"sync", "--runs", "3", "propagation", "--cpuprofile", "/tmp/p", "--json"}, &o, &list))
	assert.Equal(t, []string{"sync", "propagation"}, o.Scenarios)
	assert.Equal(t, 3, o.Runs)
	assert.Equal(t, "/tmp/p", o.CPUProfile)
	assert.True(t, o.JSON)
	assert.False(t, list)

	o = bench.Options{}
	require.NoError(t, trailingBenchFlags([]string{"--runs=2", "--cpuprofile=/tmp/q", "--list=true"}, &o, &list))
	assert.Equal(t, 2, o.Runs)
	assert.Equal(t, "/tmp/q", o.CPUProfile)
	assert.True(t, list)

	for want, args := range map[string][]string{
		"--runs needs a value":       {"sync", "--runs"},
		"--cpuprofile needs a value": {"--cpuprofile"},
		"want a whole number":        {"--runs", "0"},
		"unknown flag --fast":        {"--fast"},
		"want true or false":         {"--json=maybe"},
	} {
		err := trailingBenchFlags(args, &bench.Options{}, &list)
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
}
