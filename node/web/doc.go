// Package web is the node's web app: server-rendered HTML shells
// (html/template) with small vanilla JavaScript files that call the JSON
// API under /api/v1 with fetch. Templates, CSS, JavaScript and the message
// catalogs are embedded in the binary; there is no build step and nothing
// is downloaded at run time.
//
// # Entry point
//
// [New] returns the http.Handler that node mounts at "/" (the API routes,
// /healthz and /metrics are more specific and stay with node). It serves
// the pages of [pageTable], /static/ assets (gzipped, cache-busted with a
// content hash) and an HTML 404 for anything else.
//
// # Languages
//
// Vietnamese is the default; English is the other language. ?lang=vi|en
// switches and is remembered in the moinha_lang cookie. Every visible
// string comes from i18n/vi.json and i18n/en.json (flat "section.key"
// maps with {name} placeholders): templates call {{.T "key"}}, and each
// page embeds, as JSON, the catalog sections its JavaScript uses
// (page.sections), read by MN.t in static/js/common.js. Tests fail when a
// key is missing from one catalog, unused, or when a template or script
// holds hard-coded visible text.
//
// # Access
//
// A page with roles redirects an anonymous visitor to /login?next=PATH
// and a visitor whose role is not listed to /login?next=PATH&denied=1.
// The session is the API's (HttpOnly cookie set by POST /api/v1/login);
// the page only reads who is logged in through Options.User. The API
// still checks every call.
//
// # Adding a page
//
//  1. Add a row to pageTable: path, template name, title key, roles, the
//     script(s) and catalog sections it needs, and a nav entry if it has one.
//  2. Add templates/NAME.html defining "main", and static/js/NAME.js.
//  3. Add its strings under a new section to both catalogs.
//  4. Add it to the e2e screenshot list (e2e/screens_test.go).
//
// The desk's row actions are a list in static/js/desk.js (deskActions);
// its links onward (a referral or consult request filled from the
// appointment, a teleconsultation) open the /refer and /calls pages.
//
// # Calls, referrals, network
//
// /calls starts calls and lists the user's; /call/ID (a prefix page: the
// row's path ends in "/" and matches one more segment) is the call room,
// which speaks docs/signalling.md over the call's WebSocket (the content
// security policy names the node's own ws:// and wss:// host) and exposes
// its RTCPeerConnections as window.__moinhaCall for tests. /inbox,
// /referral/ID and /refer work referrals and consult requests through
// js/ref.js (their shared vocabulary); /admin/availability and
// /admin/network are the admin's network pages; /observer is the
// observer dashboard (observer nodes only).
package web
