package federation_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/moinha/moinha/federation"
	"github.com/moinha/moinha/federation/charter"
	"github.com/moinha/moinha/storage"
)

// Two provinces on loopback: the second bootstraps from the first, the
// first stages a facility inside its own transaction, and the second lists
// it.
func Example() {
	dir, _ := os.MkdirTemp("", "moinha-example")
	defer os.RemoveAll(dir)
	auth, _, _ := crypto.GenerateEd25519Key(nil)
	ch, _ := charter.NewCharter("Mọi Nhà", auth)

	start := func(province string, bootstrap []string) (*federation.Federation, *storage.DB) {
		key, _, _ := crypto.GenerateEd25519Key(nil)
		id, _ := peer.IDFromPrivateKey(key)
		cert, _ := charter.Admit(ch, auth, id, province, "Sở Y tế "+province, charter.RoleProvince, 0)
		db, _ := storage.Open(filepath.Join(dir, province+".db"), nil)
		f, err := federation.New(federation.Config{
			Key: key, Charter: ch, Certificate: cert, DB: db, Bootstrap: bootstrap,
			Apply: func(tx *storage.Tx, r federation.Record) error { return nil }, // the directory
		})
		if err != nil {
			panic(err)
		}
		if err := f.Start(context.Background()); err != nil {
			panic(err)
		}
		return f, db
	}
	a, dbA := start("66", nil)
	defer dbA.Close()
	defer a.Close()
	b, dbB := start("79", []string{a.Addrs()[0].String()})
	defer dbB.Close()
	defer b.Close()

	err := dbA.Update(context.Background(), func(tx *storage.Tx) error {
		// ... write the facility itself, then:
		return a.Stage(tx, federation.KindFacility, "66-tram-y-te-ea-kao", []byte(`{"name":"Trạm Y tế Ea Kao"}`), false)
	})
	if err != nil {
		panic(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		n := 0
		_ = b.Records(federation.KindFacility, func(r federation.Record) error { n++; return nil })
		if n == 1 {
			break
		}
	}
	_ = b.Records(federation.KindFacility, func(r federation.Record) error {
		fmt.Println(r.Key, string(r.Payload))
		return nil
	})
	// Output: 66-tram-y-te-ea-kao {"name":"Trạm Y tế Ea Kao"}
}
