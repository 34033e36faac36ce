// Package calltest is a Go WebRTC client (pion) that joins calls through a
// node's real signalling WebSocket, sends synthetic VP8 (optionally as
// three simulcast layers) and Opus, and counts what it receives per sender
// and kind, checking each packet's origin, so that tests prove media flows
// rather than only "connected". It also holds an in-process Relay between
// Services (Relays), a network with a switch that cuts it (SwitchNet), a
// receive-side packet dropper (Options.RecvLoss) and a goroutine and file
// descriptor leak check.
//
// It is for tests and benchmarks only: no non-test code imports it.
package calltest
