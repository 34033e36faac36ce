package consult

import "github.com/moinha/moinha/storage"

// Replicator is what the domain needs from the network to share a public
// record (a facility, a health worker, availability): Stage is called inside
// the write transaction of the change, so the record and the change commit
// together; the implementation signs it, stores it and, after commit, gossips
// it. A nil Replicator means a node that shares nothing (a lone node, tests).
type Replicator interface {
	Stage(tx *storage.Tx, kind, key string, payload []byte, deleted bool) error
}
