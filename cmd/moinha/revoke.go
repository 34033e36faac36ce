package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/node"
)

func revokeCmd() *cli.Command {
	return &cli.Command{
		Name:  "revoke",
		Usage: "spread an authority's revocation (from `moinha charter revoke`) through this running node",
		Description: "Every member cuts the revoked node off within seconds and keeps the revocation.\n\n" +
			"   moinha revoke --data /var/lib/moinha --file revocation",
		Flags: []cli.Flag{dataFlag, &cli.StringFlag{Name: "file", Required: true, Usage: "revocation file"}},
		Action: func(c *cli.Context) error {
			raw, err := os.ReadFile(c.String("file"))
			if err != nil {
				return err
			}
			dir := c.String("data")
			if !node.Running(dir) {
				return errors.New("the node is not running: start it, then run this again")
			}
			if err := adminPost(dir, "/revoke", raw); err != nil {
				return err
			}
			fmt.Fprintln(c.App.ErrWriter, "revocation published")
			return nil
		},
	}
}
