// Package arch_test keeps the import arrows of ARCHITECTURE.md:
// cmd → node → {consult, federation} → storage, cmd → testnet → node, and
// keeps testing and testify out of the moinha binary.
package arch_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const mod = "github.com/moinha/moinha"

// deps returns, for every package of the module matching pattern, its
// transitive non-test dependencies.
func deps(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", pattern).CombinedOutput()
	require.NoError(t, err, "go list: %s", out)
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	return m
}

func under(pkg, root string) bool {
	return pkg == mod+"/"+root || strings.HasPrefix(pkg, mod+"/"+root+"/")
}

func TestImportArrows(t *testing.T) {
	all := deps(t, "./...")
	require.NotEmpty(t, all)
	rules := []struct {
		from   string
		banned []string
	}{
		{"storage", []string{"consult", "federation", "node", "testnet", "cmd", "bench"}},
		{"consult", []string{"federation", "node", "testnet", "cmd", "bench"}},
		{"federation", []string{"consult", "node", "testnet", "cmd", "bench"}},
		{"node", []string{"testnet", "cmd", "bench"}},
		{"testnet", []string{"cmd", "bench"}},
	}
	checked := 0
	for pkg, ds := range all {
		for _, r := range rules {
			if !under(pkg, r.from) || strings.HasSuffix(pkg, "test") {
				continue
			}
			checked++
			for _, d := range ds {
				for _, b := range r.banned {
					if under(d, b) {
						t.Errorf("%s imports %s: %s must not depend on %s", pkg, d, r.from, b)
					}
				}
			}
		}
	}
	require.Greater(t, checked, 5, "the rules matched too few packages; did the layout change?")
}

func TestNoTestCodeInBinaryOrCores(t *testing.T) {
	for _, pkg := range []string{"./cmd/moinha", "./testnet", "./node", "./bench"} {
		for p, ds := range deps(t, pkg) {
			for _, banned := range []string{"testing", "github.com/stretchr/testify"} {
				if slices.ContainsFunc(ds, func(d string) bool { return d == banned || strings.HasPrefix(d, banned+"/") }) {
					t.Errorf("%s links %s: test code must stay out of the moinha binary", p, banned)
				}
			}
		}
	}
}
