package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/node"
)

func initCmd() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "create a node's data directory: identity key, config and data file",
		Description: "Creates DIR with the node's Ed25519 key (its libp2p identity), config.json and\n" +
			"moinha.db, and prints the peer ID to send to the network's admission authority.\n\n" +
			"   moinha init --data /var/lib/moinha --province 66 --name 'Đắk Lắk' --sample",
		Flags: []cli.Flag{
			dataFlag,
			&cli.StringFlag{Name: "province", Usage: "province code, e.g. 66 (Đắk Lắk)", Required: true},
			&cli.StringFlag{Name: "name", Usage: "province or hospital name; default: the province's official name"},
			&cli.StringFlag{Name: "role", Usage: "province, hospital or observer", Value: "province"},
			&cli.StringFlag{Name: "charter", Usage: "the network charter file to copy in"},
			&cli.BoolFlag{Name: "sample", Usage: "fill the directory, staff and schedules with sample data"},
			&cli.BoolFlag{Name: "sample-full", Usage: "with --sample: a full-size province (~500 facilities, ~5,000 staff)"},
		},
		Action: func(c *cli.Context) error {
			id, err := node.Init(c.Context, node.InitOptions{
				DataDir: c.String("data"), Province: c.String("province"), Name: c.String("name"),
				Role: c.String("role"), Charter: c.String("charter"), Sample: c.Bool("sample"), Full: c.Bool("sample-full"),
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, id)
			fmt.Fprintf(c.App.ErrWriter, "initialised %s; add an admin with `moinha user add --data %s --username admin --role admin`, then `moinha run --data %s`\n",
				c.String("data"), c.String("data"), c.String("data"))
			return nil
		},
	}
}
