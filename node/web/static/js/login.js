// Staff login: POST /api/v1/login sets the session cookie; then go on.
'use strict';
(function () {
  const { t, $, api, errText, show, busy } = MN;

  // next returns the page to open after login: a same-origin path from
  // ?next=, else the role's home.
  function next(role) {
    const n = new URLSearchParams(location.search).get('next') || '';
    if (n.startsWith('/') && !n.startsWith('//') && !n.startsWith('/\\') && !n.startsWith('/login')) return n;
    return { admin: '/admin', staff: '/desk', doctor: '/desk' }[role] || '/';
  }

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = $('username').value.trim();
    const password = $('password').value;
    if (!username || !password) {
      show($('login-error'), t('login.missing'));
      (username ? $('password') : $('username')).focus();
      return;
    }
    show($('login-error'), '');
    await busy($('login-form'), async () => {
      try {
        const res = await api('POST', '/api/v1/login', { username, password });
        location.assign(next(res.user.role));
      } catch (e) {
        show($('login-error'), errText(e));
        $('password').select();
      }
    });
  });
  $('username').focus();
})();
