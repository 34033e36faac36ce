// Package rtcnet builds the pion/webrtc API that every WebRTC peer of a
// node shares — the SFU and the Go test clients: the codecs (VP8, H264,
// Opus), the RTCP interceptors (NACK generator and responder, sender and
// receiver reports, simulcast header extensions, TWCC feedback) and the ICE
// network settings, including the loopback-only mode tests run in.
package rtcnet

import (
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// Config describes the network a WebRTC API may use. The zero value is a
// production peer that gathers every interface's addresses.
type Config struct {
	// Loopback restricts ICE to 127.0.0.1/::1: loopback candidates are
	// gathered, every other interface and address is filtered out (local and
	// remote), and mDNS is off. For tests, which must never send ICE checks
	// to the machine's real addresses. Zero means no restriction.
	Loopback bool
	// UDPMux, when set, makes every PeerConnection of the API share one UDP
	// socket (the SFU's media port). Nil means a socket per connection.
	UDPMux ice.UDPMux
	// Net replaces the operating system's network (tests that cut a peer's
	// network). Nil means the real one.
	Net transport.Net
	// DisconnectedTimeout, FailedTimeout and KeepAlive tune ICE; zero means
	// pion's defaults (5 s, 25 s, 2 s).
	DisconnectedTimeout, FailedTimeout, KeepAlive time.Duration
	// NAT1To1IPs are public addresses to advertise instead of the host's
	// (a node behind 1:1 NAT). Nil means the gathered addresses.
	NAT1To1IPs []string
	// Interceptors are registered before the default ones, so on the
	// receiving side they see packets first (tests that lose packets).
	// Nil means none.
	Interceptors []interceptor.Factory
}

// NewAPI returns a webrtc.API configured by c.
func NewAPI(c Config) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := RegisterCodecs(m); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	for _, f := range c.Interceptors {
		ir.Add(f)
	}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{LoggerFactory: QuietLoggers{}}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if c.Loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" || name == "lo0" })
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	if c.UDPMux != nil {
		se.SetICEUDPMux(c.UDPMux)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	}
	if c.Net != nil {
		se.SetNet(c.Net)
	}
	if len(c.NAT1To1IPs) > 0 {
		se.SetNAT1To1IPs(c.NAT1To1IPs, webrtc.ICECandidateTypeHost)
	}
	if c.DisconnectedTimeout > 0 || c.FailedTimeout > 0 || c.KeepAlive > 0 {
		d, f, k := c.DisconnectedTimeout, c.FailedTimeout, c.KeepAlive
		if d == 0 {
			d = 5 * time.Second
		}
		if f == 0 {
			f = 25 * time.Second
		}
		if k == 0 {
			k = 2 * time.Second
		}
		se.SetICETimeouts(d, f, k)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// RegisterCodecs registers the codecs the network speaks: Opus for audio,
// VP8 (preferred) and H264 for video with REMB and FIR feedback.
func RegisterCodecs(m *webrtc.MediaEngine) error {
	// NACK, PLI and transport-cc feedback are added by the default
	// interceptors (NewAPI).
	fb := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}}
	codecs := []struct {
		c   webrtc.RTPCodecParameters
		typ webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: fb,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, PayloadType: 102}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.c, c.typ); err != nil {
			return err
		}
	}
	return nil
}
