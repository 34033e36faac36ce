package sfu

import "strings"

// isKeyframe reports whether an RTP payload of the given codec starts a
// key frame (where a receiver can start decoding, and where forwarding can
// switch simulcast layers). Audio and unknown codecs always qualify.
func isKeyframe(mime string, payload []byte) bool {
	switch strings.ToLower(mime) {
	case "video/vp8":
		return vp8Keyframe(payload)
	case "video/h264":
		return h264Keyframe(payload)
	}
	return true
}

// vp8Keyframe parses the VP8 payload descriptor (RFC 7741 §4.2) and the
// first byte of the VP8 payload header: the first partition's start with
// the P (inverse key frame) bit clear.
func vp8Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	s := p[0]&0x10 != 0
	pid := p[0] & 0x07
	i := 1
	if p[0]&0x80 != 0 { // X: extension byte follows
		if len(p) < 2 {
			return false
		}
		x := p[1]
		i = 2
		if x&0x80 != 0 { // I: picture ID
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 { // M: 15-bit picture ID
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/KEYIDX byte
			i++
		}
	}
	if !s || pid != 0 || len(p) <= i {
		return false
	}
	return p[i]&0x01 == 0
}

// h264Keyframe reports an IDR slice or an SPS, alone, in a STAP-A, or at
// the start of a FU-A (RFC 6184).
func h264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch t := p[0] & 0x1f; t {
	case 5, 7:
		return true
	case 24: // STAP-A: 2-byte sizes, then NAL units
		for i := 1; i+2 < len(p); {
			n := int(p[i])<<8 | int(p[i+1])
			if i+2 >= len(p) || n == 0 {
				return false
			}
			if nt := p[i+2] & 0x1f; nt == 5 || nt == 7 {
				return true
			}
			i += 2 + n
		}
	case 28: // FU-A
		return len(p) > 1 && p[1]&0x80 != 0 && (p[1]&0x1f == 5 || p[1]&0x1f == 7)
	}
	return false
}
