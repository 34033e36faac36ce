package turnserver_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/calls/rtcnet"
	"github.com/moinha/moinha/consult/calls/turnserver"
)

// allocate asks the server for a relay with the given credential over UDP.
func allocate(t *testing.T, srv *turnserver.Server, user, pass string) error {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer conn.Close()
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: srv.Addr().String(), TURNServerAddr: srv.Addr().String(),
		Conn: conn, Username: user, Password: pass, Realm: "moinha", LoggerFactory: rtcnet.QuietLoggers{},
	})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Listen())
	relay, err := c.Allocate()
	if err == nil {
		relay.Close()
	}
	return err
}

func TestCredentials(t *testing.T) {
	srv, err := turnserver.New(turnserver.Config{Secret: []byte("s3cret"), AllowLoopbackPeers: true})
	require.NoError(t, err)
	defer srv.Close()

	good := srv.Credentials("call1", time.Hour)
	assert.True(t, strings.HasSuffix(good.Username, ":call1"))
	require.NoError(t, allocate(t, srv, good.Username, good.Password))
	assert.Equal(t, int64(0), srv.AuthFailures())

	expired := srv.Credentials("call1", -time.Minute)
	assert.Error(t, allocate(t, srv, expired.Username, expired.Password), "an expired credential")

	assert.Error(t, allocate(t, srv, good.Username, "Zm9yZ2Vk"), "a forged password")
	forgedExpiry := "9999999999:call1"
	assert.Error(t, allocate(t, srv, forgedExpiry, good.Password), "a lengthened expiry")

	other, err := turnserver.New(turnserver.Config{Secret: []byte("other")})
	require.NoError(t, err)
	defer other.Close()
	foreign := other.Credentials("x", time.Hour)
	assert.Error(t, allocate(t, srv, foreign.Username, foreign.Password), "another node's credential")
	assert.GreaterOrEqual(t, srv.AuthFailures(), int64(1), "the expired username is refused before the integrity check")

	urls := srv.URLs()
	require.Len(t, urls, 3)
	assert.True(t, strings.HasPrefix(urls[0], "stun:127.0.0.1:"))
	assert.True(t, strings.HasSuffix(urls[2], "?transport=tcp"))
	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close(), "Close is idempotent")
}

func TestNeedsAnAddress(t *testing.T) {
	_, err := turnserver.New(turnserver.Config{Addr: "0.0.0.0:0"})
	assert.Error(t, err, "an unspecified listen address needs PublicIP")
	s, err := turnserver.New(turnserver.Config{Addr: "0.0.0.0:0", PublicIP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	s.Close()
}
