//go:build !linux

package sfu

import "net"

// setReadBuffer asks for an n-byte receive buffer and returns n if the
// request was accepted (the kernel's real figure is not portable).
func setReadBuffer(c *net.UDPConn, n int) int {
	if c.SetReadBuffer(n) != nil {
		return 0
	}
	return n
}
