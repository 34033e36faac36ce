// Package calls owns a node's calls: consults (two people, browser to
// browser) and group sessions — case conferences, briefings, training —
// through the hosting node's SFU.
//
// # Records
//
// A call is created by a staff member or doctor (Service.Create) with
// invitations to users of any province, and optionally the referral it
// belongs to. Its ID is 128 random bits, the unguessable part of its join
// URL; joining also needs the user's session and an invitation (observers
// never join). A call about a referral is checked against it
// (Options.Referrals: the referral is on this node and the caller a
// party). Calls, their lifecycle events (ringing, waiting, admitted,
// denied, joined, left, ended) and per-kind counters (calls, joins,
// minutes: no people, no patients) live in storage.BucketCalls; see
// store.go for the key layout.
//
// # Statistics
//
// The hosting node counts its calls per day (Vietnam's date, Day) and per
// facility of the host (their account's), in the transaction of the
// lifecycle step: a call counts under calls_<kind> on the day it started
// — when two people were first in it at once, so a call nobody answered
// never counts — and its minutes under call_minutes_<kind> on the day it
// ended. DayCounts reads them for consult/stats' daily report. Live
// gives the operator's metrics: calls in progress and their participants,
// the SFU's forwarding counters and the TURN server's allocations.
//
// # Signalling
//
// Browsers speak JSON over a WebSocket to their own node (Service.Accept;
// docs/signalling.md is the protocol). The host's node is the call's
// authority: one goroutine per live call (room) decides who is in, who
// waits, who offers, and relays SDP and trickled candidates between the
// two browsers of a consult, or between each participant and the SFU.
// An invited user of another province joins through their own node, which
// relays their messages to the host's node over Relay and hands back its
// answers (Service.HandleRelay); the federation layer carries the bytes.
//
// # Media
//
// Sub-packages: sfu forwards group media (one UDP port, simulcast layer per
// receiver, audio first); turnserver is the embedded STUN/TURN server whose
// short-lived credentials come only in the authenticated hello; rtcnet is
// the pion configuration they share; calltest is a Go client that joins
// through the real signalling and checks the media it receives (tests
// only).
package calls
