package node

import (
	"bufio"
	"context"
	"net"
	"net/http"

	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/federation"
	"github.com/moinha/moinha/federation/charter"
)

// callsOptions configures the calls service from the node's config: the
// SFU's media socket and the TURN server listen where Config.MediaAddr and
// TURNAddr say (by default on the HTTP address's IP, 127.0.0.1 when that
// is unspecified, each on a free port), announced as Config.PublicIP. A
// media socket on loopback keeps call media on loopback too (tests,
// testnet, a single-machine demo).
func (n *Node) callsOptions() calls.Options {
	media, turn := n.cfg.mediaAddrs()
	if turn == "" {
		turn = "off"
	}
	host, _, _ := net.SplitHostPort(media)
	var public []string
	if n.cfg.PublicIP != "" {
		public = []string{n.cfg.PublicIP}
	}
	var relay calls.Relay // nil interface for a lone node
	if n.fed != nil {
		relay = signalRelay{n.fed}
	}
	return calls.Options{
		Relay:     relay,
		Province:  n.cfg.Province,
		BaseURL:   n.URL,
		Users:     n.acct,
		Referrals: callReferrals{n},
		Logger:    n.log,
		MediaAddr: media,
		TURNAddr:  turn,
		PublicIPs: public,
		RelayOnly: n.cfg.RelayOnly,
		Loopback:  net.ParseIP(host).IsLoopback(),
	}
}

// signalRelay carries call signalling to other provinces' nodes over the
// federation's /moinha/<net>/signal/1 protocol.
type signalRelay struct{ fed *federation.Federation }

func (r signalRelay) Send(ctx context.Context, toProvince string, msg []byte) error {
	return r.fed.Signal(ctx, toProvince, msg)
}

// ObserverProvince implements calls.ObserverProvinces: the province's
// current members are all observers (the ministry's), whose users never
// join calls.
func (r signalRelay) ObserverProvince(province string) bool {
	observer := false
	for _, m := range r.fed.Members() {
		if m.Province != province || m.Left || m.Revoked {
			continue
		}
		if m.Role != charter.RoleObserver {
			return false
		}
		observer = true
	}
	return observer
}

// serveSignalling hands signalling from other provinces to the calls service.
func (n *Node) serveSignalling() {
	n.fed.HandleSignal(func(ctx context.Context, from federation.Member, payload []byte) error {
		return n.calls.HandleRelay(ctx, from.Province, payload)
	})
}

// Calls is the node's calls service.
func (n *Node) Calls() *calls.Service { return n.calls }

func caller(r *http.Request) calls.Caller {
	s := session(r)
	return calls.Caller{Username: s.Username, Role: s.Role}
}

func (n *Node) createCall(w http.ResponseWriter, r *http.Request) {
	var req calls.CreateRequest
	if err := decode(w, r, 16<<10, &req); err != nil {
		n.fail(w, r, err)
		return
	}
	res, err := n.calls.Create(r.Context(), caller(r), req)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

func (n *Node) listCalls(w http.ResponseWriter, r *http.Request) {
	limit, cursor, err := page(r)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	items, next, err := n.calls.List(caller(r), limit, cursor)
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(items, next))
}

func (n *Node) getCall(w http.ResponseWriter, r *http.Request) {
	v, err := n.calls.Get(caller(r), r.PathValue("id"))
	if err != nil {
		n.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// callSignal upgrades to the call's signalling WebSocket
// (docs/signalling.md). Observers pass need() here so that the calls
// service refuses them with its own reason ("observer").
func (n *Node) callSignal(w http.ResponseWriter, r *http.Request) {
	if err := n.calls.Accept(w, r, r.PathValue("id"), caller(r)); err != nil {
		n.fail(w, r, err)
	}
}

// Hijack lets the signalling WebSocket take over the connection through
// the middleware's recorder (which then records 101).
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	s.status, s.wrote = http.StatusSwitchingProtocols, true
	return http.NewResponseController(s.ResponseWriter).Hijack()
}
