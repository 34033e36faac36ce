// Package turnserver is the node's embedded STUN/TURN server (pion/turn v5)
// on one UDP and one TCP port, with short-lived credentials in the TURN REST
// style (draft-uberti-behave-turn-rest, the scheme RFC 7635 builds on): the
// username is
// "EXPIRY:SUBJECT" (EXPIRY in Unix seconds) and the password is
// base64(HMAC-SHA1(secret, username)). The server keeps no credential
// store: any username whose HMAC checks out and whose expiry lies ahead is
// accepted, so the node hands credentials only to authenticated call
// participants and they die on their own.
package turnserver

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // RFC 7635 / TURN REST credentials are HMAC-SHA1
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v5"

	"github.com/moinha/moinha/consult/calls/rtcnet"
)

// Config describes a TURN server. Each field says what zero means.
type Config struct {
	// Addr is the IP and port to listen on for both UDP and TCP. Zero means
	// 127.0.0.1 with a free port (the same number for UDP and TCP).
	Addr string
	// PublicIP is the address clients reach the server at and relayed
	// allocations are advertised on. Zero means Addr's IP (which must then
	// not be unspecified).
	PublicIP net.IP
	// RelayIP is the local address relay sockets bind to. Zero means Addr's IP.
	RelayIP net.IP
	// Realm is the TURN realm. Zero means "moinha".
	Realm string
	// Secret is the HMAC key of the credentials. Zero means 32 random bytes
	// (credentials then die with the process).
	Secret []byte
	// AllowLoopbackPeers lets clients relay to loopback and unspecified
	// addresses. Zero (false) refuses them, so the relay cannot be used to
	// reach the node's own local services; tests on 127.0.0.1 set it.
	AllowLoopbackPeers bool
	// Logger receives counts and errors. Zero means slog.Default().
	Logger *slog.Logger
}

// Server is a running STUN/TURN server. Close stops it.
type Server struct {
	srv      *turn.Server
	udp      net.PacketConn
	tcp      net.Listener
	public   net.IP
	realm    string
	secret   []byte
	log      *slog.Logger
	authFail atomic.Int64
	authOK   atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// Credential is one TURN username/password pair and when it expires.
type Credential struct {
	Username string
	Password string
	Expires  time.Time
}

var errBadAddr = errors.New("turnserver: Addr needs a specific IP, or PublicIP")

// New starts a server.
func New(c Config) (*Server, error) {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.Realm == "" {
		c.Realm = "moinha"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(c.Secret) == 0 {
		c.Secret = make([]byte, 32)
		if _, err := rand.Read(c.Secret); err != nil {
			return nil, err
		}
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return nil, fmt.Errorf("turnserver: addr %q: %w", c.Addr, err)
	}
	ip := net.ParseIP(host)
	if c.PublicIP == nil {
		if ip == nil || ip.IsUnspecified() {
			return nil, errBadAddr
		}
		c.PublicIP = ip
	}
	if c.RelayIP == nil {
		c.RelayIP = ip
		if ip == nil {
			c.RelayIP = net.IPv4zero
		}
	}
	udp, tcp, err := listenPair(c.Addr)
	if err != nil {
		return nil, err
	}
	s := &Server{udp: udp, tcp: tcp, public: c.PublicIP, realm: c.Realm, secret: c.Secret, log: c.Logger}
	perm := func(_ net.Addr, peer net.IP) bool {
		if c.AllowLoopbackPeers {
			return true
		}
		return !peer.IsLoopback() && !peer.IsUnspecified() && !peer.IsLinkLocalUnicast() && !peer.IsMulticast()
	}
	gen := func() turn.RelayAddressGenerator {
		return &turn.RelayAddressGeneratorStatic{RelayAddress: c.PublicIP, Address: c.RelayIP.String()}
	}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:       c.Realm,
		AuthHandler: s.auth,
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: udp, RelayAddressGenerator: gen(), PermissionHandler: perm,
		}},
		ListenerConfigs: []turn.ListenerConfig{{
			Listener: tcp, RelayAddressGenerator: gen(), PermissionHandler: perm,
		}},
		LoggerFactory: rtcnet.QuietLoggers{},
	})
	if err != nil {
		udp.Close()
		tcp.Close()
		return nil, fmt.Errorf("turnserver: %w", err)
	}
	s.srv = srv
	return s, nil
}

// listenPair opens UDP and TCP on the same port (trying a few free ports
// when addr's port is 0).
func listenPair(addr string) (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 16 {
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("turnserver: listen udp %s: %w", addr, err)
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		lastErr = err
		if _, port, _ := net.SplitHostPort(addr); port != "0" {
			break
		}
	}
	return nil, nil, fmt.Errorf("turnserver: listen tcp: %w", lastErr)
}

// auth checks a REST-style credential: unexpired and HMAC-valid.
func (s *Server) auth(ra *turn.RequestAttributes) (string, []byte, bool) {
	expiry, subject, ok := strings.Cut(ra.Username, ":")
	t, err := strconv.ParseInt(expiry, 10, 64)
	if !ok || err != nil || subject == "" || time.Now().Unix() > t {
		s.authFail.Add(1)
		return "", nil, false
	}
	pw := password(s.secret, ra.Username)
	s.authOK.Add(1)
	return subject, turn.GenerateAuthKey(ra.Username, ra.Realm, pw), true
}

func password(secret []byte, username string) string {
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Credentials issues a credential for subject, valid for ttl. subject
// should be an opaque ID (it appears in the username, not a person's name).
// An empty subject gets a random one.
func (s *Server) Credentials(subject string, ttl time.Duration) Credential {
	if subject == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		subject = hex.EncodeToString(b[:])
	}
	exp := time.Now().Add(ttl).Truncate(time.Second)
	user := strconv.FormatInt(exp.Unix(), 10) + ":" + subject
	return Credential{Username: user, Password: password(s.secret, user), Expires: exp}
}

// URLs are the ICE server URLs of this server: STUN, TURN over UDP and
// TURN over TCP.
func (s *Server) URLs() []string {
	_, port, _ := net.SplitHostPort(s.udp.LocalAddr().String())
	hp := net.JoinHostPort(s.public.String(), port)
	return []string{"stun:" + hp, "turn:" + hp + "?transport=udp", "turn:" + hp + "?transport=tcp"}
}

// Addr is the UDP (and TCP) address the server listens on.
func (s *Server) Addr() net.Addr { return s.udp.LocalAddr() }

// Allocations is the number of live TURN allocations.
func (s *Server) Allocations() int { return s.srv.AllocationCount() }

// AuthFailures counts usernames refused as malformed or expired (a wrong
// password fails the message-integrity check after this one).
func (s *Server) AuthFailures() int64 { return s.authFail.Load() }

// AuthSuccesses counts accepted credential checks.
func (s *Server) AuthSuccesses() int64 { return s.authOK.Load() }

// Close stops the server and releases its sockets and allocations. It is
// idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.srv.Close()
	})
	return s.closeErr
}
