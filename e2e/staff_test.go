package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/consult/booking"
)

// login fills the login form with the keyboard only: type, Tab, type, Enter.
func login(tb *tab, user, password string) {
	tb.t.Helper()
	tb.visible("#username")
	tb.waitJS(`document.activeElement && document.activeElement.id === 'username'`)
	tb.do(
		chromedp.KeyEvent(user),
		chromedp.KeyEvent(kb.Tab),
	)
	tb.waitJS(`document.activeElement.id === 'password'`)
	tb.follow(chromedp.KeyEvent(password + kb.Enter))
}

// Staff log in (keyboard only), see a resident's booking on the desk and
// check the resident in, then mark the visit seen.
func TestStaffChecksInOnTheDesk(t *testing.T) {
	browserTest(t)
	tn := startNode(t)
	vi := catalogs(t)["vi"]
	day, slot := tn.freeDay(t, tn.station.ID)
	a := tn.book(t, tn.station.ID, slot.Start, "Hồ Văn Tư")
	tb := newTab(t, tn.URL())

	// The desk needs a login: the page sends the visitor to it and back.
	tb.open("/desk?date="+day, "login")
	assert.Equal(t, "/desk?date="+day, eval[string](tb, `new URLSearchParams(location.search).get('next')`))
	login(tb, "staff", tn.users["staff"])
	tb.waitPage("desk")

	row := `#desk-list li[data-code="` + strings.ReplaceAll(a.Code, "-", "") + `"]`
	tb.visible(row)
	assert.Contains(t, tb.text(row), "Hồ Văn Tư")
	assert.Contains(t, tb.text(row), vi["status.booked"])
	assert.Contains(t, tb.text("#desk-facility"), tn.station.Name)
	assert.Equal(t, day, eval[string](tb, `document.getElementById('desk-date').value`))

	tb.click(row + ` button[data-action="arrive"]`)
	tb.waitText(row+" .badge", vi["status.arrived"])
	assert.Equal(t, booking.StatusArrived, tn.appointment(t, a.Code).Status)
	referLink := eval[string](tb, `document.querySelector('`+row+` a[data-link="refer"]').getAttribute('href')`)
	assert.Equal(t, "/refer?appt="+strings.ReplaceAll(a.Code, "-", ""), referLink)

	tb.click(row + ` button[data-action="fulfil"]`)
	tb.waitText(row+" .badge", vi["status.fulfilled"])
	assert.Equal(t, booking.StatusFulfilled, tn.appointment(t, a.Code).Status)

	// Refresh reloads the same day from the server.
	tb.click("#refresh")
	tb.waitText(row+" .badge", vi["status.fulfilled"])

	// From a row on to a referral, filled from the appointment.
	tb.open(referLink, "refer")
	tb.waitJS(`document.getElementById('p-name').value === 'Hồ Văn Tư'`)
	assert.Equal(t, "0912345678", eval[string](tb, `document.getElementById('p-phone').value`))
	assert.True(t, eval[bool](tb, `document.getElementById('t-referral').checked`))

	// Staff may not open the admin pages: back to login with a notice.
	tb.open("/admin", "login")
	tb.visible("#denied")
	tb.waitText("#denied", vi["login.denied"])
}

