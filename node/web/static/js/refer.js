// New request (/refer): a referral (the patient goes to a doctor of an
// upper-level facility, in this province or another) or a consult request
// (advice; live, asking for a video call, or an asynchronous packet of a
// question, vital signs and photos when video is not possible). ?appt=CODE
// fills the patient from a desk appointment; ?type=consult picks the form.
'use strict';
(function () {
  const { t, h, $, api, errText, show, busy, cfg } = MN;
  const MAX_FILES = 8;
  const MAX_FILE = 1 << 20; // bytes per file, decoded (the API's limit)
  const MAX_TOTAL = 2900000; // bytes of all files
  const MAX_SIDE = 1280; // photos are scaled down to this many pixels
  const files = { photos: [], files: [] }; // [{name, type, data (base64), size}]
  const state = { avail: [], names: {} };

  const kind = () => ($('t-consult').checked ? 'consult' : 'referral');

  function typeChanged() {
    const consult = kind() === 'consult';
    $('consult-fields').hidden = !consult;
    $('referral-fields').hidden = consult;
    $('p-summary-field').hidden = consult;
    $('type-hint').textContent = consult ? t('refer.type.consult_hint') : t('refer.type.referral_hint');
    $('patient-hint').textContent = consult ? t('refer.patient.hint_consult') : t('refer.patient.hint_referral');
  }

  // targets lists the provinces to choose from, with their availability
  // for the chosen specialty.
  function targets() {
    const spec = $('r-specialty').value;
    const chosen = $('r-target').value;
    const sel = $('r-target');
    sel.replaceChildren(h('option', { value: '', text: t('refer.target_auto') }));
    for (const [code, name] of Object.entries(state.names)) {
      const a = state.avail.find((x) => x.province === code && x.specialty === spec);
      let key = 'refer.target_unknown';
      if (a) key = a.accepting ? 'refer.target_accepting' : 'refer.target_closed';
      const label = t(key, { name: code === cfg.province ? t('refer.this_province', { name }) : name, days: a ? a.wait_days : 0 });
      sel.append(h('option', { value: code, text: label }));
    }
    sel.value = chosen;
  }

  function toBase64(blob) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(String(r.result).slice(String(r.result).indexOf(',') + 1));
      r.onerror = () => reject(r.error);
      r.readAsDataURL(blob);
    });
  }

  // shrink scales a photo down to MAX_SIDE pixels as JPEG: a phone photo
  // of several megabytes becomes ~200 KB, which a slow link can carry.
  async function shrink(file) {
    if (!file.type.startsWith('image/') || typeof createImageBitmap !== 'function') return file;
    try {
      const img = await createImageBitmap(file);
      const scale = Math.min(1, MAX_SIDE / Math.max(img.width, img.height));
      if (scale === 1 && file.size <= MAX_FILE / 2) return file;
      const canvas = document.createElement('canvas');
      canvas.width = Math.round(img.width * scale);
      canvas.height = Math.round(img.height * scale);
      canvas.getContext('2d').drawImage(img, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.8));
      return blob || file;
    } catch (e) {
      return file;
    }
  }

  async function addFiles(which, input) {
    show($('refer-error'), '');
    for (const f of input.files) {
      const list = files[which];
      if (list.length >= MAX_FILES) {
        show($('refer-error'), t('refer.too_many_files', { n: MAX_FILES }));
        break;
      }
      const blob = await shrink(f);
      if (blob.size > MAX_FILE) {
        show($('refer-error'), t('refer.file_too_big', { name: f.name }));
        continue;
      }
      const total = list.reduce((n, x) => n + x.size, 0);
      if (total + blob.size > MAX_TOTAL) {
        show($('refer-error'), t('refer.files_too_big'));
        break;
      }
      const type = blob.type || f.type || 'application/octet-stream';
      let name = f.name;
      if (blob !== f && type === 'image/jpeg' && !/\.jpe?g$/i.test(name)) name = name.replace(/\.[^.]*$/, '') + '.jpg';
      list.push({ name, type, data: await toBase64(blob), size: blob.size });
    }
    input.value = '';
    renderFiles(which);
  }

  function renderFiles(which) {
    const ul = $(which === 'photos' ? 'r-photos-list' : 'r-files-list');
    ul.replaceChildren(...files[which].map((f, i) => h('li', {},
      h('span', { text: t('refer.file', { name: f.name, kb: Math.max(1, Math.round(f.size / 1024)) }) }),
      h('button', { type: 'button', class: 'btn small', 'aria-label': t('refer.file_remove_label', { name: f.name }),
        onclick: () => { files[which].splice(i, 1); renderFiles(which); } }, t('refer.file_remove')))));
  }

  function num(id) {
    const v = $(id).value.trim();
    return v === '' ? undefined : Number(v);
  }

  function patient() {
    const p = {
      name: $('p-name').value.trim(), phone: $('p-phone').value.trim(), birth_year: num('p-birth'),
      sex: $('p-sex').value, id_number: $('p-id').value.trim(), address: $('p-address').value.trim(),
    };
    if (kind() === 'referral') p.summary = $('p-summary').value.trim();
    for (const k of Object.keys(p)) if (p[k] === '' || p[k] === undefined) delete p[k];
    return p;
  }

  function body() {
    const b = { specialty: $('r-specialty').value, urgency: $('r-urgency').value };
    if ($('r-target').value) b.target_province = $('r-target').value;
    const p = patient();
    const strip = (f) => ({ name: f.name, type: f.type, data: f.data });
    if (kind() === 'referral') {
      b.reason = $('r-reason').value.trim();
      b.patient = p;
      const rec = { history: $('r-history').value.trim(), notes: $('r-notes').value.trim(), attachments: files.files.map(strip) };
      if (!rec.history) delete rec.history;
      if (!rec.notes) delete rec.notes;
      if (!rec.attachments.length) delete rec.attachments;
      if (Object.keys(rec).length) b.record = rec;
      return b;
    }
    b.mode = $('m-live').checked ? 'live' : 'async';
    b.question = $('r-question').value.trim();
    const vit = {
      temp_c: num('v-temp'), pulse: num('v-pulse'), bp_sys: num('v-bp-sys'), bp_dia: num('v-bp-dia'),
      resp_rate: num('v-resp'), spo2: num('v-spo2'), weight_kg: num('v-weight'), glucose_mmol: num('v-glucose'),
    };
    for (const k of Object.keys(vit)) if (vit[k] === undefined || isNaN(vit[k])) delete vit[k];
    if (Object.keys(vit).length) b.vitals = vit;
    if (files.photos.length) b.photos = files.photos.map(strip);
    if (p.name) b.patient = p;
    else {
      if (p.sex) b.sex = p.sex;
      if (p.birth_year) b.birth_year = p.birth_year;
    }
    return b;
  }

  function check(b) {
    if (!b.specialty) return ['r-specialty', 'refer.need_specialty'];
    if (kind() === 'referral') {
      if (!b.reason) return ['r-reason', 'refer.need_reason'];
      if (!b.patient.name) return ['p-name', 'refer.need_name'];
    } else if (!b.question) {
      return ['r-question', 'refer.need_question'];
    }
    return null;
  }

  async function submit(ev) {
    ev.preventDefault();
    show($('refer-error'), '');
    const b = body();
    const bad = check(b);
    if (bad) {
      show($('refer-error'), t(bad[1]));
      $(bad[0]).focus();
      return;
    }
    await busy($('refer-form'), async () => {
      show($('refer-status'), t('refer.sending'));
      try {
        const v = await api('POST', kind() === 'referral' ? '/api/v1/referrals' : '/api/v1/consults', b);
        location.assign('/referral/' + encodeURIComponent(v.id));
      } catch (e) {
        show($('refer-status'), '');
        show($('refer-error'), errText(e));
      }
    });
  }

  async function prefill(code) {
    try {
      const a = await api('GET', '/api/v1/appointments/' + encodeURIComponent(MN.normCode(code)));
      if (a.name) $('p-name').value = a.name;
      if (a.phone) $('p-phone').value = a.phone;
      if (a.birth_year) $('p-birth').value = a.birth_year;
      if (a.reason) {
        $('r-reason').value = a.reason;
        $('r-question').value = a.reason;
      }
    } catch (e) {
      show($('refer-error'), errText(e));
    }
  }

  async function setup() {
    const q = new URLSearchParams(location.search);
    if (q.get('type') === 'consult') $('t-consult').checked = true;
    typeChanged();
    const [specs, names] = await Promise.all([MN.specialties().catch(() => []), MN.ref.provinceNames()]);
    $('r-specialty').append(h('option', { value: '', text: t('refer.specialty_pick') }));
    for (const s of specs) $('r-specialty').append(h('option', { value: s.code, text: s.name }));
    try {
      const res = await api('GET', '/api/v1/network/members');
      for (const m of res.items || []) {
        if (m.role !== 'observer' && !m.left && !m.revoked) state.names[m.province] = m.name || m.province;
      }
    } catch (e) {
      Object.assign(state.names, names);
    }
    if (!state.names[cfg.province]) state.names[cfg.province] = names[cfg.province] || cfg.province;
    try {
      state.avail = (await api('GET', '/api/v1/network/availability')).items || [];
    } catch (e) {
      state.avail = [];
    }
    targets();
    if (q.get('specialty')) $('r-specialty').value = q.get('specialty');
    if (q.get('target')) {
      targets();
      $('r-target').value = q.get('target');
    }
    if (q.get('appt')) await prefill(q.get('appt'));
  }

  $('t-referral').addEventListener('change', typeChanged);
  $('t-consult').addEventListener('change', typeChanged);
  $('r-specialty').addEventListener('change', targets);
  $('r-photos').addEventListener('change', (ev) => addFiles('photos', ev.currentTarget));
  $('r-files').addEventListener('change', (ev) => addFiles('files', ev.currentTarget));
  $('refer-form').addEventListener('submit', submit);
  setup();
})();
