// Admin: the network's members (online now, last seen) and leaving the
// network (a signed leave record, after a confirmation).
'use strict';
(function () {
  const { t, h, $, api, errText, show, busy } = MN;
  const REFRESH_MS = 10000;

  function stateCell(m) {
    if (m.revoked) return h('span', { class: 'badge badge-cancelled', text: t('admin.network.revoked') });
    if (m.left) return h('span', { class: 'badge badge-noshow', text: t('admin.network.left') });
    if (m.online) return h('span', { class: 'badge badge-arrived', text: t('admin.network.online') });
    return h('span', { class: 'badge badge-fulfilled', text: t('admin.network.offline') });
  }

  function row(m) {
    const name = m.self ? t('admin.network.self', { name: m.name || m.province }) : (m.name || m.province);
    return h('tr', { 'data-province': m.province, 'data-online': m.online ? 'true' : 'false' },
      h('td', {}, h('strong', { text: name }),
        h('span', { class: 'meta block', text: t('admin.network.member_meta', { code: m.province, role: t('noderole.' + m.role) }) })),
      h('td', {}, stateCell(m)),
      h('td', { text: m.online ? t('admin.network.now') : (MN.fmtTime(m.last_seen) || t('admin.network.never')) }));
  }

  async function load() {
    try {
      const res = await api('GET', '/api/v1/network/members');
      const items = res.items || [];
      $('members-table').tBodies[0].replaceChildren(...items.map(row));
      const online = items.filter((m) => m.online && !m.left).length;
      show($('members-status'), t('admin.network.count', { n: items.length, online }));
    } catch (e) {
      show($('members-status'), errText(e));
    }
  }

  $('leave-start').addEventListener('click', () => {
    $('leave-confirm').hidden = false;
    $('leave-start').hidden = true;
    $('leave-no').focus();
  });
  $('leave-no').addEventListener('click', () => {
    $('leave-confirm').hidden = true;
    $('leave-start').hidden = false;
    $('leave-start').focus();
  });
  $('leave-yes').addEventListener('click', async () => {
    show($('leave-error'), '');
    await busy($('leave-yes'), async () => {
      try {
        await api('POST', '/api/v1/network/leave');
        $('leave-confirm').hidden = true;
        show($('leave-done'), t('admin.network.leave.done'), 'ok');
        MN.focus($('leave-done'));
        await load();
      } catch (e) {
        show($('leave-error'), errText(e));
      }
    });
  });
  load();
  setInterval(() => {
    if (document.visibilityState === 'visible') load();
  }, REFRESH_MS);
})();
