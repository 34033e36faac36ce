package node

import "time"

// SetBookingClock gives the node's booking calendar the clock now (for
// tests that need a no-show after an appointment's start). Call it before
// Start.
func SetBookingClock(n *Node, now func() time.Time) {
	n.book = n.BookingWithClock(now) // keeps the statistics hook
}
