package node

import (
	"context"
	"net/http"
	"slices"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/moinha/moinha/consult"
	"github.com/moinha/moinha/consult/directory"
	"github.com/moinha/moinha/node/web"
)

// maxCommunePages bounds the scan for the booking page's commune list
// (500 stations a page).
const maxCommunePages = 40

// webApp builds the embedded web app (node/web) for this node. routes()
// mounts it at "/", below the API routes.
func (n *Node) webApp() http.Handler {
	h, err := web.New(web.Options{
		Province: n.cfg.Province,
		Name:     n.cfg.Name,
		Role:     n.cfg.Role,
		Logger:   n.log,
		User: func(r *http.Request) (web.User, bool) {
			s := session(r)
			if s == nil {
				return web.User{}, false
			}
			return web.User{Username: s.Username, Role: string(s.Role), Facility: s.Facility}, true
		},
		Communes: n.stationCommunes,
	})
	if err != nil {
		// Only a broken build (templates or catalogs) gets here; the web
		// tests catch it. The API keeps working.
		n.log.Error("web app disabled", "err", err)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeErr(w, http.StatusInternalServerError, "internal", "the web app failed to start; the node's log has details")
		})
	}
	return h
}

// stationCommunes lists, in Vietnamese order, the communes that have a
// commune health station of this province.
func (n *Node) stationCommunes(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	cursor := ""
	for range maxCommunePages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fs, next, err := n.dir.ListFacilities(directory.FacilityFilter{Province: n.cfg.Province,
			Level: consult.CommuneHealthStation}, directory.MaxLimit, cursor)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if f.Commune != "" && !seen[f.Commune] {
				seen[f.Commune] = true
				out = append(out, f.Commune)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	c := collate.New(language.Vietnamese)
	slices.SortFunc(out, c.CompareString)
	return out, nil
}
