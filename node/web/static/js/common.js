// Mọi Nhà web app: helpers every page uses, as window.MN.
// Visible text comes only from MN.t (the page's catalog block); the API
// is called only through MN.api.
'use strict';
(function () {
  const cfg = JSON.parse(document.getElementById('mn-config').textContent);
  const msgs = cfg.t || {};
  const ZONE = 'Asia/Ho_Chi_Minh';

  function has(key) {
    return Object.prototype.hasOwnProperty.call(msgs, key);
  }

  // t returns the message for key, with {name} placeholders from params.
  function t(key, params) {
    let s = has(key) ? msgs[key] : key;
    if (params) {
      for (const k of Object.keys(params)) s = s.split('{' + k + '}').join(String(params[k]));
    }
    return s;
  }

  // h builds an element: attributes, 'text', 'on<event>' handlers, children.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
    return el;
  }

  function $(id) {
    return document.getElementById(id);
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || code);
      this.status = status;
      this.code = code;
    }
  }

  function toLogin(denied) {
    const next = location.pathname + location.search;
    location.assign('/login?' + (denied ? 'denied=1&' : '') + 'next=' + encodeURIComponent(next));
  }

  // api calls the JSON API; it resolves to the decoded body (null for 204)
  // and rejects with an ApiError. A page opened by a logged-in user whose
  // session ends goes back to the login page.
  async function api(method, path, body) {
    const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      throw new ApiError(0, 'network', String(e));
    }
    if (res.status === 204) return null;
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (!res.ok) {
      const e = (data && data.error) || {};
      const err = new ApiError(res.status, e.code || 'http_' + res.status, e.message);
      if (cfg.user && (err.code === 'login_required' || err.code === 'invalid_token')) toLogin(false);
      throw err;
    }
    return data;
  }

  // errText turns an API error into a sentence from the catalog.
  function errText(err) {
    if (!(err instanceof ApiError)) return t('err.unexpected');
    if (has('err.' + err.code)) return t('err.' + err.code);
    if (err.code.startsWith('invalid_')) return t('err.invalid');
    if (err.status >= 500) return t('err.server');
    return t('err.unexpected');
  }

  // show sets a status or error line; an empty text clears it.
  function show(el, text, kind) {
    el.textContent = text || '';
    el.classList.toggle('ok', kind === 'ok');
  }

  // busy disables a button (or form's submit) while a promise runs.
  async function busy(el, fn) {
    const btn = el.tagName === 'FORM' ? el.querySelector('[type=submit]') : el;
    if (btn) {
      btn.disabled = true;
      btn.setAttribute('aria-busy', 'true');
    }
    try {
      return await fn();
    } finally {
      if (btn) {
        btn.disabled = false;
        btn.removeAttribute('aria-busy');
      }
    }
  }

  // Booking codes: 13 characters, shown XXXX-XXXX-XXXXX.
  function normCode(s) {
    return String(s || '').toUpperCase().replace(/[^0-9A-Z]/g, '');
  }
  function fmtCode(s) {
    const c = normCode(s);
    return [c.slice(0, 4), c.slice(4, 8), c.slice(8)].filter(Boolean).join('-');
  }

  // Dates are YYYY-MM-DD days and RFC 3339 times in the facility's zone,
  // shown as written (no conversion to the browser's zone).
  function today() {
    return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date());
  }
  function addDays(day, n) {
    const d = new Date(day + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  function fmtDay(day) {
    const opts = { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' };
    return new Intl.DateTimeFormat(cfg.lang, opts).format(new Date(day + 'T00:00:00Z'));
  }
  function hhmm(rfc3339) {
    return String(rfc3339).slice(11, 16);
  }
  function dayOf(rfc3339) {
    return String(rfc3339).slice(0, 10);
  }
  // fmtTime shows an instant (RFC 3339, any zone) in Vietnam's time.
  function fmtTime(rfc3339) {
    const d = new Date(rfc3339);
    if (!rfc3339 || isNaN(d.getTime())) return '';
    const opts = { timeZone: ZONE, hour: '2-digit', minute: '2-digit', day: 'numeric', month: 'short' };
    return new Intl.DateTimeFormat(cfg.lang, opts).format(d);
  }

  // statusBadge is the coloured label of an appointment status.
  function statusBadge(status) {
    return h('span', { class: 'badge badge-' + status, text: t('status.' + status) });
  }

  // dl fills a <dl> with [label key, value] rows.
  function fillDl(dl, rows) {
    dl.replaceChildren();
    for (const [key, value] of rows) {
      if (value === '' || value === null || value === undefined) continue;
      dl.append(h('dt', { text: t(key) }), h('dd', {}, value));
    }
  }

  // facilityName picks the name in the page's language.
  function facilityName(f) {
    return (cfg.lang === 'en' && f.name_en) || f.name;
  }

  // specialties resolves to the specialty list ([{code, name}], the
  // name in the page's language), fetched once per page.
  let specsPromise = null;
  function specialties() {
    if (!specsPromise) {
      specsPromise = api('GET', '/api/v1/specialties')
        .then((res) => (res.items || []).map((s) => ({ code: s.code, name: s[cfg.lang] || s.vi || s.code })))
        .catch((e) => {
          specsPromise = null;
          throw e;
        });
    }
    return specsPromise;
  }

  // listAll follows a list's cursor to the end (bounded).
  async function listAll(path, maxPages) {
    const sep = path.includes('?') ? '&' : '?';
    let items = [];
    let cursor = '';
    for (let i = 0; i < (maxPages || 20); i++) {
      const page = await api('GET', path + sep + 'limit=500' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
      items = items.concat(page.items || []);
      if (!page.next) break;
      cursor = page.next;
    }
    return items;
  }

  function focus(el) {
    if (!el.hasAttribute('tabindex') && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) {
      el.setAttribute('tabindex', '-1');
    }
    el.focus();
  }

  const logout = document.getElementById('logout');
  if (logout) {
    logout.addEventListener('click', async function () {
      try {
        await api('POST', '/api/v1/logout');
      } finally {
        location.assign('/');
      }
    });
  }

  window.MN = {
    cfg, t, has, h, $, api, ApiError, errText, show, busy, toLogin,
    normCode, fmtCode, today, addDays, fmtDay, hhmm, dayOf, fmtTime, statusBadge, fillDl,
    facilityName, specialties, listAll, focus,
  };
})();
