// Resident booking: find a commune health station, pick a day and a free
// slot, give name and phone, book, and keep the booking code.
'use strict';
(function () {
  const { t, h, $, api, errText, show, busy, cfg } = MN;
  const LOOKAHEAD_DAYS = 14; // how far "choose a station" looks for the first free day

  const state = { station: null, slot: null, next: '', horizon: 60, query: null };

  // showStep shows one of the four steps and hides the others.
  function showStep(id) {
    for (const s of ['step-find', 'step-slot', 'step-form', 'step-done']) $(s).hidden = s !== id;
  }

  // --- step 1: find a station
  function stationPath(q, cursor) {
    let p = '/api/v1/facilities?level=commune_health_station&limit=50&province=' + encodeURIComponent(cfg.province);
    if (q) p += '&q=' + encodeURIComponent(q);
    if (cursor) p += '&cursor=' + encodeURIComponent(cursor);
    return p;
  }

  async function search(append) {
    const commune = $('commune') ? $('commune').value : '';
    const q = $('q').value.trim() || commune;
    if (!append) {
      $('stations').replaceChildren();
      state.next = '';
      state.query = { q, commune };
    }
    show($('find-status'), t('common.loading'));
    try {
      const page = await api('GET', stationPath(state.query.q, append ? state.next : ''));
      const items = (page.items || []).filter((f) => !state.query.commune || f.commune === state.query.commune);
      for (const f of items) $('stations').append(stationItem(f));
      state.next = page.next || '';
      $('more-stations').hidden = !state.next;
      const n = $('stations').children.length;
      show($('find-status'), n ? t('book.find.count', { n }) : t('book.find.none'));
    } catch (e) {
      show($('find-status'), errText(e));
    }
  }

  function stationItem(f) {
    const btn = h('button', { type: 'button', class: 'choice', onclick: () => choose(f) },
      h('strong', { text: MN.facilityName(f) }),
      h('span', { class: 'meta', text: [f.commune, f.address].filter(Boolean).join(' · ') }),
      f.phone ? h('span', { class: 'meta', text: t('book.find.phone', { phone: f.phone }) }) : null);
    return h('li', {}, btn);
  }

  // --- step 2: a day and a slot
  async function choose(f) {
    state.station = f;
    state.slot = null;
    $('chosen-station').replaceChildren(h('strong', { text: MN.facilityName(f) }), h('br'),
      h('span', { class: 'meta', text: [f.commune, f.address].filter(Boolean).join(' · ') }));
    showStep('step-slot');
    MN.focus($('h-slot'));
    const day = MN.today();
    $('date').min = day;
    try {
      const sc = await api('GET', '/api/v1/facilities/' + encodeURIComponent(f.id) + '/schedule');
      state.horizon = sc.horizon_days || 60;
    } catch (e) {
      state.horizon = 60;
    }
    $('date').max = MN.addDays(day, state.horizon);
    await firstFreeDay(day);
  }

  // firstFreeDay shows the first day from day (within LOOKAHEAD_DAYS)
  // that has a free slot, or day itself when none has.
  async function firstFreeDay(day) {
    show($('slot-status'), t('book.slot.searching'));
    for (let i = 0; i < LOOKAHEAD_DAYS; i++) {
      const d = MN.addDays(day, i);
      if (d > $('date').max) break;
      let items;
      try {
        items = await fetchSlots(d);
      } catch (e) {
        show($('slot-status'), errText(e));
        return;
      }
      if (items.some((s) => s.free > 0)) {
        $('date').value = d;
        renderSlots(d, items);
        return;
      }
    }
    $('date').value = day;
    await loadSlots();
  }

  async function fetchSlots(day) {
    const page = await api('GET', '/api/v1/facilities/' + encodeURIComponent(state.station.id) + '/slots?date=' + day);
    return page.items || [];
  }

  async function loadSlots() {
    const day = $('date').value;
    $('slots').replaceChildren();
    if (!day) return;
    show($('slot-status'), t('common.loading'));
    try {
      renderSlots(day, await fetchSlots(day));
    } catch (e) {
      show($('slot-status'), errText(e));
    }
  }

  function renderSlots(day, items) {
    $('slots').replaceChildren();
    const free = items.filter((s) => s.free > 0).length;
    show($('slot-status'), free ? t('book.slot.count', { n: free, day: MN.fmtDay(day) }) : t('book.slot.none', { day: MN.fmtDay(day) }));
    for (const s of items) {
      const full = s.free <= 0;
      $('slots').append(h('button', {
        type: 'button', class: 'slot', disabled: full, 'data-start': s.start,
        onclick: () => pick(s),
      }, h('strong', { text: MN.hhmm(s.start) }),
      h('span', { class: 'meta', text: full ? t('book.slot.full') : t('book.slot.free', { n: s.free }) })));
    }
  }

  function shiftDay(n) {
    const cur = $('date').value || MN.today();
    const d = MN.addDays(cur, n);
    if (d < $('date').min || d > $('date').max) return;
    $('date').value = d;
    loadSlots();
  }

  // --- step 3: the resident's details
  function pick(s) {
    state.slot = s;
    $('chosen-slot').replaceChildren(
      h('strong', { text: t('book.form.when', { time: MN.hhmm(s.start), day: MN.fmtDay(MN.dayOf(s.start)) }) }), h('br'),
      h('span', { class: 'meta', text: MN.facilityName(state.station) }));
    show($('book-error'), '');
    showStep('step-form');
    $('name').focus();
  }

  async function submit(ev) {
    ev.preventDefault();
    const form = $('book-form');
    const name = $('name').value.trim();
    const phone = $('phone').value.trim();
    if (!name) return fieldError('name', t('err.invalid_name'));
    if (!phone) return fieldError('phone', t('err.invalid_phone'));
    const body = { facility: state.station.id, start: state.slot.start, name, phone, reason: $('reason').value.trim() };
    const by = parseInt($('birth_year').value, 10);
    if (by) body.birth_year = by;
    show($('book-error'), '');
    await busy(form, async () => {
      try {
        done(await api('POST', '/api/v1/appointments', body));
      } catch (e) {
        show($('book-error'), errText(e));
        if (e.code === 'slot_full' || e.code === 'slot_in_past' || e.code === 'not_a_slot') {
          showStep('step-slot');
          show($('slot-status'), errText(e));
          await loadSlots();
        } else {
          const field = { invalid_name: 'name', invalid_phone: 'phone', invalid_reason: 'reason', invalid_birth_year: 'birth_year' }[e.code];
          if (field) $(field).focus();
        }
      }
    });
  }

  function fieldError(id, text) {
    show($('book-error'), text);
    $(id).focus();
  }

  // --- done: the booking code
  function done(a) {
    const code = MN.fmtCode(a.code);
    $('code').textContent = code;
    MN.fillDl($('done-summary'), [
      ['book.done.station', MN.facilityName(state.station)],
      ['book.done.address', state.station.address || ''],
      ['book.done.when', t('book.form.when', { time: MN.hhmm(a.start), day: MN.fmtDay(MN.dayOf(a.start)) })],
      ['book.done.status', MN.statusBadge(a.status)],
    ]);
    $('manage-link').href = '/appointment#' + code;
    showStep('step-done');
    $('step-done').focus();
  }

  async function copyCode() {
    const code = $('code').textContent;
    try {
      await navigator.clipboard.writeText(code);
      show($('copy-status'), t('book.done.copied'), 'ok');
    } catch (e) {
      // Without clipboard access (plain http), select the code for the user.
      const range = document.createRange();
      range.selectNodeContents($('code'));
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      show($('copy-status'), t('book.done.selected'));
    }
  }

  $('find-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    search(false);
  });
  if ($('commune')) $('commune').addEventListener('change', () => search(false));
  $('more-stations').addEventListener('click', () => search(true));
  $('change-station').addEventListener('click', () => {
    showStep('step-find');
    $('q').focus();
  });
  $('date').addEventListener('change', loadSlots);
  $('prev-day').addEventListener('click', () => shiftDay(-1));
  $('next-day').addEventListener('click', () => shiftDay(1));
  $('change-slot').addEventListener('click', () => {
    showStep('step-slot');
    MN.focus($('h-slot'));
  });
  $('book-form').addEventListener('submit', submit);
  $('copy-code').addEventListener('click', copyCode);
  search(false);
})();
