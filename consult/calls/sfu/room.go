package sfu

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/moinha/moinha/consult/calls/internal/mailbox"
)

// Connection names in Signal.PC.
const (
	PCPub = "pub" // the participant's upload: it offers, the SFU answers
	PCSub = "sub" // the participant's download: the SFU offers, it answers
)

// Signal types.
const (
	SignalOffer     = "offer"
	SignalAnswer    = "answer"
	SignalCandidate = "candidate"
	SignalRestart   = "restart" // participant → SFU: send an ICE-restart offer on "sub"
	SignalError     = "error"   // SFU → participant: Reason says what failed
)

// Signal is one negotiation message between the SFU and a participant.
type Signal struct {
	Type      string
	PC        string
	SDP       string
	Candidate *webrtc.ICECandidateInit
	Reason    string
}

// SignalFunc delivers a Signal to a participant. The Room calls it from its
// loop; it must not block.
type SignalFunc func(participant string, s Signal)

// Stats are a Room's forwarding counters since it opened.
type Stats struct {
	Participants int
	PacketsIn    uint64 // RTP packets received from publishers
	BytesIn      uint64
	PacketsOut   uint64 // RTP packets forwarded to receivers
	BytesOut     uint64
	Dropped      uint64 // RTP packets due to a receiver that could not be written to it
}

// Room is one group session's forwarding: its participants and their
// connections. Its methods may be called from any goroutine.
type Room struct {
	sfu    *SFU
	id     string
	signal SignalFunc
	box    *mailbox.Mailbox
	stop   chan struct{} // closed by Close
	done   chan struct{} // closed when the loop has exited

	// gmu guards closed; the WaitGroup counts media and RTCP readers, which
	// may start from pion's callbacks only while the room is open.
	gmu    sync.Mutex
	closed bool
	wg     sync.WaitGroup

	nparts atomic.Int32

	// Owned by the loop: counters of participants who left.
	gone Stats
	// final is the room's counters when its loop stopped (written by the
	// loop before done is closed).
	final Stats

	// Owned by the loop.
	parts map[string]*participant
	lastT time.Time

	closeOnce sync.Once
}

// participant is one member's two connections and what they carry.
type participant struct {
	id         string
	pub, sub   *webrtc.PeerConnection
	pubPending []webrtc.ICECandidateInit
	subPending []webrtc.ICECandidateInit
	subBusy    bool // an offer on sub awaits its answer
	subDirty   bool // tracks changed since the last offer
	restart    bool // the next sub offer restarts ICE
	ups        map[webrtc.RTPCodecType]*upstream
	downs      map[*upstream]*downTrack

	loss     atomic.Uint32 // highest fraction lost (/256) in receiver reports since the last tick, +1 (0: none)
	remb     atomic.Uint64 // latest REMB estimate, bit/s (0: none)
	lastLoss float64       // owned by the loop: smoothed reported loss
}

// NewRoom opens a room; signal carries the SFU's half of the negotiation
// to participants.
func (s *SFU) NewRoom(id string, signal SignalFunc) (*Room, error) {
	r := &Room{sfu: s, id: id, signal: signal, box: mailbox.New(),
		stop: make(chan struct{}), done: make(chan struct{}), parts: map[string]*participant{}, lastT: time.Now()}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	s.rooms[r] = struct{}{}
	s.mu.Unlock()
	go r.run()
	return r, nil
}

// Join admits a participant: the SFU prepares its connections, waits for
// its "pub" offer and offers "sub" as soon as there is something to
// receive. Joining again under the same ID replaces the old connections.
func (r *Room) Join(id string) { r.box.Post(func() { r.addParticipant(id) }) }

// Leave removes a participant and stops forwarding its media.
func (r *Room) Leave(id string) {
	r.box.Post(func() {
		if p := r.parts[id]; p != nil {
			r.removeParticipant(p)
		}
	})
}

// Signal hands the SFU a participant's negotiation message.
func (r *Room) Signal(id string, s Signal) { r.box.Post(func() { r.handle(id, s) }) }

