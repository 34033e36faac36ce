package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moinha/moinha/consult/referral"
)

// Config describes one node. It maps one-to-one to `moinha run` flags and
// to the data directory's config.json; testnet edits it directly. Each
// field says what its zero value means.
type Config struct {
	// DataDir holds config.json, node.key and moinha.db. Required.
	DataDir string `json:"-"`
	// Province is this node's province code ("66"). Required; set by init.
	Province string `json:"province"`
	// Name is the province or hospital name shown to people. Set by init.
	Name string `json:"name"`
	// Role is province, hospital or observer. Zero means province.
	Role string `json:"role,omitempty"`
	// HTTPAddr is where the API and web app listen. Zero means 127.0.0.1:8080;
	// port 0 picks a free port (see Node.HTTPAddr).
	HTTPAddr string `json:"http,omitempty"`
	// P2PAddrs are libp2p listen multiaddrs. Zero means loopback TCP and QUIC
	// on free ports.
	P2PAddrs []string `json:"p2p,omitempty"`
	// Bootstrap are members' multiaddrs (with /p2p/ID) to dial at start.
	// Zero means none: a lone node until someone dials it.
	Bootstrap []string `json:"bootstrap,omitempty"`
	// CharterFile and CertFile locate the network charter and this node's
	// membership certificate. Zero means charter.json and member.cert in
	// DataDir; if those are missing the node runs alone.
	CharterFile string `json:"charter,omitempty"`
	CertFile    string `json:"cert,omitempty"`
	// Observer runs the node read-only (ministry observer). Zero means false.
	Observer bool `json:"observer,omitempty"`
	// MediaAddr is the SFU's UDP media socket ("IP:PORT"; every group
	// call shares it). Zero means HTTPAddr's IP (127.0.0.1 when that is
	// unspecified) with a free port. A loopback IP keeps call media on
	// loopback (tests, a single-machine demo).
	MediaAddr string `json:"media,omitempty"`
	// TURNAddr is the embedded STUN/TURN server's address, UDP and TCP on
	// the same port; "off" disables it. Zero means the same IP as the
	// media socket with a free port. An unspecified IP (0.0.0.0) needs
	// PublicIP.
	TURNAddr string `json:"turn,omitempty"`
	// PublicIP is the address announced to browsers in ICE candidates and
	// TURN URLs (a node behind 1:1 NAT, or listening on 0.0.0.0). Zero
	// means the listen IPs themselves.
	PublicIP string `json:"public_ip,omitempty"`
	// RelayOnly tells browsers to use TURN relay candidates only (networks
	// that block direct UDP between provinces). Zero means all candidates.
	RelayOnly bool `json:"relay_only,omitempty"`
	// LogLevel is debug, info, warn or error. Zero means info.
	LogLevel string `json:"log_level,omitempty"`
	// MaxBodyBytes caps request bodies. Zero means 1 MiB (CSV import: 16×).
	MaxBodyBytes int64 `json:"max_body_bytes,omitempty"`
	// ShutdownTimeout bounds how long Close waits for in-flight requests.
	// Zero means 10 s.
	ShutdownTimeout time.Duration `json:"shutdown_timeout,omitempty"`
	// Logger receives the node's structured logs. Zero means JSON lines on
	// stderr at LogLevel.
	Logger *slog.Logger `json:"-"`
	// GossipHeartbeat and SyncInterval tune the federation (see
	// federation.Config); zero means its defaults. testnet shortens them.
	GossipHeartbeat time.Duration `json:"-"`
	SyncInterval    time.Duration `json:"-"`
	// StatsInterval is how often the node publishes its statistics (and
	// how stale an observer lets them get before it flags the province as
	// not reporting: two intervals). Zero means 5 minutes; testnet
	// shortens it.
	StatsInterval time.Duration `json:"-"`
	// Referrals tunes the referral service (offer deadlines, fan-out,
	// deadline polling, auto-accept); node sets its province, sender,
	// availability and observer fields itself. Zero fields mean the
	// referral package's defaults; testnet shortens the timers.
	Referrals referral.Options `json:"-"`
	// alone skips the federation even when a charter is present (Init's
	// short-lived node that loads sample data).
	alone bool
	// NoSync disables fsync: benchmarks of non-durable paths only. Zero
	// (false) means every acknowledged write is on disk.
	NoSync bool `json:"-"`
	// GCPercent is the Go garbage collector's target (what GOGC sets): a
	// collection starts when the heap has grown this many percent over
	// what the last one left live. Start applies it to the whole process.
	// Zero means DefaultGCPercent, unless the GOGC environment variable
	// is set, which then stands. A node's heap is small (~11 MiB of
	// anonymous RSS serving a full province at 100): 200 against Go's
	// 100 cost ~5 MiB of RSS and saved ~15% of the node's CPU per booking
	// (BENCHMARKS.md). Negative is refused.
	GCPercent int `json:"gc_percent,omitempty"`
}

