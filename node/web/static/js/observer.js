// Observer dashboard: the network's health and volumes from the
// statistics every member publishes (GET /api/v1/network/stats and
// /reporting) and the gossiped referral availability. Counts only, never
// a person: counts of 1 to 4 arrive suppressed (null) and are shown as
// such. Charts are inline SVG, drawn here; the tables carry the same data.
'use strict';
(function () {
  const { t, h, $, api, errText, show, busy, cfg } = MN;
  const NS = 'http://www.w3.org/2000/svg';
  const KINDS = ['consult', 'conference', 'briefing', 'training'];
  const TOP = 12; // provinces in the bar charts
  const state = { specs: {} };
  const fmt = new Intl.NumberFormat(cfg.lang);

  // ---- aggregation

  // cell adds a level's metric to acc: published values are summed; a
  // suppressed one marks the total as a lower bound.
  function add(acc, key, lv, metric) {
    if (!lv.values || !(metric in lv.values)) return;
    const v = lv.values[metric];
    if (v === null) acc.hidden[key] = true;
    else acc[key] += v;
  }

  function blank() {
    return { bookings: 0, calls: 0, sent: 0, received: 0, accepted: 0, minutesW: 0, minutesN: 0, hidden: {} };
  }

  function addReport(acc, item) {
    for (const lv of item.levels || []) {
      add(acc, 'bookings', lv, 'bookings');
      for (const k of KINDS) add(acc, 'calls', lv, 'calls_' + k);
      add(acc, 'sent', lv, 'referrals_sent');
      add(acc, 'received', lv, 'referrals_received');
      add(acc, 'accepted', lv, 'referrals_accepted');
      const m = lv.values && lv.values.referral_accept_minutes_median;
      const n = lv.values && lv.values.referrals_accepted;
      if (typeof m === 'number' && typeof n === 'number' && n > 0) {
        acc.minutesW += m * n;
        acc.minutesN += n;
      }
    }
  }

  function shown(acc, key) {
    return fmt.format(acc[key]) + (acc.hidden[key] ? t('observer.at_least_mark') : '');
  }

  // ---- SVG

  function svg(tag, attrs, ...children) {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    for (const c of children) el.append(c);
    return el;
  }

  function short(s, n) {
    s = String(s);
    return s.length > n ? s.slice(0, n - 1) + '…' : s;
  }

  // bars draws horizontal bars: rows [{label, values}], one bar per series.
  function bars(fig, titleKey, rows, series) {
    const W = 340;
    const labelW = 112;
    const barH = 11;
    const rowH = barH * series.length + 8;
    const top = 22;
    const H = top + Math.max(1, rows.length) * rowH + 4;
    const max = Math.max(1, ...rows.flatMap((r) => r.values));
    const chartW = W - labelW - 34;
    const title = t(titleKey);
    const el = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title, class: 'svg-chart' });
    series.forEach((s, j) => {
      const x = labelW + j * 80;
      el.append(svg('rect', { x, y: 4, width: 10, height: 10, class: 'fill-' + (j + 1) }),
        svg('text', { x: x + 14, y: 13, class: 'legend' }, t(s)));
    });
    rows.forEach((r, i) => {
      const y = top + i * rowH;
      el.append(svg('text', { x: 0, y: y + rowH / 2 + 3, class: 'label' }, short(r.label, 18)));
      r.values.forEach((v, j) => {
        const w = Math.max(v > 0 ? 1 : 0, Math.round((v / max) * chartW));
        const by = y + 2 + j * barH;
        el.append(svg('rect', { x: labelW, y: by, width: w, height: barH - 2, class: 'fill-' + (j + 1) }),
          svg('text', { x: labelW + w + 3, y: by + barH - 3, class: 'value' }, fmt.format(v)));
      });
    });
    fig.replaceChildren(el, h('figcaption', { text: title }));
  }

  // lines draws one line per series over days.
  function lines(fig, titleKey, days, series) {
    const W = 340;
    const H = 170;
    const L = 34;
    const B = 22;
    const T = 22;
    const max = Math.max(1, ...series.flatMap((s) => s.values));
    const x = (i) => L + (days.length > 1 ? (i * (W - L - 6)) / (days.length - 1) : (W - L) / 2);
    const y = (v) => H - B - (v / max) * (H - B - T);
    const title = t(titleKey);
    const el = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title, class: 'svg-chart' });
    el.append(svg('line', { x1: L, y1: H - B, x2: W - 4, y2: H - B, class: 'axis' }),
      svg('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }),
      svg('text', { x: L - 4, y: T + 4, class: 'value end' }, fmt.format(max)),
      svg('text', { x: L - 4, y: H - B, class: 'value end' }, '0'));
    if (days.length) {
      el.append(svg('text', { x: L, y: H - 6, class: 'value' }, days[0].slice(5)),
        svg('text', { x: W - 4, y: H - 6, class: 'value end' }, days[days.length - 1].slice(5)));
    }
    series.forEach((s, j) => {
      const pts = s.values.map((v, i) => x(i).toFixed(1) + ',' + y(v).toFixed(1)).join(' ');
      el.append(svg('polyline', { points: pts, class: 'line stroke-' + (j + 1) }));
      el.append(svg('rect', { x: L + j * 100, y: 4, width: 10, height: 10, class: 'fill-' + (j + 1) }),
        svg('text', { x: L + j * 100 + 14, y: 13, class: 'legend' }, t(s.key)));
    });
    fig.replaceChildren(el, h('figcaption', { text: title }));
  }

  // ---- sections

  function tile(key, value, id) {
    return h('li', { class: 'kpi', id }, h('strong', { text: value }), h('span', { text: t(key) }));
  }

  function renderOnline(rep, members) {
    const rows = (rep.items || []).slice().sort((a, b) => String(a.name).localeCompare(String(b.name), cfg.lang));
    $('online-table').tBodies[0].replaceChildren(...rows.map((r) => h('tr', { 'data-province': r.province, 'data-online': r.online ? 'true' : 'false' },
      h('td', {}, h('strong', { text: r.name || r.province }), h('span', { class: 'meta block', text: r.province })),
      h('td', {}, h('span', { class: 'badge ' + (r.online ? 'badge-arrived' : 'badge-fulfilled'), text: r.online ? t('observer.online') : t('observer.offline') }),
        r.not_reporting ? h('span', { class: 'badge badge-noshow', text: t('observer.not_reporting') }) : null),
      h('td', {}, r.rate === null || r.rate === undefined ? t('observer.rate_none') : t('observer.rate', { pct: Math.round(r.rate * 100) }),
        h('span', { class: 'meta block', text: r.last_report ? t('observer.last_report', { time: MN.fmtTime(r.last_report) }) : t('observer.never') })))));
    const online = rows.filter((r) => r.online).length;
    const reporting = rows.filter((r) => !r.not_reporting).length;
    const all = (members || []).filter((m) => m.role !== 'observer' && !m.left && !m.revoked).length || rows.length;
    return [tile('observer.kpi.online', t('observer.kpi.of', { n: online, total: all }), 'kpi-online'),
      tile('observer.kpi.reporting', t('observer.kpi.of', { n: reporting, total: rows.length }), 'kpi-reporting')];
  }

  function renderVolumes(items, from, to) {
    const byProv = new Map();
    const byDay = new Map();
    for (let d = from; d <= to; d = MN.addDays(d, 1)) byDay.set(d, blank());
    const names = {};
    for (const it of items) {
      names[it.province] = it.name || it.province;
      if (!byProv.has(it.province)) byProv.set(it.province, blank());
      addReport(byProv.get(it.province), it);
      if (byDay.has(it.day)) addReport(byDay.get(it.day), it);
    }
    const provs = [...byProv.entries()].sort((a, b) => b[1].bookings - a[1].bookings || String(names[a[0]]).localeCompare(String(names[b[0]]), cfg.lang));
    $('volume-table').tBodies[0].replaceChildren(...provs.map(([code, acc]) => h('tr', { 'data-province': code },
      h('th', { scope: 'row', text: names[code] }),
      h('td', { text: shown(acc, 'bookings') }),
      h('td', { text: shown(acc, 'calls') }),
      h('td', { text: shown(acc, 'sent') }),
      h('td', { text: shown(acc, 'received') }),
      h('td', { text: shown(acc, 'accepted') }),
      h('td', { text: acc.minutesN ? t('observer.minutes', { n: Math.round(acc.minutesW / acc.minutesN) }) : '–' }))));
    const top = provs.slice(0, TOP);
    bars($('chart-bookings'), 'observer.chart.bookings', top.map(([code, acc]) => ({ label: names[code], values: [acc.bookings, acc.calls] })),
      ['observer.m.bookings', 'observer.m.calls']);
    const refTop = provs.slice().sort((a, b) => (b[1].sent + b[1].received) - (a[1].sent + a[1].received)).slice(0, TOP);
    bars($('chart-referrals'), 'observer.chart.referrals',
      refTop.map(([code, acc]) => ({ label: names[code], values: [acc.sent, acc.received, acc.accepted] })),
      ['observer.m.sent', 'observer.m.received', 'observer.m.accepted']);
    const days = [...byDay.keys()];
    const dayVals = [...byDay.values()];
    lines($('chart-daily'), 'observer.chart.daily', days, [
      { key: 'observer.m.bookings', values: dayVals.map((a) => a.bookings) },
      { key: 'observer.m.calls', values: dayVals.map((a) => a.calls) },
      { key: 'observer.m.referrals', values: dayVals.map((a) => a.sent) },
    ]);
    const total = blank();
    for (const [, acc] of provs) {
      for (const k of ['bookings', 'calls', 'sent', 'accepted']) {
        total[k] += acc[k];
        if (acc.hidden[k]) total.hidden[k] = true;
      }
    }
    return [tile('observer.kpi.bookings', shown(total, 'bookings'), 'kpi-bookings'),
      tile('observer.kpi.calls', shown(total, 'calls'), 'kpi-calls'),
      tile('observer.kpi.referrals', shown(total, 'sent'), 'kpi-referrals')];
  }

  function renderAvailability(avail) {
    const by = new Map();
    for (const a of avail) {
      if (!by.has(a.specialty)) by.set(a.specialty, { accepting: 0, capacity: 0, wait: null, provinces: 0 });
      const s = by.get(a.specialty);
      s.provinces++;
      if (a.accepting) {
        s.accepting++;
        s.capacity += a.capacity || 0;
        s.wait = s.wait === null ? a.wait_days : Math.min(s.wait, a.wait_days);
      }
    }
    const rows = [...by.entries()].sort((a, b) => b[1].accepting - a[1].accepting ||
      String(state.specs[a[0]] || a[0]).localeCompare(String(state.specs[b[0]] || b[0]), cfg.lang));
    $('avail-table').tBodies[0].replaceChildren(...rows.map(([code, s]) => h('tr', { 'data-specialty': code },
      h('th', { scope: 'row', text: state.specs[code] || code }),
      h('td', { text: t('observer.kpi.of', { n: s.accepting, total: s.provinces }) }),
      h('td', { text: fmt.format(s.capacity) }),
      h('td', { text: s.wait === null ? '–' : t('observer.days', { n: s.wait }) }))));
    if (!rows.length) {
      $('chart-availability').replaceChildren(h('p', { class: 'meta', text: t('observer.availability_none') }));
      return;
    }
    bars($('chart-availability'), 'observer.chart.availability',
      rows.slice(0, TOP).map(([code, s]) => ({ label: state.specs[code] || code, values: [s.accepting] })), ['observer.col.accepting']);
  }

  async function load() {
    const days = Number($('o-days').value) || 30;
    const to = MN.today();
    const from = MN.addDays(to, 1 - days);
    show($('obs-status'), t('common.loading'));
    try {
      const range = 'from=' + from + '&to=' + to;
      const [rep, items, avail, members] = await Promise.all([
        api('GET', '/api/v1/network/reporting?' + range),
        MN.listAll('/api/v1/network/stats?' + range),
        api('GET', '/api/v1/network/availability').then((r) => r.items || []),
        api('GET', '/api/v1/network/members').then((r) => r.items || []).catch(() => []),
      ]);
      const tiles = renderOnline(rep, members).concat(renderVolumes(items, from, to));
      $('obs-tiles').replaceChildren(...tiles);
      renderAvailability(avail);
      show($('obs-status'), t('observer.loaded', { from: MN.fmtDay(from), to: MN.fmtDay(to) }));
    } catch (e) {
      show($('obs-status'), errText(e));
    }
  }

  async function setup() {
    try {
      for (const s of await MN.specialties()) state.specs[s.code] = s.name;
    } catch (e) {
      // codes are shown instead of names
    }
    await load();
  }

  $('obs-range').addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy($('obs-range'), load);
  });
  $('o-days').addEventListener('change', () => busy($('obs-range'), load));
  setup();
})();
