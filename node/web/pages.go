package web

import "slices"

// page is one server-rendered page of the app.
type page struct {
	// path is the URL path served (exact match), or with prefix the path
	// before one more segment ("/call/" serves /call/ID).
	path   string
	prefix bool
	// name names templates/NAME.html (which defines "main") and is the
	// page's id in CSS, tests and screenshots.
	name string
	// title is the catalog key of the page's <title> and heading.
	title string
	// roles may open the page; nil means anyone.
	roles []string
	// nodeRoles are the node roles that serve the page; nil means every
	// node (the observer dashboard will be observer-only, the resident
	// pages are not served by observer nodes, which hold no patient data).
	nodeRoles []string
	// scripts are files under static/ loaded after js/common.js.
	scripts []string
	// sections are the catalog sections (key prefixes before the first
	// '.') that the page's scripts use, besides those every page gets
	// (jsSections).
	sections []string
	// nav is the catalog key of the page's entry in the top navigation;
	// empty means not in the navigation.
	nav string
	// navUnder marks the page as part of the navigation entry of another
	// path (e.g. the admin sub-pages under /admin).
	navUnder string
}

// jsSections are the catalog sections every page's scripts receive.
func jsSections() []string { return []string{"common", "err", "status"} }

// Roles, as the API names them.
const (
	roleAdmin    = "admin"
	roleStaff    = "staff"
	roleDoctor   = "doctor"
	roleObserver = "observer"
)

// Node roles, as node.Config names them.
const (
	nodeProvince = "province"
	nodeHospital = "hospital"
	nodeObserver = "observer"
)

// pageTable lists the pages. To add one, see the package documentation.
func pageTable() []page {
	desk := []string{roleAdmin, roleStaff, roleDoctor}
	clinicians := []string{roleStaff, roleDoctor} // referrals: the API refuses admins
	admin := []string{roleAdmin}
	withPatients := []string{nodeProvince, nodeHospital}
	return []page{
		{path: "/", name: "home", title: "home.title", nav: "nav.home"},
		{path: "/book", name: "book", title: "book.title", nav: "nav.book", nodeRoles: withPatients,
			scripts: []string{"js/book.js"}, sections: []string{"book"}},
		{path: "/appointment", name: "appointment", title: "appt.title", nav: "nav.appointment", nodeRoles: withPatients,
			scripts: []string{"js/appointment.js"}, sections: []string{"appt"}},
		{path: "/login", name: "login", title: "login.title",
			scripts: []string{"js/login.js"}, sections: []string{"login"}},
		{path: "/desk", name: "desk", title: "desk.title", nav: "nav.desk", roles: desk, nodeRoles: withPatients,
			scripts: []string{"js/desk.js"}, sections: []string{"desk"}},
		{path: "/inbox", name: "inbox", title: "inbox.title", nav: "nav.inbox", roles: clinicians, nodeRoles: withPatients,
			scripts: []string{"js/ref.js", "js/inbox.js"}, sections: []string{"inbox", "ref"}},
		{path: "/referral/", prefix: true, name: "referral", title: "referral.title", roles: clinicians, nodeRoles: withPatients,
			navUnder: "/inbox", scripts: []string{"js/ref.js", "js/referral.js"}, sections: []string{"referral", "ref"}},
		{path: "/refer", name: "refer", title: "refer.title", roles: clinicians, nodeRoles: withPatients, navUnder: "/inbox",
			scripts: []string{"js/ref.js", "js/refer.js"}, sections: []string{"refer", "ref"}},
		{path: "/calls", name: "calls", title: "calls.title", nav: "nav.calls", roles: desk, nodeRoles: withPatients,
			scripts: []string{"js/calls.js"}, sections: []string{"calls", "kind"}},
		{path: "/call/", prefix: true, name: "call", title: "call.title", roles: desk, nodeRoles: withPatients, navUnder: "/calls",
			scripts: []string{"js/call.js"}, sections: []string{"call", "kind"}},
		{path: "/observer", name: "observer", title: "observer.title", nav: "nav.observer", roles: []string{roleObserver, roleAdmin},
			nodeRoles: []string{nodeObserver}, scripts: []string{"js/observer.js"}, sections: []string{"observer"}},
		{path: "/admin", name: "admin", title: "admin.facilities.title", nav: "nav.admin", roles: admin,
			scripts: []string{"js/admin.js"}, sections: []string{"admin", "level"}},
		{path: "/admin/facility", name: "admin-facility", title: "admin.facility.title", roles: admin, navUnder: "/admin",
			scripts: []string{"js/admin-facility.js"}, sections: []string{"admin", "level"}},
		{path: "/admin/schedule", name: "admin-schedule", title: "admin.schedule.title", roles: admin, navUnder: "/admin",
			scripts: []string{"js/admin-schedule.js"}, sections: []string{"admin", "day"}},
		{path: "/admin/availability", name: "admin-availability", title: "admin.avail.title", roles: admin, nodeRoles: withPatients,
			navUnder: "/admin", scripts: []string{"js/admin-availability.js"}, sections: []string{"admin"}},
		{path: "/admin/network", name: "admin-network", title: "admin.network.title", roles: admin, navUnder: "/admin",
			scripts: []string{"js/admin-network.js"}, sections: []string{"admin", "noderole"}},
		{path: "/admin/users", name: "admin-users", title: "admin.users.title", roles: admin, navUnder: "/admin",
			scripts: []string{"js/admin-users.js"}, sections: []string{"admin", "role"}},
	}
}

// servedBy reports whether a node with role nodeRole serves p.
func (p *page) servedBy(nodeRole string) bool {
	return p.nodeRoles == nil || slices.Contains(p.nodeRoles, nodeRole)
}

// allows reports whether a user with role may open p.
func (p *page) allows(role string) bool {
	return p.roles == nil || slices.Contains(p.roles, role)
}
