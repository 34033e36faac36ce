// Package directory owns the health directory held by a node: this
// province's facilities and health workers, which only this node writes,
// and the replica of every other member's, which arrives through
// federation and is applied with [Service.ApplyRemote].
//
// # Records and keys
//
// Facilities live in storage.BucketFacilities under their network-wide ID
// "<province>-<code>", practitioners in storage.BucketPractitioners under
// "<province>-<local id>". Key order therefore groups each province's
// records, so a province filter is a prefix scan, and cursors are simply
// the last key returned. A province code never contains '-'.
//
// Each stored value is the API shape preceded by a "search" field: the
// record's text folded to lower case without Vietnamese diacritics
// ("Đắk Lắk" → "dak lak", see [Fold]). Listing checks filters against the
// raw stored bytes first (the query against the search field only, the
// others as exact JSON fragments such as "level":"health_centre") and
// decodes only the records that can match, so a query over the national
// directory (about 15,000 facilities and 150,000 health workers) does not
// decode every record. Search text written by an older binary stays as it
// was; if Fold ever changes, a migration must rewrite it.
//
// # Replication
//
// Every change to an own record is staged with the [consult.Replicator] in
// the same transaction ("facility" and "practitioner" kinds, the ID as key,
// the API JSON as payload), so the record and its replication commit
// together. Records of other provinces are never written through the
// Put verbs; [Service.ApplyRemote] stores them and [Service.RemoveProvince]
// drops a province that left.
//
// # Change times
//
// Readers that page over the whole directory with the time this node last
// changed each record (the FHIR views' _lastUpdated and _history) use
// [Service.ScanFacilities] and [Service.ScanPractitioners]: an own
// record changed at its Updated time, a replicated one when ApplyRemote
// stored it (kept in the stored value's "applied" field, outside the API
// shape). Their [ScanFilter] skips records on the stored bytes, as
// listing does. [Service.ScanDeleted] lists what was deleted since a
// time (gone.go), so that pull-updates can carry deletions too.
//
// Directory data is public and not patient data: it is not audited.
package directory
