package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"github.com/moinha/moinha/testnet"
)

// Two provinces' admins: one declares its referral availability for a
// specialty and the other sees it arrive; the members page shows both
// online; then the second leaves the network (after a confirmation) and
// the first sees it as left.
func TestAdminAvailabilityMembersAndLeave(t *testing.T) {
	browserTest(t)
	net := startNet(t, testnet.Options{Provinces: 2})
	first, second := net.Nodes[0], net.Nodes[1]
	en := catalogs(t)["en"]

	a := newTab(t, first.URL())
	a.open("/login?lang=en&next=%2Fadmin%2Favailability", "login")
	login(a, "admin", first.Users["admin"])
	a.waitPage("admin-availability")
	a.waitJS(`!!document.querySelector('#a-specialty option[value="cardiology"]')`)
	a.do(chromedp.SetValue(chromedp.CSS("#a-specialty"), "cardiology"))
	a.click("#a-accepting")
	a.do(chromedp.SetValue(chromedp.CSS("#a-capacity"), "6"), chromedp.SetValue(chromedp.CSS("#a-wait"), "3"))
	a.click("#avail-form button[type=submit]")
	a.waitText("#avail-saved", "Cardiology")
	a.visible(`#ours-table tr[data-specialty="cardiology"]`)
	assert.Contains(t, a.text(`#ours-table tr[data-specialty="cardiology"]`), en["admin.avail.yes"])

	// The other province's admin (in Vietnamese) sees it arrive by gossip.
	b := newTab(t, second.URL())
	b.open("/login?next=%2Fadmin%2Fnetwork", "login")
	login(b, "admin", second.Users["admin"])
	b.waitPage("admin-network")
	b.visible(`#members-table tr[data-province="` + first.Province + `"][data-online="true"]`)
	b.visible(`#members-table tr[data-province="` + second.Province + `"]`)
	row := `#net-table tr[data-province="` + first.Province + `"][data-specialty="cardiology"]`
	b.reloadUntil("/admin/availability", "admin-availability", `!!document.querySelector('`+row+`')`)
	assert.Contains(t, b.text(row), first.Name)

	// The second province leaves, after confirming.
	b.open("/admin/network", "admin-network")
	b.click("#leave-start")
	b.visible("#leave-confirm")
	b.waitJS(`document.activeElement && document.activeElement.id === 'leave-no'`)
	b.click("#leave-yes")
	b.visible("#leave-done")
	a.reloadUntil("/admin/network", "admin-network",
		`!!document.querySelector('#members-table tr[data-province="`+second.Province+`"] .badge-noshow')`)
	a.waitText(`#members-table tr[data-province="`+second.Province+`"]`, en["admin.network.left"])
}
