package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/consult/referral"
	"github.com/moinha/moinha/node"
)

func referralCmd() *cli.Command {
	return &cli.Command{
		Name:  "referral",
		Usage: "inspect the node's referrals and consult requests (no patient data is printed)",
		Subcommands: []*cli.Command{{
			Name:  "list",
			Usage: "list referrals (or consult requests) in the outbox or inbox",
			Description: "Works whether or not the node is running.\n\n" +
				"   moinha referral list --data DIR\n" +
				"   moinha referral list --data DIR --box inbox --status received\n" +
				"   moinha referral list --data DIR --type consult --json",
			Flags: []cli.Flag{
				dataFlag,
				&cli.StringFlag{Name: "box", Value: referral.BoxOutbox, Usage: "outbox (referred by this node) or inbox (offered to it)"},
				&cli.StringFlag{Name: "status", Usage: "only this FHIR Task status (requested, received, accepted, …)"},
				&cli.StringFlag{Name: "type", Value: string(referral.TypeReferral), Usage: "referral or consult"},
				&cli.BoolFlag{Name: "json", Usage: "print JSON lines instead of a table"},
			},
			Action: referralList,
		}},
	}
}

func referralList(c *cli.Context) error {
	items, err := node.ListReferrals(c.Context, c.String("data"), referral.Filter{
		Type: referral.Type(c.String("type")), Box: c.String("box"), Status: referral.Status(c.String("status")),
	})
	if err != nil {
		return err
	}
	w := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, v := range items {
			// A listing never holds patient data; drop the history too.
			v.History = nil
			if err := enc.Encode(v); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSUB-STATUS\tSPECIALTY\tURGENCY\tFROM\tTO\tCREATED")
	for _, v := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.Status, dash(v.SubStatus), v.Specialty, v.Urgency,
			v.OriginProvince, dash(v.TargetProvince), v.Created.Local().Format(time.DateTime))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.App.ErrWriter, "%d %s(s) in the %s\n", len(items), c.String("type"), c.String("box"))
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
