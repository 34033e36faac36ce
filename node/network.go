package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/moinha/moinha/federation"
	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

// openFederation builds the federation from the charter and certificate
// in the data directory (or the configured paths). With neither present
// the node runs alone and n.fed stays nil.
func (n *Node) openFederation() error {
	if n.cfg.alone {
		return nil
	}
	chPath, certPath := n.cfg.CharterFile, n.cfg.CertFile
	if chPath == "" {
		chPath = filepath.Join(n.cfg.DataDir, CharterName)
	}
	if certPath == "" {
		certPath = filepath.Join(n.cfg.DataDir, CertName)
	}
	_, chErr := os.Stat(chPath)
	_, certErr := os.Stat(certPath)
	switch {
	case errors.Is(chErr, os.ErrNotExist) && errors.Is(certErr, os.ErrNotExist):
		n.log.Info("no charter and certificate: running alone, outside any network")
		return nil
	case errors.Is(certErr, os.ErrNotExist):
		return fmt.Errorf("node: charter %s found but no membership certificate %s: ask the admission authority to run `moinha charter admit --peer %s`", chPath, certPath, n.peer)
	case errors.Is(chErr, os.ErrNotExist):
		return fmt.Errorf("node: certificate %s found but no charter %s", certPath, chPath)
	}
	ch, err := charter.ReadCharter(chPath)
	if err != nil {
		return err
	}
	cert, err := charter.ReadCertificate(certPath)
	if err != nil {
		return err
	}
	if cert.Province != n.cfg.Province {
		return fmt.Errorf("node: certificate is for province %s, this node is %s", cert.Province, n.cfg.Province)
	}
	if (cert.Role == charter.Role("observer")) != (n.cfg.Role == "observer") {
		return fmt.Errorf("node: certificate role %s does not match node role %s", cert.Role, n.cfg.Role)
	}
	fed, err := federation.New(federation.Config{
		Key: n.key, ListenAddrs: n.cfg.P2PAddrs, Charter: ch, Certificate: cert,
		Bootstrap: n.cfg.Bootstrap, DB: n.db, Observer: n.cfg.Role == "observer",
		Logger: n.log, Registerer: n.reg, Apply: n.applyRecord, Prepare: n.prepareRecord, OnLeave: n.onLeave,
		GossipHeartbeat: n.cfg.GossipHeartbeat, SyncInterval: n.cfg.SyncInterval,
	})
	if err != nil {
		return err
	}
	n.fed = fed
	return nil
}

// shareOwnRecords stages every own directory entry that the federation
// does not hold in its current form: what was entered while the node ran
// alone (sample data, a CSV import before joining) goes out on the first
// start in a network. Later writes stage their records themselves.
func (n *Node) shareOwnRecords(ctx context.Context) error {
	type pending struct {
		kind, key string
		payload   []byte
	}
	var todo []pending
	self := n.fed.PeerID()
	err := n.dir.OwnRecords(func(kind, key string, payload []byte) error {
		rec, ok, err := n.fed.Record(self, kind, key)
		if err != nil {
			return err
		}
		if !ok || rec.Deleted || !bytes.Equal(rec.Payload, payload) {
			todo = append(todo, pending{kind, key, payload})
		}
		return nil
	})
	if err != nil {
		return err
	}
	const chunk = 256
	for len(todo) > 0 {
		part := todo[:min(chunk, len(todo))]
		todo = todo[len(part):]
		err := n.db.Update(ctx, func(tx *storage.Tx) error {
			for _, p := range part {
				if err := n.fed.Stage(tx, p.kind, p.key, p.payload, false); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// applyRecord hands accepted remote records to the domain, inside the
// transaction that stores them.
func (n *Node) applyRecord(tx *storage.Tx, r federation.Record) error {
	switch r.Kind {
	case federation.KindFacility, federation.KindPractitioner:
		return n.dir.ApplyRemote(tx, r.Kind, r.Key, r.Payload, r.Deleted)
	case federation.KindStats:
		return n.applyStats(tx, r)
	}
	// availability is read from the federation's records.
	return nil
}

// prepareRecord decodes and checks a facility or health worker that sync
// pulled before its write transaction, on the federation's verifiers, so
// that the single writer only stores it. A payload the directory refuses
// is left to applyRecord, which reports the same error in the transaction.
func (n *Node) prepareRecord(r federation.Record) func(*storage.Tx) error {
	switch r.Kind {
	case federation.KindFacility, federation.KindPractitioner:
		c, err := n.dir.PrepareRemote(r.Kind, r.Key, r.Payload, r.Deleted)
		if err != nil {
			return nil
		}
		return func(tx *storage.Tx) error { return n.dir.ApplyPrepared(tx, c) }
	}
	return nil
}

// onLeave removes a departed province's directory entries.
func (n *Node) onLeave(ctx context.Context, province string) {
	if province == n.cfg.Province {
		return
	}
	if err := n.dir.RemoveProvince(ctx, province); err != nil {
		n.log.Error("remove departed province", "left", province, "err", err)
	}
	if err := n.ref.ProvinceGone(ctx, province); err != nil {
		n.log.Error("re-route referrals of departed province", "left", province, "err", err)
	}
}

// Federation is the node's network layer, or nil for a lone node.
func (n *Node) Federation() *federation.Federation { return n.fed }

// Leave publishes a signed leave record: this node's facilities disappear
// from every member's directory.
func (n *Node) Leave(ctx context.Context) error {
	if n.fed == nil {
		return errors.New("node: not in a network")
	}
	return n.fed.Leave(ctx)
}

// StageLeave records a leave in the data file of a stopped node; it goes out
// through sync on the next start. Used by `moinha leave` when no node runs.
func StageLeave(ctx context.Context, cfg Config) error {
	n, err := New(cfg)
	if err != nil {
		return err
	}
	defer n.Close()
	if n.fed == nil {
		return errors.New("node: not in a network (no charter and certificate)")
	}
	return n.db.Update(ctx, n.fed.StageLeave)
}

// availability is API.md's Availability shape.
type availability struct {
	Province  string `json:"province"`
	Specialty string `json:"specialty"`
	Accepting bool   `json:"accepting"`
	Capacity  int    `json:"capacity"`
	WaitDays  int    `json:"wait_days"`
	Updated   string `json:"updated"`
}

func decodeAvailability(raw []byte) (availability, error) {
	var a availability
	err := json.Unmarshal(raw, &a)
	return a, err
}

// PublishRevocation verifies an authority-signed revocation (the file
// `moinha charter revoke` writes) and spreads it: every member cuts the
// revoked node off and keeps the revocation.
func (n *Node) PublishRevocation(ctx context.Context, raw []byte) error {
	if n.fed == nil {
		return errors.New("node: not in a network")
	}
	rev, err := charter.ParseRevocation(raw)
	if err != nil {
		return err
	}
	return n.fed.Revoke(ctx, rev)
}
