package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/testnet"
)

// pngFile writes a small picture (a stand-in for a photo of a wound or an
// X-ray) and returns its path.
func pngFile(t *testing.T, name string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for x := range 96 {
		for y := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 2), uint8(y * 3), 120, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	return p
}

// The patient of the referral test, and what must not show before acceptance.
const (
	refName  = "Trần Thị Mỹ Duyên"
	refPhone = "0912345678"
	refID    = "079172009999"
)

// A commune station creates a referral, with the patient and a record
// with a picture, for a doctor in another province. The doctor sees the
// offer in the inbox with the minimum necessary (no name, phone or ID),
// accepts it, then sees the full record and writes the outcome, which the
// station sees. Then the station sends an asynchronous consult packet
// (question, vital signs, a photo), which the doctor answers.
func TestReferralAcrossProvinces(t *testing.T) {
	browserTest(t)
	net := startNet(t, testnet.Options{Provinces: 2})
	station, hospital := net.Nodes[0], net.Nodes[1]
	cat := catalogs(t)
	en, vi := cat["en"], cat["vi"]

	// The station's staff (in English) fills the referral form.
	a := newTab(t, station.URL())
	a.open("/login?lang=en&next=%2Frefer", "login")
	login(a, "staff", station.Users["staff"])
	a.waitPage("refer")
	a.waitJS(`!!document.querySelector('#r-specialty option[value="cardiology"]') &&
		!!document.querySelector('#r-target option[value="` + hospital.Province + `"]')`)
	a.do(chromedp.SetValue(chromedp.CSS("#r-specialty"), "cardiology"),
		chromedp.SetValue(chromedp.CSS("#r-urgency"), "urgent"),
		chromedp.SetValue(chromedp.CSS("#r-target"), hospital.Province))
	a.typeInto("#r-reason", "Suspected heart failure; needs an echocardiogram")
	a.typeInto("#r-history", "Hypertension for 10 years")
	a.do(chromedp.SetUploadFiles(chromedp.CSS("#r-files"), []string{pngFile(t, "ecg.png")}))
	a.waitText("#r-files-list", "ecg")
	a.typeInto("#p-name", refName)
	a.typeInto("#p-birth", "1972")
	a.do(chromedp.SetValue(chromedp.CSS("#p-sex"), "female"))
	a.typeInto("#p-phone", refPhone)
	a.typeInto("#p-id", refID)
	a.visible("#refer-submit")
	a.follow(chromedp.Click(chromedp.CSS("#refer-submit"), chromedp.NodeVisible))
	a.waitPage("referral")
	id := eval[string](a, `decodeURIComponent(location.pathname.split('/')[2])`)
	require.True(t, strings.HasPrefix(id, station.Province+"-r-"), id)
	a.visible("#ref-patient")
	assert.Contains(t, a.text("#ref-patient"), refName, "the referring station sees its patient")
	a.visible(`#ref-candidate-list li[data-province="` + hospital.Province + `"]`)
	screenshot(a, "referral-en")

	// The doctor in the other province (in Vietnamese) finds the offer.
	b := newTab(t, hospital.URL())
	b.open("/login?next=%2Finbox", "login")
	login(b, "doctor", hospital.Users["doctor"])
	b.waitPage("inbox")
	item := `#inbox-list li[data-id="` + id + `"]`
	b.reloadUntil("/inbox", "inbox", `!!document.querySelector('`+item+`')`)
	assert.Contains(t, b.text(item), "echocardiogram")
	assert.Contains(t, b.text(item), vi["ref.urgency.urgent"])
	screenshot(b, "inbox-vi")
	b.clickNav(item + " a[data-open]")
	b.waitPage("referral")
	b.visible("#accept")
	b.visible("#ref-minimum")
	body := b.text("main")
	for _, secret := range []string{refName, refPhone, refID, "Hypertension"} {
		assert.NotContains(t, body, secret, "the offer shows the minimum necessary")
	}
	assert.Contains(t, body, "45-54")
	assert.Contains(t, body, vi["ref.sex.female"])
	screenshot(b, "referral-offer-vi")

	// Accepting: the station's node confirms and sends the full record.
	b.click("#accept")
	b.visible("#ref-patient")
	b.waitText("#ref-patient", refName)
	assert.Contains(t, b.text("#ref-patient"), refID)
	assert.Contains(t, b.text("#ref-record"), "Hypertension")
	b.waitJS(`!!document.querySelector('#ref-attachments img') && document.querySelector('#ref-attachments img').naturalWidth === 96`)
	assert.True(t, eval[bool](b, `document.getElementById('ref-minimum').hidden`))

	// The outcome: the final report.
	b.visible("#outcome-form")
	b.do(chromedp.SetValue(chromedp.CSS("#o-kind"), "final"))
	b.typeInto("#o-note", "Siêu âm tim: EF 35%. Điều trị nội khoa, tái khám sau 1 tháng.")
	b.click("#outcome-submit")
	b.waitText("#ref-badges", vi["ref.status.completed"])
	b.visible(`#ref-outcome-list li[data-kind="final"]`)

	// The station sees it completed with the report.
	a.reloadUntil("/referral/"+id, "referral", `document.getElementById('ref-badges').textContent.includes('`+en["ref.status.completed"]+`')`)
	assert.Contains(t, a.text(`#ref-outcome-list li[data-kind="final"]`), "EF 35%")
	a.open("/inbox?box=outbox&lang=en", "inbox")
	a.waitJS(`document.getElementById('f-show').value === 'open'`)
	a.do(chromedp.SetValue(chromedp.CSS("#f-show"), "all"))
	a.waitText(`#inbox-list li[data-id="`+id+`"]`, en["ref.status.completed"])
	screenshot(a, "inbox-outbox-en")

	// An asynchronous consult packet: a question, vital signs and a photo.
	a.open("/refer?type=consult", "refer")
	a.waitJS(`!!document.querySelector('#r-specialty option[value="dermatology"]') &&
		!!document.querySelector('#r-target option[value="` + hospital.Province + `"]')`)
	assert.True(t, eval[bool](a, `document.getElementById('t-consult').checked && !document.getElementById('consult-fields').hidden`))
	a.do(chromedp.SetValue(chromedp.CSS("#r-specialty"), "dermatology"),
		chromedp.SetValue(chromedp.CSS("#r-target"), hospital.Province))
	a.typeInto("#r-question", "A spreading rash on the forearm for three days. Cellulitis?")
	a.typeInto("#v-temp", "38.2")
	a.typeInto("#v-pulse", "96")
	a.do(chromedp.SetUploadFiles(chromedp.CSS("#r-photos"), []string{pngFile(t, "rash.png")}))
	a.waitText("#r-photos-list", "rash")
	a.visible("#refer-submit")
	a.follow(chromedp.Click(chromedp.CSS("#refer-submit"), chromedp.NodeVisible))
	a.waitPage("referral")
	cid := eval[string](a, `decodeURIComponent(location.pathname.split('/')[2])`)
	require.True(t, strings.HasPrefix(cid, station.Province+"-c-"), cid)

	// The doctor sees the packet in the offer and answers at once.
	citem := `#inbox-list li[data-id="` + cid + `"]`
	b.reloadUntil("/inbox", "inbox", `!!document.querySelector('`+citem+`')`)
	b.clickNav(citem + " a[data-open]")
	b.waitPage("referral")
	b.visible("#ref-packet")
	assert.Contains(t, b.text("#ref-question"), "Cellulitis?")
	assert.Contains(t, b.text("#ref-vitals"), "38.2")
	b.waitJS(`!!document.querySelector('#ref-photos img') && document.querySelector('#ref-photos img').naturalWidth === 96`)
	b.visible("#o-note")
	b.typeInto("#o-note", "Likely cellulitis: start oral antibiotics; refer if fever persists beyond 48 h.")
	b.click("#outcome-submit")
	b.visible(`#ref-outcome-list li[data-kind="final"]`)
	a.reloadUntil("/referral/"+cid, "referral", `!!document.querySelector('#ref-outcome-list li[data-kind="final"]')`)
	assert.Contains(t, a.text("#ref-outcome-list"), "oral antibiotics")
}
