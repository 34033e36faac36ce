// Package charter owns the trust roots of a Mọi Nhà network, as pure
// cryptography with no networking: the charter (the network's name, the
// public keys of its admission authorities and the protocol version, whose
// hash is the network ID), the authority key files, the membership
// certificates an authority signs for a node ({peer, province, name, role,
// validity}), and the revocations an authority signs to expel one.
//
// Every signed value is canonical JSON (a Go struct marshalled with its
// signature left out) prefixed with a domain string, so a signature made for
// one kind of value never verifies as another. The files the charter CLI
// writes are the same JSON, indented for people.
//
// Verification never needs the network: [Certificate.Verify] and
// [Revocation.Verify] take the charter (and the current time) and return one
// of the sentinel errors in errors.go, wrapped with detail.
package charter
