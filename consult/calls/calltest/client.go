package calltest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"

	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/calls/internal/mailbox"
	"github.com/moinha/moinha/consult/calls/rtcnet"
)

// Options configure a Client. Each field says what zero means.
type Options struct {
	// Token is the session token sent as "Authorization: Bearer". Zero
	// means none.
	Token string
	// Header adds request headers to the WebSocket handshake.
	Header http.Header
	// NoAudio and NoVideo leave out the synthetic microphone or camera.
	NoAudio, NoVideo bool
	// Simulcast sends video as three layers (q, h, f at 10%, 33% and 100%
	// of VideoBitrate). Zero means one layer.
	Simulcast bool
	// VideoBitrate is the (top layer's) video bitrate in bit/s. Zero means
	// 300 kbit/s.
	VideoBitrate int
	// FPS is the video frame rate. Zero means 30.
	FPS int
	// KeyframeInterval is how often a key frame is sent unasked. Zero
	// means 2 s.
	KeyframeInterval time.Duration
	// RelayOnly uses relay (TURN) candidates only, whatever the node says.
	RelayOnly bool
	// TURNTransport keeps only the node's TURN URLs of this transport
	// ("udp" or "tcp"). Zero means all of them.
	TURNTransport string
	// Net is the network pion uses: a SwitchNet to cut it, or a
	// *vnet.Net (pion's virtual network, for shaped links; the node's
	// TURN is then not used). Nil means the real one, kept to loopback.
	Net transport.Net
	// RecvLoss drops this fraction of received RTP packets before anything
	// else sees them (RTCP receiver reports then show the loss). Zero means
	// none.
	RecvLoss float64
	// DisconnectedTimeout, FailedTimeout and KeepAlive tune ICE. Zero
	// means pion's defaults.
	DisconnectedTimeout, FailedTimeout, KeepAlive time.Duration
	// NoAutoRestart turns off the ICE restart a client starts when its
	// connection is disconnected or failed.
	NoAutoRestart bool
}

func (o *Options) withDefaults() {
	if o.VideoBitrate == 0 {
		o.VideoBitrate = 300_000
	}
	if o.FPS == 0 {
		o.FPS = 30
	}
	if o.KeyframeInterval == 0 {
		o.KeyframeInterval = 2 * time.Second
	}
}

// HandshakeError is Dial's error when the node refused the WebSocket: the
// HTTP status and the API error code.
type HandshakeError struct {
	Status int
	Code   string
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("calltest: handshake refused: %d %s", e.Status, e.Code)
}

// Client is one participant: its signalling connection, its
// PeerConnections and its synthetic media.
type Client struct {
	opts  Options
	ws    *websocket.Conn
	api   *webrtc.API
	hello calls.Message
	key   string
	media *localMedia
	box   *mailbox.Mailbox
	stop  chan struct{}
	wg    sync.WaitGroup // signalling reader, loop, media writers
	mwg   sync.WaitGroup // track and RTCP readers (end when their connection closes)

	wmu sync.Mutex // serialises WebSocket writes

	// Owned by the loop.
	peer, pub, sub *pcState
	offerer        bool
	early          map[string][]webrtc.ICECandidateInit // candidates for a connection not made yet

	// mu guards the fields below.
	mu          sync.Mutex
	msgs        []calls.Message
	msgWaiters  []chan struct{}
	recv        map[string]*TrackStats // by From/kind
	mediaWaiter []*mediaWaiter
	closeCode   int
	closeReason string
	closedCh    chan struct{}
	offerAt     time.Time // first offer sent
	connected   map[string]time.Time
	restarts    int

	closeOnce sync.Once
}

type pcState struct {
	closeOnce  sync.Once
	name       string // "peer", "pub", "sub"
	pc         *webrtc.PeerConnection
	pending    []webrtc.ICECandidateInit
	lastRestrt time.Time
}

