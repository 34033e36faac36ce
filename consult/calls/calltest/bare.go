package calltest

import (
	"context"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/moinha/moinha/consult/calls/rtcnet"
)

// BareSetup connects two pion peers in this process with no node between
// them — the offer, answer and trickled candidates handed over directly —
// sending the same synthetic media as a Client, and returns the time from
// creating the offer until both sides have received their first audio and
// video packet. It is the baseline the node's call setup is measured
// against.
func BareSetup(ctx context.Context, o Options) (time.Duration, error) {
	o.withDefaults()
	api, err := rtcnet.NewAPI(rtcnet.Config{Loopback: true})
	if err != nil {
		return 0, err
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	type side struct {
		pc      *webrtc.PeerConnection
		mu      sync.Mutex
		pending []webrtc.ICECandidateInit
		remote  bool
	}
	got := make(chan struct{}, 8)
	var sides [2]*side
	for i, key := range []string{"0.a", "0.b"} {
		m, err := newLocalMedia(key, &o)
		if err != nil {
			return 0, err
		}
		pc, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			return 0, err
		}
		defer pc.Close()
		if _, err := m.add(pc); err != nil {
			return 0, err
		}
		wg.Add(2)
		go func() { defer wg.Done(); m.runAudio(key, stop) }()
		go func() { defer wg.Done(); m.runVideo(key, &o, stop) }()
		pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			buf := make([]byte, 1600)
			first := true
			for {
				if _, _, err := t.Read(buf); err != nil {
					return
				}
				if first {
					first = false
					got <- struct{}{}
				}
			}
		})
		sides[i] = &side{pc: pc}
	}
	for i, s := range sides {
		other := sides[1-i]
		s.pc.OnICECandidate(func(c *webrtc.ICECandidate) {
			if c == nil {
				return
			}
			init := c.ToJSON()
			other.mu.Lock()
			defer other.mu.Unlock()
			if !other.remote {
				other.pending = append(other.pending, init)
				return
			}
			_ = other.pc.AddICECandidate(init)
		})
	}
	setRemote := func(s *side, d webrtc.SessionDescription) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.pc.SetRemoteDescription(d); err != nil {
			return err
		}
		s.remote = true
		for _, c := range s.pending {
			_ = s.pc.AddICECandidate(c)
		}
		s.pending = nil
		return nil
	}
	start := time.Now()
	a, b := sides[0], sides[1]
	offer, err := a.pc.CreateOffer(nil)
	if err != nil {
		return 0, err
	}
	if err := a.pc.SetLocalDescription(offer); err != nil {
		return 0, err
	}
	if err := setRemote(b, offer); err != nil {
		return 0, err
	}
	answer, err := b.pc.CreateAnswer(nil)
	if err != nil {
		return 0, err
	}
	if err := b.pc.SetLocalDescription(answer); err != nil {
		return 0, err
	}
	if err := setRemote(a, answer); err != nil {
		return 0, err
	}
	for range 4 { // audio and video, each way
		select {
		case <-got:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return time.Since(start), nil
}
