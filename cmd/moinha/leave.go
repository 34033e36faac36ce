package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/node"
)

func leaveCmd() *cli.Command {
	return &cli.Command{
		Name:  "leave",
		Usage: "leave the network: publish a signed leave (the node may be running or stopped)",
		Description: "Every member removes this province's facilities and staff from its directory.\n" +
			"If the node is stopped, the leave is written to its data file and goes out on the next start.",
		Flags: []cli.Flag{dataFlag},
		Action: func(c *cli.Context) error {
			dir := c.String("data")
			if node.Running(dir) {
				if err := adminPost(dir, "/leave", nil); err != nil {
					return err
				}
				fmt.Fprintln(c.App.ErrWriter, "left the network")
				return nil
			}
			cfg, err := node.LoadConfig(dir)
			if err != nil {
				return err
			}
			if err := node.StageLeave(c.Context, cfg); err != nil {
				return err
			}
			fmt.Fprintln(c.App.ErrWriter, "leave recorded; it is published when the node next starts")
			return nil
		},
	}
}
