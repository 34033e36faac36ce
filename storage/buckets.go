package storage

// Bucket names a bbolt bucket. Every bucket the node uses is declared here,
// in one place, and created when a data file is first opened or migrated.
type Bucket string

// The buckets of schema version 1.
const (
	BucketMeta          Bucket = "meta"          // magic, schema version, audit head
	BucketFacilities    Bucket = "facilities"    // facility ID → facility
	BucketPractitioners Bucket = "practitioners" // practitioner ID → practitioner
	BucketSchedules     Bucket = "schedules"     // facility ID → schedule
	BucketAppointments  Bucket = "appointments"  // appointment ID → appointment
	BucketApptCodes     Bucket = "appt_codes"    // booking code → appointment ID
	BucketApptByDay     Bucket = "appt_by_day"   // facility/start(UTC) → booked count, facility/start(UTC)/ID → appointment ID (desk index)
	BucketSlotUse       Bucket = "slot_use"      // booking layout 1 only (now empty): facility/start(UTC) → booked count; see consult/booking
	BucketUsers         Bucket = "users"         // username → user (hash, role, lockout)
	BucketSessions      Bucket = "sessions"      // sha256(token) → session
	BucketOutbox        Bucket = "outbox"        // destination/seq → outbox message
	BucketAudit         Bucket = "audit"         // big-endian seq → audit entry
	BucketRecords       Bucket = "records"       // replicated records: origin/kind/key → record
	BucketOrigins       Bucket = "origins"       // origin → highest version seen
	BucketPeers         Bucket = "peers"         // peer ID → last seen, addresses
	BucketReferrals     Bucket = "referrals"     // referral ID → referral
	BucketInboxSeen     Bucket = "inbox_seen"    // message ID → time first received (idempotency)
	BucketCalls         Bucket = "calls"         // call ID → call
	BucketStats         Bucket = "stats"         // stats history and counters
	BucketSettings      Bucket = "settings"      // node-local settings (e.g. availability)
	BucketRecordLog     Bucket = "record_log"    // replicated records: origin/version (8 bytes BE) → kind/key, latest versions only
	BucketRecordKinds   Bucket = "record_kinds"  // replicated records: kind/origin/key → version
	BucketReferralIdx   Bucket = "referral_idx"  // referral indexes: due/<deadline>/<id>, party/<province>/<id>, box/<type>/<box>/<inverted created>/<id> → ""
	BucketReferralData  Bucket = "referral_data" // referral ID → clinical data (patient, record, consult packet); patient data: every read audited
	BucketDirGone       Bucket = "dir_gone"      // directory deletions: <bucket>/<record ID> → deletion time (UnixNano); read by the FHIR history
)

// allBuckets lists every bucket of the current schema.
var allBuckets = []Bucket{
	BucketMeta, BucketFacilities, BucketPractitioners, BucketSchedules,
	BucketAppointments, BucketApptCodes, BucketApptByDay, BucketSlotUse,
	BucketUsers, BucketSessions, BucketOutbox, BucketAudit, BucketRecords,
	BucketOrigins, BucketPeers, BucketReferrals, BucketInboxSeen, BucketCalls,
	BucketStats, BucketSettings, BucketRecordLog, BucketRecordKinds,
	BucketReferralIdx, BucketReferralData, BucketDirGone,
}

// Keys in BucketMeta.
const (
	metaMagic     = "magic"
	metaSchema    = "schema"
	metaAuditHead = "audit_head"
	magicValue    = "moinha-node-v1"
)