// Participants is the number of participants in the room.
func (r *Room) Participants() int { return int(r.nparts.Load()) }

// Stats returns the room's counters. It is safe to call at any time; once
// the room is closing it returns its final counters, with zero
// participants.
func (r *Room) Stats() Stats {
	ch := make(chan Stats, 1)
	if !r.box.Post(func() { ch <- r.stats() }) {
		<-r.done
		return r.final
	}
	select {
	case st := <-ch:
		return st
	case <-r.done:
		return r.final
	}
}

// Close closes every connection of the room and waits for its goroutines.
// It is idempotent.
func (r *Room) Close() {
	r.closeOnce.Do(func() {
		r.gmu.Lock()
		r.closed = true
		r.gmu.Unlock()
		close(r.stop)
		<-r.done
		r.wg.Wait()
		r.sfu.forget(r)
	})
}

// enter counts a new reader goroutine; false once the room is closing.
func (r *Room) enter() bool {
	r.gmu.Lock()
	defer r.gmu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	return true
}

func (r *Room) run() {
	defer close(r.done)
	t := time.NewTicker(r.sfu.cfg.LayerInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			r.box.Close()
			r.final = r.stats()
			r.final.Participants = 0
			for _, p := range r.parts {
				r.closeParticipant(p)
			}
			r.parts = nil
			r.nparts.Store(0)
			return
		case <-r.box.Wake:
			for _, fn := range r.box.Drain() {
				fn()
			}
		case <-t.C:
			r.tick()
		}
	}
}

func (r *Room) newPC(p *participant, name string) (*webrtc.PeerConnection, error) {
	pc, err := r.sfu.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init := c.ToJSON()
		r.box.Post(func() {
			if r.parts[p.id] == p {
				r.signal(p.id, Signal{Type: SignalCandidate, PC: name, Candidate: &init})
			}
		})
	})
	return pc, nil
}

func (r *Room) addParticipant(id string) {
	if old := r.parts[id]; old != nil {
		r.removeParticipant(old)
	}
	p := &participant{id: id, ups: map[webrtc.RTPCodecType]*upstream{}, downs: map[*upstream]*downTrack{}}
	var err error
	if p.pub, err = r.newPC(p, PCPub); err == nil {
		p.sub, err = r.newPC(p, PCSub)
	}
	if err != nil {
		r.sfu.log.Error("sfu: new peer connection", "room", r.id, "err", err)
		r.closeParticipant(p)
		r.signal(id, Signal{Type: SignalError, Reason: "media_unavailable"})
		return
	}
	p.pub.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { r.onTrack(p, t) })
	p.sub.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s != webrtc.PeerConnectionStateConnected {
			return
		}
		r.box.Post(func() { // a receiver that (re)connects needs key frames
			for up, d := range p.downs {
				_, target := d.state()
				up.requestKeyframe(target)
			}
		})
	})
	r.parts[id] = p
	r.nparts.Store(int32(len(r.parts)))
	for _, other := range r.sortedParts() {
		if other == p {
			continue
		}
		for _, up := range other.ups {
			r.subscribe(p, up)
		}
	}
	r.negotiate(p)
}

func (r *Room) sortedParts() []*participant {
	ps := make([]*participant, 0, len(r.parts))
	for _, p := range r.parts {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].id < ps[j].id })
	return ps
}

func (r *Room) closeParticipant(p *participant) {
	for _, up := range p.ups {
		up.removed.Store(true)
	}
	if p.pub != nil {
		_ = p.pub.Close()
	}
	if p.sub != nil {
		_ = p.sub.Close()
	}
}

func (r *Room) removeParticipant(p *participant) {
	r.gone = addStats(r.gone, participantStats(p))
	delete(r.parts, p.id)
	r.nparts.Store(int32(len(r.parts)))
	r.closeParticipant(p)
	for _, other := range r.sortedParts() {
		changed := false
		for _, up := range p.ups {
			if d := other.downs[up]; d != nil {
				// What other received of p stays in the room's counters.
				r.gone = addStats(r.gone, Stats{PacketsOut: d.packets.Load(), BytesOut: d.bytes.Load(), Dropped: d.dropped.Load()})
				delete(other.downs, up)
				up.removeDown(d)
				_ = other.sub.RemoveTrack(d.sender)
				changed = true
			}
		}
		if changed {
			other.subDirty = true
			r.negotiate(other)
		}
	}
}

