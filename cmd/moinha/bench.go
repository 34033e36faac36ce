package main

import (
	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/bench"
)

func benchCmd() *cli.Command {
	return &cli.Command{
		Name:      "bench",
		Usage:     "run benchmark scenarios and print their figures",
		ArgsUsage: "[SCENARIO ...]   (default: all; see --list)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
			&cli.BoolFlag{Name: "list", Usage: "list the scenarios"},
			&cli.IntFlag{Name: "runs", Value: 5, Usage: "repetitions; figures are medians over runs"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("list") {
				return bench.List(c.App.Writer)
			}
			return bench.Run(c.Context, bench.Options{Scenarios: c.Args().Slice(), JSON: c.Bool("json"),
				Runs: c.Int("runs"), Out: c.App.Writer})
		},
	}
}
