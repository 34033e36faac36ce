// Package federation owns the node's place in the network: its libp2p
// identity and host, the charter and membership certificates, signed record
// replication (gossip and the /moinha/sync/1 anti-entropy protocol), and
// direct streams to other members. It moves signed records and messages
// without knowing what a facility or a referral is.
package federation
