// Package node is a running Mọi Nhà node and the one place where its parts
// are put together: it loads the Config, opens storage, builds the domain
// services (consult/...) and, later, the federation host, serves the HTTP
// API and metrics, and closes everything in reverse order.
//
// Start order: storage → directory → booking → accounts → HTTP.
// Close order is the reverse; Close drains in-flight HTTP requests first.
package node
