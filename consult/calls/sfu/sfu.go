// Package sfu is the selective forwarding unit that carries a node's group
// sessions (case conferences, briefings, training): every participant
// uploads its audio and video once, over a "pub" PeerConnection that it
// offers, and receives every other participant's media over a "sub"
// PeerConnection that the SFU offers (two connections per participant, so
// neither side ever has to resolve an offer glare).
//
// All PeerConnections of an SFU share one UDP socket (an ICE UDP mux) with
// a large kernel receive buffer, so a burst from many senders is not
// dropped before pion reads it. Forwarding rewrites sequence numbers and
// timestamps per receiver, forwards PLI/FIR upstream (rate-limited) and
// answers NACKs from its send buffer (pion's NACK responder). Video sent as
// simulcast is forwarded one layer per receiver, chosen from that
// receiver's RTCP (receiver-report loss and REMB): a weak station gets the
// low layer, and when its bandwidth collapses its video is paused while
// audio keeps flowing.
//
// Each Room has one goroutine that owns its participants, connections and
// negotiation state; media readers and RTCP readers are goroutines the
// Room waits for on Close.
package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/moinha/moinha/consult/calls/rtcnet"
)

// Config describes an SFU. Each field says what zero means.
type Config struct {
	// Addr is the UDP address of the media socket (all connections share
	// it). Zero means 127.0.0.1 with a free port.
	Addr string
	// ReadBuffer is the socket's SO_RCVBUF in bytes. Zero means 8 MiB. The
	// kernel may grant less (see SFU.ReadBuffer); as root the cap of
	// net.core.rmem_max is bypassed.
	ReadBuffer int
	// Loopback keeps ICE on loopback (tests). Zero means every address.
	Loopback bool
	// NAT1To1IPs are public IPs to advertise for the media socket (a node
	// behind 1:1 NAT). Zero means the socket's own address.
	NAT1To1IPs []string
	// DisconnectedTimeout, FailedTimeout and KeepAlive tune ICE; zero means
	// pion's defaults.
	DisconnectedTimeout, FailedTimeout, KeepAlive time.Duration
	// LayerInterval is how often each receiver's simulcast layer is
	// reconsidered. Zero means 500 ms.
	LayerInterval time.Duration
	// Logger receives IDs and counts. Zero means slog.Default().
	Logger *slog.Logger
}

// SFU owns the media socket and the rooms using it.
type SFU struct {
	cfg     Config
	log     *slog.Logger
	api     *webrtc.API
	conn    net.PacketConn
	mux     ice.UDPMux
	rcvbuf  int
	closing chan struct{}

	// mu guards rooms, gone and closed.
	mu     sync.Mutex
	rooms  map[*Room]struct{}
	gone   Stats // final counters of the rooms closed so far
	closed bool

	closeOnce sync.Once
}

// ErrClosed is returned when the SFU or a Room is already closed.
var ErrClosed = errors.New("sfu: closed")

// New opens the media socket and returns an SFU.
func New(c Config) (*SFU, error) {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.ReadBuffer == 0 {
		c.ReadBuffer = 8 << 20
	}
	if c.LayerInterval == 0 {
		c.LayerInterval = 500 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	conn, err := net.ListenPacket("udp", c.Addr)
	if err != nil {
		return nil, fmt.Errorf("sfu: listen %s: %w", c.Addr, err)
	}
	got := setReadBuffer(conn.(*net.UDPConn), c.ReadBuffer)
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn, Logger: rtcnet.QuietLoggers{}.NewLogger("mux")})
	api, err := rtcnet.NewAPI(rtcnet.Config{
		Loopback: c.Loopback, UDPMux: mux, NAT1To1IPs: c.NAT1To1IPs,
		DisconnectedTimeout: c.DisconnectedTimeout, FailedTimeout: c.FailedTimeout, KeepAlive: c.KeepAlive,
	})
	if err != nil {
		mux.Close()
		conn.Close()
		return nil, err
	}
	s := &SFU{cfg: c, log: c.Logger, api: api, conn: conn, mux: mux, rcvbuf: got,
		closing: make(chan struct{}), rooms: map[*Room]struct{}{}}
	if got < c.ReadBuffer {
		s.log.Warn("sfu: media socket receive buffer smaller than asked", "want", c.ReadBuffer, "got", got)
	}
	return s, nil
}

// Addr is the media socket's address.
func (s *SFU) Addr() net.Addr { return s.conn.LocalAddr() }

// ReadBuffer is the receive buffer the kernel granted the media socket
// (as reported by SO_RCVBUF; Linux reports twice the requested size).
func (s *SFU) ReadBuffer() int { return s.rcvbuf }

// Close closes every room, then the media socket. It is idempotent.
func (s *SFU) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		rooms := make([]*Room, 0, len(s.rooms))
		for r := range s.rooms {
			rooms = append(rooms, r)
		}
		s.mu.Unlock()
		close(s.closing)
		for _, r := range rooms {
			r.Close()
		}
		_ = s.mux.Close()
		_ = s.conn.Close()
	})
	return nil
}

// Stats sums the counters of the SFU's open rooms.
func (s *SFU) Stats() Stats {
	s.mu.Lock()
	rooms := make([]*Room, 0, len(s.rooms))
	for r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	var st Stats
	for _, r := range rooms {
		rs := r.Stats()
		st = addStats(st, rs)
		st.Participants += rs.Participants
	}
	return st
}

// Totals are the SFU's counters since it started, over every room, open
// or closed (monotonic: for the operator's metrics); Participants is the
// number in open rooms.
func (s *SFU) Totals() Stats {
	s.mu.Lock()
	rooms := make([]*Room, 0, len(s.rooms))
	for r := range s.rooms {
		rooms = append(rooms, r)
	}
	st := s.gone
	s.mu.Unlock()
	// A room closing meanwhile is counted once: forget moves its final
	// counters to gone only after rooms were listed above, and Stats
	// returns the same final counters here.
	for _, r := range rooms {
		rs := r.Stats()
		st = addStats(st, rs)
		st.Participants += rs.Participants
	}
	return st
}

// forget removes a closed room, keeping its final counters in the totals.
func (s *SFU) forget(r *Room) {
	s.mu.Lock()
	if _, ok := s.rooms[r]; ok {
		delete(s.rooms, r)
		s.gone = addStats(s.gone, r.final)
	}
	s.mu.Unlock()
}
