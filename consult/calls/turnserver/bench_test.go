package turnserver_test

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/calls/rtcnet"
	"github.com/moinha/moinha/consult/calls/turnserver"
)

// BenchmarkTURNRelay pushes 1,200-byte packets from a TURN client through
// its allocation to a UDP peer on loopback, paced in bursts so that the
// offered load stays near what the relay carries, and reports the packets
// per second the peer received and the share lost.
func BenchmarkTURNRelay(b *testing.B) {
	srv, err := turnserver.New(turnserver.Config{AllowLoopbackPeers: true})
	require.NoError(b, err)
	defer srv.Close()
	cred := srv.Credentials("bench", time.Hour)
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(b, err)
	defer conn.Close()
	c, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: srv.Addr().String(), TURNServerAddr: srv.Addr().String(),
		Conn: conn, Username: cred.Username, Password: cred.Password, Realm: "moinha", LoggerFactory: rtcnet.QuietLoggers{}})
	require.NoError(b, err)
	defer c.Close()
	require.NoError(b, c.Listen())
	relay, err := c.Allocate()
	require.NoError(b, err)
	defer relay.Close()

	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(b, err)
	defer peer.Close()
	_ = peer.(*net.UDPConn).SetReadBuffer(8 << 20)
	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			if _, _, err := peer.ReadFrom(buf); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	// The first write creates the permission and binds a channel.
	pkt := make([]byte, 1200)
	_, err = relay.WriteTo(pkt, peer.LocalAddr())
	require.NoError(b, err)

	const total = 200_000
	b.ResetTimer()
	start := time.Now()
	sent := 0
	for sent < total {
		for range 64 {
			if _, err := relay.WriteTo(pkt, peer.LocalAddr()); err == nil {
				sent++
			}
		}
		// pace: keep at most ~2,000 packets in flight
		for int64(sent)-got.Load() > 2000 && time.Since(start) < 30*time.Second {
			time.Sleep(100 * time.Microsecond)
		}
	}
	// let the tail arrive
	deadline := time.Now().Add(time.Second)
	for got.Load() < int64(sent) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	secs := time.Since(start).Seconds()
	b.StopTimer()
	b.ReportMetric(float64(got.Load())/secs, "pkts/s")
	b.ReportMetric(float64(got.Load())*1200*8/secs/1e6, "Mbit/s")
	b.ReportMetric(100*float64(int64(sent)-got.Load())/float64(sent), "loss-%")
	peer.Close()
	<-done
}
