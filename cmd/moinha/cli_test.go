package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
)

var peerIDRE = regexp.MustCompile(`^12D3Koo[1-9A-HJ-NP-Za-km-z]{40,}$`)

func TestInitPrintsPeerIDAndIDRepeatsIt(t *testing.T) {
	dir := t.TempDir()
	out, stderr, err := runApp(t, "", "init", "--data", dir, "--province", "66", "--sample")
	require.NoError(t, err, stderr)
	id := strings.TrimSpace(out)
	assert.Regexp(t, peerIDRE, id, "init prints only the peer ID on stdout")
	assert.Contains(t, stderr, "moinha user add")

	out, _, err = runApp(t, "", "id", "--data", dir)
	require.NoError(t, err)
	assert.Equal(t, id, strings.TrimSpace(out))

	_, _, err = runApp(t, "", "init", "--data", dir, "--province", "66")
	require.Error(t, err, "init refuses an initialised directory")
	assert.Contains(t, err.Error(), "already initialised")
	_, _, err = runApp(t, "", "id", "--data", t.TempDir())
	require.Error(t, err)
	_, _, err = runApp(t, "", "init", "--data", t.TempDir(), "--province", "not a code!")
	require.Error(t, err)
}

func TestUserAddFromStdin(t *testing.T) {
	dir := t.TempDir()
	mustMoinha(t, "", "init", "--data", dir, "--province", "66")
	_, stderr := mustMoinha(t, "mật khẩu rất dài\n", "user", "add", "--data", dir, "--username", "lan", "--role", "admin")
	assert.Contains(t, stderr, "user lan saved")

	for _, c := range []struct {
		name, stdin string
		args        []string
	}{
		{"no password", "", []string{"--username", "lan2", "--role", "staff"}},
		{"short password", "short\n", []string{"--username", "lan2", "--role", "staff"}},
		{"unknown role", "mật khẩu rất dài\n", []string{"--username", "lan2", "--role", "king"}},
		{"unknown facility", "mật khẩu rất dài\n", []string{"--username", "lan2", "--role", "staff", "--facility", "66-NOPE"}},
		{"no username", "mật khẩu rất dài\n", []string{"--role", "staff"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, err := moinha(t, c.stdin, append([]string{"user", "add", "--data", dir}, c.args...)...)
			require.Error(t, err, "stderr: %s", stderr)
			assert.Contains(t, stderr, "moinha: ")
			assert.NotContains(t, stderr, "panic")
		})
	}

	// The saved user logs in to a running node; a user added while it
	// runs (through the admin socket) does too, at once.
	p := startNode(t, dir)
	login(t, p.url, "lan", "mật khẩu rất dài")
	_, stderr = mustMoinha(t, "một mật khẩu khác\n", "user", "add", "--data", dir, "--username", "minh", "--role", "staff")
	assert.Contains(t, stderr, "user minh saved")
	login(t, p.url, "minh", "một mật khẩu khác")
	p.stop(t)
}

func TestBackupWhileRunningAndRestore(t *testing.T) {
	dir, password := initNode(t)
	p := startNode(t, dir)
	token := login(t, p.url, "auditor", password)
	seats, _ := openSeats(t, p.url, 1)
	require.GreaterOrEqual(t, len(seats), 4)
	book := func(base string, s seat) string {
		var a struct {
			Code string `json:"code"`
		}
		api(t, http.DefaultClient, "POST", base+"/api/v1/appointments", "", map[string]any{"facility": s.Facility, "start": s.Start,
			"name": "Trần Văn Hùng", "phone": "0912345678"}, http.StatusCreated, &a)
		return a.Code
	}
	before := []string{book(p.url, seats[0]), book(p.url, seats[1])}

	backup := filepath.Join(t.TempDir(), "moinha-backup.db")
	_, stderr := mustMoinha(t, "", "backup", "--data", dir, "--out", backup)
	assert.Contains(t, stderr, "backup written")
	fi, err := os.Stat(backup)
	require.NoError(t, err)
	assert.Positive(t, fi.Size())
	after := book(p.url, seats[2])

	_, stderr, err = moinha(t, "", "restore", "--data", dir, "--from", backup)
	require.Error(t, err, "restore refuses a running node")
	assert.Contains(t, stderr, "running")
	api(t, http.DefaultClient, "GET", p.url+"/api/v1/appointments/"+after, token, nil, http.StatusOK, nil)
	p.stop(t)

	_, stderr = mustMoinha(t, "", "restore", "--data", dir, "--from", backup)
	assert.Contains(t, stderr, "restored")
	p = startNode(t, dir)
	for _, code := range before {
		api(t, http.DefaultClient, "GET", p.url+"/api/v1/appointments/"+code, "", nil, http.StatusOK, nil)
	}
	status, _ := apiRaw(t, http.DefaultClient, "GET", p.url+"/api/v1/appointments/"+after, "", nil)
	assert.Equal(t, http.StatusNotFound, status, "a booking made after the backup is gone after restoring it")
	p.stop(t)

	// A cold backup (no node running) works too, and restore refuses junk.
	cold := filepath.Join(t.TempDir(), "cold.db")
	mustMoinha(t, "", "backup", "--data", dir, "--out", cold)
	junk := filepath.Join(t.TempDir(), "junk.db")
	require.NoError(t, os.WriteFile(junk, []byte(strings.Repeat("not a database ", 1000)), 0o600))
	_, stderr, err = moinha(t, "", "restore", "--data", dir, "--from", junk)
	require.Error(t, err)
	assert.NotContains(t, stderr, "panic")
	mustMoinha(t, "", "restore", "--data", dir, "--from", cold)
}

// TestHelpOfEveryCommand: `--help` works for the app and every command and
// subcommand, and names the command.
func TestHelpOfEveryCommand(t *testing.T) {
	var paths [][]string
	var walk func(prefix []string, cmds []*cli.Command)
	walk = func(prefix []string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := append(append([]string(nil), prefix...), c.Name)
			paths = append(paths, p)
			walk(p, c.Subcommands)
		}
	}
	walk(nil, app().Commands)
	require.GreaterOrEqual(t, len(paths), 10)
	out, _, err := runApp(t, "", "--help")
	require.NoError(t, err)
	for _, p := range paths {
		if len(p) == 1 {
			assert.Contains(t, out, p[0], "the app's help lists %s", p[0])
		}
	}
	for _, p := range paths {
		t.Run(strings.Join(p, " "), func(t *testing.T) {
			out, stderr, err := runApp(t, "", append(p, "--help")...)
			require.NoError(t, err, stderr)
			assert.Contains(t, out, "USAGE:")
			assert.Contains(t, out, p[len(p)-1])
		})
	}
	out, _, err = runApp(t, "", "version")
	require.NoError(t, err)
	assert.Contains(t, out, "moinha ")
	_, _, err = runApp(t, "", "no-such-command")
	assert.Error(t, err)
}
