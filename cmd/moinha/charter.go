package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/federation/charter"
)

func charterCmd() *cli.Command {
	charterFlag := &cli.StringFlag{Name: "charter", Required: true, Usage: "the network charter file"}
	keyFlag := &cli.StringFlag{Name: "authority-key", Required: true, Usage: "the admission authority's private key file"}
	return &cli.Command{
		Name:  "charter",
		Usage: "create a network and admit or revoke its members (admission authority)",
		Description: "A network is defined by its charter: a name and the public keys of its admission\n" +
			"authorities. Its hash is the network ID. The authority signs each member's certificate.\n\n" +
			"   moinha charter new   --out charter.json --authority-key authority.key --name 'Mọi Nhà'\n" +
			"   moinha charter admit --charter charter.json --authority-key authority.key \\\n" +
			"        --peer 12D3Koo… --province 66 --name 'Đắk Lắk' --role province --out member.cert",
		Subcommands: []*cli.Command{
			{
				Name:  "new",
				Usage: "create a charter; creates the authority key if the file does not exist",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "out", Required: true, Usage: "charter file to write"},
					keyFlag,
					&cli.StringFlag{Name: "name", Required: true, Usage: "network name"},
				},
				Action: func(c *cli.Context) error {
					key, err := loadOrCreateAuthority(c.String("authority-key"))
					if err != nil {
						return err
					}
					ch, err := charter.NewCharter(c.String("name"), key)
					if err != nil {
						return err
					}
					if err := charter.WriteCharter(c.String("out"), ch); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "network %s (%s)\n", ch.NetworkID(), ch.Name)
					return nil
				},
			},
			{
				Name:  "admit",
				Usage: "sign a membership certificate for a node's peer ID",
				Flags: []cli.Flag{
					charterFlag, keyFlag,
					&cli.StringFlag{Name: "peer", Required: true, Usage: "the node's peer ID (`moinha id`)"},
					&cli.StringFlag{Name: "province", Required: true, Usage: "province code"},
					&cli.StringFlag{Name: "name", Required: true, Usage: "member name"},
					&cli.StringFlag{Name: "role", Value: "province", Usage: "province, hospital or observer"},
					&cli.StringFlag{Name: "out", Required: true, Usage: "certificate file to write"},
					&cli.DurationFlag{Name: "valid-for", Value: 8760 * time.Hour, Usage: "validity"},
				},
				Action: func(c *cli.Context) error {
					ch, key, p, err := charterArgs(c)
					if err != nil {
						return err
					}
					cert, err := charter.Admit(ch, key, p, c.String("province"), c.String("name"),
						charter.Role(c.String("role")), c.Duration("valid-for"))
					if err != nil {
						return err
					}
					if err := charter.WriteCertificate(c.String("out"), cert); err != nil {
						return err
					}
					fmt.Fprintf(c.App.ErrWriter, "admitted %s as %s %s until %s\n", p, c.String("role"),
						c.String("province"), cert.NotAfter.Format(time.DateOnly))
					return nil
				},
			},
			{
				Name:  "revoke",
				Usage: "sign a revocation of a member; give it to any running member to spread",
				Flags: []cli.Flag{
					charterFlag, keyFlag,
					&cli.StringFlag{Name: "peer", Required: true, Usage: "the revoked node's peer ID"},
					&cli.StringFlag{Name: "reason", Value: "revoked by the admission authority", Usage: "reason"},
					&cli.StringFlag{Name: "out", Required: true, Usage: "revocation file to write"},
				},
				Action: func(c *cli.Context) error {
					ch, key, p, err := charterArgs(c)
					if err != nil {
						return err
					}
					rev, err := charter.Revoke(ch, key, p, c.String("reason"))
					if err != nil {
						return err
					}
					return charter.WriteRevocation(c.String("out"), rev)
				},
			},
		},
	}
}

func loadOrCreateAuthority(path string) (crypto.PrivKey, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return charter.CreateAuthorityKey(path)
	}
	return charter.LoadAuthorityKey(path)
}

func charterArgs(c *cli.Context) (charter.Charter, crypto.PrivKey, peer.ID, error) {
	ch, err := charter.ReadCharter(c.String("charter"))
	if err != nil {
		return ch, nil, "", err
	}
	key, err := charter.LoadAuthorityKey(c.String("authority-key"))
	if err != nil {
		return ch, nil, "", err
	}
	p, err := peer.Decode(c.String("peer"))
	if err != nil {
		return ch, nil, "", fmt.Errorf("--peer %q is not a peer ID: %w", c.String("peer"), err)
	}
	return ch, key, p, nil
}
