package calltest

import (
	"math/rand/v2"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

type rtpPacket = rtp.Packet

// lossFactory makes interceptors that drop a fraction of received RTP
// packets before any other interceptor sees them (a lossy downlink).
type lossFactory struct{ rate float64 }

func (f *lossFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &lossInterceptor{rate: f.rate}, nil
}

type lossInterceptor struct {
	interceptor.NoOp
	rate float64
}

func (l *lossInterceptor) BindRemoteStream(_ *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for {
			n, attr, err := r.Read(b, a)
			if err != nil || rand.Float64() >= l.rate {
				return n, attr, err
			}
		}
	})
}
