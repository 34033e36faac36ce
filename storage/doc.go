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
// storage imports no other package of this project.
package storage
