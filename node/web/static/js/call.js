// Call room (/call/ID): joins the call over its signalling WebSocket
// (docs/signalling.md) with the session cookie, and holds its media with
// RTCPeerConnection: one browser-to-browser connection ("peer") in a
// consult; an upload ("pub", which we offer) and a download ("sub", which
// the hosting node's SFU offers) in group calls. Signalling messages are
// handled one at a time, in order; remote ICE candidates wait until their
// connection has a remote description. ?autojoin=1 joins at once.
// window.__moinhaCall exposes the connections to tests.
'use strict';
(function () {
  const { t, h, $, api, errText, show } = MN;

  const callId = decodeURIComponent(location.pathname.split('/')[2] || '');
  const autojoin = new URLSearchParams(location.search).get('autojoin') === '1';
  const NAMES = ['peer', 'pub', 'sub'];
  const TICK_MS = 2000; // quality and ICE-restart checks
  const MAX_RETRIES = 5; // WebSocket reconnects after a network failure

  const S = {
    call: null, // the call view (GET /api/v1/calls/ID, then hello)
    you: '', // our user key, PROVINCE.USERNAME
    ws: null,
    chain: Promise.resolve(), // signalling, handled in order
    config: { iceServers: [] }, // RTCConfiguration from hello
    local: null, // our camera and microphone (null: receive only)
    conns: { peer: null, pub: null, sub: null },
    early: { peer: [], pub: [], sub: [] }, // candidates before their connection exists
    offerer: false, // consult: we send the offers
    peerUser: '', // consult: the other side
    participants: [],
    waiting: [],
    tiles: new Map(), // user key → { el, video, unmute }
    joined: false,
    left: false,
    ended: false,
    retries: 0,
    mic: true,
    cam: true,
    mode: 'normal', // normal, low (low bandwidth), audio (audio only)
    names: {}, // province code → name
    prevStats: null,
    poor: 0, // consecutive poor measurements
    timer: 0,
  };

  const isGroup = () => !!S.call && S.call.kind !== 'consult';
  const isHost = () => !!S.call && S.call.role === 'host';

  // ---- people

  function label(key) {
    const i = String(key || '').indexOf('.');
    if (i < 0) return String(key || '');
    const prov = key.slice(0, i);
    return t('call.person', { user: key.slice(i + 1), province: S.names[prov] || prov });
  }

  async function loadNames() {
    try {
      const res = await api('GET', '/api/v1/network/members');
      for (const m of res.items || []) if (m.province && m.name) S.names[m.province] = m.name;
    } catch (e) {
      // Names are a nicety: codes are shown instead.
    }
  }

  function renderInfo() {
    const c = S.call;
    if (!c) return;
    $('call-heading').textContent = t('kind.' + c.kind);
    const host = c.host.province + '.' + c.host.username;
    const others = (c.invitees || []).map((u) => label(u.province + '.' + u.username)).join(', ');
    $('call-info').textContent = isHost()
      ? t('call.info.host', { others })
      : t('call.info.guest', { host: label(host) });
    $('end').hidden = !isHost();
  }

  function renderPeople() {
    const mine = (k) => (k === S.you ? t('call.person_you', { who: label(k) }) : label(k));
    $('people-list').replaceChildren(...S.participants.map((k) => h('li', { 'data-user': k, text: mine(k) })));
    $('people').hidden = !S.joined || !isGroup() || !S.participants.length;
    const rows = S.waiting.map((k) => h('li', { 'data-user': k },
      h('span', { text: label(k) }),
      h('span', { class: 'actions' },
        h('button', { type: 'button', class: 'btn small primary', 'data-admit': k, onclick: () => send({ type: 'admit', user: k }) },
          t('call.waiting.admit')),
        h('button', { type: 'button', class: 'btn small', 'data-deny': k, onclick: () => send({ type: 'deny', user: k }) },
          t('call.waiting.deny')))));
    $('waiting-list').replaceChildren(...rows);
    $('waiting-room').hidden = !isHost() || !S.waiting.length;
    if (isGroup()) {
      for (const k of [...S.tiles.keys()]) if (!S.participants.includes(k)) removeTile(k);
    }
    stageNote();
  }

  // ---- status lines

  function status(key, params) {
    show($('call-status'), key ? t(key, params) : '');
  }

  function reasonText(reason) {
    return MN.has('call.reason.' + reason) ? t('call.reason.' + reason) : t('call.reason.other');
  }

  function stageNote() {
    const note = $('stage-note');
    if (S.tiles.size) {
      note.textContent = '';
      note.hidden = true;
      return;
    }
    note.hidden = false;
    note.textContent = isGroup() ? t('call.note.nobody') : t('call.note.waiting_peer');
  }

  // ---- the WebSocket

  function send(m) {
    if (S.ws && S.ws.readyState === WebSocket.OPEN) S.ws.send(JSON.stringify(m));
  }

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const ws = new WebSocket(scheme + location.host + '/api/v1/calls/' + encodeURIComponent(callId) + '/signal');
    S.ws = ws;
    ws.onmessage = (ev) => {
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      S.chain = S.chain.then(() => handle(m)).catch((e) => console.warn('call: signalling', m.type, e));
    };
    ws.onclose = (ev) => onClose(ws, ev);
  }

  function onClose(ws, ev) {
    if (S.ws !== ws) return;
    S.ws = null;
    closeConns();
    const reason = ev.reason || '';
    if (S.left) return finish(t('call.after.left'), true);
    if (S.ended || ev.code === 4000) return finish(reasonText(reason || 'call_ended'), false);
    if (ev.code === 4001 || ev.code === 4003 || ev.code === 4008 || ev.code === 4029 || ev.code === 1009) {
      return finish(reasonText(reason), ev.code !== 4003);
    }
    // The node is stopping (1001, 4502) or the network failed (1006): try again.
    if (S.retries < MAX_RETRIES) {
      S.retries++;
      status('call.status.reconnecting');
      setTimeout(() => {
        if (!S.left && !S.ended && !S.ws) connect();
      }, 1000 * S.retries);
      return;
    }
    finish(reasonText(reason || 'lost'), true);
  }

  async function handle(m) {
    switch (m.type) {
      case 'hello':
        S.call = m.call || S.call;
        S.you = m.you || '';
        S.config = { iceServers: m.ice_servers || [], iceTransportPolicy: m.ice_transport_policy === 'relay' ? 'relay' : 'all' };
        S.retries = 0;
        renderInfo();
        send({ type: 'join' });
        S.joined = true;
        showStage();
        status(isGroup() ? 'call.status.joining' : 'call.status.waiting_peer');
        return;
      case 'ready':
        closeConn('peer');
        S.peerUser = m.user || '';
        S.offerer = !!m.offerer;
        S.conns.peer = newConn('peer');
        status('call.status.connecting', { who: label(S.peerUser) });
        if (S.offerer) await offer(S.conns.peer, false);
        return;
      case 'peer_left':
        closeConn('peer');
        removeTile(m.user);
        status('call.status.peer_left', { who: label(m.user) });
        return;
      case 'waiting':
        status('call.status.waiting_room');
        return;
      case 'knock':
        status('call.status.knock', { who: label(m.user) });
        return;
      case 'admitted':
        closeConn('pub');
        status('call.status.admitted');
        if (S.local && S.local.getTracks().length) {
          S.conns.pub = newConn('pub');
          await offer(S.conns.pub, false);
        }
        return;
      case 'participants':
        S.participants = m.participants || [];
        S.waiting = m.waiting || [];
        renderPeople();
        return;
      case 'offer':
        return onOffer(m);
      case 'answer':
        return onAnswer(m);
      case 'candidate':
        return onCandidate(m);
      case 'restart': {
        const ps = S.conns.peer;
        if (ps && S.offerer && ps.pc.signalingState === 'stable') await offer(ps, true);
        return;
      }
      case 'ended':
        S.ended = true;
        status('');
        show($('call-error'), reasonText(m.reason || 'call_ended'));
        return;
      case 'error':
        if (m.reason === 'no_peer' || m.reason === 'not_joined') return; // the peer comes later
        show($('call-error'), reasonText(m.reason));
        return;
    }
  }

  // ---- connections

  function newConn(name) {
    const pc = new RTCPeerConnection(S.config);
    const ps = { name, wire: name === 'peer' ? '' : name, pc, pending: S.early[name], audio: null, video: null, lastRestart: 0 };
    S.early[name] = [];
    pc.onicecandidate = (ev) => {
      if (!ev.candidate || !ev.candidate.candidate || S.conns[name] !== ps) return;
      send({ type: 'candidate', pc: ps.wire || undefined, candidate: ev.candidate.toJSON() });
    };
    pc.ontrack = (ev) => onTrack(ps, ev);
    pc.onconnectionstatechange = () => onConnState(ps);
    const a = S.local && S.local.getAudioTracks()[0];
    const v = S.local && S.local.getVideoTracks()[0];
    if (name === 'pub') {
      if (a) ps.audio = pc.addTransceiver(a, { direction: 'sendonly', streams: [S.local] }).sender;
      if (v) ps.video = pc.addTransceiver(v, { direction: 'sendonly', streams: [S.local] }).sender;
    } else if (name === 'peer') {
      // addTrack (not addTransceiver), so that an answerer's tracks take
      // the m-lines of the peer's offer.
      if (a) ps.audio = pc.addTrack(a, S.local);
      if (v) ps.video = pc.addTrack(v, S.local);
      if (S.offerer && !a) pc.addTransceiver('audio', { direction: 'recvonly' });
      if (S.offerer && !v) pc.addTransceiver('video', { direction: 'recvonly' });
    }
    applyMedia();
    return ps;
  }

  function closeConn(name) {
    const ps = S.conns[name];
    S.conns[name] = null;
    if (!ps) return;
    ps.pc.onicecandidate = null;
    ps.pc.ontrack = null;
    ps.pc.onconnectionstatechange = null;
    ps.pc.close();
    if (name === 'peer') removeTile(S.peerUser);
    if (name === 'sub') for (const k of [...S.tiles.keys()]) removeTile(k);
  }

  function closeConns() {
    for (const n of NAMES) closeConn(n);
    S.early = { peer: [], pub: [], sub: [] };
  }

  async function offer(ps, restart) {
    const o = await ps.pc.createOffer(restart ? { iceRestart: true } : undefined);
    await ps.pc.setLocalDescription(o);
    send({ type: 'offer', pc: ps.wire || undefined, sdp: ps.pc.localDescription.sdp });
  }

  async function onOffer(m) {
    const name = m.pc === 'sub' ? 'sub' : 'peer';
    let ps = S.conns[name];
    if (!ps) {
      ps = newConn(name);
      S.conns[name] = ps;
    }
    await ps.pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
    await flush(ps);
    const answer = await ps.pc.createAnswer();
    await ps.pc.setLocalDescription(answer);
    send({ type: 'answer', pc: ps.wire || undefined, sdp: ps.pc.localDescription.sdp });
    applyMedia();
  }

  async function onAnswer(m) {
    const ps = S.conns[m.pc === 'pub' ? 'pub' : 'peer'];
    if (!ps || ps.pc.signalingState !== 'have-local-offer') return;
    await ps.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
    await flush(ps);
    applyMedia();
  }

  async function onCandidate(m) {
    if (!m.candidate || !m.candidate.candidate) return;
    const name = NAMES.includes(m.pc) ? m.pc : 'peer';
    const ps = S.conns[name];
    if (!ps) {
      S.early[name].push(m.candidate);
    } else if (!ps.pc.remoteDescription) {
      ps.pending.push(m.candidate);
    } else {
      await ps.pc.addIceCandidate(m.candidate).catch(() => {});
    }
  }

  // flush adds the candidates that waited for the remote description.
  async function flush(ps) {
    const pending = ps.pending;
    ps.pending = [];
    for (const c of pending) await ps.pc.addIceCandidate(c).catch(() => {});
  }

  function onConnState(ps) {
    const st = ps.pc.connectionState;
    if (st === 'connected') {
      status('call.status.connected');
      show($('call-error'), '');
    } else if (st === 'disconnected' || st === 'failed') {
      status('call.status.reconnecting');
    }
  }

  // restartIfDown asks for new ICE on a connection that went down (a
  // network change): the side that offers offers again with iceRestart,
  // the other asks it to; every 2 s while it stays down.
  function restartIfDown() {
    for (const n of NAMES) {
      const ps = S.conns[n];
      if (!ps) continue;
      const st = ps.pc.iceConnectionState;
      if ((st !== 'disconnected' && st !== 'failed') || Date.now() - ps.lastRestart < TICK_MS) continue;
      ps.lastRestart = Date.now();
      if (n === 'pub' || (n === 'peer' && S.offerer)) {
        S.chain = S.chain.then(() => {
          if (S.conns[n] === ps && ps.pc.signalingState === 'stable') return offer(ps, true);
        }).catch(() => {});
      } else {
        send(n === 'sub' ? { type: 'restart', pc: 'sub' } : { type: 'restart' });
      }
    }
  }

  // ---- media

  async function getMedia() {
    const video = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24, max: 30 } };
    for (const c of [{ audio: true, video }, { audio: true, video: false }]) {
      try {
        return await navigator.mediaDevices.getUserMedia(c);
      } catch (e) {
        // Try with less: a station may have a microphone and no camera.
      }
    }
    return null;
  }

  // applyMedia makes the senders follow the toggles and the mode: the
  // microphone and camera switches, low bandwidth (a smaller, slower
  // picture, at most 150 kbit/s) and audio only (no picture sent, none shown).
  function applyMedia() {
    const a = S.local && S.local.getAudioTracks()[0];
    const v = S.local && S.local.getVideoTracks()[0];
    if (a) a.enabled = S.mic;
    const sendVideo = !!v && S.cam && S.mode !== 'audio';
    if (v) v.enabled = sendVideo;
    for (const ps of [S.conns.peer, S.conns.pub]) {
      if (!ps || !ps.video) continue;
      const sender = ps.video;
      sender.replaceTrack(sendVideo ? v : null).catch(() => {});
      const p = sender.getParameters();
      if (!p.encodings || !p.encodings.length) continue; // before negotiation; applied again after it
      const low = S.mode === 'low';
      p.encodings[0].maxBitrate = low ? 150000 : 1000000;
      p.encodings[0].scaleResolutionDownBy = low ? 2 : 1;
      p.encodings[0].maxFramerate = low ? 12 : 30;
      sender.setParameters(p).catch(() => {});
    }
    $('stage').classList.toggle('audio-only', S.mode === 'audio');
    $('self-tile').hidden = !sendVideo;
    const mic = $('toggle-mic');
    mic.textContent = S.mic ? t('call.mic_off') : t('call.mic_on');
    mic.classList.toggle('off', !S.mic);
    mic.disabled = !a;
    const cam = $('toggle-cam');
    cam.textContent = S.cam ? t('call.cam_off') : t('call.cam_on');
    cam.classList.toggle('off', !S.cam);
    cam.disabled = !v || S.mode === 'audio';
  }

  function stopLocal() {
    if (S.local) for (const tr of S.local.getTracks()) tr.stop();
    S.local = null;
    $('local-video').srcObject = null;
  }

  function onTrack(ps, ev) {
    const stream = (ev.streams && ev.streams[0]) || new MediaStream([ev.track]);
    const key = ps.name === 'sub' ? stream.id : S.peerUser;
    const tile = ensureTile(key);
    if (tile.video.srcObject !== stream) tile.video.srcObject = stream;
    stream.onremovetrack = () => {
      if (!stream.getTracks().length && S.tiles.get(key) === tile) removeTile(key);
    };
    play(tile);
  }

  function ensureTile(key) {
    let tile = S.tiles.get(key);
    if (tile) return tile;
    const video = h('video', { autoplay: true, playsinline: true });
    const unmute = h('button', { type: 'button', class: 'btn small unmute', hidden: true }, t('call.unmute'));
    const el = h('figure', { class: 'tile', 'data-user': key }, video, h('figcaption', { text: label(key) }), unmute);
    tile = { el, video, unmute };
    unmute.addEventListener('click', () => {
      video.muted = false;
      unmute.hidden = true;
      video.play().catch(() => {});
    });
    S.tiles.set(key, tile);
    $('tiles').append(el);
    $('tiles').classList.toggle('many', S.tiles.size > 1);
    stageNote();
    return tile;
  }

  function removeTile(key) {
    const tile = S.tiles.get(key);
    if (!tile) return;
    tile.video.srcObject = null;
    tile.el.remove();
    S.tiles.delete(key);
    $('tiles').classList.toggle('many', S.tiles.size > 1);
    stageNote();
  }

  // play starts a remote picture; where the browser refuses sound without
  // a tap (a kiosk that joined by itself), it plays muted with a button.
  function play(tile) {
    const p = tile.video.play();
    if (!p) return;
    p.catch(() => {
      tile.video.muted = true;
      tile.unmute.hidden = false;
      tile.video.play().catch(() => {});
    });
  }

  // ---- connection quality from getStats

  async function measure() {
    const conns = NAMES.map((n) => S.conns[n]).filter(Boolean);
    if (!conns.length) {
      $('quality').hidden = true;
      S.prevStats = null;
      return;
    }
    let rtt = null;
    let lost = 0;
    let recv = 0;
    let bytesIn = 0;
    let bytesOut = 0;
    for (const ps of conns) {
      let stats;
      try {
        stats = await ps.pc.getStats();
      } catch (e) {
        continue;
      }
      stats.forEach((s) => {
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && typeof s.currentRoundTripTime === 'number') {
          rtt = Math.max(rtt || 0, s.currentRoundTripTime);
        } else if (s.type === 'inbound-rtp') {
          lost += s.packetsLost || 0;
          recv += s.packetsReceived || 0;
          bytesIn += s.bytesReceived || 0;
        } else if (s.type === 'outbound-rtp') {
          bytesOut += s.bytesSent || 0;
        }
      });
    }
    const now = performance.now();
    const prev = S.prevStats;
    S.prevStats = { now, lost, recv, bytesIn, bytesOut };
    if (!prev || now <= prev.now) return;
    const secs = (now - prev.now) / 1000;
    const dLost = Math.max(0, lost - prev.lost);
    const dRecv = Math.max(0, recv - prev.recv);
    const loss = dLost + dRecv > 0 ? dLost / (dLost + dRecv) : 0;
    const down = Math.round(Math.max(0, bytesIn - prev.bytesIn) * 8 / secs / 1000);
    const up = Math.round(Math.max(0, bytesOut - prev.bytesOut) * 8 / secs / 1000);
    let level = 'poor';
    if (dRecv > 0 && loss < 0.02 && (rtt === null || rtt < 0.3)) level = 'good';
    else if (dRecv > 0 && loss < 0.08 && (rtt === null || rtt < 0.7)) level = 'fair';
    S.poor = level === 'poor' ? S.poor + 1 : 0;
    const badge = $('quality-level');
    badge.textContent = t('call.quality.' + level);
    badge.className = 'badge quality-' + level;
    $('quality').dataset.level = level;
    $('quality-detail').textContent = t('call.quality.detail', {
      rtt: rtt === null ? '–' : Math.round(rtt * 1000), loss: (loss * 100).toFixed(1), down, up,
    });
    $('quality').hidden = false;
    $('quality-hint').hidden = !(S.poor >= 3 && S.mode === 'normal');
  }

  function tick() {
    restartIfDown();
    measure().catch(() => {});
  }

  // ---- joining and leaving

  function showStage() {
    for (const id of ['stage', 'controls', 'modes']) $(id).hidden = false;
    $('after').hidden = true;
    $('prejoin').hidden = true;
    stageNote();
  }

  async function join() {
    $('prejoin').hidden = true;
    $('after').hidden = true;
    show($('call-error'), '');
    status('call.status.starting');
    S.mic = $('pj-mic').checked;
    S.cam = $('pj-cam').checked;
    S.left = false;
    S.retries = 0;
    if (!S.local) S.local = await getMedia();
    if (!S.local) show($('call-error'), t('call.no_devices'));
    else if (!S.local.getVideoTracks().length) show($('call-error'), t('call.no_camera'));
    $('local-video').srcObject = S.local;
    applyMedia();
    connect();
    if (!S.timer) S.timer = setInterval(tick, TICK_MS);
  }

  function leave() {
    S.left = true;
    send({ type: 'leave' });
    const ws = S.ws;
    setTimeout(() => {
      if (ws && ws.readyState !== WebSocket.CLOSED) ws.close(1000);
    }, 1500);
    if (!ws) finish(t('call.after.left'), true);
  }

  // finish shows the end of the session; rejoin offers to join again.
  function finish(text, rejoin) {
    S.joined = false;
    closeConns();
    stopLocal();
    clearInterval(S.timer);
    S.timer = 0;
    for (const id of ['stage', 'controls', 'modes', 'quality', 'quality-hint', 'waiting-room', 'people']) $(id).hidden = true;
    S.participants = [];
    S.waiting = [];
    status('');
    show($('call-error'), '');
    $('after-text').textContent = text;
    $('rejoin').hidden = !rejoin || S.ended;
    $('after').hidden = false;
    MN.focus($('after-text'));
  }

  $('join').addEventListener('click', join);
  $('rejoin').addEventListener('click', join);
  $('leave').addEventListener('click', leave);
  $('end').addEventListener('click', () => {
    if (confirm(t('call.end_confirm'))) send({ type: 'end' });
  });
  $('toggle-mic').addEventListener('click', () => {
    S.mic = !S.mic;
    applyMedia();
  });
  $('toggle-cam').addEventListener('click', () => {
    S.cam = !S.cam;
    applyMedia();
  });
  for (const r of document.querySelectorAll('input[name=mode]')) {
    r.addEventListener('change', () => {
      S.mode = r.value;
      applyMedia();
      $('quality-hint').hidden = true;
    });
  }
  window.addEventListener('pagehide', () => {
    if (S.ws) {
      S.left = true;
      send({ type: 'leave' });
    }
  });

  window.__moinhaCall = {
    pcs: () => NAMES.map((n) => S.conns[n]).filter(Boolean).map((ps) => ps.pc),
    state: () => ({ joined: S.joined, ended: S.ended, you: S.you, role: S.call && S.call.role,
      participants: S.participants.slice(), waiting: S.waiting.slice(), mode: S.mode, tiles: [...S.tiles.keys()] }),
  };

  async function setup() {
    const names = loadNames();
    try {
      S.call = await api('GET', '/api/v1/calls/' + encodeURIComponent(callId));
    } catch (e) {
      show($('call-error'), errText(e));
      return;
    }
    await names;
    renderInfo();
    if (S.call.state === 'ended') {
      S.ended = true;
      show($('call-error'), reasonText(S.call.end_reason || 'call_ended'));
      return;
    }
    if (autojoin) {
      join();
      return;
    }
    $('prejoin').hidden = false;
    $('join').focus();
  }
  setup();
})();
