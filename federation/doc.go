// Package federation owns the node's place in the network: its libp2p
// identity and host, admission of members (a connection gater and a hello
// protocol checking membership certificates), the membership table, and
// the replication of signed records by gossip and anti-entropy sync. It
// moves signed records without knowing what a facility or a referral is.
// The charter, certificates and revocations themselves — pure crypto, no
// network — are in the sub-package charter.
//
// # Records
//
// A [Record] {Origin, Kind, Key, Version, Deleted, Payload} is sealed in a
// libp2p signed envelope by its origin, in a signature domain that names the
// network ID, so a record of another network never verifies. Version is the
// origin's own counter (persisted, strictly increasing); the highest
// version of (Origin, Kind, Key) wins on every node. Rules checked on every
// record, whether it came by gossip, sync or hello: the signature and
// signer; the origin is a current member (valid certificate, not revoked,
// not left) — except a member record, which carries its own certificate,
// and a revocation, which an authority signed; an observer writes nothing
// but its member and leave records; keys of facility, practitioner,
// service and availability records start with the origin's province code;
// payloads are at most [MaxPayload]. An older or equal version is stale:
// ignored, not rejected.
//
// [Federation.Stage] is what the domain calls (it implements
// consult.Replicator): it versions, seals and stores a record inside the
// caller's transaction; a publisher goroutine then gossips whatever own
// records the data file holds beyond what it last published.
//
// # Protocols
//
// Every protocol ID and the topic carry the first 16 hex characters of the
// network ID (<net> below); frame.go, hello.go and sync.go describe the
// frames.
//
//	/moinha/<net>/hello/1        membership exchange on every new connection
//	/moinha/<net>/sync/1         anti-entropy: watermarks in, missing records out
//	/moinha/<net>/meshsub/1.2.0  gossipsub, topic /moinha/<net>/records/1
//	/moinha/<net>/referral/1     durable direct messages (direct*.go)
//	/moinha/<net>/signal/1       call signalling, no outbox (signal.go)
//
// # Catching up
//
// Gossip forwards a record as soon as its signature and rules pass (the
// validator runs inline on pubsub's workers); the store follows, as many
// records per transaction as are waiting. Sync pulls one round at a time:
// signatures are checked on every core ahead of one writer that stores
// thousands of records per transaction (syncpull.go). A member that goes
// away is redialled within redialTick and then after an eighth of the time
// it has been lost (loops.go), and both sides pull as soon as the hello
// passes; a node that stored records by sync pokes its other members to
// pull from it, so a healed partition converges in a few hops instead of a
// SyncInterval. Package fedbench measures all of this against bare
// gossipsub and the Ed25519 floor (`moinha bench federation`).
//
// # Direct messages
//
// [Federation.EnqueueDirect] (and [Federation.Send], by province) stores a
// message in storage's outbox inside the caller's transaction; one
// delivery loop per destination sends what is queued in order, in batches
// of up to 64 length-prefixed frames per stream, with deadlines and size
// caps ([MaxDirectPayload], or [MaxDirectLarge] for kinds registered with
// [Federation.HandleLarge]), backing off exponentially with jitter up to a
// minute and retrying at once when the peer connects. The receiver refuses
// non-members, observers and a province that is not the sender's, then
// runs the kind's [DirectHandler] and records the message ID in
// storage.BucketInboxSeen in one transaction, and only then acknowledges:
// each message is handled once. Observers neither send nor receive direct
// messages.
//
// # Buckets
//
// storage.BucketRecords (origin/kind/key → latest record), BucketRecordLog
// (origin/version → kind/key, for sync), BucketRecordKinds (kind/origin/key
// → version, for [Federation.Records]), BucketOrigins (origin → highest
// version and sync watermark), BucketPeers (peer → last seen),
// BucketOutbox (destination/seq → direct message) and BucketInboxSeen
// (sender peer/message ID → first received).
package federation
