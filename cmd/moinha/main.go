// Command moinha is the one binary of Mọi Nhà: it initialises, runs,
// backs up and benchmarks a node, manages a network charter, and runs a
// whole local network for demos. Each command lives in its own file and
// only turns flags into a call to node, testnet or federation.
package main

import (
	"fmt"
	"os"

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