// Dial opens the signalling WebSocket of call id on the node at baseURL
// ("http://127.0.0.1:8080") and reads the node's hello. It does not join:
// call Join.
func Dial(ctx context.Context, baseURL, id string, o Options) (*Client, error) {
	o.withDefaults()
	u := strings.Replace(strings.TrimSuffix(baseURL, "/"), "http", "ws", 1) + "/api/v1/calls/" + id + "/signal"
	h := http.Header{}
	for k, v := range o.Header {
		h[k] = v
	}
	if o.Token != "" {
		h.Set("Authorization", "Bearer "+o.Token)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.DialContext(ctx, u, h)
	if err != nil {
		if resp != nil {
			defer resp.Body.Close()
			var body struct {
				Error struct{ Code string } `json:"error"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			return nil, &HandshakeError{Status: resp.StatusCode, Code: body.Error.Code}
		}
		return nil, err
	}
	ws.SetReadLimit(calls.MaxMessageBytes * 2)
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hello calls.Message
	if err := ws.ReadJSON(&hello); err != nil || hello.Type != calls.MsgHello {
		ws.Close()
		return nil, fmt.Errorf("calltest: no hello: %v (%s)", err, hello.Type)
	}
	_ = ws.SetReadDeadline(time.Time{})
	var ics []interceptor.Factory
	if o.RecvLoss > 0 {
		ics = append(ics, &lossFactory{rate: o.RecvLoss})
	}
	_, virtual := o.Net.(*vnet.Net) // a virtual network never reaches loopback
	api, err := rtcnet.NewAPI(rtcnet.Config{Loopback: !virtual, Net: o.Net, Interceptors: ics,
		DisconnectedTimeout: o.DisconnectedTimeout, FailedTimeout: o.FailedTimeout, KeepAlive: o.KeepAlive})
	if err != nil {
		ws.Close()
		return nil, err
	}
	c := &Client{opts: o, ws: ws, api: api, hello: hello, key: hello.You, box: mailbox.New(),
		stop: make(chan struct{}), early: map[string][]webrtc.ICECandidateInit{},
		recv: map[string]*TrackStats{}, closedCh: make(chan struct{}), connected: map[string]time.Time{}}
	if c.media, err = newLocalMedia(c.key, &c.opts); err != nil {
		ws.Close()
		return nil, err
	}
	c.msgs = append(c.msgs, hello)
	c.wg.Add(3)
	go c.readLoop()
	go c.loop()
	go func() {
		defer c.wg.Done()
		c.runMedia()
	}()
	return c, nil
}

func (c *Client) runMedia() {
	var wg sync.WaitGroup
	if c.media.audio != nil {
		wg.Add(1)
		go func() { defer wg.Done(); c.media.runAudio(c.key, c.stop) }()
	}
	if len(c.media.video) > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); c.media.runVideo(c.key, &c.opts, c.stop) }()
	}
	wg.Wait()
}

// Key is this client's user key ("79.doctor").
func (c *Client) Key() string { return c.key }

// Hello is the node's hello message (ICE servers, call, role).
func (c *Client) Hello() calls.Message { return c.hello }

// Send sends a raw signalling message.
func (c *Client) Send(m calls.Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(m)
}

// SendRaw sends raw bytes as one text message (protocol tests).
func (c *Client) SendRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// Join asks to enter the call.
func (c *Client) Join() error { return c.Send(calls.Message{Type: calls.MsgJoin}) }

// Admit lets a waiting user in (host).
func (c *Client) Admit(user string) error {
	return c.Send(calls.Message{Type: calls.MsgAdmit, User: user})
}

// Deny turns a waiting user away (host).
func (c *Client) Deny(user string) error {
	return c.Send(calls.Message{Type: calls.MsgDeny, User: user})
}

// End ends the call for everyone (host).
func (c *Client) End() error { return c.Send(calls.Message{Type: calls.MsgEnd}) }

// Leave leaves the call.
func (c *Client) Leave() error { return c.Send(calls.Message{Type: calls.MsgLeave}) }

func (c *Client) readLoop() {
	defer c.wg.Done()
	defer func() {
		c.box.Post(func() { c.closePCs() })
	}()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			code, reason := websocket.CloseAbnormalClosure, ""
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				code, reason = ce.Code, ce.Text
			}
			c.mu.Lock()
			c.closeCode, c.closeReason = code, reason
			c.mu.Unlock()
			c.closeOnce.Do(func() { close(c.closedCh) })
			return
		}
		var m calls.Message
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, m)
		ws := c.msgWaiters
		c.msgWaiters = nil
		c.mu.Unlock()
		for _, w := range ws {
			close(w)
		}
		c.box.Post(func() { c.handle(m) })
	}
}

// WaitFor waits for a message (received at any time since Dial) that
// matches pred.
func (c *Client) WaitFor(ctx context.Context, pred func(calls.Message) bool) (calls.Message, error) {
	seen := 0
	for {
		c.mu.Lock()
		for ; seen < len(c.msgs); seen++ {
			if pred(c.msgs[seen]) {
				m := c.msgs[seen]
				c.mu.Unlock()
				return m, nil
			}
		}
		w := make(chan struct{})
		c.msgWaiters = append(c.msgWaiters, w)
		c.mu.Unlock()
		select {
		case <-w:
		case <-c.closedCh:
			c.mu.Lock()
			done := seen == len(c.msgs)
			c.mu.Unlock()
			if done {
				return calls.Message{}, fmt.Errorf("calltest: connection closed (%d %s) while waiting", c.closeCode, c.closeReason)
			}
		case <-ctx.Done():
			return calls.Message{}, ctx.Err()
		}
	}
}

// WaitType waits for a message of type typ.
func (c *Client) WaitType(ctx context.Context, typ string) (calls.Message, error) {
	return c.WaitFor(ctx, func(m calls.Message) bool { return m.Type == typ })
}

// WaitClosed waits until the node closes the WebSocket and returns its
// close code and reason.
func (c *Client) WaitClosed(ctx context.Context) (int, string, error) {
	select {
	case <-c.closedCh:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.closeCode, c.closeReason, nil
	case <-ctx.Done():
		return 0, "", ctx.Err()
	}
}

// OfferSentAt is when this client sent its first offer (zero if none).
func (c *Client) OfferSentAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offerAt
}

// Restarts counts the ICE restarts this client started or asked for.
func (c *Client) Restarts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restarts
}

// SelectedPair is the candidate pair connection name ("peer", "pub" or
// "sub") uses now, or nil.
func (c *Client) SelectedPair(name string) *webrtc.ICECandidatePair {
	ch := make(chan *webrtc.ICECandidatePair, 1)
	if !c.box.Post(func() {
		var pair *webrtc.ICECandidatePair
		if ps := c.current(name); ps != nil {
			for _, tr := range ps.pc.GetTransceivers() {
				var t *webrtc.DTLSTransport
				if s := tr.Sender(); s != nil {
					t = s.Transport()
				} else if r := tr.Receiver(); r != nil {
					t = r.Transport()
				}
				if t != nil {
					if p, err := t.ICETransport().GetSelectedCandidatePair(); err == nil && p != nil {
						pair = p
						break
					}
				}
			}
		}
		ch <- pair
	}) {
		return nil
	}
	select {
	case p := <-ch:
		return p
	case <-c.stop:
		return nil
	}
}

// Close hangs up without a word (as a closed tab does) and waits for the
// client's goroutines.
func (c *Client) Close() error {
	select {
	case <-c.stop:
		return nil
	default:
	}
	close(c.stop)
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	_ = c.ws.Close()
	c.wg.Wait()
	c.closePCs()
	c.box.Close()
	c.mwg.Wait()
	return nil
}

func (c *Client) loop() {
	defer c.wg.Done()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			for _, fn := range c.box.Drain() {
				fn()
			}
			return
		case <-c.box.Wake:
			for _, fn := range c.box.Drain() {
				fn()
			}
		case <-t.C:
			c.checkRestart()
		}
	}
}

func (c *Client) closePCs() {
	for _, ps := range []*pcState{c.peer, c.pub, c.sub} {
		if ps != nil {
			ps.close(c)
		}
	}
	c.peer, c.pub, c.sub = nil, nil, nil
}

func (c *Client) config() webrtc.Configuration {
	cfg := webrtc.Configuration{}
	if _, virtual := c.opts.Net.(*vnet.Net); virtual {
		return cfg // the node's TURN is not on the virtual network
	}
	for _, s := range c.hello.ICEServers {
		urls := s.URLs
		if c.opts.TURNTransport != "" {
			urls = nil
			for _, u := range s.URLs {
				if strings.HasSuffix(u, "?transport="+c.opts.TURNTransport) {
					urls = append(urls, u)
				}
			}
		}
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: urls, Username: s.Username, Credential: s.Credential})
	}
	if c.opts.RelayOnly || c.hello.ICETransportPolicy == "relay" {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	return cfg
}

// newPC makes one of the client's connections; "peer" and "pub" carry the
// synthetic media.
func (c *Client) newPC(name string) (*pcState, error) {
	pc, err := c.api.NewPeerConnection(c.config())
	if err != nil {
		return nil, err
	}
	ps := &pcState{name: name, pc: pc}
	wire := name
	if name == "peer" {
		wire = ""
	}
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		init := cand.ToJSON()
		c.box.Post(func() {
			if c.current(name) == ps {
				_ = c.Send(calls.Message{Type: calls.MsgCand, PC: wire, Candidate: &init})
			}
		})
	})
	c.mwg.Add(1) // released by close, so that OnTrack's readers are counted until then
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			c.mu.Lock()
			if _, ok := c.connected[name]; !ok {
				c.connected[name] = time.Now()
			}
			c.mu.Unlock()
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		c.mwg.Add(1)
		defer c.mwg.Done()
		c.readTrack(t)
	})
	if name == "peer" || name == "pub" {
		senders, err := c.media.add(pc)
		if err != nil {
			ps.close(c)
			return nil, err
		}
		for _, s := range senders {
			c.mwg.Add(1)
			go func() {
				defer c.mwg.Done()
				c.readSenderRTCP(s)
			}()
		}
	}
	for _, cand := range c.early[name] {
		ps.pending = append(ps.pending, cand)
	}
	delete(c.early, name)
	return ps, nil
}

// readSenderRTCP turns key frame requests into key frames. It ends when its
// connection closes.
func (c *Client) readSenderRTCP(s *webrtc.RTPSender) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				c.media.requestKeyframe()
			}
		}
	}
}

// close closes the connection (its readers then end).
func (ps *pcState) close(c *Client) {
	_ = ps.pc.Close()
	ps.closeOnce.Do(c.mwg.Done)
}

func (c *Client) current(name string) *pcState {
	switch name {
	case "peer":
		return c.peer
	case "pub":
		return c.pub
	case "sub":
		return c.sub
	}
	return nil
}

func (c *Client) sendOffer(ps *pcState, restart bool) {
	offer, err := ps.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: restart})
	if err == nil {
		err = ps.pc.SetLocalDescription(offer)
	}
	if err != nil {
		return
	}
	wire := ps.name
	if wire == "peer" {
		wire = ""
	}
	c.mu.Lock()
	if c.offerAt.IsZero() {
		c.offerAt = time.Now()
	}
	c.mu.Unlock()
	_ = c.Send(calls.Message{Type: calls.MsgOffer, PC: wire, SDP: offer.SDP})
}

func (c *Client) handle(m calls.Message) {
	switch m.Type {
	case calls.MsgReady:
		if c.peer != nil {
			c.peer.close(c)
			c.peer = nil
		}
		ps, err := c.newPC("peer")
		if err != nil {
			return
		}
		c.peer, c.offerer = ps, m.Offerer
		if m.Offerer {
			c.sendOffer(ps, false)
		}
	case calls.MsgAdmitted:
		if c.pub != nil {
			c.pub.close(c)
		}
		ps, err := c.newPC("pub")
		if err != nil {
			return
		}
		c.pub = ps
		c.sendOffer(ps, false)
	case calls.MsgOffer:
		name := "peer"
		if m.PC == "sub" {
			name = "sub"
		}
		ps := c.current(name)
		if ps == nil {
			var err error
			if ps, err = c.newPC(name); err != nil {
				return
			}
			if name == "sub" {
				c.sub = ps
			} else {
				c.peer = ps
			}
		}
		if ps.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}) != nil {
			return
		}
		c.flush(ps)
		ans, err := ps.pc.CreateAnswer(nil)
		if err == nil {
			err = ps.pc.SetLocalDescription(ans)
		}
		if err == nil {
			_ = c.Send(calls.Message{Type: calls.MsgAnswer, PC: m.PC, SDP: ans.SDP})
		}
	case calls.MsgAnswer:
		name := "peer"
		if m.PC == "pub" {
			name = "pub"
		}
		if ps := c.current(name); ps != nil {
			if ps.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}) == nil {
				c.flush(ps)
				if name == "pub" {
					c.media.negotiated(ps.pc)
				}
			}
		}
	case calls.MsgCand:
		if m.Candidate == nil {
			return
		}
		name := m.PC
		if name == "" {
			name = "peer"
		}
		ps := c.current(name)
		switch {
		case ps == nil:
			c.early[name] = append(c.early[name], *m.Candidate)
		case ps.pc.RemoteDescription() == nil:
			ps.pending = append(ps.pending, *m.Candidate)
		default:
			_ = ps.pc.AddICECandidate(*m.Candidate)
		}
	case calls.MsgRestart:
		if c.peer != nil && c.offerer && c.peer.pc.SignalingState() == webrtc.SignalingStateStable {
			c.sendOffer(c.peer, true)
		}
	case calls.MsgPeerLeft:
		if c.peer != nil {
			c.peer.close(c)
			c.peer = nil
		}
	}
}

// flush adds the candidates that waited for the remote description.
func (c *Client) flush(ps *pcState) {
	for _, cand := range ps.pending {
		_ = ps.pc.AddICECandidate(cand)
	}
	ps.pending = nil
}

// checkRestart restarts ICE on a connection that is disconnected or
// failed: the side that offers makes an ICE-restart offer; the side that
// answers asks for one.
func (c *Client) checkRestart() {
	if c.opts.NoAutoRestart {
		return
	}
	for _, ps := range []*pcState{c.peer, c.pub, c.sub} {
		if ps == nil {
			continue
		}
		st := ps.pc.ICEConnectionState()
		if st != webrtc.ICEConnectionStateDisconnected && st != webrtc.ICEConnectionStateFailed {
			continue
		}
		if time.Since(ps.lastRestrt) < 2*time.Second {
			continue
		}
		ps.lastRestrt = time.Now()
		c.mu.Lock()
		c.restarts++
		c.mu.Unlock()
		switch {
		case ps.name == "pub" || (ps.name == "peer" && c.offerer):
			if ps.pc.SignalingState() == webrtc.SignalingStateStable {
				c.sendOffer(ps, true)
			}
		case ps.name == "sub":
			_ = c.Send(calls.Message{Type: calls.MsgRestart, PC: "sub"})
		default:
			_ = c.Send(calls.Message{Type: calls.MsgRestart})
		}
	}
}