// subscribe gives receiver p a downTrack of up (renegotiation is the
// caller's to start).
func (r *Room) subscribe(p *participant, up *upstream) {
	if p.downs[up] != nil {
		return
	}
	kind := "audio"
	if up.kind == webrtc.RTPCodecTypeVideo {
		kind = "video"
	}
	track, err := webrtc.NewTrackLocalStaticRTP(up.codec, kind, up.owner)
	if err != nil {
		r.sfu.log.Error("sfu: new track", "room", r.id, "err", err)
		return
	}
	sender, err := p.sub.AddTrack(track)
	if err != nil {
		r.sfu.log.Error("sfu: add track", "room", r.id, "err", err)
		return
	}
	d := newDownTrack(up, p, track, sender)
	if up.kind == webrtc.RTPCodecTypeVideo && up.avail != 0 {
		d.decided = topLayer(up.avail)
		d.target = d.decided
	}
	p.downs[up] = d
	up.addDown(d)
	p.subDirty = true
	if r.enter() {
		go func() {
			defer r.wg.Done()
			r.readRTCP(d)
		}()
	}
}

// negotiate sends p a "sub" offer if its tracks changed (or an ICE restart
// is wanted) and no offer is outstanding.
func (r *Room) negotiate(p *participant) {
	if p.subBusy || (!p.subDirty && !p.restart) || len(p.sub.GetTransceivers()) == 0 {
		return
	}
	offer, err := p.sub.CreateOffer(&webrtc.OfferOptions{ICERestart: p.restart})
	if err == nil {
		err = p.sub.SetLocalDescription(offer)
	}
	if err != nil {
		r.sfu.log.Warn("sfu: offer", "room", r.id, "err", err)
		r.signal(p.id, Signal{Type: SignalError, PC: PCSub, Reason: "negotiation_failed"})
		return
	}
	p.subBusy, p.subDirty, p.restart = true, false, false
	r.signal(p.id, Signal{Type: SignalOffer, PC: PCSub, SDP: offer.SDP})
}

func (r *Room) handle(id string, s Signal) {
	p := r.parts[id]
	if p == nil {
		r.signal(id, Signal{Type: SignalError, PC: s.PC, Reason: "not_admitted"})
		return
	}
	var err error
	switch {
	case s.Type == SignalOffer && s.PC == PCPub:
		err = r.answerPub(p, s.SDP)
	case s.Type == SignalAnswer && s.PC == PCSub:
		if !p.subBusy {
			return // a stale answer
		}
		err = p.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: s.SDP})
		if err == nil {
			p.subPending = addCandidates(p.sub, p.subPending)
			p.subBusy = false
			for _, d := range p.downs {
				d.markBound()
			}
			for up, d := range p.downs {
				_, target := d.state()
				up.requestKeyframe(target)
			}
			r.negotiate(p)
		}
	case s.Type == SignalCandidate && s.Candidate != nil && (s.PC == PCPub || s.PC == PCSub):
		pc, pending := p.pub, &p.pubPending
		if s.PC == PCSub {
			pc, pending = p.sub, &p.subPending
		}
		// Candidates wait for the remote description (PITFALLS).
		if pc.RemoteDescription() == nil {
			if len(*pending) < 64 {
				*pending = append(*pending, *s.Candidate)
			}
			return
		}
		err = pc.AddICECandidate(*s.Candidate)
		if err != nil {
			return // a candidate of an old generation, or unusable here
		}
	case s.Type == SignalRestart && s.PC == PCSub:
		p.restart = true
		r.negotiate(p)
	default:
		r.signal(id, Signal{Type: SignalError, PC: s.PC, Reason: "bad_message"})
		return
	}
	if err != nil {
		r.sfu.log.Warn("sfu: negotiation", "room", r.id, "pc", s.PC, "type", s.Type, "err", err)
		r.signal(id, Signal{Type: SignalError, PC: s.PC, Reason: "negotiation_failed"})
	}
}

