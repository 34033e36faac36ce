package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// AdminSocket is the Unix socket in DataDir on which a running node serves
// operator commands (`moinha backup`, `moinha user add`, `moinha leave`)
// while it holds the data file. Its file mode (0600) is the access control:
// only the OS user that owns the data directory can use it.
const AdminSocket = "admin.sock"

func (n *Node) startAdmin() error {
	path := filepath.Join(n.cfg.DataDir, AdminSocket)
	_ = os.Remove(path) // a stale socket from a killed node
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("node: admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if _, err := n.db.Backup(w); err != nil {
			n.log.Error("admin backup", "err", err)
		}
	})
	mux.HandleFunc("POST /users", func(w http.ResponseWriter, r *http.Request) {
		var req addUserRequest
		if err := decode(w, r, 8<<10, &req); err != nil {
			n.fail(w, r, err)
			return
		}
		if _, err := n.acct.AddUser(r.Context(), "operator", req.Username, req.Password, req.Role, req.Facility); err != nil {
			n.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err == nil {
			err = n.PublishRevocation(r.Context(), raw)
		}
		if err != nil {
			writeErr(w, http.StatusConflict, "revocation_refused", err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /leave", func(w http.ResponseWriter, r *http.Request) {
		if err := n.Leave(r.Context()); err != nil {
			writeErr(w, http.StatusConflict, "not_in_network", err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /referrals", n.adminReferrals) // `moinha referral list` (api_referrals.go)
	n.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	n.serve.Add(1)
	go func() {
		defer n.serve.Done()
		if err := n.admin.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("admin serve", "err", err)
		}
	}()
	return nil
}

// AdminClient talks to a running node's admin socket. Dial fails with an
// error wrapping os.ErrNotExist or a connection error when no node runs.
func AdminClient(dataDir string) *http.Client {
	path := filepath.Join(dataDir, AdminSocket)
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// Running reports whether a node is serving dataDir's admin socket.
func Running(dataDir string) bool {
	c, err := net.DialTimeout("unix", filepath.Join(dataDir, AdminSocket), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// AdminBackup streams a hot backup from the running node into w.
func AdminBackup(ctx context.Context, dataDir string, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://node/backup", nil)
	if err != nil {
		return 0, err
	}
	resp, err := AdminClient(dataDir).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("node answered %s", resp.Status)
	}
	return io.Copy(w, resp.Body)
}
