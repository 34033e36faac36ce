package main

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/federation"
	"github.com/moinha/moinha/node"
)

func idCmd() *cli.Command {
	return &cli.Command{
		Name:  "id",
		Usage: "print the node's peer ID",
		Flags: []cli.Flag{dataFlag},
		Action: func(c *cli.Context) error {
			_, id, err := federation.LoadIdentity(filepath.Join(c.String("data"), node.KeyFile))
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, id)
			return nil
		},
	}
}
