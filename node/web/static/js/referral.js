// One referral or consult request (/referral/ID): what this node may see
// of it, and what this user may do now. A doctor of the province it is
// offered to sees the minimum necessary (specialty, urgency, age band,
// sex, reason; a consult's packet) and accepts or declines; after the
// referring province confirms, the full record appears and the outcome
// form with it. The referring side follows it and may cancel it. Reads
// that show patient data are audited by the node, so the page refreshes
// by itself only while it waits for a confirmation that carries none.
'use strict';
(function () {
  const { t, h, $, api, errText, show, busy } = MN;
  const R = MN.ref;
  const id = decodeURIComponent(location.pathname.split('/')[2] || '');
  const type = id.includes('-c-') ? 'consult' : 'referral';
  const path = (type === 'consult' ? '/api/v1/consults/' : '/api/v1/referrals/') + encodeURIComponent(id);
  const POLL_MS = 2000;
  const ACTIVE = ['accepted', 'in-progress', 'on-hold'];
  const state = { v: null, names: {}, specs: {}, reasonAction: '', timer: 0 };

  const prov = (code) => state.names[code] || code;

  async function load() {
    try {
      state.v = await api('GET', path);
      show($('ref-error'), '');
      render();
    } catch (e) {
      show($('ref-error'), errText(e));
    }
  }

  function rows(dl, list) {
    MN.fillDl(dl, list);
  }

  function attachmentList(ul, files) {
    ul.replaceChildren(...(files || []).map((f) => {
      const url = 'data:' + f.type + ';base64,' + f.data;
      const link = h('a', { href: url, download: f.name, text: f.name });
      if (String(f.type).startsWith('image/')) {
        return h('li', {}, h('figure', {}, h('img', { src: url, alt: f.name, loading: 'lazy' }), h('figcaption', {}, link)));
      }
      return h('li', {}, link);
    }));
  }

  function render() {
    const v = state.v;
    const inbox = v.box === 'inbox';
    const spec = state.specs[v.specialty] || v.specialty;
    $('ref-heading').textContent = R.typeLabel(v.type) + ': ' + spec;
    $('ref-badges').replaceChildren(R.urgencyBadge(v.urgency), ' ', R.statusBadge(v));
    $('back-link').href = inbox ? '/inbox' : '/inbox?box=outbox';
    const sub = R.subText(v);
    rows($('ref-summary'), [
      ['referral.f.status', t('ref.status.' + v.status) + (sub ? ' – ' + sub : '')],
      ['referral.f.specialty', spec],
      ['referral.f.urgency', t('ref.urgency.' + v.urgency)],
      ['referral.f.age', R.ageLabel(v.age_band)],
      ['referral.f.sex', R.sexLabel(v.sex)],
      ['referral.f.reason', v.type === 'referral' ? v.reason : ''],
      ['referral.f.purpose', MN.has('ref.purpose.' + v.purpose) ? t('ref.purpose.' + v.purpose) : v.purpose],
      ['referral.f.mode', v.mode ? t('ref.mode.' + v.mode) : ''],
      ['referral.f.origin', prov(v.origin_province)],
      ['referral.f.target', v.target_province ? prov(v.target_province) : ''],
      ['referral.f.created', MN.fmtTime(v.created)],
      ['referral.f.deadline', v.deadline ? MN.fmtTime(v.deadline) : ''],
      ['referral.f.accepted', v.accepted_at ? MN.fmtTime(v.accepted_at) : ''],
      ['referral.f.closed', v.closed_at ? MN.fmtTime(v.closed_at) : ''],
    ]);
    $('ref-minimum').hidden = !(inbox && v.type === 'referral' && !v.patient);

    // Calls: a link the accepting doctor set, and a teleconsult with the other side.
    const call = $('ref-call');
    call.replaceChildren();
    if (v.call_link) {
      let href = v.call_link;
      try {
        href = new URL(v.call_link, location.href).pathname;
      } catch (e) {
        // keep the link as given
      }
      call.append(h('a', { class: 'btn primary', href, id: 'ref-join-call' }, t('referral.call.join')));
    }
    const other = inbox ? v.origin_province : v.target_province;
    if (other && (ACTIVE.includes(v.status) || (v.call_requested && R.isOpen(v)))) {
      call.append(h('a', { class: 'btn', id: 'ref-start-call',
        href: '/calls?kind=consult&province=' + encodeURIComponent(other) + '#new-call' }, t('referral.call.start', { province: prov(other) })));
    }
    call.hidden = !call.children.length;

    // Patient, record and packet: present only where this node may see them.
    $('ref-patient').hidden = !v.patient;
    if (v.patient) {
      const p = v.patient;
      rows($('ref-patient-dl'), [
        ['referral.patient.name', p.name], ['referral.patient.birth_year', p.birth_year || ''],
        ['referral.patient.sex', p.sex ? R.sexLabel(p.sex) : ''], ['referral.patient.phone', p.phone],
        ['referral.patient.id_number', p.id_number], ['referral.patient.address', p.address],
        ['referral.patient.summary', p.summary],
      ]);
    }
    $('ref-record').hidden = !v.record;
    if (v.record) {
      rows($('ref-record-dl'), [['referral.record.history', v.record.history], ['referral.record.notes', v.record.notes]]);
      attachmentList($('ref-attachments'), v.record.attachments);
    }
    $('ref-packet').hidden = !v.packet;
    if (v.packet) {
      $('ref-question').textContent = v.packet.question || '';
      const vt = v.packet.vitals || {};
      rows($('ref-vitals'), [
        ['referral.vitals.temp', vt.temp_c != null ? t('referral.vitals.temp_value', { v: vt.temp_c }) : ''],
        ['referral.vitals.pulse', vt.pulse != null ? t('referral.vitals.pulse_value', { v: vt.pulse }) : ''],
        ['referral.vitals.bp', vt.bp_sys != null ? t('referral.vitals.bp_value', { sys: vt.bp_sys, dia: vt.bp_dia ?? '–' }) : ''],
        ['referral.vitals.resp', vt.resp_rate != null ? t('referral.vitals.resp_value', { v: vt.resp_rate }) : ''],
        ['referral.vitals.spo2', vt.spo2 != null ? t('referral.vitals.spo2_value', { v: vt.spo2 }) : ''],
        ['referral.vitals.weight', vt.weight_kg != null ? t('referral.vitals.weight_value', { v: vt.weight_kg }) : ''],
        ['referral.vitals.glucose', vt.glucose_mmol != null ? t('referral.vitals.glucose_value', { v: vt.glucose_mmol }) : ''],
      ]);
      attachmentList($('ref-photos'), v.packet.photos);
    }

    // What this user may do now.
    const offered = inbox && v.status === 'received' && v.sub_status !== 'accept_pending';
    const pending = inbox && v.sub_status === 'accept_pending';
    const cancellable = !inbox && R.isOpen(v);
    $('accept').hidden = !offered;
    $('decline').hidden = !offered;
    $('cancel').hidden = !cancellable;
    let hint = '';
    if (offered) hint = v.type === 'consult' ? t('referral.actions.hint_consult') : t('referral.actions.hint_offer');
    else if (pending) hint = t('referral.actions.hint_pending');
    $('ref-actions-hint').textContent = hint;
    $('ref-actions').hidden = !(offered || pending || cancellable);
    if (!offered && !cancellable) $('reason-form').hidden = true;

    // The outcome form: the acceptor's; a consult may be answered at once.
    const answerNow = offered && v.type === 'consult';
    const canReport = inbox && ACTIVE.includes(v.status);
    $('ref-outcome').hidden = !(answerNow || canReport);
    $('o-kind').closest('.field').hidden = answerNow;
    if (answerNow) $('o-kind').value = 'final';
    $('h-ref-outcome').textContent = v.type === 'consult' ? t('referral.outcome.heading_consult') : t('referral.outcome.heading');
    kindChanged();

    const outcomes = v.outcomes || [];
    $('ref-outcomes').hidden = !outcomes.length;
    $('ref-outcome-list').replaceChildren(...outcomes.map((o) => h('li', { class: 'card outcome', 'data-kind': o.kind },
      h('div', { class: 'appt-head' }, h('strong', { text: t('referral.outcome.kind.' + o.kind) }), h('span', { class: 'meta', text: MN.fmtTime(o.time) })),
      o.appointment ? h('p', { text: t('referral.outcome.appointment_at', { time: MN.fmtTime(o.appointment) }) }) : null,
      o.note ? h('p', { class: 'reason', text: o.note }) : null,
      h('p', { class: 'meta', text: t('referral.outcome.by', { user: o.by || '–', province: prov(o.province) }) }))));

    const cands = v.candidates || [];
    $('ref-candidates').hidden = !cands.length;
    $('ref-candidate-list').replaceChildren(...cands.map((c) => h('li', { 'data-province': c.province },
      h('span', { text: prov(c.province) }), h('span', { class: 'badge cand-' + c.state, text: t('referral.cand.' + c.state) }))));

    const hist = v.history || [];
    $('ref-history').hidden = !hist.length;
    $('ref-history-list').replaceChildren(...hist.map((e) => h('li', {
      text: t('referral.history.item', { time: MN.fmtTime(e.time), status: t('ref.status.' + e.status), province: prov(e.province) }) +
        (e.by ? ' · ' + e.by : ''),
    })));

    clearTimeout(state.timer);
    if (pending) state.timer = setTimeout(load, POLL_MS);
  }

  function kindChanged() {
    const kind = $('o-kind').value;
    $('o-when-field').hidden = kind !== 'appointment';
    const answer = state.v && state.v.type === 'consult' && kind === 'final';
    $('o-note-label').textContent = answer ? t('referral.outcome.answer') : t('referral.outcome.note');
    $('outcome-submit').textContent = answer ? t('referral.outcome.submit_answer') : t('referral.outcome.submit');
  }

  async function act(action, body, btn) {
    show($('ref-error'), '');
    await busy(btn, async () => {
      try {
        state.v = await api('POST', path + '/' + action, body);
        render();
        show($('ref-status'), t('referral.done.' + action), 'ok');
        MN.focus($('ref-status'));
        $('reason-form').hidden = true;
      } catch (e) {
        show($('ref-error'), errText(e));
      }
    });
  }

  function askReason(action) {
    state.reasonAction = action;
    $('reason-label').textContent = t('referral.reason.' + action);
    $('reason-submit').textContent = t('referral.submit.' + action);
    $('reason-text').value = '';
    $('reason-form').hidden = false;
    $('reason-text').focus();
  }

  $('accept').addEventListener('click', (ev) => act('accept', undefined, ev.currentTarget));
  $('decline').addEventListener('click', () => askReason('decline'));
  $('cancel').addEventListener('click', () => askReason('cancel'));
  $('reason-back').addEventListener('click', () => {
    $('reason-form').hidden = true;
    $(state.reasonAction).focus();
  });
  $('reason-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const reason = $('reason-text').value.trim();
    act(state.reasonAction, reason ? { reason } : undefined, $('reason-submit'));
  });
  $('o-kind').addEventListener('change', kindChanged);
  $('outcome-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    show($('outcome-error'), '');
    const v = state.v;
    const kind = $('o-kind').value;
    const note = $('o-note').value.trim();
    const body = { kind };
    if (note) body.note = note;
    if (kind === 'appointment') {
      const d = new Date($('o-when').value);
      if (!$('o-when').value || isNaN(d.getTime())) {
        show($('outcome-error'), t('referral.outcome.need_when'));
        $('o-when').focus();
        return;
      }
      body.appointment = d.toISOString();
    }
    if ((kind === 'final' || kind === 'failed') && !note) {
      show($('outcome-error'), t('referral.outcome.need_note'));
      $('o-note').focus();
      return;
    }
    const answerNow = v.type === 'consult' && v.status === 'received';
    await busy($('outcome-form'), async () => {
      try {
        state.v = answerNow
          ? await api('POST', path + '/answer', { answer: note })
          : await api('POST', path + '/outcome', body);
        $('o-note').value = '';
        render();
        show($('ref-status'), t('referral.done.outcome'), 'ok');
        MN.focus($('ref-status'));
      } catch (e) {
        show($('outcome-error'), errText(e));
      }
    });
  });
  $('ref-refresh').addEventListener('click', (ev) => busy(ev.currentTarget, load));

  async function setup() {
    show($('ref-status'), t('common.loading'));
    [state.names, state.specs] = await Promise.all([R.provinceNames(), R.specNames()]);
    await load();
    if (state.v) show($('ref-status'), '');
  }
  setup();
})();
