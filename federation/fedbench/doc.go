// Package fedbench runs networks of federation nodes on 127.0.0.1 and
// measures them: how fast one record reaches every node (against bare
// gossipsub on the same topology), the sustained update rate without loss,
// how fast a new node syncs a national-size directory (against the Ed25519
// verification floor), and how fast a healed partition converges. It is
// what `moinha bench` and the federation package's benchmarks drive; it
// imports neither testing nor testify, and it knows nothing of the domain:
// callers hand it payloads.
package fedbench