func (r *Room) answerPub(p *participant, sdp string) error {
	if err := p.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return err
	}
	p.pubPending = addCandidates(p.pub, p.pubPending)
	ans, err := p.pub.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := p.pub.SetLocalDescription(ans); err != nil {
		return err
	}
	r.signal(p.id, Signal{Type: SignalAnswer, PC: PCPub, SDP: ans.SDP})
	return nil
}

func addCandidates(pc *webrtc.PeerConnection, cs []webrtc.ICECandidateInit) []webrtc.ICECandidateInit {
	for _, c := range cs {
		_ = pc.AddICECandidate(c)
	}
	return nil
}

// onTrack runs on pion's goroutine for a new published track (one per
// simulcast layer); it registers the layer with the loop, then reads it.
func (r *Room) onTrack(p *participant, t *webrtc.TrackRemote) {
	if !r.enter() {
		return
	}
	defer r.wg.Done()
	type reg struct {
		up *upstream
		l  int
	}
	ch := make(chan reg, 1)
	if !r.box.Post(func() { up, l := r.addLayer(p, t); ch <- reg{up, l} }) {
		return
	}
	var g reg
	select {
	case g = <-ch:
	case <-r.stop:
		return
	}
	if g.up == nil {
		return
	}
	r.read(g.up, g.l, t)
}

// addLayer records a published track as a layer of the participant's
// upstream of that kind, creating the upstream (and every other
// participant's downTrack of it) on its first layer.
func (r *Room) addLayer(p *participant, t *webrtc.TrackRemote) (*upstream, int) {
	if r.parts[p.id] != p {
		return nil, 0
	}
	up := p.ups[t.Kind()]
	if up == nil {
		up = newUpstream(p.id, t.Kind(), t.Codec().RTPCodecCapability, p.pub)
		p.ups[t.Kind()] = up
		for _, other := range r.sortedParts() {
			if other != p {
				r.subscribe(other, up)
				r.negotiate(other)
			}
		}
	}
	l, ok := layerRank(t.RID())
	if !ok || up.kind == webrtc.RTPCodecTypeAudio {
		l = 0
		for l < maxLayers-1 && up.layers[l].Load() != nil {
			l++
		}
	}
	if up.layers[l].Load() != nil && up.kind == webrtc.RTPCodecTypeAudio {
		return nil, 0 // a second audio track of one participant is not forwarded
	}
	if old := up.layers[l].Load(); old != nil { // a republished layer: keep what the old one carried
		r.gone = addStats(r.gone, Stats{PacketsIn: old.packets.Load(), BytesIn: old.bytes.Load()})
	}
	lay := &layer{rid: t.RID()}
	lay.ssrc.Store(uint32(t.SSRC()))
	up.layers[l].Store(lay)
	prevTop := topLayer(up.avail)
	up.avail |= 1 << l
	if up.kind == webrtc.RTPCodecTypeVideo {
		// A receiver not yet decided, or on the top layer so far, moves to
		// the new top at once (no loss reported yet means no reason not to).
		for _, d := range *up.downs.Load() {
			if d.decided == -2 || (d.decided == prevTop && d.sub.lastLoss < lossUp) {
				d.decided = topLayer(up.avail)
				d.setTarget(d.decided)
				up.requestKeyframe(d.decided)
			}
		}
	}
	return up, l
}

// topLayer is the highest layer set in avail, or -2 for none.
func topLayer(avail uint8) int {
	for i := maxLayers - 1; i >= 0; i-- {
		if avail&(1<<i) != 0 {
			return i
		}
	}
	return -2
}

// read forwards one layer's packets until its connection closes.
func (r *Room) read(up *upstream, l int, t *webrtc.TrackRemote) {
	lay := up.layers[l].Load()
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		lay.bytes.Add(uint64(n))
		lay.packets.Add(1)
		if len(p.Payload) == 0 {
			continue // padding (bandwidth probes)
		}
		var kf uint8
		for _, d := range *up.downs.Load() {
			d.forward(l, &p, &kf)
		}
	}
}

