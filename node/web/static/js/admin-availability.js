// Admin: this province's referral availability per specialty (accepting,
// capacity, wait), gossiped to the network, and every province's
// availability as this node has received it.
'use strict';
(function () {
  const { t, h, $, api, errText, show, busy, cfg } = MN;
  const state = { specs: {}, names: {}, ours: {} };

  function summary(a) {
    if (!a.accepting) return t('admin.avail.not_accepting');
    return t('admin.avail.summary', { capacity: a.capacity, days: a.wait_days });
  }

  function badge(a) {
    return h('span', { class: 'badge ' + (a.accepting ? 'badge-arrived' : 'badge-cancelled'),
      text: a.accepting ? t('admin.avail.yes') : t('admin.avail.no') });
  }

  function fill(spec) {
    const a = state.ours[spec] || { accepting: false, capacity: 0, wait_days: 0 };
    $('a-specialty').value = spec;
    $('a-accepting').checked = !!a.accepting;
    $('a-capacity').value = a.capacity;
    $('a-wait').value = a.wait_days;
  }

  async function load() {
    const spec = $('n-specialty').value;
    show($('net-status'), t('common.loading'));
    try {
      const res = await api('GET', '/api/v1/network/availability' + (spec ? '?specialty=' + encodeURIComponent(spec) : ''));
      const all = res.items || [];
      if (!spec) {
        state.ours = {};
        for (const a of all) if (a.province === cfg.province) state.ours[a.specialty] = a;
        renderOurs();
      }
      all.sort((x, y) => String(state.names[x.province] || x.province).localeCompare(String(state.names[y.province] || y.province), cfg.lang) ||
        String(state.specs[x.specialty]).localeCompare(String(state.specs[y.specialty]), cfg.lang));
      $('net-table').tBodies[0].replaceChildren(...all.map((a) => h('tr', { 'data-province': a.province, 'data-specialty': a.specialty },
        h('td', { text: state.names[a.province] || a.province }),
        h('td', { text: state.specs[a.specialty] || a.specialty }),
        h('td', {}, badge(a), h('span', { class: 'meta block', text: summary(a) })))));
      show($('net-status'), all.length ? t('admin.avail.count', { n: all.length }) : t('admin.avail.none'));
    } catch (e) {
      show($('net-status'), errText(e));
    }
  }

  function renderOurs() {
    const rows = Object.values(state.ours)
      .sort((x, y) => String(state.specs[x.specialty]).localeCompare(String(state.specs[y.specialty]), cfg.lang))
      .map((a) => h('tr', { 'data-specialty': a.specialty },
        h('td', { text: state.specs[a.specialty] || a.specialty }),
        h('td', {}, badge(a), h('span', { class: 'meta block', text: summary(a) })),
        h('td', {}, h('button', { type: 'button', class: 'btn small', 'aria-label': t('admin.avail.edit_label', { specialty: state.specs[a.specialty] || a.specialty }),
          onclick: () => { fill(a.specialty); $('a-accepting').focus(); } }, t('admin.avail.edit')))));
    $('ours-table').tBodies[0].replaceChildren(...rows);
    show($('ours-status'), rows.length ? '' : t('admin.avail.ours_none'));
  }

  async function setup() {
    try {
      const specs = await MN.specialties();
      $('n-specialty').append(h('option', { value: '', text: t('admin.avail.all') }));
      for (const s of specs) {
        state.specs[s.code] = s.name;
        $('a-specialty').append(h('option', { value: s.code, text: s.name }));
        $('n-specialty').append(h('option', { value: s.code, text: s.name }));
      }
    } catch (e) {
      show($('avail-error'), errText(e));
    }
    try {
      const res = await api('GET', '/api/v1/network/members');
      for (const m of res.items || []) state.names[m.province] = m.name || m.province;
    } catch (e) {
      // province codes are shown instead of names
    }
    await load();
    fill($('a-specialty').value);
  }

  $('a-specialty').addEventListener('change', () => fill($('a-specialty').value));
  $('n-specialty').addEventListener('change', load);
  $('net-filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    load();
  });
  $('avail-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    show($('avail-error'), '');
    show($('avail-saved'), '');
    const spec = $('a-specialty').value;
    const body = { accepting: $('a-accepting').checked, capacity: Number($('a-capacity').value || 0), wait_days: Number($('a-wait').value || 0) };
    if (!Number.isInteger(body.capacity) || !Number.isInteger(body.wait_days)) {
      show($('avail-error'), t('err.invalid'));
      return;
    }
    await busy($('avail-form'), async () => {
      try {
        const a = await api('PUT', '/api/v1/availability/' + encodeURIComponent(spec), body);
        state.ours[a.specialty] = a;
        renderOurs();
        show($('avail-saved'), t('admin.avail.saved', { specialty: state.specs[spec] || spec }), 'ok');
        if (!$('n-specialty').value || $('n-specialty').value === spec) await load();
      } catch (e) {
        show($('avail-error'), e.code === 'invalid_capacity' ? t('admin.avail.invalid_capacity') : errText(e));
        const field = { invalid_capacity: 'a-capacity', invalid_wait_days: 'a-wait' }[e.code];
        if (field) $(field).focus();
      }
    });
  });
  setup();
})();
