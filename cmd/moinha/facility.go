package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/node"
)

func facilityCmd() *cli.Command {
	return &cli.Command{
		Name:  "facility",
		Usage: "manage this province's facilities",
		Subcommands: []*cli.Command{{
			Name:  "import",
			Usage: "import facilities from a CSV file (all rows valid, or nothing is written)",
			Description: "Header: code,name,name_en,level,commune,address,specialties,services,phone,email,lat,lon\n" +
				"(specialties and services separated by ';'). The node must be stopped; while it runs,\n" +
				"POST the file to /api/v1/facilities/import as an admin instead.\n\n" +
				"   moinha facility import --data DIR --file facilities.csv",
			Flags: []cli.Flag{dataFlag, &cli.StringFlag{Name: "file", Required: true, Usage: "CSV file (UTF-8)"}},
			Action: func(c *cli.Context) error {
				f, err := os.Open(c.String("file"))
				if err != nil {
					return err
				}
				defer f.Close()
				fs, err := directory.ParseFacilitiesCSV(f)
				if err != nil {
					return err
				}
				cfg, err := node.LoadConfig(c.String("data"))
				if err != nil {
					return err
				}
				n, err := node.New(cfg)
				if err != nil {
					return err
				}
				defer n.Close()
				count, err := n.Directory().ImportFacilities(c.Context, "operator", fs)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "imported %d facilities\n", count)
				return nil
			},
		}},
	}
}
