package federation

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Frames on our streams (hello and sync): a uvarint length, then that many
// bytes: a type byte and the payload. No frame exceeds maxFrame.
const maxFrame = 1 << 20

// Frame types.
const (
	frameHello   byte = 'H' // payload: the sender's member record envelope
	frameRequest byte = 'Q' // payload: (origin, watermark) pairs
	frameRecord  byte = 'R' // payload: one record envelope
	frameMark    byte = 'M' // payload: one (origin, watermark) pair
	frameEnd     byte = 'E' // payload: flags (bit 0: more to come, ask again)
	framePoke    byte = 'P' // no payload: "I stored new records; pull from me"
	// frameManifest is a record frame holding one of an origin's
	// manifests, sent ahead of the origin's log (manifest.go).
	frameManifest byte = 'F'
)

var errFrameTooLarge = errors.New("frame too large")

// writeFrame writes one frame in a single Write.
func writeFrame(w io.Writer, typ byte, payload []byte) error {
	if len(payload)+1 > maxFrame {
		return errFrameTooLarge
	}
	buf := make([]byte, 0, binary.MaxVarintLen64+1+len(payload))
	buf = binary.AppendUvarint(buf, uint64(len(payload)+1))
	buf = append(buf, typ)
	buf = append(buf, payload...)
	_, err := w.Write(buf)
	return err
}

// readFrame reads one frame.
func readFrame(r *bufio.Reader) (byte, []byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, nil, err
	}
	if n == 0 || n > maxFrame {
		return 0, nil, fmt.Errorf("%w: %d bytes", errFrameTooLarge, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, err
	}
	return buf[0], buf[1:], nil
}

// A mark is an (origin, watermark) pair: the origin's peer ID bytes and a
// version.
type mark struct {
	origin  []byte
	version uint64
}

func appendMark(buf []byte, m mark) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(m.origin)))
	buf = append(buf, m.origin...)
	return binary.AppendUvarint(buf, m.version)
}

// decodeMarks parses a sequence of marks, at most max of them.
func decodeMarks(b []byte, max int) ([]mark, error) {
	var out []mark
	for len(b) > 0 {
		if len(out) >= max {
			return nil, fmt.Errorf("%w: more than %d marks", errMalformed, max)
		}
		n, k := binary.Uvarint(b)
		if k <= 0 || n == 0 || n > 128 || uint64(len(b)-k) < n {
			return nil, fmt.Errorf("%w: mark origin", errMalformed)
		}
		b = b[k:]
		origin := b[:n:n]
		b = b[n:]
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, fmt.Errorf("%w: mark version", errMalformed)
		}
		b = b[k:]
		out = append(out, mark{origin: origin, version: v})
	}
	return out, nil
}
