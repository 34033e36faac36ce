package calltest

import (
	"net"
	"sync/atomic"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// SwitchNet is the real network with a switch that cuts it: while cut,
// every UDP socket it opened silently drops what it sends and discards what
// it receives — a station whose link went down. Pass it as Options.Net.
type SwitchNet struct {
	*stdnet.Net
	cut atomic.Bool
}

// NewSwitchNet returns a SwitchNet, connected.
func NewSwitchNet() (*SwitchNet, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return &SwitchNet{Net: n}, nil
}

// Cut drops all traffic of the sockets opened through n.
func (n *SwitchNet) Cut() { n.cut.Store(true) }

// Restore lets traffic through again.
func (n *SwitchNet) Restore() { n.cut.Store(false) }

// ListenUDP opens a switchable socket.
func (n *SwitchNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	return &switchConn{UDPConn: c, cut: &n.cut}, nil
}

// ListenPacket opens a switchable socket.
func (n *SwitchNet) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := n.Net.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}
	return &switchPacketConn{PacketConn: c, cut: &n.cut}, nil
}

type switchConn struct {
	transport.UDPConn
	cut *atomic.Bool
}

func (c *switchConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, a, err := c.UDPConn.ReadFrom(b)
		if err != nil || !c.cut.Load() {
			return n, a, err
		}
	}
}

func (c *switchConn) ReadFromUDP(b []byte) (int, *net.UDPAddr, error) {
	for {
		n, a, err := c.UDPConn.ReadFromUDP(b)
		if err != nil || !c.cut.Load() {
			return n, a, err
		}
	}
}

func (c *switchConn) Read(b []byte) (int, error) {
	for {
		n, err := c.UDPConn.Read(b)
		if err != nil || !c.cut.Load() {
			return n, err
		}
	}
}

func (c *switchConn) WriteTo(b []byte, a net.Addr) (int, error) {
	if c.cut.Load() {
		return len(b), nil
	}
	return c.UDPConn.WriteTo(b, a)
}

func (c *switchConn) WriteToUDP(b []byte, a *net.UDPAddr) (int, error) {
	if c.cut.Load() {
		return len(b), nil
	}
	return c.UDPConn.WriteToUDP(b, a)
}

func (c *switchConn) Write(b []byte) (int, error) {
	if c.cut.Load() {
		return len(b), nil
	}
	return c.UDPConn.Write(b)
}

type switchPacketConn struct {
	net.PacketConn
	cut *atomic.Bool
}

func (c *switchPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, a, err := c.PacketConn.ReadFrom(b)
		if err != nil || !c.cut.Load() {
			return n, a, err
		}
	}
}

func (c *switchPacketConn) WriteTo(b []byte, a net.Addr) (int, error) {
	if c.cut.Load() {
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, a)
}
