package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

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
			resp, err := node.AdminClient(dir).Post("http://node/revoke", "application/json", bytes.NewReader(raw))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
				return fmt.Errorf("node refused: %s", strings.TrimSpace(string(msg)))
			}
			fmt.Fprintln(c.App.ErrWriter, "revocation published")
			return nil
		},
	}
}
