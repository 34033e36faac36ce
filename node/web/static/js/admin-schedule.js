// Admin: a facility's booking schedule — opening periods per weekday, slot
// length, residents per slot, how far ahead, and closed days.
'use strict';
(function () {
  const { t, h, $, api, errText, show, busy, cfg } = MN;
  const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  const facility = new URLSearchParams(location.search).get('facility') || '';
  let closed = [];

  async function setup() {
    if (!facility) {
      $('sch-pick-field').hidden = false;
      try {
        const fs = await MN.listAll('/api/v1/facilities?province=' + encodeURIComponent(cfg.province));
        $('sch-pick').append(h('option', { value: '', text: t('admin.schedule.pick') }));
        for (const f of fs) $('sch-pick').append(h('option', { value: f.id, text: MN.facilityName(f) }));
        $('sch-pick').focus();
      } catch (e) {
        show($('sch-status'), errText(e));
      }
      return;
    }
    show($('sch-status'), t('common.loading'));
    try {
      const f = await api('GET', '/api/v1/facilities/' + encodeURIComponent(facility));
      $('sch-facility').textContent = MN.facilityName(f);
    } catch (e) {
      show($('sch-status'), errText(e));
      return;
    }
    let sc = { slot_minutes: 15, capacity: 2, horizon_days: 60, hours: {}, closed: [] };
    try {
      sc = await api('GET', '/api/v1/facilities/' + encodeURIComponent(facility) + '/schedule');
      show($('sch-status'), '');
    } catch (e) {
      if (e.code !== 'schedule_not_found') {
        show($('sch-status'), errText(e));
        return;
      }
      show($('sch-status'), t('admin.schedule.new'));
    }
    fill(sc);
    $('sch-form').hidden = false;
  }

  function fill(sc) {
    $('s-slot').value = sc.slot_minutes;
    $('s-capacity').value = sc.capacity;
    $('s-horizon').value = sc.horizon_days || '';
    $('s-days').replaceChildren(...DAYS.map((d) => dayRow(d, (sc.hours || {})[d] || [])));
    closed = (sc.closed || []).slice().sort();
    renderClosed();
  }

  function dayRow(day, periods) {
    const list = h('ul', { class: 'periods' });
    const add = h('button', { type: 'button', class: 'btn small', 'data-add': day,
      'aria-label': t('admin.schedule.add_period_for', { day: t('day.' + day) }),
      onclick: () => { const p = period(day, { open: '', close: '' }); list.append(p); p.querySelector('input').focus(); } },
    t('admin.schedule.add_period'));
    for (const p of periods) list.append(period(day, p));
    return h('div', { class: 'day', 'data-day': day }, h('h3', { class: 'day-name', text: t('day.' + day) }), list, add);
  }

  let seq = 0;
  function period(day, p) {
    const n = ++seq;
    const li = h('li', { class: 'period' },
      h('div', {}, h('label', { for: 'open-' + n, text: t('admin.schedule.open') }),
        h('input', { type: 'time', id: 'open-' + n, class: 'open', value: p.open, required: true })),
      h('div', {}, h('label', { for: 'close-' + n, text: t('admin.schedule.close') }),
        h('input', { type: 'time', id: 'close-' + n, class: 'close', value: p.close, required: true })));
    li.append(h('button', { type: 'button', class: 'btn small', 'aria-label': t('admin.schedule.remove_period_for', { day: t('day.' + day) }),
      onclick: () => li.remove() }, t('admin.schedule.remove')));
    return li;
  }

  function renderClosed() {
    $('s-closed').replaceChildren(...closed.map((d) => h('li', { class: 'chip' },
      h('span', { text: MN.fmtDay(d) }),
      h('button', { type: 'button', class: 'link', 'aria-label': t('admin.schedule.remove_closed', { day: MN.fmtDay(d) }),
        onclick: () => { closed = closed.filter((x) => x !== d); renderClosed(); $('s-closed-add').focus(); } }, '×'))));
  }

  function body() {
    const hours = {};
    for (const row of $('s-days').querySelectorAll('.day')) {
      const ps = [...row.querySelectorAll('.period')]
        .map((li) => ({ open: li.querySelector('.open').value, close: li.querySelector('.close').value }))
        .filter((p) => p.open || p.close);
      if (ps.length) hours[row.dataset.day] = ps;
    }
    const b = { slot_minutes: Number($('s-slot').value), capacity: Number($('s-capacity').value), hours, closed };
    if ($('s-horizon').value !== '') b.horizon_days = Number($('s-horizon').value);
    return b;
  }

  $('s-closed-add-btn').addEventListener('click', () => {
    const d = $('s-closed-add').value;
    if (d && !closed.includes(d)) {
      closed.push(d);
      closed.sort();
      renderClosed();
    }
    $('s-closed-add').value = '';
  });
  $('sch-pick').addEventListener('change', () => {
    if ($('sch-pick').value) location.assign('/admin/schedule?facility=' + encodeURIComponent($('sch-pick').value));
  });
  $('sch-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    show($('sch-error'), '');
    show($('sch-saved'), '');
    await busy($('sch-form'), async () => {
      try {
        fill(await api('PUT', '/api/v1/facilities/' + encodeURIComponent(facility) + '/schedule', body()));
        show($('sch-saved'), t('admin.schedule.saved'), 'ok');
      } catch (e) {
        show($('sch-error'), errText(e));
      }
    });
  });
  setup();
})();
