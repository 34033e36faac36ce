package e2e

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/moinha/moinha/testnet"
)

// The ministry's observer node shows the network: both provinces online
// and reporting, a province's bookings (five, so not suppressed) in the
// volume table and the charts, and the availability by specialty — and no
// patient's name anywhere.
func TestObserverDashboard(t *testing.T) {
	browserTest(t)
	net := startNet(t, testnet.Options{Provinces: 2, Observer: true})
	first, obs := net.Nodes[0], net.Nodes[2]
	require.Equal(t, "observer", obs.Role)
	cat := catalogs(t)

	// Five residents book at the first province's station.
	tn := &testNode{Node: first.Node}
	us, err := first.Accounts().ListUsers()
	require.NoError(t, err)
	for _, u := range us {
		if u.Username == "staff" {
			tn.station, err = first.Directory().GetFacility(u.Facility)
			require.NoError(t, err)
		}
	}
	var names []string
	for i := range 5 {
		_, slot := tn.freeDay(t, tn.station.ID)
		name := fmt.Sprintf("Người Bệnh Số %d", i+1)
		tn.book(t, tn.station.ID, slot.Start, name)
		names = append(names, name)
	}

	for _, lang := range []string{"en", "vi"} {
		tb := newTab(t, obs.URL())
		tb.open("/login?lang="+lang+"&next=%2Fobserver", "login")
		login(tb, "observer", obs.Users["observer"])
		tb.waitPage("observer")
		row := `#volume-table tr[data-province="` + first.Province + `"]`
		tb.reloadUntil("/observer", "observer", `(() => { const r = document.querySelector('`+row+`');
			return !!r && r.children[1].textContent.trim() === '5'; })()`)
		for _, nd := range net.Nodes[:2] {
			tb.visible(`#online-table tr[data-province="` + nd.Province + `"][data-online="true"]`)
		}
		tb.visible("#chart-bookings svg rect")
		tb.visible("#chart-daily svg polyline")
		assert.Contains(t, tb.text("#kpi-online"), "2")
		body := tb.text("main")
		assert.Contains(t, body, cat[lang]["observer.volumes.heading"])
		for _, n := range names {
			assert.NotContains(t, body, n, "no patient data on the dashboard")
		}
		screenshot(tb, "observer-"+lang)
		screenshotFull(tb, "observer-full-"+lang)
	}
}
