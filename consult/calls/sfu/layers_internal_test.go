package sfu

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestChooseLayer(t *testing.T) {
	all := uint8(0b111)
	rates := [maxLayers]float64{150e3, 500e3, 1500e3}
	cases := []struct {
		name   string
		cur    int
		avail  uint8
		budget float64
		loss   float64
		calm   int
		want   int
	}{
		{"undecided starts on top", -2, all, 0, 0.03, 0, 2},
		{"undecided, only low so far", -2, 0b001, 0, 0, 0, 0},
		{"steady loss keeps the layer", 1, all, 0, 0.05, 0, 1},
		{"loss steps down", 2, all, 0, 0.10, 0, 1},
		{"loss on the lowest keeps it", 0, all, 0, 0.10, 0, 0},
		{"heavy loss on the lowest pauses video", 0, all, 0, 0.30, 0, -1},
		{"heavy loss higher steps down one", 2, all, 0, 0.30, 0, 1},
		{"calm, not long enough", 0, all, 0, 0, 1, 0},
		{"calm long enough steps up", 0, all, 0, 0, upAfterTicks - 1, 1},
		{"calm resumes paused video low", -1, all, 0, 0, upAfterTicks - 1, 0},
		{"budget caps the layer", 2, all, 600e3, 0, 0, 1},
		{"budget below the lowest pauses", 0, all, 100e3, 0, 0, -1},
		{"a vanished layer falls to the one below", 2, 0b011, 0, 0.05, 0, 1},
		{"nothing available", 1, 0, 0, 0, 0, -1},
		{"skips a missing middle layer", 0, 0b101, 0, 0, upAfterTicks - 1, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calm := c.calm
			assert.Equal(t, c.want, chooseLayer(c.cur, c.avail, rates, c.budget, c.loss, &calm))
		})
	}
}

func TestLayerRank(t *testing.T) {
	for rid, want := range map[string]int{"": 0, "q": 0, "l": 0, "h": 1, "m": 1, "f": 2, "hi": 2} {
		got, ok := layerRank(rid)
		assert.True(t, ok)
		assert.Equal(t, want, got, rid)
	}
	_, ok := layerRank("x7")
	assert.False(t, ok)
}

func TestKeyframes(t *testing.T) {
	cases := []struct {
		name string
		mime string
		p    []byte
		want bool
	}{
		{"vp8 key, 1-byte descriptor", "video/VP8", []byte{0x10, 0x00, 0x9d}, true},
		{"vp8 delta", "video/VP8", []byte{0x10, 0x01}, false},
		{"vp8 not a partition start", "video/VP8", []byte{0x00, 0x00}, false},
		{"vp8 key, 15-bit picture ID", "video/VP8", []byte{0x90, 0x80, 0x81, 0x23, 0x00}, true},
		{"vp8 key, picture ID, TL0PICIDX, TID", "video/VP8", []byte{0x90, 0xe0, 0x12, 0x01, 0x40, 0x00}, true},
		{"vp8 truncated", "video/VP8", []byte{0x90}, false},
		{"vp8 empty", "video/VP8", nil, false},
		{"h264 IDR", "video/H264", []byte{0x65}, true},
		{"h264 SPS in STAP-A", "video/H264", []byte{0x18, 0x00, 0x02, 0x67, 0x42}, true},
		{"h264 FU-A start of IDR", "video/H264", []byte{0x7c, 0x85}, true},
		{"h264 non-IDR", "video/H264", []byte{0x41}, false},
		{"h264 bad STAP-A", "video/H264", []byte{0x18, 0x00}, false},
		{"audio", "audio/opus", []byte{1}, true},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, isKeyframe(c.mime, c.p), c.name)
	}
}

func FuzzKeyframe(f *testing.F) {
	f.Add([]byte{0x90, 0xe0, 0x12, 0x01, 0x40, 0x00}, true)
	f.Add([]byte{0x18, 0x00, 0x02, 0x67, 0x42}, false)
	f.Fuzz(func(t *testing.T, p []byte, vp8 bool) {
		mime := "video/H264"
		if vp8 {
			mime = "video/VP8"
		}
		isKeyframe(mime, p) // must not panic
	})
}
