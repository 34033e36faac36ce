package federation

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Frames of the direct protocol (/moinha/<net>/referral/1). A frame is a
// uvarint length, then that many bytes: a type byte and the body.
//
//	'D' message: uvarint-prefixed ID, kind and sender province, then the
//	    payload (the rest of the frame)
//	'A' ack:     uvarint-prefixed ID, a status byte, uvarint-prefixed reason
//
// The sender writes up to maxDirectBatch message frames and closes its
// side; the receiver answers one ack frame per message, in any order, and
// closes.
const (
	frameDirectMsg byte = 'D'
	frameDirectAck byte = 'A'
)

// Ack statuses.
const (
	ackStored    byte = 0 // stored and handled in one transaction
	ackDuplicate byte = 1 // seen before (same sender, same ID): nothing done
	ackRetry     byte = 2 // not stored; try again later
	ackRefused   byte = 3 // refused for good (see the reason); do not resend
)

// Limits of the direct protocol.
const (
	maxDirectIDLen       = 128
	maxDirectKindLen     = 32
	maxDirectProvLen     = 16
	maxDirectReasonLen   = 64
	directHeaderMax      = 3*binary.MaxVarintLen64 + maxDirectIDLen + maxDirectKindLen + maxDirectProvLen + 1
	maxDirectFrame       = MaxDirectLarge + directHeaderMax
	maxAckFrame          = 2*binary.MaxVarintLen64 + maxDirectIDLen + maxDirectReasonLen + 2
	maxDirectBatch       = 64      // messages per stream
	maxDirectBatchBytes  = 8 << 20 // payload bytes per stream (one large message may exceed it alone)
	directStreamBaseTime = 10 * time.Second
)

var errDirectFrame = errors.New("federation: malformed direct frame")

// directMsg is one message on the wire.
type directMsg struct {
	id, kind, province string
	payload            []byte
}

// directAck answers one message.
type directAck struct {
	id     string
	status byte
	reason string
}

// validToken reports whether s is 1..max bytes of printable ASCII other
// than '/' (IDs, kinds and provinces end up in storage keys).
func validToken(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '/' {
			return false
		}
	}
	return true
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// readString reads a uvarint-prefixed string of at most max bytes.
func readString(b []byte, max int) (string, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(max) || uint64(len(b)-k) < n {
		return "", nil, errDirectFrame
	}
	return string(b[k : k+int(n)]), b[k+int(n):], nil
}

// appendDirectFrame appends one framed message (or ack) to buf.
func appendDirectFrame(buf []byte, typ byte, body []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(body)+1))
	buf = append(buf, typ)
	return append(buf, body...)
}

func encodeDirectMsg(m directMsg) []byte {
	body := make([]byte, 0, directHeaderMax+len(m.payload))
	body = appendString(body, m.id)
	body = appendString(body, m.kind)
	body = appendString(body, m.province)
	return append(body, m.payload...)
}

// decodeDirectMsg parses the body of a message frame.
func decodeDirectMsg(body []byte) (directMsg, error) {
	var m directMsg
	var err error
	if m.id, body, err = readString(body, maxDirectIDLen); err != nil || !validToken(m.id, maxDirectIDLen) {
		return directMsg{}, fmt.Errorf("%w: id", errDirectFrame)
	}
	if m.kind, body, err = readString(body, maxDirectKindLen); err != nil || !validToken(m.kind, maxDirectKindLen) {
		return directMsg{}, fmt.Errorf("%w: kind", errDirectFrame)
	}
	if m.province, body, err = readString(body, maxDirectProvLen); err != nil || !validToken(m.province, maxDirectProvLen) {
		return directMsg{}, fmt.Errorf("%w: province", errDirectFrame)
	}
	if len(body) > MaxDirectLarge {
		return directMsg{}, fmt.Errorf("%w: payload of %d bytes", errDirectFrame, len(body))
	}
	m.payload = body
	return m, nil
}

func encodeDirectAck(a directAck) []byte {
	body := make([]byte, 0, maxAckFrame)
	body = appendString(body, a.id)
	body = append(body, a.status)
	if len(a.reason) > maxDirectReasonLen {
		a.reason = a.reason[:maxDirectReasonLen]
	}
	return appendString(body, a.reason)
}

// decodeDirectAck parses the body of an ack frame.
func decodeDirectAck(body []byte) (directAck, error) {
	var a directAck
	var err error
	if a.id, body, err = readString(body, maxDirectIDLen); err != nil || !validToken(a.id, maxDirectIDLen) {
		return directAck{}, fmt.Errorf("%w: ack id", errDirectFrame)
	}
	if len(body) < 1 || body[0] > ackRefused {
		return directAck{}, fmt.Errorf("%w: ack status", errDirectFrame)
	}
	a.status = body[0]
	if a.reason, body, err = readString(body[1:], maxDirectReasonLen); err != nil || len(body) != 0 {
		return directAck{}, fmt.Errorf("%w: ack reason", errDirectFrame)
	}
	return a, nil
}

// readDirectFrame reads one frame of at most max bytes. A clean end of
// stream before the frame starts is io.EOF.
func readDirectFrame(r *bufio.Reader, max int) (byte, []byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		return 0, nil, err
	}
	if n == 0 || n > uint64(max) {
		return 0, nil, fmt.Errorf("%w: frame of %d bytes", errDirectFrame, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return buf[0], buf[1:], nil
}

// transferTimeout bounds one stream that carries n bytes: a base for the
// round trip and the receiver's commit, plus one second per 32 KiB (slow
// rural links).
func transferTimeout(n int) time.Duration {
	return directStreamBaseTime + time.Duration(n/(32<<10))*time.Second
}
