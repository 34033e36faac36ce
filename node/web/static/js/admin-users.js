// Admin: staff accounts — list, and add (or update) one with a role and a facility.
'use strict';
(function () {
  const { t, h, $, api, errText, show, busy, cfg } = MN;
  const ROLES = ['staff', 'doctor', 'admin', 'observer'];
  const names = {}; // facility id → name

  async function setup() {
    for (const r of ROLES) $('u-role').append(h('option', { value: r, text: t('role.' + r) }));
    $('u-facility').append(h('option', { value: '', text: t('admin.users.no_facility') }));
    try {
      const fs = await MN.listAll('/api/v1/facilities?province=' + encodeURIComponent(cfg.province));
      fs.sort((x, y) => MN.facilityName(x).localeCompare(MN.facilityName(y), cfg.lang));
      for (const f of fs) {
        names[f.id] = MN.facilityName(f);
        $('u-facility').append(h('option', { value: f.id, text: MN.facilityName(f) }));
      }
    } catch (e) {
      show($('users-status'), errText(e));
    }
    await loadUsers();
  }

  async function loadUsers() {
    show($('users-status'), t('common.loading'));
    try {
      const res = await api('GET', '/api/v1/users');
      const rows = (res.items || []).map((u) => h('tr', { 'data-username': u.username },
        h('td', { text: u.username }),
        h('td', { text: t('role.' + u.role) }),
        h('td', { text: u.facility ? names[u.facility] || u.facility : '' })));
      $('users-table').tBodies[0].replaceChildren(...rows);
      show($('users-status'), t('admin.users.count', { n: rows.length }));
    } catch (e) {
      show($('users-status'), errText(e));
    }
  }

  $('user-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    show($('user-error'), '');
    show($('user-saved'), '');
    const b = { username: $('u-username').value.trim(), password: $('u-password').value, role: $('u-role').value };
    if ($('u-facility').value) b.facility = $('u-facility').value;
    if (!b.username) {
      show($('user-error'), t('err.invalid_username'));
      $('u-username').focus();
      return;
    }
    await busy($('user-form'), async () => {
      try {
        const u = await api('POST', '/api/v1/users', b);
        $('u-password').value = '';
        show($('user-saved'), t('admin.users.saved', { user: u.username }), 'ok');
        await loadUsers();
      } catch (e) {
        show($('user-error'), errText(e));
        const field = { invalid_username: 'u-username', invalid_password: 'u-password', invalid_role: 'u-role', invalid_facility: 'u-facility' }[e.code];
        if (field) $(field).focus();
      }
    });
  });
  setup();
})();
