package node

import (
	"time"

	"github.com/moinha/moinha/consult/booking"
)

// SetBookingClock gives the node's booking calendar the clock now (for
// tests that need a no-show after an appointment's start). Call it before
// Start.
func SetBookingClock(n *Node, now func() time.Time) {
	n.book = booking.New(n.db, n.dir, booking.Options{Now: now})
}
