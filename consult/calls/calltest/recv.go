package calltest

import (
	"context"
	"time"

	"github.com/pion/webrtc/v4"
)

// TrackStats counts what a client received from one sender, of one kind.
type TrackStats struct {
	From      string // the sender's user key
	Kind      string // "audio" or "video"
	Packets   uint64
	Bytes     uint64
	Valid     uint64 // frames (video) or packets (audio) whose header names From
	Invalid   uint64 // frames or packets naming someone else
	Keyframes uint64
	Layers    [3]uint64 // video frames per simulcast layer
	LastLayer int
	First     time.Time
	Last      time.Time
	// MaxGap is the longest time between two valid frames (video) or
	// packets (audio) since the first, or since ResetGaps: a freeze.
	MaxGap    time.Duration
	lastValid time.Time
	// Expected is how many packets the sequence numbers say were sent
	// since the first one received; Expected-Packets were lost.
	Expected uint64

	startSeq uint32
	highSeq  uint32 // extended
}

// Loss is the fraction of packets lost (0 with nothing received).
func (s TrackStats) Loss() float64 {
	if s.Expected == 0 || s.Packets >= s.Expected {
		return 0
	}
	return float64(s.Expected-s.Packets) / float64(s.Expected)
}

type mediaWaiter struct {
	key string
	n   uint64
	ch  chan struct{}
}

func statKey(from, kind string) string { return from + "/" + kind }

// readTrack counts one received track until its connection closes. The
// sender is the track's stream ID (the SFU and clients use the user key).
func (c *Client) readTrack(t *webrtc.TrackRemote) {
	kind := t.Kind().String()
	from := t.StreamID()
	key := statKey(from, kind)
	buf := make([]byte, 1600)
	var p rtpPacket
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		now := time.Now()
		valid, invalid, kf, layer := false, false, false, -1
		if kind == "video" {
			if k, l, isKey, ok := parseVideo(p.Payload); ok {
				valid, invalid, kf, layer = k == from, k != from, isKey, l
			}
		} else if k, ok := parseAudio(p.Payload); ok {
			valid, invalid = k == from, k != from
		}
		c.mu.Lock()
		st := c.recv[key]
		if st == nil {
			st = &TrackStats{From: from, Kind: kind, First: now, startSeq: uint32(p.SequenceNumber), highSeq: uint32(p.SequenceNumber), LastLayer: -1}
			c.recv[key] = st
		}
		st.Packets++
		st.Bytes += uint64(n)
		st.Last = now
		// extend the sequence number around the highest seen
		ext := st.highSeq&^0xffff | uint32(p.SequenceNumber)
		if d := int32(ext - st.highSeq); d < -0x8000 {
			ext += 0x10000
		} else if d > 0x8000 {
			ext -= 0x10000
		}
		if int32(ext-st.highSeq) > 0 {
			st.highSeq = ext
		}
		st.Expected = uint64(st.highSeq-st.startSeq) + 1
		if valid {
			st.Valid++
			if !st.lastValid.IsZero() && now.Sub(st.lastValid) > st.MaxGap {
				st.MaxGap = now.Sub(st.lastValid)
			}
			st.lastValid = now
		}
		if invalid {
			st.Invalid++
		}
		if kf {
			st.Keyframes++
		}
		if layer >= 0 && layer < 3 {
			st.Layers[layer]++
			st.LastLayer = layer
		}
		var ready []chan struct{}
		if len(c.mediaWaiter) > 0 {
			keep := c.mediaWaiter[:0]
			for _, w := range c.mediaWaiter {
				if w.key == key && st.Valid >= w.n {
					ready = append(ready, w.ch)
				} else {
					keep = append(keep, w)
				}
			}
			c.mediaWaiter = keep
		}
		c.mu.Unlock()
		for _, ch := range ready {
			close(ch)
		}
	}
}

// Received returns what this client got from sender from, of kind
// ("audio" or "video").
func (c *Client) Received(from, kind string) TrackStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.recv[statKey(from, kind)]; st != nil {
		return *st
	}
	return TrackStats{From: from, Kind: kind, LastLayer: -1}
}

// ResetGaps restarts every stream's MaxGap from now.
func (c *Client) ResetGaps() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.recv {
		st.MaxGap = 0
	}
}

// AllReceived returns every sender and kind this client got media from.
func (c *Client) AllReceived() []TrackStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]TrackStats, 0, len(c.recv))
	for _, st := range c.recv {
		out = append(out, *st)
	}
	return out
}

// WaitMedia waits until n valid frames (video) or packets (audio) of kind
// from sender from have arrived since Dial.
func (c *Client) WaitMedia(ctx context.Context, from, kind string, n uint64) error {
	key := statKey(from, kind)
	c.mu.Lock()
	if st := c.recv[key]; st != nil && st.Valid >= n {
		c.mu.Unlock()
		return nil
	}
	w := &mediaWaiter{key: key, n: n, ch: make(chan struct{})}
	c.mediaWaiter = append(c.mediaWaiter, w)
	c.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		st := c.Received(from, kind)
		return &MediaTimeout{Client: c.key, From: from, Kind: kind, Want: n, Got: st.Valid, Err: ctx.Err()}
	}
}

// WaitMoreMedia waits for n more valid frames or packets than have arrived
// so far.
func (c *Client) WaitMoreMedia(ctx context.Context, from, kind string, n uint64) error {
	return c.WaitMedia(ctx, from, kind, c.Received(from, kind).Valid+n)
}

// MediaTimeout is WaitMedia's error.
type MediaTimeout struct {
	Client, From, Kind string
	Want, Got          uint64
	Err                error
}

func (e *MediaTimeout) Error() string {
	return "calltest: " + e.Client + " waiting for " + e.Kind + " from " + e.From + ": " + e.Err.Error() +
		" (got " + itoa(e.Got) + " of " + itoa(e.Want) + ")"
}

func itoa(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
