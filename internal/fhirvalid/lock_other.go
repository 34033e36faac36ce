//go:build !unix

package fhirvalid

// lockFile does not lock where flock is missing: concurrent first-use
// installs may then collide, which .ci/run avoids by installing first.
func lockFile(string) (func(), error) { return func() {}, nil }
