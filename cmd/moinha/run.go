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
			"   moinha run --data /var/lib/moinha --http 127.0.0.1:8080\n\n" +
			"Video calls: open UDP --media and UDP+TCP --turn on the firewall (README, \"Video calls\").\n" +
			"   moinha run --data /var/lib/moinha --http 127.0.0.1:8080 --media 203.0.113.7:50000 --turn 203.0.113.7:3478",
		Flags: []cli.Flag{
			dataFlag,
			&cli.StringFlag{Name: "http", Usage: "API and web app address (default " + node.DefaultHTTPAddr + ")"},
			&cli.StringSliceFlag{Name: "p2p", Usage: "libp2p listen multiaddr, repeatable (default loopback TCP and QUIC)"},
			&cli.StringFlag{Name: "cert", Usage: "membership certificate file (default DATA/member.cert)"},
			&cli.StringFlag{Name: "charter", Usage: "network charter file (default DATA/charter.json)"},
			&cli.StringSliceFlag{Name: "bootstrap", Usage: "a member's multiaddr with /p2p/ID, repeatable"},
			&cli.BoolFlag{Name: "observer", Usage: "run read-only as a ministry observer"},
			&cli.StringFlag{Name: "media", Usage: "UDP IP:PORT of the SFU's media socket for group calls (default the --http IP, a free port)"},
			&cli.StringFlag{Name: "turn", Usage: "IP:PORT of the embedded TURN server, UDP and TCP, or \"off\" (default the --media IP, a free port)"},
			&cli.StringFlag{Name: "public-ip", Usage: "address announced to browsers in ICE candidates and TURN URLs (default the listen IPs)"},
			&cli.BoolFlag{Name: "relay-only", Usage: "make browsers send call media through TURN only (networks that block direct UDP)"},
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
			if v := c.String("media"); v != "" {
				cfg.MediaAddr = v
			}
			if v := c.String("turn"); v != "" {
				cfg.TURNAddr = v
			}
			if v := c.String("public-ip"); v != "" {
				cfg.PublicIP = v
			}
			if c.Bool("relay-only") {
				cfg.RelayOnly = true
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
