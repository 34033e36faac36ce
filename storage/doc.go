// Package storage owns the node's single bbolt file: the buckets, the
// versioned value codec, schema migrations, group-committed writes, the
// durable outbox, the hash-chained audit log, and hot backup and restore.
//
// bbolt never leaves this package. Callers work through [DB.Update] (group
// committed: concurrent callers share one fsync) and [DB.View], and inside
// them through the typed verbs of [Tx]: Get, Put, Delete, Scan, NextSeq,
// EnqueueOutbox, Audit. Values are JSON prefixed with a codec version byte;
// the file carries a magic string and a schema version in its meta bucket,
// checked and migrated on open.
//
// Every Update fn runs on the one writer goroutine, so the verbs keep work
// off it: [Encode] encodes a value before Update (Put stores the
// [Encoded] as it is), GetInt and PutInt read and write counters without
// the JSON codec (in the same bytes), GetValue returns stored bytes
// undecoded (to compare with a cached copy), Append packs the pages of a
// bucket whose keys grow (as the audit chain's do) so a commit writes
// fewer of them, and Audit reads and writes the chain's head once per
// commit, not once per entry.
//
// storage imports no other package of this project.
package storage
