package main

import (
	"fmt"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/testnet"
)

func testnetCmd() *cli.Command {
	return &cli.Command{
		Name:  "testnet",
		Usage: "run a whole local demo network with sample data until interrupted",
		Description: "Every node listens on 127.0.0.1 only. Prints each node's web/API address and its\n" +
			"demo users' passwords; --manifest writes the same as JSON.\n\n" +
			"   moinha testnet --provinces 3 --observer --manifest /tmp/moinha.json",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "provinces", Value: 3, Usage: "number of province nodes (1–34)"},
			&cli.BoolFlag{Name: "observer", Usage: "add a ministry observer node"},
			&cli.IntFlag{Name: "http-base", Value: 8080, Usage: "first HTTP port (node i gets base+i); 0 picks free ports"},
			&cli.StringFlag{Name: "manifest", Usage: "write the network's manifest (URLs, peers, passwords) to this file"},
			&cli.StringFlag{Name: "dir", Usage: "keep data directories here (default: a temporary directory, removed on exit)"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "sample data seed"},
		},
		Action: func(c *cli.Context) error {
			ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			net, err := testnet.Start(ctx, testnet.Options{
				Provinces: c.Int("provinces"), Observer: c.Bool("observer"), HTTPBase: c.Int("http-base"),
				Dir: c.String("dir"), Seed: c.Int64("seed"), DemoAvailability: true,
			})
			if err != nil {
				return err
			}
			defer net.Stop()
			if p := c.String("manifest"); p != "" {
				if err := net.WriteManifest(p); err != nil {
					return err
				}
			}
			w := c.App.Writer
			fmt.Fprintln(w, "Mọi Nhà testnet — mạng thử nghiệm cục bộ / local test network")
			for _, nd := range net.Manifest().Nodes {
				fmt.Fprintf(w, "\n  %s (%s, %s)\n    %s\n", nd.Name, nd.Province, nd.Role, nd.HTTP)
				for _, u := range []string{"admin", "staff", "doctor", "observer"} {
					if pw, ok := nd.Users[u]; ok {
						fmt.Fprintf(w, "    %-8s %s\n", u, pw)
					}
				}
			}
			fmt.Fprintln(w, "\nCtrl-C để dừng / to stop.")
			<-ctx.Done()
			return nil
		},
	}
}