// DefaultGCPercent is GCPercent's zero value (Go's own default is 100).
const DefaultGCPercent = 200

// File names inside DataDir.
const (
	ConfigFile  = "config.json"
	KeyFile     = "node.key"
	DBFile      = "moinha.db"
	CharterName = "charter.json"
	CertName    = "member.cert"
)

// Defaults.
const (
	DefaultHTTPAddr     = "127.0.0.1:8080"
	defaultMaxBody      = 1 << 20
	defaultShutdownWait = 10 * time.Second
)

// LoadConfig reads DataDir/config.json and then applies MOINHA_*
// environment variables (MOINHA_HTTP, MOINHA_P2P, MOINHA_BOOTSTRAP — comma
// separated —, MOINHA_LOG_LEVEL). Flags are applied by the caller after.
func LoadConfig(dataDir string) (Config, error) {
	var c Config
	raw, err := os.ReadFile(filepath.Join(dataDir, ConfigFile))
	if errors.Is(err, os.ErrNotExist) {
		return c, fmt.Errorf("no %s in %s: run `moinha init --data %s --province CODE --name NAME` first", ConfigFile, dataDir, dataDir)
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("%s: %w", filepath.Join(dataDir, ConfigFile), err)
	}
	c.DataDir = dataDir
	c.ApplyEnv(os.Getenv)
	return c, nil
}

// ApplyEnv overrides fields from MOINHA_* variables read through getenv.
func (c *Config) ApplyEnv(getenv func(string) string) {
	if v := getenv("MOINHA_HTTP"); v != "" {
		c.HTTPAddr = v
	}
	if v := getenv("MOINHA_P2P"); v != "" {
		c.P2PAddrs = splitList(v)
	}
	if v := getenv("MOINHA_BOOTSTRAP"); v != "" {
		c.Bootstrap = splitList(v)
	}
	if v := getenv("MOINHA_LOG_LEVEL"); v != "" {
		c.LogLevel = v
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Save writes the persistent fields to DataDir/config.json (mode 0600).
func (c Config) Save() error {
	raw, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.DataDir, ConfigFile), append(raw, '\n'), 0o600)
}

func (c *Config) withDefaults() error {
	if c.DataDir == "" {
		return errors.New("node: DataDir is required")
	}
	if c.Province == "" {
		return errors.New("node: Province is required (set by `moinha init`)")
	}
	if c.Role == "" {
		c.Role = "province"
	}
	if c.Observer {
		c.Role = "observer"
	}
	switch c.Role {
	case "province", "hospital", "observer":
	default:
		return fmt.Errorf("node: role %q: want province, hospital or observer", c.Role)
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = DefaultHTTPAddr
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = defaultMaxBody
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = defaultShutdownWait
	}
	if c.GCPercent < 0 {
		return fmt.Errorf("node: gc_percent %d: want a positive percentage, or zero for the default", c.GCPercent)
	}
	return c.checkMedia()
}

// checkMedia checks the call media settings' shape (whether the addresses
// can be bound is the calls service's to find out).
func (c *Config) checkMedia() error {
	for _, a := range []struct{ flag, v string }{{"media", c.MediaAddr}, {"turn", c.TURNAddr}} {
		if a.v == "" || (a.flag == "turn" && a.v == "off") {
			continue
		}
		host, port, err := net.SplitHostPort(a.v)
		if err != nil || net.ParseIP(host) == nil || port == "" {
			return fmt.Errorf("node: %s address %q: want IP:PORT", a.flag, a.v)
		}
	}
	if c.PublicIP != "" {
		if ip := net.ParseIP(c.PublicIP); ip == nil || ip.IsUnspecified() {
			return fmt.Errorf("node: public IP %q: want an IP address", c.PublicIP)
		}
	}
	if c.TURNAddr != "off" && c.PublicIP == "" {
		if _, turn := c.mediaAddrs(); turn != "" {
			if host, _, _ := net.SplitHostPort(turn); net.ParseIP(host).IsUnspecified() {
				return fmt.Errorf("node: TURN on %s needs a public IP (the address browsers reach it at)", turn)
			}
		}
	}
	return nil
}

// mediaAddrs are the effective media and TURN addresses ("" for TURN when
// it is off): see MediaAddr and TURNAddr.
func (c *Config) mediaAddrs() (media, turn string) {
	media = c.MediaAddr
	if media == "" {
		ip := "127.0.0.1"
		if host, _, err := net.SplitHostPort(c.HTTPAddr); err == nil {
			if a := net.ParseIP(host); a != nil && !a.IsUnspecified() {
				ip = a.String()
			}
		}
		media = net.JoinHostPort(ip, "0")
	}
	switch turn = c.TURNAddr; turn {
	case "off":
		turn = ""
	case "":
		host, _, _ := net.SplitHostPort(media)
		turn = net.JoinHostPort(host, "0")
	}
	return media, turn
}
