package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/moinha/moinha/node"
	"github.com/moinha/moinha/storage"
)

func backupCmd() *cli.Command {
	return &cli.Command{
		Name:  "backup",
		Usage: "write a consistent copy of the node's data file (hot: works while the node runs)",
		Flags: []cli.Flag{dataFlag, &cli.StringFlag{Name: "out", Required: true, Usage: "backup file to write"}},
		Action: func(c *cli.Context) error {
			dir, out := c.String("data"), c.String("out")
			var n int64
			if node.Running(dir) {
				tmp, err := os.CreateTemp(filepath.Dir(out), ".moinha-backup-*")
				if err != nil {
					return err
				}
				defer os.Remove(tmp.Name())
				if n, err = node.AdminBackup(c.Context, dir, tmp); err == nil {
					err = tmp.Sync()
				}
				if cerr := tmp.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
				if err := os.Rename(tmp.Name(), out); err != nil {
					return err
				}
			} else {
				db, err := storage.Open(filepath.Join(dir, node.DBFile), &storage.Options{ReadOnly: true})
				if err != nil {
					return err
				}
				defer db.Close()
				if n, err = db.BackupFile(out); err != nil {
					return err
				}
			}
			fmt.Fprintf(c.App.ErrWriter, "backup written: %s (%d bytes)\n", out, n)
			return nil
		},
	}
}

func restoreCmd() *cli.Command {
	return &cli.Command{
		Name:  "restore",
		Usage: "replace the node's data file with a backup (stop the node first)",
		Flags: []cli.Flag{dataFlag, &cli.StringFlag{Name: "from", Required: true, Usage: "backup file"}},
		Action: func(c *cli.Context) error {
			if node.Running(c.String("data")) {
				return fmt.Errorf("the node on %s is running; stop it before restoring", c.String("data"))
			}
			if err := storage.Restore(c.String("from"), filepath.Join(c.String("data"), node.DBFile)); err != nil {
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "restored %s from %s\n", c.String("data"), c.String("from"))
			return nil
		},
	}
}
