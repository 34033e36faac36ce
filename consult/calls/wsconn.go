package calls

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/moinha/moinha/consult"
)

// WebSocket close codes (docs/signalling.md). The close reason is one of
// the Reason codes.
const (
	CloseNormal       = websocket.CloseNormalClosure // left
	CloseGoingAway    = websocket.CloseGoingAway     // the node shuts down
	CloseTooLarge     = websocket.CloseMessageTooBig
	CloseEnded        = 4000 // the call ended (reason: host_ended, all_left, call_ended)
	CloseReplaced     = 4001 // the same user joined from another connection
	CloseForbidden    = 4003 // denied, not invited
	CloseBadMessage   = 4008 // protocol violation, rate limit
	CloseSlowConsumer = 4029
	CloseUnreachable  = 4502 // the hosting node cannot be reached
)

const (
	outQueue     = 256
	writeTimeout = 5 * time.Second
	msgRate      = 100 // messages per second a client may send, on average
	msgBurst     = 400
	maxStrikes   = 3 // malformed messages before the connection is closed
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	// CheckOrigin is nil: gorilla's default refuses a browser request whose
	// Origin is not the node's own host, so another site cannot ride a
	// user's session cookie into a call.
}

// Accept authorises caller for call id and, if allowed, upgrades the
// request to the signalling WebSocket and hands the connection to the call.
// It returns an error (a *consult.Error for the API's error shape) only
// before the upgrade; after it, the Service owns the connection and Accept
// returns nil at once.
func (s *Service) Accept(w http.ResponseWriter, r *http.Request, id string, caller Caller) error {
	c, u, err := s.checkJoin(caller, id)
	if err != nil {
		return err
	}
	if !websocket.IsWebSocketUpgrade(r) {
		return consult.Errorf(consult.ErrInvalid, "websocket_required", "this route speaks WebSocket (docs/signalling.md)")
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil // Upgrade has answered the client
	}
	conn := &wsConn{s: s, ws: ws, call: c.ID, user: u, out: make(chan Message, outQueue), closed: make(chan struct{})}
	policy := "all"
	if s.opts.RelayOnly {
		policy = "relay"
	}
	v := s.view(c, u)
	subject := c.ID[:10]
	conn.send(Message{Type: MsgHello, Call: &v, You: u.Key(), ICEServers: s.iceServers(subject), ICETransportPolicy: policy})
	if !s.spawn(conn.writeLoop) {
		ws.Close()
		return nil
	}
	if err := s.post(c, func(r *room) { r.attach(conn) }); err != nil {
		conn.close(CloseGoingAway, ReasonShutdown)
		return nil
	}
	if !s.spawn(conn.readLoop) {
		conn.close(CloseGoingAway, ReasonShutdown)
	}
	return nil
}

// wsConn is one browser's (or test client's) signalling connection. Its
// writeLoop is the only writer; its readLoop the only reader.
type wsConn struct {
	s    *Service
	ws   *websocket.Conn
	call string
	user User
	out  chan Message

	closed    chan struct{}
	closeOnce sync.Once
	code      int    // set once, before closed is closed
	reason    string // likewise
}

// send queues m. A client too slow to take its messages is disconnected.
func (c *wsConn) send(m Message) {
	select {
	case <-c.closed:
		return
	default:
	}
	select {
	case c.out <- m:
	default:
		c.close(CloseSlowConsumer, ReasonSlowConsumer)
	}
}

// close ends the connection with a close code and reason after the
// messages already queued. It is idempotent; the first reason wins.
func (c *wsConn) close(code int, reason string) {
	c.closeOnce.Do(func() {
		c.code, c.reason = code, reason
		close(c.closed)
	})
}

func (c *wsConn) writeLoop() {
	ping := time.NewTicker(c.s.opts.PingInterval)
	defer ping.Stop()
	defer c.ws.Close()
	for {
		select {
		case m := <-c.out:
			if !c.write(m) {
				c.close(websocket.CloseAbnormalClosure, ReasonTimeout)
				return
			}
		case <-ping.C:
			if c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)) != nil {
				c.close(websocket.CloseAbnormalClosure, ReasonTimeout)
				return
			}
		case <-c.closed:
			if !c.flush() {
				return
			}
			_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(c.code, c.reason),
				time.Now().Add(time.Second))
			return
		}
	}
}

// flush writes what is queued; false if the connection failed.
func (c *wsConn) flush() bool {
	for {
		select {
		case m := <-c.out:
			if !c.write(m) {
				return false
			}
		default:
			return true
		}
	}
}

func (c *wsConn) write(m Message) bool {
	raw, err := json.Marshal(m)
	if err != nil {
		c.s.log.Error("calls: encode message", "call", c.call, "type", m.Type, "err", err)
		return true
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.ws.WriteMessage(websocket.TextMessage, raw) == nil
}

var errTooLarge = errors.New("message too large")

// readMessage reads one message of at most MaxMessageBytes.
func (c *wsConn) readMessage() (int, []byte, error) {
	typ, r, err := c.ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxMessageBytes+1))
	if err != nil {
		return 0, nil, err
	}
	if len(data) > MaxMessageBytes {
		return 0, nil, errTooLarge
	}
	return typ, data, nil
}

func (c *wsConn) readLoop() {
	defer func() {
		c.close(CloseNormal, ReasonLeft)
		c.s.postLive(c.call, func(r *room) { r.detach(c) })
	}()
	wait := 3 * c.s.opts.PingInterval
	// A backstop: gorilla closes with 1009 and no reason past it; below it
	// the loop itself refuses an oversized message with a reason.
	c.ws.SetReadLimit(4 * MaxMessageBytes)
	_ = c.ws.SetReadDeadline(time.Now().Add(wait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(wait)) })
	tokens, last := float64(msgBurst), time.Now()
	strikes := 0
	for {
		typ, data, err := c.readMessage()
		if errors.Is(err, errTooLarge) {
			c.send(Message{Type: MsgError, Reason: ReasonTooLarge, Text: "message too large"})
			c.close(CloseTooLarge, ReasonTooLarge)
			return
		}
		if err != nil {
			switch {
			case errors.Is(err, websocket.ErrReadLimit):
				c.close(CloseTooLarge, ReasonTooLarge)
			case websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway):
				c.close(websocket.CloseAbnormalClosure, ReasonTimeout)
			}
			return
		}
		now := time.Now()
		_ = c.ws.SetReadDeadline(now.Add(wait))
		tokens = min(msgBurst, tokens+now.Sub(last).Seconds()*msgRate)
		last = now
		if tokens < 1 {
			c.send(Message{Type: MsgError, Reason: ReasonRateLimited, Text: "too many messages"})
			c.close(CloseBadMessage, ReasonRateLimited)
			return
		}
		tokens--
		m, ok := Message{}, false
		if typ == websocket.TextMessage {
			m, ok = parseClient(data)
		}
		if !ok {
			strikes++
			c.send(Message{Type: MsgError, Reason: ReasonBadMessage, Text: "malformed or unknown message"})
			if strikes >= maxStrikes {
				c.close(CloseBadMessage, ReasonBadMessage)
				return
			}
			continue
		}
		if !c.s.postLive(c.call, func(r *room) { r.fromConn(c, m) }) {
			c.close(CloseGoingAway, ReasonShutdown)
			return
		}
	}
}
