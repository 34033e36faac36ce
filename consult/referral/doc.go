// Package referral owns referrals between provinces and consult requests
// from commune stations: the closed loop of DESIGN.md, without networking.
//
// # Parties
//
// The referring node (the owner) creates a referral, holds the patient's
// identity and the full consult record, chooses candidates from gossiped
// availability, offers the referral to them, and decides every race: the
// first acceptance it stores wins, and a later one is told the referral is
// taken. A candidate node holds a copy: first only the offer (minimum
// necessary: specialty, urgency, age band, sex, reason, purpose of use —
// never a name, phone, ID number or address); after it won, the full
// record, which the owner sends over a direct stream. When the owner's own
// province has room, the referral stays home: the owner is then its own
// candidate and no message leaves the node.
//
// A consult request is the same machinery with Type consult: a station
// asks a doctor (its own province first, or another) for advice, live (a
// call-request flag and link; the call itself is consult/calls' work) or
// asynchronous (a packet of question, vital signs and photos, answered
// later). The packet travels with the offer; the patient's identity never
// leaves the station.
//
// # States
//
// Status follows FHIR Task; SubStatus (Task.businessStatus) says why:
//
//	owner                               candidate copy
//	requested/offered ──accept──▶ accepted      received/offered ──accept──▶ received/accept_pending ──record──▶ accepted
//	requested ──all declined/expired──▶ rejected  received ──decline──▶ rejected; ──withdraw──▶ cancelled/expired
//	accepted ──appointment──▶ accepted/appointment_scheduled   accept_pending ──taken──▶ cancelled/taken
//	accepted|on-hold ──interim|resume──▶ in-progress/interim_note
//	accepted|in-progress ──awaiting_info──▶ on-hold/awaiting_info
//	accepted|in-progress|on-hold ──final──▶ completed; ──failed──▶ failed
//	any open state ──cancel──▶ cancelled (until completion)
//	accepted… ──acceptor's province left──▶ requested/reoffered, or failed/returned
//
// Every transition goes through one table (status.go); anything else is
// refused with "invalid_transition".
//
// # Messages
//
// The owner sends offer (consult.offer for consult requests: it carries
// the packet), record (after acceptance), taken, withdraw (an offer that
// expired or ended) and cancel; a candidate sends accept, decline and
// outcome (interim notes, appointment, final report). Each message is
// enqueued through Sender inside the transaction of the state change it
// announces; the network layer delivers it until the receiver stored it,
// and receivers handle each message ID once. Receive checks that the
// sender is a party: only the origin province speaks for a referral (its
// ID carries the province code), only a province it offered to may accept
// or decline, only the acceptor may report outcomes.
//
// # Storage
//
// storage.BucketReferrals (ID → Referral, no patient data),
// BucketReferralData (ID → Clinical: patient, record, packet; every read
// audited), BucketReferralIdx (due offers, open referrals per party
// province, boxes for listing) and counters in BucketStats under
// "referral/". Offer deadlines are read from the due index by a timer
// loop, so they survive restarts.
package referral
