package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/node"
)

func userCmd() *cli.Command {
	return &cli.Command{
		Name:  "user",
		Usage: "manage the node's staff accounts",
		Subcommands: []*cli.Command{{
			Name:  "add",
			Usage: "create a user or reset its password and role (password from stdin or a prompt)",
			Description: "Works whether or not the node is running.\n\n" +
				"   moinha user add --data DIR --username admin --role admin\n" +
				"   echo 'a long password' | moinha user add --data DIR --username lan --role staff --facility 66-TYT-EAKAO",
			Flags: []cli.Flag{
				dataFlag,
				&cli.StringFlag{Name: "username", Required: true, Usage: "3–32 of a-z 0-9 . _ -"},
				&cli.StringFlag{Name: "role", Required: true, Usage: "admin, staff, doctor or observer"},
				&cli.StringFlag{Name: "facility", Usage: "facility ID the user works at (staff, doctors)"},
			},
			Action: userAdd,
		}},
	}
}

func userAdd(c *cli.Context) error {
	pw, err := readPassword(c)
	if err != nil {
		return err
	}
	dir := c.String("data")
	role := consult.Role(c.String("role"))
	if node.Running(dir) {
		body, _ := json.Marshal(map[string]string{"username": c.String("username"), "password": pw,
			"role": string(role), "facility": c.String("facility")})
		if err := adminPost(dir, "/users", body); err != nil {
			return err
		}
	} else {
		cfg, err := node.LoadConfig(dir)
		if err != nil {
			return err
		}
		n, err := node.New(cfg)
		if err != nil {
			return err
		}
		defer n.Close()
		if f := c.String("facility"); f != "" {
			if _, err := n.Directory().BookableFacility(f); err != nil {
				return err
			}
		}
		if _, err := n.Accounts().AddUser(c.Context, "operator", c.String("username"), pw, role, c.String("facility")); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.App.ErrWriter, "user %s saved\n", c.String("username"))
	return nil
}

func readPassword(c *cli.Context) (string, error) {
	if f, ok := c.App.Reader.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.App.ErrWriter, "Password (at least 10 characters): ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.App.ErrWriter)
		if err != nil {
			return "", err
		}
		fmt.Fprint(c.App.ErrWriter, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.App.ErrWriter)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}
