package node

import "time"

// SetBookingClock gives the node's booking calendar the clock now (for
// tests that need a no-show after an appointment's start). Call it before
// Start.
func SetBookingClock(n *Node, now func() time.Time) {
	n.book = n.BookingWithClock(now) // keeps the statistics hook
}

// SetAdminPageSize sets the page size of the operator socket's referral
// list (so a test can cross pages with a few referrals) and restores it
// when the test ends.
func SetAdminPageSize(t interface{ Cleanup(func()) }, n int) {
	old := adminPageSize
	adminPageSize = n
	t.Cleanup(func() { adminPageSize = old })
}
