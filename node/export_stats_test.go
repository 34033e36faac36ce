package node

import (
	"context"

	"github.com/moinha/moinha/consult/stats"
)

// PublishStats runs one publishing round now (today's report is staged
// whatever its age), as the node's loop does every StatsInterval.
func PublishStats(ctx context.Context, n *Node) (int, error) {
	var repl stats.Publisher
	if n.fed != nil {
		repl = n.fed
	}
	return n.stats.Publish(ctx, repl, stats.Meta{Version: Version, Started: n.started, Interval: n.statsInterval()}, 0, false)
}
