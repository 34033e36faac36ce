package federation

import (
	"bufio"
	"bytes"
	"testing"
)

func FuzzDecodeDirectMsg(f *testing.F) {
	f.Add(encodeDirectMsg(directMsg{id: "66-r-abc.1", kind: "referral.offer", province: "66", payload: []byte(`{"v":1}`)}))
	f.Add([]byte{})
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := decodeDirectMsg(body)
		if err != nil {
			return
		}
		if !validToken(m.id, maxDirectIDLen) || !validToken(m.kind, maxDirectKindLen) || !validToken(m.province, maxDirectProvLen) {
			t.Fatalf("accepted bad header %+v", m)
		}
		again, err := decodeDirectMsg(encodeDirectMsg(m))
		if err != nil || again.id != m.id || again.kind != m.kind || !bytes.Equal(again.payload, m.payload) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzDecodeDirectAck(f *testing.F) {
	f.Add(encodeDirectAck(directAck{id: "x.1", status: ackRefused, reason: "not_a_party"}))
	f.Add([]byte{1, 'x', 9, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := decodeDirectAck(body)
		if err != nil {
			return
		}
		if a.status > ackRefused || len(a.reason) > maxDirectReasonLen {
			t.Fatalf("accepted bad ack %+v", a)
		}
		if _, err := decodeDirectAck(encodeDirectAck(a)); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzReadDirectFrame(f *testing.F) {
	f.Add(appendDirectFrame(nil, frameDirectMsg, encodeDirectMsg(directMsg{id: "a", kind: "k", province: "01"})))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		rd := bufio.NewReader(bytes.NewReader(raw))
		for range 8 {
			typ, body, err := readDirectFrame(rd, 1<<16)
			if err != nil {
				return
			}
			if len(body)+1 > 1<<16 {
				t.Fatalf("frame over the limit: %d", len(body))
			}
			switch typ {
			case frameDirectMsg:
				_, _ = decodeDirectMsg(body)
			case frameDirectAck:
				_, _ = decodeDirectAck(body)
			}
		}
	})
}
