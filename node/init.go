package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/consult/sample"
	"github.com/moinha/moinha/federation"
)

// InitOptions are the inputs of `moinha init`.
type InitOptions struct {
	DataDir  string
	Province string // province code, e.g. "66"
	Name     string // shown to people; zero means the sample province's name, if known
	Role     string // province, hospital or observer; zero means province
	Charter  string // path of the network charter to copy in; zero means none yet
	Sample   bool   // fill the directory, staff and schedules with sample data
	Full     bool   // with Sample: a full-size province (~500 facilities) instead of a small one
	Seed     int64  // sample seed; zero means 1
	// Logger receives the logs of the short-lived node Init opens to load
	// sample data. Zero means discard.
	Logger *slog.Logger
}

var provinceCode = regexp.MustCompile(`^[0-9A-Za-z]{1,8}$`)

// Init creates a data directory: node key, config.json, data file, and
// optionally sample data. It returns the node's peer ID.
func Init(ctx context.Context, o InitOptions) (peer.ID, error) {
	if o.DataDir == "" {
		return "", errors.New("init: --data is required")
	}
	if !provinceCode.MatchString(o.Province) {
		return "", fmt.Errorf("init: province code %q: want 1–8 letters or digits, e.g. 66", o.Province)
	}
	if o.Name == "" {
		if p, ok := sample.ProvinceByCode(o.Province); ok {
			o.Name = p.Name
		} else {
			return "", errors.New("init: --name is required for this province code")
		}
	}
	if _, err := os.Stat(filepath.Join(o.DataDir, ConfigFile)); err == nil {
		return "", fmt.Errorf("init: %s is already initialised", o.DataDir)
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return "", err
	}
	_, id, err := federation.CreateIdentity(filepath.Join(o.DataDir, KeyFile))
	if err != nil {
		return "", err
	}
	cfg := Config{DataDir: o.DataDir, Province: o.Province, Name: o.Name, Role: o.Role}
	if o.Charter != "" {
		raw, err := os.ReadFile(o.Charter)
		if err != nil {
			return "", fmt.Errorf("init: charter: %w", err)
		}
		if err := os.WriteFile(filepath.Join(o.DataDir, CharterName), raw, 0o600); err != nil {
			return "", err
		}
	}
	if err := cfg.Save(); err != nil {
		return "", err
	}
	quiet := cfg
	quiet.alone = true
	quiet.Logger = o.Logger
	if quiet.Logger == nil {
		quiet.Logger = slog.New(slog.DiscardHandler)
	}
	n, err := New(quiet)
	if err != nil {
		return "", err
	}
	defer n.Close()
	if o.Sample {
		size := sample.Small
		if o.Full {
			size = sample.Full
		}
		seed := o.Seed
		if seed == 0 {
			seed = 1
		}
		if err := sample.Load(ctx, n.dir, n.book, sample.Province(o.Province, seed, size)); err != nil {
			return "", fmt.Errorf("init: sample data: %w", err)
		}
	}
	return id, nil
}

// DemoUsers creates the users admin, staff and doctor (API.md's testnet
// manifest) with random passwords and returns username → password. Staff
// work at the first commune health station, doctors at the highest-level
// facility of this province.
func (n *Node) DemoUsers(ctx context.Context) (map[string]string, error) {
	station, hospital := "", ""
	best := -1
	cursor := ""
	for {
		fs, next, err := n.dir.ListFacilities(directory.FacilityFilter{Province: n.cfg.Province}, 500, cursor)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if f.Level == consult.CommuneHealthStation && station == "" {
				station = f.ID
			}
			for i, l := range consult.Levels {
				if l == f.Level && i > best {
					best, hospital = i, f.ID
				}
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	users := []struct {
		name     string
		role     consult.Role
		facility string
	}{{"admin", consult.RoleAdmin, ""}, {"staff", consult.RoleStaff, station}, {"doctor", consult.RoleDoctor, hospital}}
	if n.cfg.Role == "observer" {
		users = users[:1]
		users = append(users, struct {
			name     string
			role     consult.Role
			facility string
		}{"observer", consult.RoleObserver, ""})
	}
	out := map[string]string{}
	for _, u := range users {
		pw := RandomPassword()
		if _, err := n.acct.AddUser(ctx, "init", u.name, pw, u.role, u.facility); err != nil {
			return nil, err
		}
		out[u.name] = pw
	}
	return out, nil
}

// RandomPassword returns a random password (26 base32 characters, 130 bits).
func RandomPassword() string { return rand.Text() }
