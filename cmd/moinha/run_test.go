package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The call media flags reach the node's config (which checks them before
// opening anything).
func TestRunMediaFlags(t *testing.T) {
	dir := t.TempDir()
	_, stderr, err := runApp(t, "", "init", "--data", dir, "--province", "66")
	require.NoError(t, err, stderr)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--media", "somewhere"}, "media address"},
		{[]string{"--turn", "0.0.0.0:3478"}, "TURN on 0.0.0.0:3478 needs a public IP"},
		{[]string{"--media", "0.0.0.0:50000"}, "TURN on 0.0.0.0:0 needs a public IP"},
		{[]string{"--media", "0.0.0.0:50000", "--public-ip", "example.org"}, "public IP"},
	} {
		_, _, err := runApp(t, "", append([]string{"run", "--data", dir, "--http", "127.0.0.1:0"}, c.args...)...)
		require.Error(t, err, "%v", c.args)
		assert.Contains(t, err.Error(), c.want, "%v", c.args)
	}
}
