// Command moinha is the one binary of Mọi Nhà: it initialises, runs,
// backs up and benchmarks a node, manages a network charter, and runs a
// whole local network for demos. Each command lives in its own file and
// only turns flags into a call to node, testnet or federation.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/node"
)

func main() {
	if err := app().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "moinha:", err)
		os.Exit(1)
	}
}

func app() *cli.App {
	return &cli.App{
		Name:    "moinha",
		Usage:   "Mọi Nhà — federated telehealth node for Vietnam's provinces",
		Version: node.Version,
		Description: "Each province health department runs one node. Start here:\n" +
			"   moinha testnet                 a local demo network with sample data\n" +
			"   moinha init --data DIR ...     set up a real node, then `moinha run --data DIR`",
		Commands: []*cli.Command{
			initCmd(), idCmd(), runCmd(), userCmd(), facilityCmd(),
			backupCmd(), restoreCmd(), leaveCmd(), revokeCmd(), charterCmd(), testnetCmd(), benchCmd(), versionCmd(),
			referralCmd(),
		},
		EnableBashCompletion: true,
	}
}

var dataFlag = &cli.StringFlag{
	Name: "data", Usage: "the node's data directory (config.json, node.key, moinha.db)",
	Required: true, EnvVars: []string{"MOINHA_DATA"},
}

// adminPost sends body (nil for none) to path on the admin socket of the
// node running on dir and returns the node's refusal, if any, as an error.
// The node answers 204 when it took the request.
func adminPost(dir, path string, body []byte) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	resp, err := node.AdminClient(dir).Post("http://node"+path, "application/json", r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("node refused: %s", strings.TrimSpace(string(msg)))
	}
	return nil
}
