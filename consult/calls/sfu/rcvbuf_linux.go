package sfu

import (
	"net"
	"syscall"
)

// setReadBuffer asks for an n-byte receive buffer, forcing past
// net.core.rmem_max when the process may (CAP_NET_ADMIN), and returns what
// the kernel reports.
func setReadBuffer(c *net.UDPConn, n int) int {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	got := 0
	_ = raw.Control(func(fd uintptr) {
		if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n) != nil {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
		}
		got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	})
	return got
}
