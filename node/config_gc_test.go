package node_test

import (
	"io"
	"log/slog"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/node"
)

// TestGCPercent: a negative gc_percent is refused with a clear error; a
// set one is what the process runs with after Start; it survives a save
// and load of config.json.
func TestGCPercent(t *testing.T) {
	t.Setenv("GOGC", "") // the operator's GOGC would stand over the default
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })

	dir := initDir(t)
	cfg, err := node.LoadConfig(dir)
	require.NoError(t, err)
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))

	bad := cfg
	bad.GCPercent = -1
	_, err = node.New(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gc_percent")

	cfg.GCPercent = 150
	require.NoError(t, cfg.Save())
	loaded, err := node.LoadConfig(dir)
	require.NoError(t, err)
	assert.Equal(t, 150, loaded.GCPercent)
	startNode(t, dir)
	assert.Equal(t, 150, debug.SetGCPercent(150), "Start applied gc_percent")
}
