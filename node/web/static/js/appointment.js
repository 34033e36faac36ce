// Look up a booking by its code, and cancel it.
'use strict';
(function () {
  const { t, h, $, api, errText, show, busy } = MN;
  let current = null;

  async function lookup(ev) {
    if (ev) ev.preventDefault();
    const code = MN.normCode($('code-input').value);
    show($('lookup-error'), '');
    if (code.length !== 13) {
      show($('lookup-error'), t('appt.bad_code'));
      $('code-input').focus();
      return;
    }
    $('code-input').value = MN.fmtCode(code);
    await busy($('lookup-form'), async () => {
      try {
        const a = await api('GET', '/api/v1/appointments/' + code);
        await render(a);
        show($('appt-status'), '');
        $('appt').focus();
      } catch (e) {
        $('appt').hidden = true;
        show($('lookup-error'), errText(e));
      }
    });
  }

  async function render(a) {
    current = a;
    let station = null;
    try {
      station = await api('GET', '/api/v1/facilities/' + encodeURIComponent(a.facility));
    } catch (e) {
      station = null;
    }
    MN.fillDl($('appt-summary'), [
      ['appt.code', MN.fmtCode(a.code)],
      ['appt.status', MN.statusBadge(a.status)],
      ['appt.station', station ? MN.facilityName(station) : a.facility],
      ['appt.address', station ? station.address : ''],
      ['appt.phone', station ? station.phone : ''],
      ['appt.when', t('appt.when_value', { time: MN.hhmm(a.start), day: MN.fmtDay(MN.dayOf(a.start)) })],
      ['appt.name', a.name],
    ]);
    $('cancel-area').hidden = a.status !== 'booked';
    $('confirm').hidden = true;
    $('cancel').hidden = false;
    $('appt').hidden = false;
  }

  async function cancel() {
    await busy($('confirm-yes'), async () => {
      try {
        const a = await api('POST', '/api/v1/appointments/' + MN.normCode(current.code) + '/cancel');
        await render(a);
        show($('appt-status'), t('appt.cancelled'), 'ok');
        $('appt-status').focus();
      } catch (e) {
        show($('appt-status'), errText(e));
      }
    });
  }

  $('lookup-form').addEventListener('submit', lookup);
  $('cancel').addEventListener('click', () => {
    $('cancel').hidden = true;
    $('confirm').hidden = false;
    $('confirm-no').focus();
  });
  $('confirm-no').addEventListener('click', () => {
    $('confirm').hidden = true;
    $('cancel').hidden = false;
    $('cancel').focus();
  });
  $('confirm-yes').addEventListener('click', cancel);

  // A code in the fragment (from the booking page) is looked up at once;
  // the fragment is then dropped so the code stays out of the history.
  const fromHash = MN.normCode(decodeURIComponent(location.hash.slice(1)));
  if (fromHash) {
    $('code-input').value = MN.fmtCode(fromHash);
    history.replaceState(null, '', location.pathname + location.search);
    lookup();
  }
})();
