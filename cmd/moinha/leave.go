package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"

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
				resp, err := node.AdminClient(dir).Post("http://node/leave", "application/json", nil)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
					return fmt.Errorf("node refused: %s", strings.TrimSpace(string(msg)))
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
