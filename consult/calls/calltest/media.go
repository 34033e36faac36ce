package calltest

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// Synthetic frames carry a header a receiver can check:
//
//	video: [VP8 P bit: 0 key, 1 delta] "MNV" layer keylen key counter(4) zeros…
//	audio: "MNA" keylen key counter(4) zeros…
var (
	magicVideo = []byte("MNV")
	magicAudio = []byte("MNA")
)

// layerRIDs are the simulcast RIDs a client sends, low to high, and each
// layer's share of the top bitrate.
var (
	layerRIDs  = []string{"q", "h", "f"}
	layerShare = []float64{0.1, 0.33, 1}
)

func videoFrame(key string, layer int, counter uint32, size int, keyframe bool) []byte {
	size = max(size, 16+len(key))
	b := make([]byte, size)
	if !keyframe {
		b[0] = 0x01
	}
	copy(b[1:], magicVideo)
	b[4] = byte(layer)
	b[5] = byte(len(key))
	copy(b[6:], key)
	binary.BigEndian.PutUint32(b[6+len(key):], counter)
	return b
}

func audioFrame(key string, counter uint32) []byte {
	b := make([]byte, 80)
	copy(b, magicAudio)
	b[3] = byte(len(key))
	copy(b[4:], key)
	binary.BigEndian.PutUint32(b[4+len(key):], counter)
	return b
}

// parseVideo checks the start of a frame (a VP8 partition start): the
// sender's key and layer, and whether it is a key frame.
func parseVideo(payload []byte) (key string, layer int, keyframe, ok bool) {
	var vp8 codecs.VP8Packet
	data, err := vp8.Unmarshal(payload)
	if err != nil || vp8.S != 1 || vp8.PID != 0 || len(data) < 6 || !bytes.Equal(data[1:4], magicVideo) {
		return "", 0, false, false
	}
	n := int(data[5])
	if len(data) < 6+n {
		return "", 0, false, false
	}
	return string(data[6 : 6+n]), int(data[4]), data[0]&0x01 == 0, true
}

func parseAudio(payload []byte) (key string, ok bool) {
	if len(payload) < 4 || !bytes.Equal(payload[:3], magicAudio) {
		return "", false
	}
	n := int(payload[3])
	if len(payload) < 4+n {
		return "", false
	}
	return string(payload[4 : 4+n]), true
}

// localMedia is a client's synthetic camera and microphone: tracks that
// every connection of the client shares, fed by one goroutine each.
type localMedia struct {
	audio  *webrtc.TrackLocalStaticSample
	video  []*webrtc.TrackLocalStaticRTP // one per layer (one without simulcast)
	keyReq []chan struct{}               // per layer: a key frame was asked for
	// ext holds the MID and RID header extension IDs negotiated for
	// simulcast: pion does not add them itself, and the receiver needs the
	// RID to tell the layers apart.
	ext atomic.Pointer[simulcastExt]
}

type simulcastExt struct {
	midID, ridID uint8
	mid          string
}

func newLocalMedia(key string, o *Options) (*localMedia, error) {
	lm := &localMedia{}
	var err error
	if !o.NoAudio {
		lm.audio, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", key)
		if err != nil {
			return nil, err
		}
	}
	if !o.NoVideo {
		n := 1
		if o.Simulcast {
			n = len(layerRIDs)
		}
		for i := range n {
			var opts []func(*webrtc.TrackLocalStaticRTP)
			if o.Simulcast {
				opts = append(opts, webrtc.WithRTPStreamID(layerRIDs[i]))
			}
			t, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", key, opts...)
			if err != nil {
				return nil, err
			}
			lm.video = append(lm.video, t)
			lm.keyReq = append(lm.keyReq, make(chan struct{}, 1))
		}
	}
	return lm, nil
}

// add puts the tracks on pc (video as simulcast encodings of one sender)
// and returns the senders.
func (lm *localMedia) add(pc *webrtc.PeerConnection) ([]*webrtc.RTPSender, error) {
	var out []*webrtc.RTPSender
	if lm.audio != nil {
		s, err := pc.AddTrack(lm.audio)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(lm.video) > 0 {
		s, err := pc.AddTrack(lm.video[0])
		if err != nil {
			return nil, err
		}
		for _, t := range lm.video[1:] {
			if err := s.AddEncoding(t); err != nil {
				return nil, err
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// negotiated records the header extension IDs of a simulcast sender once
// its connection is negotiated.
func (lm *localMedia) negotiated(pc *webrtc.PeerConnection) {
	if len(lm.video) < 2 {
		return
	}
	for _, tr := range pc.GetTransceivers() {
		s := tr.Sender()
		if s == nil || s.Track() == nil || s.Track().Kind() != webrtc.RTPCodecTypeVideo {
			continue
		}
		var e simulcastExt
		for _, h := range s.GetParameters().HeaderExtensions {
			switch h.URI {
			case sdp.SDESMidURI:
				e.midID = uint8(h.ID)
			case sdp.SDESRTPStreamIDURI:
				e.ridID = uint8(h.ID)
			}
		}
		e.mid = tr.Mid()
		if e.midID != 0 && e.ridID != 0 {
			lm.ext.Store(&e)
		}
	}
}

func (lm *localMedia) requestKeyframe() {
	for _, ch := range lm.keyReq {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// runAudio writes a 20 ms Opus-sized frame every 20 ms until stop.
func (lm *localMedia) runAudio(key string, stop <-chan struct{}) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var n uint32
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			n++
			_ = lm.audio.WriteSample(media.Sample{Data: audioFrame(key, n), Duration: 20 * time.Millisecond})
		}
	}
}

// runVideo writes every layer's frames at fps until stop, key frames every
// interval and whenever a receiver asks (PLI).
func (lm *localMedia) runVideo(key string, o *Options, stop <-chan struct{}) {
	frame := time.Second / time.Duration(o.FPS)
	t := time.NewTicker(frame)
	defer t.Stop()
	var n uint32
	lastKey := make([]time.Time, len(lm.video))
	pks := make([]rtp.Packetizer, len(lm.video))
	for i := range pks {
		pks[i] = rtp.NewPacketizer(1200, 96, uint32(i+1), &codecs.VP8Payloader{EnablePictureID: true},
			rtp.NewRandomSequencer(), 90000)
	}
	samples := uint32(90000 / o.FPS)
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		n++
		now := time.Now()
		for i, tr := range lm.video {
			share := 1.0
			if len(lm.video) > 1 {
				share = layerShare[i]
			}
			size := int(float64(o.VideoBitrate) * share / 8 / float64(o.FPS))
			kf := now.Sub(lastKey[i]) >= o.KeyframeInterval
			select {
			case <-lm.keyReq[i]:
				kf = true
			default:
			}
			if kf {
				lastKey[i] = now
			}
			ext := lm.ext.Load()
			for _, p := range pks[i].Packetize(videoFrame(key, i, n, size, kf), samples) {
				if ext != nil {
					_ = p.Header.SetExtension(ext.midID, []byte(ext.mid))
					_ = p.Header.SetExtension(ext.ridID, []byte(tr.RID()))
				}
				_ = tr.WriteRTP(p)
			}
		}
	}
}
