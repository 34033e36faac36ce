// Admin: add a facility of this province, or edit one (?id=).
'use strict';
(function () {
  const { t, h, $, api, errText, show, busy, cfg } = MN;
  const LEVELS = ['commune_health_station', 'regional_polyclinic', 'health_centre', 'district_hospital',
    'provincial_hospital', 'central_hospital'];
  let loaded = null;

  function fill(f) {
    loaded = f;
    for (const k of ['code', 'name', 'name_en', 'level', 'commune', 'address', 'phone', 'email']) $('f-' + k).value = f[k] || '';
    $('f-code').readOnly = true;
    $('f-services').value = (f.services || []).join('\n');
    $('f-lat').value = f.geo ? f.geo.lat : '';
    $('f-lon').value = f.geo ? f.geo.lon : '';
    for (const box of $('f-specialties').querySelectorAll('input')) box.checked = (f.specialties || []).includes(box.value);
    $('fac-heading').textContent = t('admin.facility.edit_heading', { name: MN.facilityName(f) });
    const link = $('fac-schedule-link');
    link.href = '/admin/schedule?facility=' + encodeURIComponent(f.id);
    link.hidden = false;
  }

  async function setup() {
    for (const l of LEVELS) $('f-level').append(h('option', { value: l, text: t('level.' + l) }));
    $('f-level').value = 'commune_health_station';
    try {
      const specs = await api('GET', '/api/v1/specialties');
      for (const s of specs.items || []) {
        const id = 'spec-' + s.code;
        $('f-specialties').append(h('label', { class: 'check', for: id },
          h('input', { type: 'checkbox', id, value: s.code }), ' ' + (s[cfg.lang] || s.vi)));
      }
    } catch (e) {
      show($('fac-load-status'), errText(e));
    }
    const id = new URLSearchParams(location.search).get('id');
    if (!id) {
      $('fac-heading').textContent = t('admin.facility.new_heading');
      $('f-code').focus();
      return;
    }
    show($('fac-load-status'), t('common.loading'));
    try {
      fill(await api('GET', '/api/v1/facilities/' + encodeURIComponent(id)));
      show($('fac-load-status'), '');
      $('f-name').focus();
    } catch (e) {
      show($('fac-load-status'), errText(e));
    }
  }

  function body() {
    const b = {};
    for (const k of ['code', 'name', 'name_en', 'level', 'commune', 'address', 'phone', 'email']) b[k] = $('f-' + k).value.trim();
    b.specialties = [...$('f-specialties').querySelectorAll('input:checked')].map((x) => x.value);
    b.services = $('f-services').value.split(/[\n;]/).map((s) => s.trim()).filter(Boolean);
    const lat = $('f-lat').value, lon = $('f-lon').value;
    if (lat !== '' && lon !== '') b.geo = { lat: Number(lat), lon: Number(lon) };
    if (loaded && loaded.tz) b.tz = loaded.tz;
    return b;
  }

  $('fac-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    show($('fac-error'), '');
    show($('fac-saved'), '');
    const b = body();
    if (!b.code) return fail('f-code', t('err.invalid_code'));
    if (!b.name) return fail('f-name', t('err.invalid_name'));
    await busy($('fac-form'), async () => {
      try {
        const f = await api('POST', '/api/v1/facilities', b);
        fill(f);
        history.replaceState(null, '', '/admin/facility?id=' + encodeURIComponent(f.id));
        show($('fac-saved'), t('admin.facility.saved', { name: MN.facilityName(f) }), 'ok');
      } catch (e) {
        show($('fac-error'), errText(e));
        const field = e.code && e.code.startsWith('invalid_') ? 'f-' + e.code.slice(8) : '';
        if (field && $(field)) $(field).focus();
      }
    });
  });

  function fail(id, text) {
    show($('fac-error'), text);
    $(id).focus();
  }

  setup();
})();
