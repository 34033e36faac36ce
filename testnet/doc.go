// Package testnet runs many real Mọi Nhà nodes in one process on loopback,
// each with its own data directory and sample data, for demos (`moinha
// testnet`), benchmarks and tests. It takes no *testing.T and imports
// neither testing nor testify, because the moinha binary links it; the
// helpers for Go tests live in testnet/testnettest.
package testnet
