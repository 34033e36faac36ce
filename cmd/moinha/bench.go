package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/bench"
)

func benchCmd() *cli.Command {
	return &cli.Command{
		Name:      "bench",
		Usage:     "run benchmark scenarios and print their figures",
		ArgsUsage: "[SCENARIO ...]   (default: all; see --list)",
		Description: "Flags may come before or after the scenario names.\n\n" +
			"   moinha bench booking --runs 3\n" +
			"   moinha bench --json rss",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
			&cli.BoolFlag{Name: "list", Usage: "list the scenarios"},
			&cli.IntFlag{Name: "runs", Value: 5, Usage: "repetitions; figures are medians over runs"},
			&cli.StringFlag{Name: "cpuprofile", Usage: "write CPU profiles of the timed part of sync and propagation to `PATH`.1, PATH.2, … (go tool pprof)"},
		},
		Action: func(c *cli.Context) error {
			o := bench.Options{JSON: c.Bool("json"), Runs: c.Int("runs"), Out: c.App.Writer, CPUProfile: c.String("cpuprofile")}
			list := c.Bool("list")
			if err := trailingBenchFlags(c.Args().Slice(), &o, &list); err != nil {
				return err
			}
			if list {
				return bench.List(c.App.Writer)
			}
			return bench.Run(c.Context, o)
		},
	}
}

// trailingBenchFlags reads the scenario names and any flags among them
// (urfave/cli v2 stops parsing flags at the first argument).
func trailingBenchFlags(args []string, o *bench.Options, list *bool) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			o.Scenarios = append(o.Scenarios, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case "json", "list":
			b := true
			if hasVal {
				var err error
				if b, err = strconv.ParseBool(val); err != nil {
					return fmt.Errorf("--%s=%s: want true or false", name, val)
				}
			}
			if name == "json" {
				o.JSON = b
			} else {
				*list = b
			}
		case "cpuprofile", "runs":
			if !hasVal {
				if i+1 == len(args) {
					return fmt.Errorf("--%s needs a value", name)
				}
				i++
				val = args[i]
			}
			if name == "cpuprofile" {
				o.CPUProfile = val
				continue
			}
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return fmt.Errorf("--runs %s: want a whole number of at least 1", val)
			}
			o.Runs = n
		default:
			return fmt.Errorf("unknown flag %s; see moinha bench --help", a)
		}
	}
	return nil
}
