// Package booking owns a province node's booking calendar: each facility's
// schedule (opening hours, slot length, capacity, closed days, horizon), the
// free slots derived from it, and residents' appointments with their booking
// codes and the station desk's daily list.
//
// # Patient data
//
// An appointment holds a resident's name, phone, reason and birth year. It
// never leaves the node: booking has no replication hook, nothing here is
// gossiped, and errors never carry patient data (their messages are safe to
// show anyone). Every read or change of an appointment appends an entry to
// the storage audit chain in the same transaction.
//
// # Storage
//
// Schedules live in [storage.BucketSchedules] by facility ID. An appointment
// lives in [storage.BucketAppointments] by an ID that begins with its
// creation time (milliseconds, then 80 random bits: new appointments append
// to the bucket), with two indexes:
// [storage.BucketApptCodes] (canonical booking code → ID) and
// [storage.BucketApptByDay], which holds each booked slot's seat counter
// (facility/start UTC → count of live bookings) followed by the desk
// entries of its appointments (facility/start UTC/ID → ID): a booking
// changes the counter and its desk entry on one page, and a day's desk is
// the range from the zone's midnight to the next. Times are stored in UTC
// and returned in the facility's zone. Files written before this layout
// (layout 1: desk keys facility/local day/start/ID, counters in
// [storage.BucketSlotUse]) are rewritten once by [Service.Upgrade].
//
// # Capacity
//
// Every booking, cancellation and move is one [storage.DB.Update]: the slot
// counter is read, checked against capacity and changed in the same
// transaction as the appointment and its indexes, so counters stay exact
// however many requests race (concurrent updates share one fsync through
// storage's group commit). A refusal returns before anything is written, so
// it never forces storage to retry the batch it shares.
//
// That transaction runs on storage's single writer goroutine, so a booking
// prepares everything else before it: the request is checked, the slot
// decided on a cached decoded schedule, the ID and code drawn and the
// record encoded. Inside, the stored schedule's bytes are compared with
// the cached ones (schedcache.go): a booking is always decided on the
// schedule its transaction reads, and a schedule replaced meanwhile is
// decoded and the booking decided again.
//
// # Booking codes
//
// A booking code is 13 characters from a 31-symbol alphabet without 0, O, 1,
// I and L (64 bits from crypto/rand), shown as XXXX-XXXX-XXXXX and accepted
// in any case, with or without dashes and spaces.
package booking
