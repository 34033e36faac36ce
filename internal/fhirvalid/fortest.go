package fhirvalid

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
)

// shared is the one validator of a test process (ForTest). It is never
// closed: the child exits when the test process ends and its stdin closes.
var shared struct {
	once sync.Once
	v    *Validator
	err  error
}

// ForTest returns the test process's shared validator, starting it (and
// installing the npm packages) on first use. Close on it does nothing, so
// a test may Close it in t.Cleanup without harming the others. When node or
// npm is missing it fails the test if the environment variable CI is set
// (CI must validate) and skips it otherwise, saying how to install them.
func ForTest(t testing.TB) *Validator {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), installTimeout+startTimeout)
		defer cancel()
		v, err := Start(ctx)
		if v != nil {
			v.shared = true
		}
		shared.v, shared.err = v, err
	})
	if errors.Is(shared.err, ErrNoNode) {
		msg := shared.err.Error() + "; the FHIR R4 validation tests cannot run without them (.ci/run installs them)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.v
}
