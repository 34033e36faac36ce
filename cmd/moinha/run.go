package main

import (
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/node"
)

func runCmd() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run the node until SIGINT or SIGTERM (which drain in-flight requests)",
		Description: "Flags override config.json, which MOINHA_HTTP, MOINHA_P2P, MOINHA_BOOTSTRAP and\n" +
			"MOINHA_LOG_LEVEL override in turn.\n\n" +
			"   moinha run --data /var/lib/moinha --http 127.0.0.1:8080",
		Flags: []cli.Flag{
			dataFlag,
			&cli.StringFlag{Name: "http", Usage: "API and web app address (default " + node.DefaultHTTPAddr + ")"},
			&cli.StringSliceFlag{Name: "p2p", Usage: "libp2p listen multiaddr, repeatable (default loopback TCP and QUIC)"},
			&cli.StringFlag{Name: "cert", Usage: "membership certificate file (default DATA/member.cert)"},
			&cli.StringFlag{Name: "charter", Usage: "network charter file (default DATA/charter.json)"},
			&cli.StringSliceFlag{Name: "bootstrap", Usage: "a member's multiaddr with /p2p/ID, repeatable"},
			&cli.BoolFlag{Name: "observer", Usage: "run read-only as a ministry observer"},
			&cli.StringFlag{Name: "log-level", Usage: "debug, info, warn or error"},
		},
		Action: func(c *cli.Context) error {
			cfg, err := node.LoadConfig(c.String("data"))
			if err != nil {
				return err
			}
			if v := c.String("http"); v != "" {
				cfg.HTTPAddr = v
			}
			if v := c.StringSlice("p2p"); len(v) > 0 {
				cfg.P2PAddrs = v
			}
			if v := c.StringSlice("bootstrap"); len(v) > 0 {
				cfg.Bootstrap = v
			}
			if v := c.String("cert"); v != "" {
				cfg.CertFile = v
			}
			if v := c.String("charter"); v != "" {
				cfg.CharterFile = v
			}
			if c.Bool("observer") {
				cfg.Observer = true
			}
			if v := c.String("log-level"); v != "" {
				cfg.LogLevel = v
			}
			n, err := node.New(cfg)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if err := n.Start(ctx); err != nil {
				n.Close()
				return err
			}
			<-ctx.Done()
			return n.Close()
		},
	}
}
