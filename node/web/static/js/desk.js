// Station desk: the facility's appointments of a day, with check-in,
// no-show and fulfil.
'use strict';
(function () {
  const { t, h, $, api, errText, show, busy, cfg } = MN;

  // deskActions are the buttons of an appointment row, in order. Each has
  // a catalog key, when it applies, and what it does (returning the
  // updated appointment, or nothing to leave the row as it is).
  //
  // Referral, consult request and teleconsultation are links under the
  // buttons (links()): they open their own pages.
  const deskActions = [
    { key: 'desk.action.arrive', primary: true, when: (a) => a.status === 'booked', run: (a) => setStatus(a, 'arrive') },
    { key: 'desk.action.fulfil', primary: true, when: (a) => a.status === 'arrived', run: (a) => setStatus(a, 'fulfil') },
    { key: 'desk.action.noshow', when: (a) => a.status === 'booked' && Date.parse(a.start) <= Date.now(), run: (a) => setStatus(a, 'noshow') },
  ];

  // links are the row's ways onward for a patient at the station: a
  // referral or a consult request filled from the appointment, and a
  // teleconsultation (the referral API serves staff and doctors only).
  function links(a) {
    const role = cfg.user && cfg.user.role;
    if ((role !== 'staff' && role !== 'doctor') || (a.status !== 'booked' && a.status !== 'arrived')) return null;
    const code = encodeURIComponent(MN.normCode(a.code));
    return h('p', { class: 'links row-links' },
      h('a', { href: '/refer?appt=' + code, 'data-link': 'refer' }, t('desk.link.refer')),
      h('a', { href: '/refer?type=consult&appt=' + code, 'data-link': 'consult' }, t('desk.link.consult')),
      h('a', { href: '/calls#new-call', 'data-link': 'call' }, t('desk.link.call')));
  }

  function setStatus(a, action) {
    return api('POST', '/api/v1/appointments/' + MN.normCode(a.code) + '/' + action);
  }

  const state = { facility: '', items: [] };

  function params() {
    return new URLSearchParams(location.search);
  }

  function remember() {
    const q = params();
    q.set('facility', state.facility);
    q.set('date', $('desk-date').value);
    q.delete('lang');
    history.replaceState(null, '', location.pathname + '?' + q.toString());
  }

  async function setup() {
    const p = params();
    $('desk-date').value = /^\d{4}-\d{2}-\d{2}$/.test(p.get('date') || '') ? p.get('date') : MN.today();
    state.facility = (cfg.user && cfg.user.facility) || p.get('facility') || '';
    if (!(cfg.user && cfg.user.facility)) {
      // An account with no facility (the admin) picks one of the province's.
      $('facility-field').hidden = false;
      try {
        const fs = await MN.listAll('/api/v1/facilities?province=' + encodeURIComponent(cfg.province));
        fs.sort((x, y) => MN.facilityName(x).localeCompare(MN.facilityName(y), cfg.lang));
        for (const f of fs) $('facility').append(h('option', { value: f.id, text: MN.facilityName(f) }));
        if (!state.facility && fs.length) {
          const station = fs.find((f) => f.level === 'commune_health_station') || fs[0];
          state.facility = station.id;
        }
        $('facility').value = state.facility;
      } catch (e) {
        show($('desk-status'), errText(e));
        return;
      }
    }
    if (!state.facility) {
      show($('desk-status'), t('desk.no_facility'));
      return;
    }
    await showFacility();
    await load();
  }

  async function showFacility() {
    try {
      const f = await api('GET', '/api/v1/facilities/' + encodeURIComponent(state.facility));
      $('desk-facility').textContent = MN.facilityName(f);
    } catch (e) {
      $('desk-facility').textContent = state.facility;
    }
  }

  async function load() {
    const day = $('desk-date').value;
    if (!day || !state.facility) return;
    remember();
    show($('desk-status'), t('common.loading'));
    await busy($('refresh'), async () => {
      try {
        const res = await api('GET', '/api/v1/appointments?facility=' + encodeURIComponent(state.facility) + '&date=' + day);
        state.items = res.items || [];
        render(day);
      } catch (e) {
        show($('desk-status'), errText(e));
      }
    });
  }

  function render(day) {
    const list = $('desk-list');
    list.replaceChildren(...state.items.map(row));
    counts();
    show($('desk-status'), state.items.length ? t('desk.loaded', { day: MN.fmtDay(day) }) : t('desk.empty', { day: MN.fmtDay(day) }));
  }

  function counts() {
    const by = {};
    for (const a of state.items) by[a.status] = (by[a.status] || 0) + 1;
    const parts = ['booked', 'arrived', 'fulfilled', 'noshow', 'cancelled']
      .filter((s) => by[s])
      .map((s) => t('desk.count', { status: t('status.' + s), n: by[s] }));
    $('desk-counts').textContent = parts.join(' · ');
  }

  function row(a) {
    const actions = h('div', { class: 'actions' });
    for (const act of deskActions) {
      if (!act.when(a)) continue;
      actions.append(h('button', {
        type: 'button', class: 'btn small' + (act.primary ? ' primary' : ''), 'data-action': act.key.split('.').pop(),
        onclick: (ev) => perform(ev.currentTarget, act, a),
      }, t(act.key)));
    }
    return h('li', { class: 'card appt status-' + a.status, 'data-code': MN.normCode(a.code) },
      h('div', { class: 'appt-head' }, h('span', { class: 'time', text: MN.hhmm(a.start) }), MN.statusBadge(a.status)),
      h('p', { class: 'who' }, h('strong', { text: a.name }),
        a.birth_year ? h('span', { class: 'meta', text: ' ' + t('desk.born', { year: a.birth_year }) }) : null),
      a.phone ? h('p', {}, h('a', { href: 'tel:' + a.phone, text: a.phone })) : null,
      a.reason ? h('p', { class: 'reason', text: a.reason }) : null,
      h('p', { class: 'meta', text: t('desk.code', { code: MN.fmtCode(a.code) }) }),
      actions.children.length ? actions : null,
      links(a));
  }

  async function perform(btn, act, a) {
    await busy(btn, async () => {
      try {
        const updated = await act.run(a);
        if (updated) {
          const i = state.items.findIndex((x) => x.id === updated.id);
          if (i >= 0) state.items[i] = updated;
          const li = $('desk-list').querySelector('[data-code="' + MN.normCode(a.code) + '"]');
          const fresh = row(updated);
          li.replaceWith(fresh);
          counts();
          show($('desk-status'), t('desk.updated', { name: updated.name, status: t('status.' + updated.status) }), 'ok');
          const next = fresh.querySelector('button') || fresh;
          MN.focus(next);
        }
      } catch (e) {
        show($('desk-status'), errText(e));
      }
    });
  }

  function shiftDay(n) {
    $('desk-date').value = MN.addDays($('desk-date').value || MN.today(), n);
    load();
  }

  $('desk-controls').addEventListener('submit', (ev) => {
    ev.preventDefault();
    load();
  });
  $('desk-date').addEventListener('change', load);
  $('prev-day').addEventListener('click', () => shiftDay(-1));
  $('next-day').addEventListener('click', () => shiftDay(1));
  $('today').addEventListener('click', () => {
    $('desk-date').value = MN.today();
    load();
  });
  $('facility').addEventListener('change', async () => {
    state.facility = $('facility').value;
    await showFacility();
    await load();
  });
  setup();
})();
