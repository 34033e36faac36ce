package storage

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the schema this binary writes.
const SchemaVersion = 1

// migrations[i] moves a file from schema i to i+1. Version 0 is a new,
// empty file; the step creates every bucket and stamps the magic.
var migrations = []func(*bolt.Tx) error{
	0: func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		meta := tx.Bucket([]byte(BucketMeta))
		return meta.Put([]byte(metaMagic), []byte(magicValue))
	},
}

// prepare checks the file's identity and runs the migrations it lacks.
func (db *DB) prepare(readOnly bool) error {
	var version int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte(BucketMeta))
		if meta == nil {
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return fmt.Errorf("%w: %s has no meta bucket", ErrForeign, db.path)
			}
			version = 0
			return nil
		}
		if string(meta.Get([]byte(metaMagic))) != magicValue {
			return fmt.Errorf("%w: %s", ErrForeign, db.path)
		}
		raw := meta.Get([]byte(metaSchema))
		if len(raw) != 1 {
			return fmt.Errorf("%w: %s: bad schema stamp", ErrCorrupt, db.path)
		}
		version = int(raw[0])
		return nil
	})
	if err != nil {
		return err
	}
	if version > SchemaVersion {
		return fmt.Errorf("%w: file %d, binary %d", ErrTooNew, version, SchemaVersion)
	}
	if version == SchemaVersion {
		if readOnly {
			return nil
		}
		// Buckets declared since the file was stamped are created on open.
		missing := false
		_ = db.bolt.View(func(tx *bolt.Tx) error {
			for _, b := range allBuckets {
				missing = missing || tx.Bucket([]byte(b)) == nil
			}
			return nil
		})
		if !missing {
			return nil
		}
		return db.bolt.Update(func(tx *bolt.Tx) error {
			for _, b := range allBuckets {
				if tx.Bucket([]byte(b)) == nil {
					if _, err := tx.CreateBucket([]byte(b)); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	if readOnly {
		return fmt.Errorf("storage: %s needs migration from schema %d; open it read-write first", db.path, version)
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for v := version; v < SchemaVersion; v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("storage: migrate %d→%d: %w", v, v+1, err)
			}
		}
		// Buckets added by any version exist after migration.
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte(BucketMeta)).Put([]byte(metaSchema), []byte{SchemaVersion})
	})
}
