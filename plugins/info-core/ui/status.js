// dfd status page (docs/status-page.md): logs in through POST /v1/auth/login, keeps the user
// token in sessionStorage (this tab only, gone when it closes), and every few seconds reads
// GET /v1/servers, /v1/files or /v1/status/files, /v1/status/tokens and /v1/status/audit.
// Every text that comes from the server is inserted as a text node (append(string),
// textContent), never as HTML.
'use strict';

(function () {
  const TOKEN_KEY = 'dfd.status.token';
  const USER_KEY = 'dfd.status.user';
  const REFRESH_MS = 5000;
  const FILES_LIMIT = 1000;
  const DOWNLOADS_LIMIT = 20;

  let timer = null;
  let generation = 0; // bumped by every login and logout: late answers of an old session are dropped
  let userNames = null; // user id -> e-mail (admins: GET /v1/users, once per session)

  const $ = (id) => document.getElementById(id);

  // An element with text children (strings become text nodes, never markup).
  function el(tag, opts, ...children) {
    const e = document.createElement(tag);
    if (opts && opts.cls) e.className = opts.cls;
    if (opts && opts.title) e.title = opts.title;
    if (opts && opts.data) {
      for (const [k, v] of Object.entries(opts.data)) e.dataset[k] = String(v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  function badge(up, upText, downText) {
    return el('span', { cls: 'badge ' + (up ? 'up' : 'down') }, up ? upText : downText);
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, options) {
    const opts = options || {};
    const headers = { Accept: 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token && !opts.anonymous) headers.Authorization = 'Bearer ' + token;
    let body;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    let resp;
    try {
      resp = await fetch(path, {
        method: opts.method || 'GET',
        headers,
        body,
        cache: 'no-store',
        credentials: 'omit',
        redirect: 'error',
      });
    } catch (e) {
      throw new ApiError(0, 'network', 'the information server does not answer');
    }
    const text = await resp.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = null;
      }
    }
    if (!resp.ok) {
      const err = data && data.error ? data.error : {};
      throw new ApiError(resp.status, err.code || 'http', err.message || 'HTTP ' + resp.status);
    }
    return data;
  }

  function currentUser() {
    try {
      return JSON.parse(sessionStorage.getItem(USER_KEY) || 'null');
    } catch (e) {
      return null;
    }
  }

  // ---- formatting ----
  function formatAge(ms) {
    const s = Math.max(0, ms) / 1000;
    if (s < 60) return s.toFixed(1) + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    return Math.floor(s / 86400) + ' d ago';
  }

  function formatSize(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = Number(n);
    let u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return (u === 0 ? String(v) : v.toFixed(1)) + ' ' + units[u];
  }

  function formatRate(x) {
    const v = Number(x);
    return v >= 10 ? v.toFixed(0) : v.toFixed(2);
  }

  // ---- views ----
  function showLogin(message) {
    $('status-view').hidden = true;
    $('session').hidden = true;
    $('login-view').hidden = false;
    $('login-error').textContent = message || '';
    $('email').focus();
  }

  function showStatus() {
    const user = currentUser();
    $('login-view').hidden = true;
    $('status-view').hidden = false;
    $('session').hidden = false;
    $('who').textContent = user ? user.email + ' (' + user.role + ')' : '';
    const admin = !!user && user.role === 'admin';
    for (const id of ['files-note', 'tokens-note', 'downloads-note']) {
      $(id).hidden = admin;
      $(id).textContent = admin ? '' : 'Needs an admin account.';
    }
    $('tokens-view').hidden = !admin;
    $('downloads-table').hidden = !admin;
    refresh();
  }

  function stopRefresh() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  // Nothing of a session stays in the page after it ends (the next login may be another user).
  function clearData() {
    for (const id of ['zones', 'files', 'downloads']) $(id).replaceChildren();
    for (const id of ['sum-servers', 'sum-files', 'sum-rate', 'sum-tokens']) $(id).textContent = '–';
    for (const id of ['tokens-text', 'updated', 'who']) $(id).textContent = '';
    const canvas = $('tokens-chart');
    canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
    $('fetch-error').hidden = true;
  }

  function forget(message) {
    generation++;
    stopRefresh();
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    userNames = null;
    clearData();
    showLogin(message);
  }

  function renderServers(data) {
    const servers = (data && data.servers) || [];
    const zones = new Map();
    for (const s of servers) {
      const z = s.zone || '(no zone)';
      if (!zones.has(z)) zones.set(z, []);
      zones.get(z).push(s);
    }
    const box = $('zones');
    box.replaceChildren();
    let up = 0;
    for (const z of [...zones.keys()].sort()) {
      const list = zones.get(z).sort((a, b) => (a.server_id < b.server_id ? -1 : 1));
      const zoneUp = list.filter((s) => s.healthy).length;
      up += zoneUp;
      const tbody = el('tbody');
      for (const s of list) {
        const health = s.healthy ? 'up' : 'down';
        tbody.append(
          el('tr', { cls: health, data: { serverId: s.server_id, health } },
            el('td', { cls: 'mono' }, s.server_id),
            el('td', null, badge(s.healthy, 'UP', 'DOWN')),
            el('td', { title: s.last_heartbeat },
              s.interval_ms > 0 || s.healthy ? formatAge(s.last_heartbeat_age_ms) : 'never',
              el('br'), el('span', { cls: 'muted mono' }, s.last_heartbeat)),
            el('td', { cls: 'mono' }, s.url),
            el('td', { cls: 'num' }, s.files)));
      }
      const table = el('table', null,
        el('thead', null, el('tr', null, el('th', null, 'Server'), el('th', null, 'Health'),
          el('th', null, 'Last heartbeat'), el('th', null, 'URL'), el('th', null, 'Files'))),
        tbody);
      box.append(el('div', { cls: 'zone', data: { zone: z } },
        el('h3', null, z + ' — ' + zoneUp + ' of ' + list.length + ' up'), table));
    }
    if (servers.length === 0) box.append(el('p', { cls: 'muted' }, 'No file server has announced itself yet.'));
    $('sum-servers').textContent = up + ' / ' + servers.length;
  }

  function renderFiles(data, admin) {
    const files = (data && data.files) || [];
    const tbody = $('files');
    tbody.replaceChildren();
    for (const f of files) {
      let locations;
      if (admin) {
        locations = el('td');
        for (const l of f.locations || []) {
          const health = l.healthy ? 'up' : 'down';
          locations.append(el('span', {
            cls: 'badge ' + health,
            title: (l.url || '') + ' — last seen ' + (l.last_seen || ''),
            data: { location: l.server_id, health },
          }, l.server_id + ' (' + l.zone + ')' + (l.healthy ? '' : ' down')));
        }
        if (!f.locations || f.locations.length === 0) locations.append(el('span', { cls: 'muted' }, 'none'));
      } else {
        locations = el('td', { cls: 'muted' }, 'admin only');
      }
      tbody.append(el('tr', { data: { fileId: f.id, fileName: f.name } },
        el('td', { cls: 'num' }, f.id),
        el('td', { title: 'sha256 ' + f.uid }, f.name),
        el('td', { cls: 'num', title: f.size + ' bytes' }, formatSize(f.size)),
        el('td', null, badge(f.available, 'yes', 'no')),
        locations));
    }
    const total = data ? data.total : 0;
    $('sum-files').textContent = String(total);
    if (total > files.length) {
      tbody.append(el('tr', null, el('td', { cls: 'muted' }, 'showing ' + files.length + ' of ' + total)));
    }
    const names = new Map();
    for (const f of files) names.set(f.id, f.name);
    return names;
  }

  function renderTokens(data) {
    if (!data) return;
    $('sum-rate').textContent = formatRate(data.per_second_60s);
    $('sum-tokens').textContent = String(data.tokens_issued_total);
    $('tokens-text').textContent =
      formatRate(data.per_second_60s) + ' tokens/s over the last minute (' + data.issued_last_60s +
      ' issued), ' + formatRate(data.per_second_10s) + '/s over the last 10 s; ' +
      data.tokens_issued_total + ' issued since the server started, ' +
      data.token_publish_failures_total + ' refused (broker did not confirm), ' +
      data.manifests_rate_limited_total + ' manifests rate-limited.';
    const canvas = $('tokens-chart');
    const ctx = canvas.getContext('2d');
    const series = data.per_second_series || [];
    const max = Math.max(1, ...series);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const w = canvas.width / Math.max(1, series.length);
    ctx.fillStyle = '#2458b3';
    series.forEach((v, i) => {
      const h = Math.round((v / max) * (canvas.height - 4));
      ctx.fillRect(i * w + 1, canvas.height - h, Math.max(1, w - 2), h);
    });
  }

  function renderDownloads(data, fileNames) {
    const tbody = $('downloads');
    tbody.replaceChildren();
    const note = $('downloads-note');
    if (!data) return;
    if (!data.enabled) {
      note.hidden = false;
      note.textContent = 'The audit log is off (audit_log in the info plugin\'s config): no downloads to show.';
      return;
    }
    const entries = data.entries || [];
    note.hidden = entries.length > 0;
    note.textContent = entries.length ? '' : 'No downloads in the audit log yet.';
    for (const e of entries) {
      const who = userNames && userNames.has(e.user_id) ? userNames.get(e.user_id) : 'user ' + e.user_id;
      const file = fileNames.has(e.file_id) ? fileNames.get(e.file_id) : 'file ' + e.file_id;
      tbody.append(el('tr', { data: { download: e.file_id } },
        el('td', { cls: 'mono' }, e.time),
        el('td', null, who),
        el('td', { title: e.uid }, file),
        el('td', null, e.zone ? e.zone : 'any'),
        el('td', { cls: 'mono' }, e.address)));
    }
  }

  async function loadUserNames() {
    try {
      const data = await api('/v1/users?limit=1000');
      userNames = new Map();
      for (const u of data.users || []) userNames.set(u.id, u.email);
    } catch (e) {
      userNames = new Map(); // not available (older auth plugin): show ids
    }
  }

  async function refresh() {
    stopRefresh();
    const gen = generation;
    const user = currentUser();
    const admin = !!user && user.role === 'admin';
    if (admin && userNames === null) await loadUserNames();
    const [servers, files, tokens, audit] = await Promise.allSettled([
      api('/v1/servers'),
      api((admin ? '/v1/status/files' : '/v1/files') + '?limit=' + FILES_LIMIT),
      admin ? api('/v1/status/tokens') : Promise.resolve(null),
      admin ? api('/v1/status/audit?event=manifest&limit=' + DOWNLOADS_LIMIT) : Promise.resolve(null),
    ]);
    if (gen !== generation) return;
    const results = [servers, files, tokens, audit];
    if (results.some((r) => r.status === 'rejected' && r.reason.status === 401)) {
      forget('Your session has ended; log in again.');
      return;
    }
    const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
    const banner = $('fetch-error');
    banner.hidden = errors.length === 0;
    banner.textContent = errors.length ? 'Could not refresh everything: ' + errors.join('; ') : '';
    if (servers.status === 'fulfilled') renderServers(servers.value);
    let names = new Map();
    if (files.status === 'fulfilled') names = renderFiles(files.value, admin);
    if (tokens.status === 'fulfilled') renderTokens(tokens.value);
    if (audit.status === 'fulfilled') renderDownloads(audit.value, names);
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    timer = setTimeout(refresh, REFRESH_MS);
  }

  async function onLogin(ev) {
    ev.preventDefault();
    $('login-error').textContent = '';
    const button = $('login-button');
    button.disabled = true;
    try {
      const r = await api('/v1/auth/login', {
        method: 'POST',
        anonymous: true,
        body: { email: $('email').value.trim(), password: $('password').value },
      });
      generation++;
      sessionStorage.setItem(TOKEN_KEY, r.token);
      sessionStorage.setItem(USER_KEY, JSON.stringify(r.user));
      $('password').value = '';
      userNames = null;
      showStatus();
    } catch (e) {
      $('login-error').textContent = e.message;
    } finally {
      button.disabled = false;
    }
  }

  async function onLogout() {
    stopRefresh();
    if (sessionStorage.getItem(TOKEN_KEY)) {
      try {
        await api('/v1/auth/logout', { method: 'POST' });
      } catch (e) {
        // Forgotten here anyway; the token expires on its own.
      }
    }
    forget('Logged out.');
  }

  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', onLogout);
  if (sessionStorage.getItem(TOKEN_KEY)) showStatus();
  else showLogin('');
})();
