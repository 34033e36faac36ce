// Package consult is the telehealth domain, without networking: the shared
// vocabulary (user-facing errors, specialty codes, facility levels) and the
// small interfaces the domain needs from the network, which node plugs in.
//
// Its sub-packages hold the domain services:
//   - directory: this province's facilities and health workers, and the
//     federated replica of every other member's;
//   - booking: schedules, free slots and residents' appointments;
//   - accounts: users, password hashing, sessions and lockout;
//   - sample: realistic Vietnamese sample data for demos, tests and benches;
//   - stats: the network statistics (daily counts per facility level, small
//     counts suppressed) and the history of every member's reports;
//   - referral: referrals between provinces and consult requests (FHIR Task
//     states, routing from availability, minimum-necessary offers, the
//     owner deciding races), over a Sender the node plugs in.
//
// consult never imports federation or node.
package consult
