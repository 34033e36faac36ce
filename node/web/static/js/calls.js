// Calls: start a call (a teleconsult with a doctor of any province, or a
// group session) and the list of the user's calls with a join link each.
// The list refreshes itself, so an incoming call shows up.
'use strict';
(function () {
  const { t, h, $, api, errText, show, busy, cfg } = MN;
  const REFRESH_MS = 5000;
  const MAX_INVITEES = 20;
  const state = { names: {}, members: [], rows: 0, next: '', pages: 1, shown: '' };

  function label(u) {
    return t('calls.person', { user: u.username, province: state.names[u.province] || u.province });
  }

  async function loadMembers() {
    try {
      const res = await api('GET', '/api/v1/network/members');
      state.members = (res.items || []).filter((m) => m.role !== 'observer' && !m.left && !m.revoked);
      for (const m of res.items || []) if (m.province && m.name) state.names[m.province] = m.name;
    } catch (e) {
      state.members = [];
    }
    if (!state.members.some((m) => m.province === cfg.province)) {
      state.members.unshift({ province: cfg.province, name: state.names[cfg.province] || cfg.province, self: true, online: true });
    }
    state.members.sort((a, b) => (b.self ? 1 : 0) - (a.self ? 1 : 0) || String(a.name).localeCompare(String(b.name), cfg.lang));
  }

  function provinceOptions(select, chosen) {
    for (const m of state.members) {
      const key = m.self ? 'calls.new.province_self' : (m.online ? 'calls.new.province_online' : 'calls.new.province_offline');
      select.append(h('option', { value: m.province, text: t(key, { name: m.name || m.province }) }));
    }
    select.value = chosen || cfg.province;
  }

  function addRow(province, username) {
    const i = state.rows++;
    const sel = h('select', { id: 'invite-province-' + i, class: 'invite-province' });
    provinceOptions(sel, province);
    const user = h('input', { id: 'invite-user-' + i, class: 'invite-user', maxlength: 32, autocomplete: 'off',
      autocapitalize: 'none', spellcheck: 'false', value: username || '' });
    const li = h('li', { class: 'invite-row', 'data-row': i },
      h('div', { class: 'field' }, h('label', { for: 'invite-province-' + i, text: t('calls.new.province') }), sel),
      h('div', { class: 'field' }, h('label', { for: 'invite-user-' + i, text: t('calls.new.username') }), user));
    if ($('invite-rows').children.length) {
      li.append(h('button', { type: 'button', class: 'btn small', 'aria-label': t('calls.new.remove_label', { n: i + 1 }),
        onclick: () => { li.remove(); kindChanged(); $('add-invitee').focus(); } }, t('calls.new.remove')));
    }
    $('invite-rows').append(li);
    return li;
  }

  function kindChanged() {
    const kind = $('call-kind').value;
    $('call-kind-hint').textContent = t('calls.new.kind_hint.' + kind);
    const rows = $('invite-rows').children;
    if (kind === 'consult') {
      while (rows.length > 1) rows[rows.length - 1].remove();
    }
    $('add-invitee').hidden = kind === 'consult' || rows.length >= MAX_INVITEES;
  }

  async function submit(ev) {
    ev.preventDefault();
    show($('call-form-error'), '');
    const invite = [];
    for (const li of $('invite-rows').children) {
      const user = li.querySelector('.invite-user');
      const username = user.value.trim().toLowerCase();
      if (!username) {
        show($('call-form-error'), t('calls.new.need_username'));
        user.focus();
        return;
      }
      invite.push({ province: li.querySelector('.invite-province').value, username });
    }
    await busy($('call-form'), async () => {
      try {
        const res = await api('POST', '/api/v1/calls', { kind: $('call-kind').value, invite });
        // The call room on this node (join_url names it), joining at once.
        let path = '/call/' + encodeURIComponent(res.id);
        try {
          path = new URL(res.join_url, location.href).pathname;
        } catch (e) {
          // keep the path built from the ID
        }
        location.assign(path + '?autojoin=1');
      } catch (e) {
        show($('call-form-error'), errText(e));
      }
    });
  }

  function item(c) {
    const host = c.host;
    const others = (c.invitees || []).map(label).join(', ');
    const who = c.role === 'host' ? t('calls.list.you_host', { others }) : t('calls.list.from', { host: label(host) });
    const when = c.state === 'ended' ? t('calls.list.ended_at', { time: MN.fmtTime(c.ended) }) : t('calls.list.created_at', { time: MN.fmtTime(c.created) });
    const incoming = c.role !== 'host' && c.state !== 'ended';
    return h('li', { class: 'card call-item state-' + c.state + (incoming ? ' incoming' : ''), 'data-id': c.id },
      h('div', { class: 'appt-head' },
        h('strong', { text: t('kind.' + c.kind) }),
        h('span', { class: 'badge badge-call-' + c.state, text: t('calls.state.' + c.state) })),
      h('p', { text: who }),
      h('p', { class: 'meta', text: when }),
      c.state === 'ended' ? null : h('p', { class: 'actions' },
        h('a', { class: 'btn primary', href: '/call/' + encodeURIComponent(c.id), 'data-join': c.id,
          'aria-label': t('calls.list.join_label', { kind: t('kind.' + c.kind), who }) }, t('calls.list.join'))));
  }

  async function load(append) {
    let path = '/api/v1/calls?limit=20';
    if (append && state.next) path += '&cursor=' + encodeURIComponent(state.next);
    try {
      const res = await api('GET', path);
      const items = res.items || [];
      state.next = res.next || '';
      if (append) {
        state.pages++;
        for (const c of items) $('calls-list').append(item(c));
      } else {
        const sig = JSON.stringify(items);
        if (sig !== state.shown) {
          state.shown = sig;
          $('calls-list').replaceChildren(...items.map(item));
        }
      }
      $('calls-more').hidden = !state.next;
      const n = $('calls-list').children.length;
      show($('calls-status'), n ? t('calls.list.count', { n }) : t('calls.list.none'));
    } catch (e) {
      show($('calls-status'), errText(e));
    }
  }

  function refresh() {
    if (document.visibilityState === 'visible' && state.pages === 1) load(false);
  }

  async function setup() {
    const q = new URLSearchParams(location.search);
    const kind = q.get('kind');
    if (kind && $('call-kind').querySelector('option[value="' + kind.replace(/[^a-z]/g, '') + '"]')) $('call-kind').value = kind;
    show($('calls-status'), t('common.loading'));
    await loadMembers();
    addRow(q.get('province') || '', q.get('username') || '');
    kindChanged();
    if (location.hash === '#new-call') MN.focus($('call-kind'));
    await load(false);
    setInterval(refresh, REFRESH_MS);
  }

  $('call-kind').addEventListener('change', kindChanged);
  $('add-invitee').addEventListener('click', () => {
    const li = addRow('', '');
    kindChanged();
    li.querySelector('select').focus();
  });
  $('call-form').addEventListener('submit', submit);
  $('calls-more').addEventListener('click', () => load(true));
  setup();
})();
