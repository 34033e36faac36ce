package e2e

import (
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/testnet"
)

// mediaStats reads the page's WebRTC statistics (getStats of every
// connection the call room holds, window.__moinhaCall): decoded video
// frames and received audio packets.
const mediaStats = `(async () => {
	const out = { frames: 0, audio: 0, conns: 0 };
	for (const pc of (window.__moinhaCall ? window.__moinhaCall.pcs() : [])) {
		out.conns++;
		(await pc.getStats()).forEach((s) => {
			if (s.type === 'inbound-rtp' && s.kind === 'video') out.frames += s.framesDecoded || 0;
			if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audio += s.packetsReceived || 0;
		});
	}
	return out;
})()`

type rtcStats struct {
	Frames int `json:"frames"`
	Audio  int `json:"audio"`
	Conns  int `json:"conns"`
}

// waitMedia polls the page's WebRTC statistics until video frames were
// decoded and audio packets received.
func waitMedia(tb *tab) rtcStats {
	tb.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var st rtcStats
	for {
		v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[rtcStats](mediaStats, chromedp.EvalAwaitPromise))
		require.NoError(tb.t, err)
		st = v
		if st.Frames > 0 && st.Audio > 0 {
			return st
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("no media decoded in %s: %+v", waitTimeout, st)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// remoteVideo is true once the page shows a remote picture.
const remoteVideo = `(() => { const v = document.querySelector('#tiles video');
	return !!v && v.readyState >= 2 && v.videoWidth > 0; })()`

// A station user in one province and a doctor in another hold a video
// call with Chromium's fake camera: the station starts it from the calls
// page of its own node, the doctor sees it on the calls page of the other
// province's node and joins; the signalling crosses between the nodes
// over libp2p. Both pages show the other's picture, and each page's
// WebRTC statistics count decoded frames. The page shows the connection
// quality, and the switches work on a live call.
func TestVideoCallAcrossProvinces(t *testing.T) {
	browserTest(t)
	net := startNet(t, testnet.Options{Provinces: 2})
	station, hospital := net.Nodes[0], net.Nodes[1]
	cat := catalogs(t)
	en, vi := cat["en"], cat["vi"]

	// The station's staff (in English) invites the other province's doctor.
	a := newTab(t, station.URL())
	a.open("/login?lang=en&next=%2Fcalls", "login")
	login(a, "staff", station.Users["staff"])
	a.waitPage("calls")
	a.waitJS(`!!document.querySelector('#invite-province-0 option[value="` + hospital.Province + `"]')`)
	a.do(chromedp.SetValue(chromedp.CSS("#invite-province-0"), hospital.Province))
	a.typeInto("#invite-user-0", "doctor")
	a.visible("#call-form button[type=submit]")
	a.follow(chromedp.Click(chromedp.CSS("#call-form button[type=submit]"), chromedp.NodeVisible))
	a.waitPage("call")
	id := eval[string](a, `location.pathname.split('/')[2]`)
	require.Len(t, id, 26)
	assert.Equal(t, "1", eval[string](a, `new URLSearchParams(location.search).get('autojoin')`), "the host joins at once")
	a.waitText("#call-heading", en["kind.consult"])
	a.visible("#stage")

	// The doctor (in Vietnamese) finds the call on their own node's calls page.
	b := newTab(t, hospital.URL())
	b.open("/login?next=%2Fcalls", "login")
	login(b, "doctor", hospital.Users["doctor"])
	b.waitPage("calls")
	join := `#calls-list a[data-join="` + id + `"]`
	b.visible(join)
	assert.Contains(t, b.text(`#calls-list li[data-id="`+id+`"]`), "staff")
	b.clickNav(join)
	b.waitPage("call")
	b.visible("#join")
	b.click("#join")

	for _, tb := range []*tab{a, b} {
		tb.waitJS(remoteVideo)
		st := waitMedia(tb)
		assert.Equal(t, 1, st.Conns, "a consult is one browser-to-browser connection")
		t.Logf("%s: %+v", tb.base, st)
	}
	a.waitText("#call-status", en["call.status.connected"])
	b.waitText("#call-status", vi["call.status.connected"])
	a.visible("#quality-level")
	b.visible("#quality-level")

	// The switches: microphone off, then audio only (no picture sent).
	a.click("#toggle-mic")
	a.waitText("#toggle-mic", en["call.mic_on"])
	assert.False(t, eval[bool](a, `document.getElementById('local-video').srcObject.getAudioTracks()[0].enabled`))
	b.click("#mode-low")
	b.waitJS(`window.__moinhaCall.state().mode === 'low'`)
	screenshot(a, "call-live-en")
	screenshot(b, "call-live-vi")
	a.click("#mode-audio")
	a.waitJS(`window.__moinhaCall.pcs()[0].getSenders().some((s) => s.track === null)`)

	// The doctor leaves: the station sees them go and waits for them.
	b.click("#leave")
	b.visible("#after")
	b.waitText("#after-text", vi["call.after.left"])
	a.waitJS(`!document.querySelector('#tiles video')`)
	a.visible("#stage-note")
}

// A case conference (a group call through the node's SFU): the host
// starts it, the invited doctor waits in the waiting room until the host
// admits them, and then each sees and hears the other through the SFU.
func TestGroupCallWaitingRoom(t *testing.T) {
	browserTest(t)
	tn := startNode(t)
	en := catalogs(t)["en"]

	host := newTab(t, tn.URL())
	host.open("/login?lang=en&next=%2Fcalls%3Fkind%3Dconference", "login")
	login(host, "staff", tn.users["staff"])
	host.waitPage("calls")
	assert.Equal(t, "conference", eval[string](host, `document.getElementById('call-kind').value`))
	host.visible("#add-invitee")
	host.typeInto("#invite-user-0", "doctor")
	host.visible("#call-form button[type=submit]")
	host.follow(chromedp.Click(chromedp.CSS("#call-form button[type=submit]"), chromedp.NodeVisible))
	host.waitPage("call")
	host.waitText("#call-heading", en["kind.conference"])
	host.visible("#end")
	id := eval[string](host, `location.pathname.split('/')[2]`)

	// The doctor opens the join link; the host is told and admits them.
	guest := newTab(t, tn.URL())
	guest.open("/login?lang=en&next="+url.QueryEscape("/call/"+id+"?autojoin=1"), "login")
	login(guest, "doctor", tn.users["doctor"])
	guest.waitPage("call")
	guest.waitText("#call-status", en["call.status.waiting_room"])
	admit := `#waiting-list button[data-admit="` + province + `.doctor"]`
	host.visible(admit)
	screenshot(host, "call-waiting-en")
	host.click(admit)
	host.waitJS(`document.getElementById('waiting-room').hidden`)

	for _, tb := range []*tab{host, guest} {
		tb.waitJS(remoteVideo)
		st := waitMedia(tb)
		assert.Equal(t, 2, st.Conns, "a group call is an upload and a download through the SFU")
	}
	host.waitText("#people-list", "doctor")

	// The host ends the call for everyone (confirming the dialog).
	eval[bool](host, `(window.confirm = () => true, true)`)
	host.click("#end")
	for _, tb := range []*tab{host, guest} {
		tb.visible("#after")
		tb.waitText("#after-text", en["call.reason.host_ended"])
		assert.False(t, eval[bool](tb, `!document.getElementById('rejoin').hidden`), "an ended call cannot be joined again")
	}
}
