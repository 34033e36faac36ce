package charter_test

import (
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/moinha/moinha/federation/charter"
)

// A network is made by an authority, which then admits a node.
func Example() {
	auth, _, _ := crypto.GenerateEd25519Key(nil)
	ch, err := charter.NewCharter("Mọi Nhà", auth)
	if err != nil {
		panic(err)
	}
	nodeKey, _, _ := crypto.GenerateEd25519Key(nil)
	node, _ := peer.IDFromPrivateKey(nodeKey)

	cert, err := charter.Admit(ch, auth, node, "66", "Sở Y tế Đắk Lắk", charter.RoleProvince, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(cert.VerifyPeer(ch, node, time.Now()))

	rev, _ := charter.Revoke(ch, auth, node, "key compromised")
	fmt.Println(rev.Verify(ch))
	// Output:
	// <nil>
	// <nil>
}
