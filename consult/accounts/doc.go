// Package accounts owns this node's staff accounts: users and their roles,
// password hashing, login with lockout, and sessions.
//
// # Passwords
//
// Passwords are normalised to Unicode NFKC (so a Vietnamese password typed
// with precomposed or combining diacritics is the same password), checked
// against the policy (10 to 128 characters, not the username) and hashed
// with argon2id. The hash is stored as a PHC string,
// "$argon2id$v=19$m=9216,t=4,p=1$<salt>$<key>", and parsed back on every
// verification, so the cost parameters can change: a login with a hash of
// other parameters (earlier binaries used m=19456, t=2) re-hashes with the
// current ones. Hashing is slow and memory-hard by design, so it runs
// outside storage transactions and Options.MaxConcurrentHashes at a time
// (by default one; a stored hash of larger parameters runs alone), and the
// hash's memory is collected before the next one starts: that bounds the
// node's memory during a burst of logins.
//
// # Login and lockout
//
// An unknown username and a wrong password give the same error
// (bad_credentials) after the same work (a hash against a dummy of the
// current parameters, and a commit). After five consecutive failures an account is locked for 30 s,
// twice as long for each further failure, up to an hour (account_locked,
// with RetryAfter); the count and the lock are kept in the user record, so
// they survive a restart, and a success resets them.
//
// # Sessions
//
// A login returns a token of 32 random bytes (base64url) once; the node
// stores only its SHA-256, with the Session, in storage.BucketSessions.
// Authenticate only reads. Changing a user's password or deleting the user
// ends their sessions; Authenticate reports the user's current role.
package accounts