// readRTCP handles a receiver's feedback on one downTrack: key frame
// requests go upstream, receiver reports and REMB feed layer choice. NACKs
// are answered by pion's responder before they get here.
func (r *Room) readRTCP(d *downTrack) {
	for {
		pkts, _, err := d.sender.ReadRTCP()
		if err != nil {
			return // the sender stopped or its connection closed
		}
		for _, pk := range pkts {
			switch pk := pk.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				cur, target := d.state()
				if cur < 0 {
					cur = target
				}
				d.up.requestKeyframe(cur)
			case *rtcp.ReceiverReport:
				for _, rr := range pk.Reports {
					v := uint32(rr.FractionLost) + 1
					for {
						old := d.sub.loss.Load()
						if old >= v || d.sub.loss.CompareAndSwap(old, v) {
							break
						}
					}
				}
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				d.sub.remb.Store(uint64(pk.Bitrate))
			}
		}
	}
}

// tick measures layer bitrates and reconsiders each receiver's layers.
func (r *Room) tick() {
	now := time.Now()
	secs := now.Sub(r.lastT).Seconds()
	r.lastT = now
	if secs <= 0 {
		return
	}
	for _, p := range r.parts {
		for _, up := range p.ups {
			for i := range maxLayers {
				if lay := up.layers[i].Load(); lay != nil {
					b := lay.bytes.Load()
					lay.rate = float64(b-lay.lastBytes) * 8 / secs
					lay.lastBytes = b
				}
			}
		}
	}
	for _, p := range r.parts {
		if v := p.loss.Swap(0); v > 0 {
			// Smoothed: one bad report moves a receiver down a layer, not
			// straight to paused video.
			p.lastLoss = (p.lastLoss + float64(v-1)/256) / 2
		}
		videos := 0
		for up := range p.downs {
			if up.kind == webrtc.RTPCodecTypeVideo {
				videos++
			}
		}
		if videos == 0 {
			continue
		}
		budget := 0.0
		if remb := p.remb.Load(); remb > 0 {
			budget = (float64(remb) - 64000) / float64(videos) // audio first
			if budget <= 0 {
				budget = 1
			}
		}
		for up, d := range p.downs {
			if up.kind != webrtc.RTPCodecTypeVideo {
				continue
			}
			var rates [maxLayers]float64
			for i := range maxLayers {
				if lay := up.layers[i].Load(); lay != nil {
					rates[i] = lay.rate
				}
			}
			next := chooseLayer(d.decided, up.avail, rates, budget, p.lastLoss, &d.calm)
			cur, target := d.state()
			switch {
			case next != d.decided:
				d.decided = next
				d.setTarget(next)
				up.requestKeyframe(next)
			case target >= 0 && cur != target:
				up.requestKeyframe(target) // still waiting for a key frame
			}
		}
	}
}

func (r *Room) stats() Stats {
	st := r.gone
	for _, p := range r.parts {
		st = addStats(st, participantStats(p))
	}
	st.Participants = len(r.parts)
	return st
}

// participantStats counts what p published and what it was sent.
func participantStats(p *participant) Stats {
	var st Stats
	for _, up := range p.ups {
		for i := range maxLayers {
			if lay := up.layers[i].Load(); lay != nil {
				st.PacketsIn += lay.packets.Load()
				st.BytesIn += lay.bytes.Load()
			}
		}
	}
	for _, d := range p.downs {
		st.PacketsOut += d.packets.Load()
		st.BytesOut += d.bytes.Load()
		st.Dropped += d.dropped.Load()
	}
	return st
}

func addStats(a, b Stats) Stats {
	a.PacketsIn += b.PacketsIn
	a.BytesIn += b.BytesIn
	a.PacketsOut += b.PacketsOut
	a.BytesOut += b.BytesOut
	a.Dropped += b.Dropped
	return a
}
