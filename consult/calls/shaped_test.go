package calls_test

import (
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5/vnet"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/calls"
	"github.com/moinha/moinha/consult/calls/calltest"
	"github.com/moinha/moinha/consult/calls/rtcnet"
	"github.com/moinha/moinha/internal/netns"
)

// shapedLink is two hosts on pion's virtual network (nothing leaves the
// process; the 192.0.2.0/24 documentation range is only a label): each
// direction policed to rate bit/s, delayed rtt/2, losing lossPct percent.
func shapedLink(tb testing.TB, rate int, rtt time.Duration, lossPct int) (*vnet.Net, *vnet.Net) {
	tb.Helper()
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "192.0.2.0/24", MinDelay: rtt / 2, LoggerFactory: rtcnet.QuietLoggers{}})
	require.NoError(tb, err)
	var nets []*vnet.Net
	for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		require.NoError(tb, err)
		lf, err := vnet.NewLossFilter(n, lossPct)
		require.NoError(tb, err)
		require.NoError(tb, router.AddNet(lf))
		nets = append(nets, n)
	}
	// A token-bucket policer per direction (by source address).
	type bucket struct {
		tokens float64
		last   time.Time
	}
	var mu sync.Mutex
	buckets := map[string]*bucket{}
	burst := float64(rate) / 8 / 4 // 250 ms of data
	router.AddChunkFilter(func(c vnet.Chunk) bool {
		mu.Lock()
		defer mu.Unlock()
		src := c.SourceAddr().(*net.UDPAddr).IP.String()
		b := buckets[src]
		now := time.Now()
		if b == nil {
			b = &bucket{tokens: burst, last: now}
			buckets[src] = b
		}
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*float64(rate)/8)
		b.last = now
		size := float64(len(c.UserData()) + 28)
		if b.tokens < size {
			return false
		}
		b.tokens -= size
		return true
	})
	require.NoError(tb, router.Start())
	tb.Cleanup(func() { _ = router.Stop() })
	return nets[0], nets[1]
}

// BenchmarkShapedLink: a consult over a link policed to 300 kbit/s each
// way with 300 ms RTT and 5% loss, signalled through the node. The
// synthetic sender does not estimate bandwidth (a browser's GCC would), so
// it sends a fixed video bitrate below the link (120 and 200 kbit/s) and
// Opus-sized audio. Reported per direction over 20 s: audio packets per
// second and its longest gap; video frames per second, its longest gap (a
// freeze) and packet loss. b.N is ignored.
func BenchmarkShapedLink(b *testing.B) {
	netns.Require(b)
	for _, kbps := range []int{120, 200} {
		b.Run(strconv.Itoa(kbps)+"kbps", func(b *testing.B) { shapedCall(b, kbps*1000) })
	}
}

func shapedCall(b *testing.B, video int) {
	n := newNode(b, "66", nil)
	netA, netB := shapedLink(b, 300_000, 300*time.Millisecond, 5)
	id := n.create(b, "staff", calls.KindConsult, n.user("doctor"))
	o := calltest.Options{VideoBitrate: video, FPS: 15}
	oa, ob := o, o
	oa.Net, ob.Net = netA, netB
	a := n.dial(b, id, "staff", oa)
	c := n.dial(b, id, "doctor", ob)
	require.NoError(b, a.Join())
	require.NoError(b, c.Join())
	ctx := ctxT(b, time.Minute)
	for _, p := range [][2]*calltest.Client{{a, c}, {c, a}} {
		require.NoError(b, p[0].WaitMedia(ctx, p[1].Key(), "audio", 10))
		require.NoError(b, p[0].WaitMedia(ctx, p[1].Key(), "video", 5))
	}
	before := map[*calltest.Client]map[string]calltest.TrackStats{}
	snap := func(cl, from *calltest.Client) map[string]calltest.TrackStats {
		return map[string]calltest.TrackStats{"audio": cl.Received(from.Key(), "audio"), "video": cl.Received(from.Key(), "video")}
	}
	a.ResetGaps()
	c.ResetGaps()
	before[a], before[c] = snap(a, c), snap(c, a)
	b.ResetTimer()
	start := time.Now()
	<-time.After(20 * time.Second) // a measurement window
	secs := time.Since(start).Seconds()
	b.StopTimer()
	var worstAudioGap, worstVideoGap time.Duration
	var audioRate, videoFPS, videoLoss = 1e9, 1e9, 0.0
	for _, p := range [][2]*calltest.Client{{a, c}, {c, a}} {
		now := snap(p[0], p[1])
		was := before[p[0]]
		audioRate = min(audioRate, float64(now["audio"].Valid-was["audio"].Valid)/secs)
		videoFPS = min(videoFPS, float64(now["video"].Valid-was["video"].Valid)/secs)
		worstAudioGap = max(worstAudioGap, now["audio"].MaxGap)
		worstVideoGap = max(worstVideoGap, now["video"].MaxGap)
		exp := now["video"].Expected - was["video"].Expected
		if got := now["video"].Packets - was["video"].Packets; exp > got {
			videoLoss = max(videoLoss, float64(exp-got)/float64(exp))
		}
	}
	b.ReportMetric(audioRate, "audio-pkts/s")
	b.ReportMetric(float64(worstAudioGap.Milliseconds()), "audio-maxgap-ms")
	b.ReportMetric(videoFPS, "video-fps")
	b.ReportMetric(float64(worstVideoGap.Milliseconds()), "video-maxgap-ms")
	b.ReportMetric(videoLoss*100, "video-loss-%")
}
