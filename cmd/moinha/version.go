package main

import (
	"fmt"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/node"
	"github.com/moinha/moinha/storage"
)

func versionCmd() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, data schema and Go version",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(c.App.Writer, "moinha %s (schema %d, %s)\n", node.Version, storage.SchemaVersion, runtime.Version())
			return nil
		},
	}
}
