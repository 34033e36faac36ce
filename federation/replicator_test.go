package federation

import "github.com/moinha/moinha/consult"

// Federation is what node plugs into the domain as its Replicator.
var _ consult.Replicator = (*Federation)(nil)
