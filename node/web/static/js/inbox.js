// Inbox: referrals and consult requests offered to this province (from
// any province: the minimum necessary until accepted), and those this
// province sent, with their state. It refreshes itself.
'use strict';
(function () {
  const { t, h, $, api, errText, show } = MN;
  const R = MN.ref;
  const REFRESH_MS = 10000;
  const q = new URLSearchParams(location.search);
  const box = q.get('box') === 'outbox' ? 'outbox' : 'inbox';
  const state = { names: {}, specs: {}, items: [], shown: '' };

  function item(v) {
    const who = box === 'inbox'
      ? t('inbox.item.from', { province: state.names[v.origin_province] || v.origin_province })
      : (v.target_province ? t('inbox.item.to', { province: state.names[v.target_province] || v.target_province }) : t('inbox.item.to_none'));
    const when = v.deadline && v.status === 'received'
      ? t('inbox.item.deadline', { time: MN.fmtTime(v.deadline) })
      : t('inbox.item.created', { time: MN.fmtTime(v.created) });
    const sub = R.subText(v);
    const title = (state.specs[v.specialty] || v.specialty) + ' · ' + R.typeLabel(v.type);
    return h('li', { class: 'card ref-item urgency-line-' + v.urgency + (R.isOpen(v) ? '' : ' closed'), 'data-id': v.id },
      h('div', { class: 'appt-head' }, R.urgencyBadge(v.urgency), R.statusBadge(v)),
      h('h2', { class: 'ref-title' }, h('a', { href: '/referral/' + encodeURIComponent(v.id), 'data-open': v.id, text: title })),
      h('p', { class: 'meta', text: [R.ageLabel(v.age_band), R.sexLabel(v.sex), who].join(' · ') }),
      v.reason ? h('p', { class: 'reason', text: v.reason }) : null,
      sub ? h('p', { class: 'meta', text: sub }) : null,
      v.call_requested ? h('p', { class: 'meta', text: t('inbox.item.call_requested') }) : null,
      h('p', { class: 'meta', text: when }));
  }

  function render() {
    const type = $('f-type').value;
    const open = $('f-show').value === 'open';
    const items = state.items.filter((v) => (!type || v.type === type) && (!open || R.isOpen(v))).sort(R.order);
    const sig = JSON.stringify(items.map((v) => [v.id, v.status, v.sub_status, v.updated]));
    if (sig !== state.shown) {
      state.shown = sig;
      $('inbox-list').replaceChildren(...items.map(item));
    }
    show($('inbox-status'), items.length ? t('inbox.count', { n: items.length }) : t('inbox.none'));
  }

  async function load() {
    try {
      const [refs, consults] = await Promise.all([
        MN.listAll('/api/v1/referrals?box=' + box, 4),
        MN.listAll('/api/v1/consults?box=' + box, 4),
      ]);
      state.items = refs.concat(consults);
      render();
    } catch (e) {
      show($('inbox-status'), errText(e));
    }
  }

  async function setup() {
    const cur = $('box-' + box);
    cur.setAttribute('aria-current', 'page');
    $('inbox-lead').textContent = box === 'inbox' ? t('inbox.lead.inbox') : t('inbox.lead.outbox');
    show($('inbox-status'), t('common.loading'));
    [state.names, state.specs] = await Promise.all([R.provinceNames(), R.specNames()]);
    await load();
    setInterval(() => {
      if (document.visibilityState === 'visible') load();
    }, REFRESH_MS);
  }

  $('f-type').addEventListener('change', render);
  $('f-show').addEventListener('change', render);
  $('inbox-filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    render();
  });
  setup();
})();
