// Package stats owns the network statistics: a province's daily
// aggregates (bookings, check-ins, no-shows, calls, referrals, referral
// availability, node version and uptime) per facility level, with small
// counts suppressed, and the history of every member's published reports
// that the observer's dashboard, the stats API and its CSV export read.
// It has no networking: node publishes a [Report] through a
// consult.Replicator and hands the reports it receives to [Service.Apply].
//
// # Counting
//
// Bookings are counted by event day: the booking, check-in, no-show,
// cancellation or fulfilment is added to the counters of the day it
// happened ([Day], Vietnam's time, UTC+7), in the same transaction as the
// change ([Service.CountAppointment] is booking's OnStatus hook). A day's
// counts are therefore final once the day is over, and history never
// moves. Other services (calls, referrals) keep their own daily counters
// and hand them over through a [Source] when a report is built.
//
// # Suppression
//
// A count from 1 to 4 is never published: its value is null and its name
// is listed in the level's "suppressed" list, so no person can be singled
// out. 0 and 5 or more are published. A derived value (call minutes, the
// median minutes to acceptance) is suppressed whenever the count it derives
// from is 1 to 4. Receivers apply the same rule again to what they store.
//
// # Storage
//
// In storage.BucketStats (other services keep their own counters there
// under their own prefixes, e.g. "referral/"):
//
//	appt/<day>/<facility>   → booking counters of one facility on one day
//	hist/<province>/<day>   → a member's latest report for the day, with its origin
//	last/<province>         → the member's most recent report: day, time, interval
package stats
