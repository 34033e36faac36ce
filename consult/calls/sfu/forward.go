package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// pliInterval is the least time between two key frame requests sent
// upstream for one layer: many receivers asking at once cost one key frame.
const pliInterval = 250 * time.Millisecond

// upstream is one participant's published audio or video: up to
// maxLayers simulcast layers, each read by its own goroutine, and the
// receivers' downTracks it is forwarded to.
type upstream struct {
	owner   string
	kind    webrtc.RTPCodecType
	codec   webrtc.RTPCodecCapability
	pc      *webrtc.PeerConnection           // the publisher's "pub" connection, for PLI
	layers  [maxLayers]atomic.Pointer[layer] // set by the room loop before the layer's reader starts
	avail   uint8                            // owned by the room loop: bit i set when layer i arrives
	downs   atomic.Pointer[[]*downTrack]
	removed atomic.Bool
}

// layer is one simulcast encoding (or the only one) of an upstream.
type layer struct {
	rid     string
	ssrc    atomic.Uint32
	bytes   atomic.Uint64
	packets atomic.Uint64
	lastPLI atomic.Int64 // unix nanos

	// Owned by the room loop.
	rate      float64 // bit/s over the last interval
	lastBytes uint64
}

func newUpstream(owner string, kind webrtc.RTPCodecType, codec webrtc.RTPCodecCapability, pc *webrtc.PeerConnection) *upstream {
	u := &upstream{owner: owner, kind: kind, codec: codec, pc: pc}
	u.downs.Store(&[]*downTrack{})
	return u
}

// addDown and removeDown are called by the room loop only (copy on write;
// readers load the slice without locks).
func (u *upstream) addDown(d *downTrack) {
	old := *u.downs.Load()
	n := make([]*downTrack, len(old), len(old)+1)
	copy(n, old)
	n = append(n, d)
	u.downs.Store(&n)
}

func (u *upstream) removeDown(d *downTrack) {
	old := *u.downs.Load()
	n := make([]*downTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			n = append(n, x)
		}
	}
	u.downs.Store(&n)
}

// requestKeyframe asks the publisher for a key frame on layer l, at most
// once per pliInterval.
func (u *upstream) requestKeyframe(l int) {
	if u.kind != webrtc.RTPCodecTypeVideo || l < 0 || l >= maxLayers || u.removed.Load() {
		return
	}
	lay := u.layers[l].Load()
	if lay == nil {
		return
	}
	now := time.Now().UnixNano()
	last := lay.lastPLI.Load()
	if now-last < int64(pliInterval) || !lay.lastPLI.CompareAndSwap(last, now) {
		return
	}
	_ = u.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: lay.ssrc.Load()}})
}

// downTrack is one upstream as one receiver gets it: its own local track
// (own SSRC, sequence numbers and timestamps) in the receiver's "sub"
// connection.
type downTrack struct {
	up     *upstream
	sub    *participant
	track  *webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender
	clock  float64 // RTP clock rate, per second

	packets atomic.Uint64
	bytes   atomic.Uint64
	dropped atomic.Uint64 // packets whose write to the receiver failed

	// Owned by the room loop.
	decided int // the loop's current decision (-2 undecided, -1 paused)
	calm    int

	// mu guards the forwarding state below; media readers of different
	// layers of the same upstream take it for each packet.
	mu       sync.Mutex
	bound    bool // the receiver's answer is applied: packets can go out
	current  int  // layer being forwarded, -1 none
	target   int  // layer wanted, -1 paused
	started  bool
	lastSeq  uint16
	lastTS   uint32
	lastAt   time.Time
	seqShift uint16
	tsShift  uint32
	hdr      rtp.Header
	out      rtp.Packet
}

func newDownTrack(up *upstream, sub *participant, track *webrtc.TrackLocalStaticRTP, sender *webrtc.RTPSender) *downTrack {
	d := &downTrack{up: up, sub: sub, track: track, sender: sender, clock: float64(up.codec.ClockRate),
		decided: -2, current: -1, target: -1}
	if up.kind == webrtc.RTPCodecTypeAudio {
		d.decided, d.target = 0, 0
	}
	if d.clock == 0 {
		d.clock = 90000
	}
	return d
}

// setTarget changes the layer the receiver should get. The switch happens
// at the target layer's next key frame; pausing (-1) is immediate.
func (d *downTrack) setTarget(l int) {
	d.mu.Lock()
	d.target = l
	if l < 0 {
		d.current = -1
	}
	d.mu.Unlock()
}

// markBound records that the receiver's connection has negotiated this
// track: forwarding starts at the next key frame.
func (d *downTrack) markBound() {
	d.mu.Lock()
	if !d.bound {
		d.bound = true
		d.current = -1
	}
	d.mu.Unlock()
}

func (d *downTrack) state() (current, target int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.current, d.target
}

// forward sends p (from layer l) to the receiver if l is the layer it
// gets, rewriting the sequence number and timestamp so that the receiver
// sees one continuous stream across layer switches. kf caches the key
// frame test for p across receivers (0 unknown, 1 yes, 2 no).
func (d *downTrack) forward(l int, p *rtp.Packet, kf *uint8) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.bound || d.target < 0 {
		return
	}
	if l != d.current {
		if l != d.target {
			return
		}
		if *kf == 0 {
			*kf = 2
			if isKeyframe(d.up.codec.MimeType, p.Payload) {
				*kf = 1
			}
		}
		if *kf != 1 {
			return
		}
		now := time.Now()
		if d.started {
			d.seqShift = p.SequenceNumber - (d.lastSeq + 1)
			gap := uint32(now.Sub(d.lastAt).Seconds()*d.clock) + 1
			d.tsShift = p.Timestamp - (d.lastTS + gap)
		} else {
			d.seqShift, d.tsShift = 0, 0
		}
		d.current = l
	}
	seq := p.SequenceNumber - d.seqShift
	ts := p.Timestamp - d.tsShift
	if !d.started || int16(seq-d.lastSeq) > 0 {
		d.lastSeq, d.lastTS, d.lastAt, d.started = seq, ts, time.Now(), true
	}
	// Header extensions are the publisher's negotiated IDs; the receiver's
	// connection adds its own (TWCC) on the way out.
	d.hdr = rtp.Header{Version: 2, Marker: p.Marker, PayloadType: p.PayloadType,
		SequenceNumber: seq, Timestamp: ts, SSRC: p.SSRC}
	d.out = rtp.Packet{Header: d.hdr, Payload: p.Payload}
	if d.track.WriteRTP(&d.out) == nil {
		d.packets.Add(1)
		d.bytes.Add(uint64(len(p.Payload) + 12))
	} else {
		d.dropped.Add(1)
	}
}
