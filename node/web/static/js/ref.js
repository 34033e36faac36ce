// Shared by the inbox, a request's page and the new-request form: the
// vocabulary of referrals and consult requests (statuses, urgency, sex,
// age bands, outcome kinds), province names and specialty names, as
// MN.ref. Only what the API returns is shown: before acceptance a
// referral carries no patient identity (minimum necessary).
'use strict';
(function () {
  const { t, h, api, has } = MN;
  const URGENCY_RANK = { emergency: 0, urgent: 1, routine: 2 };
  const OPEN = ['requested', 'received', 'accepted', 'in-progress', 'on-hold'];

  let namesPromise = null;
  // provinceNames resolves to province code → name (the network's members).
  function provinceNames() {
    if (!namesPromise) {
      namesPromise = api('GET', '/api/v1/network/members')
        .then((res) => {
          const m = {};
          for (const x of res.items || []) m[x.province] = x.name || x.province;
          return m;
        })
        .catch(() => ({}));
    }
    return namesPromise;
  }

  let specsPromise = null;
  // specNames resolves to specialty code → name in the page's language.
  function specNames() {
    if (!specsPromise) {
      specsPromise = MN.specialties()
        .then((list) => {
          const m = {};
          for (const s of list) m[s.code] = s.name;
          return m;
        })
        .catch(() => ({}));
    }
    return specsPromise;
  }

  function base(v) {
    return v.type === 'consult' ? '/api/v1/consults/' : '/api/v1/referrals/';
  }

  function statusBadge(v) {
    const key = v.sub_status === 'accept_pending' ? 'ref.status.accept_pending' : 'ref.status.' + v.status;
    return h('span', { class: 'badge ref-badge ref-' + v.status, text: t(key) });
  }

  function urgencyBadge(u) {
    return h('span', { class: 'badge urgency-' + u, text: t('ref.urgency.' + u) });
  }

  function subText(v) {
    return v.sub_status && has('ref.sub.' + v.sub_status) ? t('ref.sub.' + v.sub_status) : '';
  }

  function typeLabel(type) {
    return t('ref.type.' + type);
  }

  function sexLabel(s) {
    return has('ref.sex.' + s) ? t('ref.sex.' + s) : s;
  }

  function ageLabel(band) {
    return !band || band === 'unknown' ? t('ref.age_unknown') : t('ref.age', { band });
  }

  function isOpen(v) {
    return OPEN.includes(v.status);
  }

  // order: open first, then the most urgent, then the newest.
  function order(a, b) {
    return (isOpen(b) ? 1 : 0) - (isOpen(a) ? 1 : 0) ||
      (URGENCY_RANK[a.urgency] ?? 3) - (URGENCY_RANK[b.urgency] ?? 3) ||
      String(b.created).localeCompare(String(a.created));
  }

  MN.ref = { provinceNames, specNames, base, statusBadge, urgencyBadge, subText, typeLabel, sexLabel, ageLabel, isOpen, order };
})();
