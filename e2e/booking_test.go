package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/booking"
)

var displayedCode = regexp.MustCompile(`^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5}$`)

// A resident finds a station (typing without diacritics), books a free
// slot, sees the code, looks it up and cancels — in Vietnamese, the
// default language.
func TestResidentBooksLooksUpAndCancels(t *testing.T) {
	browserTest(t)
	tn := startNode(t)
	vi := catalogs(t)["vi"]
	tb := newTab(t, tn.URL())

	tb.open("/book", "book")
	tb.visible("#stations li") // every station of the province, before any search
	assert.Equal(t, "vi", eval[string](tb, `document.documentElement.lang`))

	// Find the station by its name typed without diacritics.
	tb.typeInto("#q", fold(tn.station.Name))
	tb.click("#find-form button[type=submit]")
	tb.waitJS(`document.querySelectorAll('#stations li').length === 1`)
	tb.waitText("#stations li", tn.station.Name)
	tb.click("#stations li button")

	// The first day with a free slot is chosen; take its first free slot.
	tb.visible("#slots button:not([disabled])")
	start := eval[string](tb, `document.querySelector('#slots button:not([disabled])').dataset.start`)
	tb.click("#slots button:not([disabled])")

	tb.visible("#book-form")
	tb.typeInto("#name", "Nguyễn Thị Lan")
	tb.typeInto("#phone", "0912 345 678")
	tb.typeInto("#reason", "Khám thai định kỳ")
	tb.click("#book-form button[type=submit]")

	tb.visible("#step-done")
	code := tb.text("#code")
	require.Regexp(t, displayedCode, code, "the code is shown as XXXX-XXXX-XXXXX")
	assert.Contains(t, tb.text("#h-done"), vi["book.done.heading"])
	a := tn.appointment(t, code)
	assert.Equal(t, booking.StatusBooked, a.Status)
	assert.Equal(t, tn.station.ID, a.Facility)
	assert.Equal(t, start, a.Start.Format("2006-01-02T15:04:05Z07:00"), "booked the slot that was clicked")
	assert.Equal(t, "0912345678", a.Phone)

	// Copy: with or without clipboard access, the page confirms.
	tb.click("#copy-code")
	tb.waitJS(`document.getElementById('copy-status').textContent !== ''`)

	// Look it up: the link carries the code in the fragment only.
	tb.clickNav("#manage-link")
	tb.waitPage("appointment")
	tb.visible("#appt")
	assert.Equal(t, "/appointment", eval[string](tb, `location.pathname + location.search + location.hash`),
		"the code leaves the address bar once looked up")
	tb.waitText("#appt-summary", vi["status.booked"])
	assert.Contains(t, tb.text("#appt-summary"), tn.station.Name)
	assert.Contains(t, tb.text("#appt-summary"), code)

	// Cancel, with a confirmation step.
	tb.click("#cancel")
	tb.click("#confirm-yes")
	tb.waitText("#appt-status", vi["appt.cancelled"])
	tb.waitText("#appt-summary", vi["status.cancelled"])
	assert.Equal(t, booking.StatusCancelled, tn.appointment(t, code).Status)
	tb.do(chromedp.WaitNotVisible(chromedp.CSS("#cancel")))

	// Looking up again by typing the code (lower case, no dashes) shows it cancelled.
	tb.open("/appointment", "appointment")
	tb.typeInto("#code-input", strings.ToLower(strings.ReplaceAll(code, "-", "")))
	tb.click("#lookup-form button[type=submit]")
	tb.waitText("#appt-summary", vi["status.cancelled"])

	// A wrong code gets the catalog's message.
	tb.do(chromedp.SetValue(chromedp.CSS("#code-input"), "AAAA-BBBB-CCCCC"))
	tb.click("#lookup-form button[type=submit]")
	tb.waitText("#lookup-error", vi["err.appointment_not_found"])
}

// The booking form says what is wrong, from the catalog, when the phone
// number is not one.
func TestBookingErrorsComeFromTheCatalog(t *testing.T) {
	browserTest(t)
	tn := startNode(t)
	en := catalogs(t)["en"]
	tb := newTab(t, tn.URL())

	tb.open("/book?lang=en", "book")
	tb.visible("#stations li")
	all := eval[int](tb, `document.querySelectorAll('#stations li').length`)

	// The commune filter keeps that commune's stations only.
	tb.do(chromedp.SetValue(chromedp.CSS("#commune"), tn.station.Commune))
	js, err := json.Marshal(tn.station.Commune)
	require.NoError(t, err)
	tb.waitJS(`(() => { const items = [...document.querySelectorAll('#stations li')];
		return items.length > 0 && items.every((li) => li.textContent.includes(` + string(js) + `)); })()`)
	assert.Less(t, eval[int](tb, `document.querySelectorAll('#stations li').length`), all)

	tb.typeInto("#q", tn.station.Code)
	tb.click("#find-form button[type=submit]")
	tb.waitJS(`document.querySelectorAll('#stations li').length === 1`)
	tb.click("#stations li button")
	tb.click("#slots button:not([disabled])")
	tb.typeInto("#name", "Y Moan Niê")
	tb.typeInto("#phone", "12")
	tb.click("#book-form button[type=submit]")
	tb.waitText("#book-error", en["err.invalid_phone"])
	assert.Equal(t, "phone", eval[string](tb, `document.activeElement.id`), "focus goes to the field to fix")
}
