// Admin: this province's facilities, with links to edit each and its schedule.
'use strict';
(function () {
  const { t, h, $, api, errText, show, cfg } = MN;
  const state = { q: '', next: '' };

  async function load(append) {
    if (!append) {
      $('fac-list').replaceChildren();
      state.next = '';
      state.q = $('fac-q').value.trim();
    }
    show($('fac-status'), t('common.loading'));
    let path = '/api/v1/facilities?limit=50&province=' + encodeURIComponent(cfg.province);
    if (state.q) path += '&q=' + encodeURIComponent(state.q);
    if (append && state.next) path += '&cursor=' + encodeURIComponent(state.next);
    try {
      const page = await api('GET', path);
      for (const f of page.items || []) $('fac-list').append(item(f));
      state.next = page.next || '';
      $('fac-more').hidden = !state.next;
      const n = $('fac-list').children.length;
      show($('fac-status'), n ? t('admin.facilities.count', { n }) : t('admin.facilities.none'));
    } catch (e) {
      show($('fac-status'), errText(e));
    }
  }

  function item(f) {
    const id = encodeURIComponent(f.id);
    return h('li', { class: 'card', 'data-id': f.id },
      h('strong', { text: MN.facilityName(f) }),
      h('p', { class: 'meta', text: [t('level.' + f.level), f.code, f.commune].filter(Boolean).join(' · ') }),
      h('p', { class: 'links' },
        h('a', { href: '/admin/facility?id=' + id, text: t('admin.facilities.edit') }),
        h('a', { href: '/admin/schedule?facility=' + id, text: t('admin.facilities.schedule') })));
  }

  $('fac-search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    load(false);
  });
  $('fac-more').addEventListener('click', () => load(true));
  load(false);
})();