// An admin adds a facility, gives it a schedule, and adds a staff
// account working there.
func TestAdminAddsFacilityScheduleAndUser(t *testing.T) {
	browserTest(t)
	tn := startNode(t)
	en := catalogs(t)["en"]
	tb := newTab(t, tn.URL())

	tb.open("/login?lang=en&next="+url.QueryEscape("/admin"), "login")
	login(tb, "admin", tn.users["admin"])
	tb.waitPage("admin")
	tb.visible("#fac-list li")

	// Add a facility.
	tb.clickNav("#add-facility")
	tb.waitPage("admin-facility")
	tb.waitText("#fac-heading", en["admin.facility.new_heading"])
	tb.visible("#f-specialties input")
	tb.typeInto("#f-code", "TYT-EATU2")
	tb.typeInto("#f-name", "Trạm Y tế xã Ea Tu Hai")
	tb.typeInto("#f-name_en", "Ea Tu Hai Commune Health Station")
	tb.typeInto("#f-commune", "Xã Ea Tu Hai")
	tb.typeInto("#f-address", "Thôn 3, xã Ea Tu Hai")
	tb.typeInto("#f-phone", "0262 3850 111")
	tb.click("#spec-paediatrics")
	tb.typeInto("#f-services", "Tiêm chủng\nKhám thai")
	tb.click("#fac-form button[type=submit]")
	tb.waitText("#fac-saved", "Ea Tu Hai Commune Health Station")
	f, err := tn.Directory().GetFacility(province + "-TYT-EATU2")
	require.NoError(t, err)
	assert.Equal(t, "Trạm Y tế xã Ea Tu Hai", f.Name)
	assert.Equal(t, []string{"paediatrics"}, f.Specialties)
	assert.Equal(t, []string{"Tiêm chủng", "Khám thai"}, f.Services)

	// Give it a schedule: Monday mornings, 20-minute slots for 3.
	tb.clickNav("#fac-schedule-link")
	tb.waitPage("admin-schedule")
	tb.visible("#sch-form")
	tb.waitText("#sch-status", en["admin.schedule.new"])
	tb.do(chromedp.SetValue(chromedp.CSS("#s-slot"), "20"), chromedp.SetValue(chromedp.CSS("#s-capacity"), "3"))
	tb.click(`button[data-add="mon"]`)
	tb.do(
		chromedp.SetValue(chromedp.CSS(`[data-day="mon"] .open`), "07:00"),
		chromedp.SetValue(chromedp.CSS(`[data-day="mon"] .close`), "11:00"),
		chromedp.SetValue(chromedp.CSS("#s-closed-add"), "2027-01-01"),
	)
	tb.click("#s-closed-add-btn")
	tb.click("#sch-form button[type=submit]")
	tb.waitText("#sch-saved", en["admin.schedule.saved"])
	sc, err := tn.Booking().GetSchedule(f.ID)
	require.NoError(t, err)
	assert.Equal(t, 20, sc.SlotMinutes)
	assert.Equal(t, 3, sc.Capacity)
	assert.Equal(t, []booking.Interval{{Open: "07:00", Close: "11:00"}}, sc.Hours["mon"])
	assert.Empty(t, sc.Hours["tue"])
	assert.Contains(t, sc.Closed, "2027-01-01")

	// Add a staff account at the new facility.
	tb.open("/admin/users", "admin-users")
	tb.visible(`#users-table tr[data-username="staff"]`)
	tb.typeInto("#u-username", "lan.staff")
	tb.typeInto("#u-password", "mật-khẩu-dài-đủ")
	tb.do(chromedp.SetValue(chromedp.CSS("#u-role"), "staff"))
	tb.waitJS(`!!document.querySelector('#u-facility option[value="` + f.ID + `"]')`)
	tb.do(chromedp.SetValue(chromedp.CSS("#u-facility"), f.ID))
	tb.click("#user-form button[type=submit]")
	tb.waitText("#user-saved", "lan.staff")
	tb.visible(`#users-table tr[data-username="lan.staff"]`)
	assert.Contains(t, tb.text(`#users-table tr[data-username="lan.staff"]`), en["role.staff"])
	us, err := tn.Accounts().ListUsers()
	require.NoError(t, err)
	found := false
	for _, u := range us {
		if u.Username == "lan.staff" {
			found = true
			assert.Equal(t, f.ID, u.Facility)
			assert.EqualValues(t, "staff", u.Role)
		}
	}
	assert.True(t, found, "the account exists")

	// A too-short password gets the catalog's message.
	tb.do(chromedp.SetValue(chromedp.CSS("#u-username"), "short.pw"), chromedp.SetValue(chromedp.CSS("#u-password"), "short"))
	tb.click("#user-form button[type=submit]")
	tb.waitText("#user-error", en["err.invalid_password"])
}
