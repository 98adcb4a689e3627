// The Comwit emulator console: plain DOM, no framework, no build step.
//
// The user's cwt_ token lives in this tab's sessionStorage (and in memory); it is sent only
// in the Authorization header of same-origin calls to the public API. Query tokens (for the
// SQL editor) live in memory only. Everything the API answers is shown with textContent.
//
// The emulator's other platforms (GET /_console/platforms) are read on their own origins
// with their own keys, typed into their panels and kept like the cwt_ token (sessionStorage
// and memory), sent only in each platform's credential header; only GETs (read-only).
'use strict';

(() => {
  const STORAGE_KEY = 'comwit-console-token';
  const QUERY_TOKEN_TTL = 300;
  const state = {
    token: null,
    project: null,
    databases: [],
    queryTokens: new Map(), // database_id -> {token, expiresAt (ms)}
    app: null,
    buildTimer: null,
    domain: null,
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else if (k === 'onclick') node.addEventListener('click', v);
      else node.setAttribute(k, v);
    }
    for (const c of children) {
      node.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
    }
    return node;
  }

  function statusCell(status) {
    return el('td', { class: `status-${status}` }, status);
  }

  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  // ---- the API ----------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message, code) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${state.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let resp;
    try {
      resp = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
      });
    } catch (e) {
      throw new ApiError(0, `the emulator did not answer (${e.message})`, 'network');
    }
    if (resp.status === 204) return null;
    let json = null;
    try {
      json = await resp.json();
    } catch (_) {
      json = null;
    }
    if (!resp.ok) {
      const err = json && json.error;
      const message = err && typeof err === 'object' ? err.message : `HTTP ${resp.status}`;
      throw new ApiError(resp.status, `${resp.status} ${message}`, err && err.code);
    }
    return json;
  }

  const enc = encodeURIComponent;

  function notice(message) {
    $('notice').textContent = message || '';
  }

  // ---- sign in ----------------------------------------------------------------------------

  async function signIn(token) {
    $('signin-error').textContent = '';
    if (!/^cwt_[0-9a-f]{16,}$/.test(token)) {
      $('signin-error').textContent =
        'That is not a Comwit user token: it starts with cwt_ followed by at least 16 lowercase hex digits.';
      return;
    }
    state.token = token;
    let projects;
    try {
      projects = (await api('GET', '/v1/projects')).projects || [];
    } catch (e) {
      state.token = null;
      sessionStorage.removeItem(STORAGE_KEY);
      $('signin-error').textContent =
        e.status === 401
          ? 'The emulator refused this token (401): it is unknown, revoked or mistyped.'
          : e.status === 403
            ? `This token may not list projects (${e.message}).`
            : `Sign-in failed: ${e.message}`;
      return;
    }
    sessionStorage.setItem(STORAGE_KEY, token);
    $('token').value = '';
    $('signin').hidden = true;
    $('console').hidden = false;
    $('signout').hidden = false;
    $('whoami').textContent = 'signed in (the token stays in this tab)';
    showProjects(projects);
  }

  function signOut() {
    sessionStorage.removeItem(STORAGE_KEY);
    for (const name of others.keys()) forgetKey(name);
    state.token = null;
    state.queryTokens.clear();
    stopBuildWatch();
    $('console').hidden = true;
    $('signout').hidden = true;
    $('signin').hidden = false;
    $('whoami').textContent = '';
  }

  function showProjects(projects) {
    const list = projects.map((p) =>
      el('li', {}, el('button', { 'data-project': p.project_id, onclick: () => selectProject(p) },
        `${p.name} (${p.project_id})`)));
    $('projects').replaceChildren(...list);
    if (projects.length === 0) {
      notice('This token is a member of no project.');
    } else {
      selectProject(projects[0]);
    }
  }

  async function selectProject(project) {
    state.project = project;
    state.app = null;
    state.domain = null;
    stopBuildWatch();
    $('app-detail').hidden = true;
    $('domain-detail').hidden = true;
    notice('');
    for (const b of $('projects').querySelectorAll('button')) {
      b.classList.toggle('selected', b.dataset.project === project.project_id);
    }
    await Promise.all([loadDatabases(), loadApps(), loadDomains()]);
  }

  // Each panel shows its own refusal (a token may lack one scope).
  function panelError(tbody, columns, e) {
    fill(tbody, [el('tr', {}, el('td', { colspan: String(columns), class: 'error' }, e.message))]);
  }

  // ---- databases --------------------------------------------------------------------------

  async function loadDatabases() {
    const tbody = $('databases').tBodies[0];
    let databases = [];
    try {
      databases = (await api('GET', `/v1/projects/${enc(state.project.project_id)}/databases`)).databases || [];
      const usages = await Promise.all(databases.map((d) =>
        api('GET', `/v1/databases/${enc(d.database_id)}/usage`).catch(() => null)));
      fill(tbody, databases.map((d, i) => databaseRow(d, usages[i])));
    } catch (e) {
      panelError(tbody, 7, e);
    }
    state.databases = databases;
    const select = $('sql-database');
    const previous = select.value;
    select.replaceChildren(...databases.map((d) =>
      el('option', { value: d.database_id }, `${d.name} (${d.status})`)));
    if (databases.some((d) => d.database_id === previous)) select.value = previous;
  }

  function databaseRow(d, usage) {
    const u = usage || {};
    const action = d.status === 'suspended'
      ? el('button', { 'data-action': 'resume', onclick: () => transition(d, 'resume') }, 'Resume')
      : el('button', { 'data-action': 'suspend', onclick: () => transition(d, 'suspend') }, 'Suspend');
    return el('tr', { 'data-database': d.database_id },
      el('td', { title: d.database_id }, d.name),
      statusCell(d.status),
      el('td', {}, u.rows_read ?? '–'),
      el('td', {}, u.rows_written ?? '–'),
      el('td', {}, u.queries ?? '–'),
      el('td', {}, u.storage_bytes == null ? '–' : `${u.storage_bytes} B`),
      el('td', {}, action));
  }

  async function transition(d, action) {
    notice('');
    try {
      await api('POST', `/v1/databases/${enc(d.database_id)}/${action}`);
    } catch (e) {
      notice(`Could not ${action} ${d.name}: ${e.message}`);
    }
    await loadDatabases();
  }

  // ---- SQL editor -------------------------------------------------------------------------

  async function queryToken(databaseId, fresh) {
    const held = state.queryTokens.get(databaseId);
    if (!fresh && held && held.expiresAt - Date.now() > 15000) return held.token;
    const issued = await api('POST', `/v1/databases/${enc(databaseId)}/query-token`, {
      ttl_seconds: QUERY_TOKEN_TTL,
      audience: 'sql-console',
      reason: 'console SQL editor',
    });
    // Local clock plus the TTL: the server's clock may differ from the browser's.
    const token = issued.query_token;
    state.queryTokens.set(databaseId, { token, expiresAt: Date.now() + issued.ttl_seconds * 1000 });
    return token;
  }

  // Splits a script into statements at top-level semicolons (quotes and comments respected).
  function splitSql(text) {
    const out = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      const next = text[i + 1];
      if (c === "'" || c === '"' || c === '`' || c === '[') {
        const close = c === '[' ? ']' : c;
        i += 1;
        while (i < text.length && text[i] !== close) i += 1;
        i += 1;
      } else if (c === '-' && next === '-') {
        while (i < text.length && text[i] !== '\n') i += 1;
      } else if (c === '/' && next === '*') {
        const end = text.indexOf('*/', i + 2);
        i = end < 0 ? text.length : end + 2;
      } else if (c === ';') {
        out.push(text.slice(start, i));
        i += 1;
        start = i;
      } else {
        i += 1;
      }
    }
    out.push(text.slice(start));
    return out.filter((s) => s.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, '').trim() !== '');
  }

  async function pipeline(databaseId, token, statements) {
    const steps = statements.map((sql, i) => ({
      stmt: { sql, want_rows: true },
      condition: i === 0 ? null : { type: 'ok', step: i - 1 },
    }));
    const resp = await fetch(`/db/${enc(databaseId)}/v2/pipeline`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ baton: null, requests: [{ type: 'batch', batch: { steps } }, { type: 'close' }] }),
      cache: 'no-store',
      credentials: 'omit',
    });
    const text = await resp.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch (_) {
      json = null;
    }
    return { status: resp.status, json, text };
  }

  function hranaValue(v) {
    if (!v || v.type === 'null') return el('span', { class: 'null' }, 'NULL');
    if (v.type === 'blob') return `x'${Array.from(atob(v.base64 || ''), (ch) => ch.charCodeAt(0).toString(16).padStart(2, '0')).join('')}'`;
    return String(v.value);
  }

  function resultTable(result) {
    const head = el('tr', {}, ...result.cols.map((c) => el('th', {}, c.name ?? '')));
    const rows = result.rows.map((row) => el('tr', {}, ...row.map((v) => el('td', {}, hranaValue(v)))));
    return el('table', { class: 'rows' }, el('thead', {}, head), el('tbody', {}, ...rows));
  }

  async function runSql() {
    const databaseId = $('sql-database').value;
    $('sql-error').textContent = '';
    $('sql-result').replaceChildren();
    if (!databaseId) {
      $('sql-error').textContent = 'Pick a database first.';
      return;
    }
    const statements = splitSql($('sql').value);
    if (statements.length === 0) {
      $('sql-error').textContent = 'Write a statement first.';
      return;
    }
    let answer;
    try {
      let token = await queryToken(databaseId, false);
      answer = await pipeline(databaseId, token, statements);
      if (answer.status === 401) {
        // Expired or revoked: mint a fresh one once.
        token = await queryToken(databaseId, true);
        answer = await pipeline(databaseId, token, statements);
      }
    } catch (e) {
      $('sql-error').textContent = `Could not run SQL: ${e.message}`;
      return;
    }
    if (answer.status !== 200) {
      // sqld's refusal body: `message` (with its hint), else `error`, else the text.
      const body = answer.json || {};
      const reason = typeof body.message === 'string'
        ? body.message
        : typeof body.error === 'string' ? body.error : answer.text || `HTTP ${answer.status}`;
      $('sql-error').textContent = `SQL refused (${answer.status}): ${reason}`;
      return;
    }
    const first = answer.json && answer.json.results && answer.json.results[0];
    if (!first || first.type !== 'ok') {
      const message = first && first.error ? first.error.message : 'no result';
      $('sql-error').textContent = `SQL error: ${message}`;
      return;
    }
    const batch = first.response.result;
    const blocks = [];
    statements.forEach((sql, i) => {
      const result = batch.step_results[i];
      const error = batch.step_errors[i];
      if (error) {
        $('sql-error').textContent = `Statement ${i + 1} failed: ${error.message}`;
      }
      if (!result) return;
      const summary = result.cols.length > 0
        ? `${result.rows.length} row${result.rows.length === 1 ? '' : 's'}`
        : `${result.affected_row_count} row${result.affected_row_count === 1 ? '' : 's'} affected`;
      blocks.push(el('div', { class: 'sql-step' },
        el('div', { class: 'muted' }, `${sql.trim().slice(0, 80)} — ${summary}`),
        result.cols.length > 0 ? resultTable(result) : ''));
    });
    $('sql-result').replaceChildren(...blocks);
    loadDatabases();
  }

  // ---- apps, builds, logs, hostnames ------------------------------------------------------

  async function loadApps() {
    const tbody = $('apps').tBodies[0];
    try {
      const apps = (await api('GET', `/v1/projects/${enc(state.project.project_id)}/apps`)).apps || [];
      const selected = state.app && state.app.app_id;
      fill(tbody, apps.map((a) => el('tr', { 'data-app': a.app_id, class: a.app_id === selected ? 'selected' : '' },
        el('td', { title: a.app_id }, a.name),
        el('td', {}, a.default_hostname),
        el('td', {}, a.active_build_id ?? '–'),
        el('td', {}, el('button', { onclick: () => selectApp(a) }, 'Builds and hostnames')))));
    } catch (e) {
      panelError(tbody, 4, e);
    }
  }

  async function selectApp(app) {
    state.app = app;
    stopBuildWatch();
    $('app-detail').hidden = false;
    $('app-name').textContent = app.name;
    $('log-build').textContent = '–';
    $('log-status').textContent = '';
    $('build-log').textContent = '';
    for (const tr of $('apps').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.app === app.app_id);
    await Promise.all([loadBuilds(), loadHostnames()]);
  }

  async function loadBuilds() {
    const app = state.app;
    const tbody = $('builds').tBodies[0];
    try {
      const builds = (await api('GET', `/v1/apps/${enc(app.app_id)}/builds`)).builds || [];
      if (state.app !== app) return;
      fill(tbody, builds.map((b) => el('tr', { 'data-build': b.build_id },
        el('td', {}, b.build_id),
        statusCell(b.status),
        el('td', {}, b.active ? 'yes' : ''),
        el('td', {}, b.created_at),
        el('td', {}, b.error ?? ''),
        el('td', {}, el('button', { onclick: () => watchBuild(app, b.build_id) }, 'Log')))));
    } catch (e) {
      panelError(tbody, 6, e);
    }
  }

  function stopBuildWatch() {
    if (state.buildTimer !== null) clearTimeout(state.buildTimer);
    state.buildTimer = null;
  }

  // Shows a build's log, and follows it (once a second) until the build is ready or failed.
  async function watchBuild(app, buildId) {
    stopBuildWatch();
    $('log-build').textContent = buildId;
    const tick = async () => {
      state.buildTimer = null;
      let build;
      let log;
      try {
        build = await api('GET', `/v1/apps/${enc(app.app_id)}/builds/${enc(buildId)}`);
        log = await api('GET', `/v1/apps/${enc(app.app_id)}/builds/${enc(buildId)}/log`);
      } catch (e) {
        $('build-log').textContent = `Could not read the log: ${e.message}`;
        return;
      }
      if (state.app !== app || $('log-build').textContent !== buildId) return;
      $('log-status').textContent = build.status;
      $('log-status').className = `badge status-${build.status}`;
      $('build-log').textContent = (log.log || '') + (log.truncated ? '\n[log truncated]' : '');
      if (build.status === 'queued' || build.status === 'building') {
        state.buildTimer = setTimeout(tick, 1000);
      } else {
        loadBuilds();
        loadApps();
      }
    };
    await tick();
  }

  async function loadHostnames() {
    const app = state.app;
    const tbody = $('hostnames').tBodies[0];
    try {
      const hostnames = (await api('GET', `/v1/apps/${enc(app.app_id)}/hostnames`)).hostnames || [];
      if (state.app !== app) return;
      fill(tbody, hostnames.map((h) => el('tr', {},
        el('td', {}, h.hostname),
        el('td', {}, h.dns_mode),
        statusCell(h.status),
        el('td', {}, (h.missing || []).map((m) => `${m.type} ${m.name} → ${m.value}`).join('\n') || '–'),
        el('td', {}, h.verified_at ?? '–'))));
    } catch (e) {
      panelError(tbody, 5, e);
    }
  }

  // ---- domains and records ----------------------------------------------------------------

  async function loadDomains() {
    const tbody = $('domains').tBodies[0];
    try {
      const domains = (await api('GET', `/v1/projects/${enc(state.project.project_id)}/domains`)).domains || [];
      fill(tbody, domains.map((d) => el('tr', { 'data-domain': d.domain_id },
        el('td', { title: d.domain_id }, d.domain),
        statusCell(d.delegation_status),
        el('td', {}, (d.name_servers || []).join(', ')),
        el('td', {}, d.soa_serial),
        el('td', {}, el('button', { onclick: () => selectDomain(d) }, 'Records')))));
    } catch (e) {
      panelError(tbody, 5, e);
    }
  }

  async function selectDomain(domain) {
    state.domain = domain;
    $('domain-detail').hidden = false;
    $('domain-name').textContent = domain.domain;
    const tbody = $('records').tBodies[0];
    try {
      const records = (await api('GET', `/v1/domains/${enc(domain.domain_id)}/records`)).records || [];
      if (state.domain !== domain) return;
      fill(tbody, records.map((r) => el('tr', {},
        el('td', {}, r.fqdn),
        el('td', { class: 'nowrap' }, r.type),
        el('td', {}, r.value),
        el('td', { class: 'nowrap' }, r.ttl),
        el('td', { class: 'nowrap' }, r.priority ?? ''),
        el('td', {}, r.managed_by ?? ''))));
    } catch (e) {
      panelError(tbody, 6, e);
    }
  }

  // ---- the emulator's other platforms, each on its own origin with its own key ------------

  // What the page knows of each platform's public API: where its key goes, how it is
  // checked at sign-in, how its panel loads.
  const PLATFORM_APIS = {
    wayscloud: {
      header: (key) => ({ 'X-API-Key': key }),
      check: '/v1/quota',
      load: () => loadWaysCloud(),
      signedIn: () => {},
    },
    cloudsync: {
      header: (key) => ({ Authorization: `Bearer ${key}` }),
      check: '/v1/orgs',
      load: () => loadCloudSync(),
      signedIn: (org) => {
        const o = (org && org.data) || {};
        $('cloudsync-org').textContent = o.name ? `organization ${o.name} (${o.organizationId})` : '';
      },
    },
  };
  const others = new Map(); // name -> {url, key}
  const keyStorage = (name) => `console-key-${name}`;

  // A GET on the platform's own origin; the key only in its credential header.
  async function otherGet(name, path) {
    const p = others.get(name);
    let resp;
    try {
      resp = await fetch(`${p.url}${path}`, {
        method: 'GET',
        headers: PLATFORM_APIS[name].header(p.key),
        mode: 'cors',
        cache: 'no-store',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
      });
    } catch (e) {
      throw new ApiError(0, `${name} did not answer (${e.message})`, 'network');
    }
    let json = null;
    try {
      json = await resp.json();
    } catch (_) {
      json = null;
    }
    if (!resp.ok) {
      // WaysCloud's {"detail"}, CloudSync's {"errors": [{"detail"}]}.
      const first = json && Array.isArray(json.errors) ? json.errors[0] : null;
      const message = json && typeof json.detail === 'string'
        ? json.detail
        : first && typeof first.detail === 'string' ? first.detail : `HTTP ${resp.status}`;
      throw new ApiError(resp.status, `${resp.status} ${message}`, (json && json.code) || (first && first.code));
    }
    return json;
  }

  function showPlatforms(listing) {
    for (const p of (listing && listing.platforms) || []) {
      if (!PLATFORM_APIS[p.name] || typeof p.url !== 'string') continue;
      others.set(p.name, { url: p.url.replace(/\/$/, ''), key: null });
      $(`${p.name}-panel`).hidden = false;
      $(`${p.name}-url`).textContent = p.url;
      const saved = sessionStorage.getItem(keyStorage(p.name));
      if (saved) signInPlatform(p.name, saved);
    }
  }

  async function signInPlatform(name, key) {
    const error = $(`${name}-error`);
    error.textContent = '';
    if (!/^[\x21-\x7e]{8,}$/.test(key)) {
      error.textContent = 'That is not an API key: paste the whole key (visible characters, no spaces).';
      return;
    }
    const p = others.get(name);
    p.key = key;
    let answer;
    try {
      answer = await otherGet(name, PLATFORM_APIS[name].check);
    } catch (e) {
      forgetKey(name);
      error.textContent = e.status === 401
        ? 'The emulator refused this key (401): it is unknown, revoked or mistyped.'
        : `Sign-in failed: ${e.message}`;
      return;
    }
    sessionStorage.setItem(keyStorage(name), key);
    $(`${name}-key`).value = '';
    $(`${name}-signin`).hidden = true;
    $(`${name}-objects`).hidden = false;
    PLATFORM_APIS[name].signedIn(answer);
    await PLATFORM_APIS[name].load();
  }

  function forgetKey(name) {
    sessionStorage.removeItem(keyStorage(name));
    const p = others.get(name);
    if (p) p.key = null;
    $(`${name}-objects`).hidden = true;
    $(`${name}-signin`).hidden = false;
  }

  function emptyRow(tbody, columns, text) {
    fill(tbody, [el('tr', {}, el('td', { colspan: String(columns), class: 'muted' }, text))]);
  }

  // WaysCloud: databases of both engines with their size and connections (`info`), then a
  // database's firewall rules and snapshots.
  async function loadWaysCloud() {
    const tbody = $('wc-databases').tBodies[0];
    $('wc-detail').hidden = true;
    try {
      const lists = await Promise.all(['postgresql', 'mariadb'].map((t) =>
        otherGet('wayscloud', `/v1/databases/${enc(t)}`)));
      const dbs = lists.flatMap((l) => (l && l.databases) || []);
      const infos = await Promise.all(dbs.map((d) =>
        otherGet('wayscloud', `/v1/databases/${enc(d.db_type)}/${enc(d.db_name)}/info`).catch(() => null)));
      if (dbs.length === 0) {
        emptyRow(tbody, 8, 'No databases yet.');
        return;
      }
      fill(tbody, dbs.map((d, i) => {
        const info = infos[i] || {};
        return el('tr', { 'data-wc-database': d.db_name },
          el('td', {}, d.db_name),
          el('td', { class: 'nowrap' }, d.db_type),
          statusCell(d.status),
          el('td', { class: 'nowrap' }, info.size_mb == null ? '–' : `${info.size_mb} MB`),
          el('td', {}, info.connection_count ?? '–'),
          el('td', {}, d.connection_limit ?? '–'),
          el('td', {}, d.created_at),
          el('td', {}, el('button', { onclick: () => selectWaysCloud(d) }, 'Firewall and snapshots')));
      }));
    } catch (e) {
      panelError(tbody, 8, e);
    }
  }

  async function selectWaysCloud(d) {
    $('wc-detail').hidden = false;
    $('wc-db-name').textContent = d.db_name;
    const base = `/v1/databases/${enc(d.db_type)}/${enc(d.db_name)}`;
    const rules = $('wc-rules').tBodies[0];
    const snaps = $('wc-snapshots').tBodies[0];
    await Promise.all([
      otherGet('wayscloud', `${base}/firewall`).then((r) => {
        const list = (r && r.rules) || [];
        if (list.length === 0) return emptyRow(rules, 4, 'No rules: only the platform itself connects.');
        return fill(rules, list.map((x) => el('tr', { 'data-rule': x.rule_id },
          el('td', {}, x.ip_address), el('td', {}, x.port ?? ''), el('td', {}, x.description ?? ''),
          el('td', {}, x.created_at))));
      }).catch((e) => panelError(rules, 4, e)),
      otherGet('wayscloud', `${base}/snapshots`).then((r) => {
        const list = (r && r.snapshots) || [];
        if (list.length === 0) return emptyRow(snaps, 4, 'No snapshots.');
        return fill(snaps, list.map((x) => el('tr', { 'data-snapshot': x.snapshot_id },
          el('td', {}, x.snapshot_id), el('td', { class: 'nowrap' }, x.size_mb == null ? '' : `${x.size_mb} MB`),
          el('td', {}, x.description ?? ''), el('td', {}, x.created_at))));
      }).catch((e) => panelError(snaps, 4, e)),
    ]);
  }

  // CloudSync: managed databases, then a database's tables with their sync state and its
  // push notifications' status.
  async function loadCloudSync() {
    const tbody = $('cs-databases').tBodies[0];
    $('cs-detail').hidden = true;
    try {
      const dbs = ((await otherGet('cloudsync', '/v1/databases')) || {}).data || [];
      if (dbs.length === 0) {
        emptyRow(tbody, 6, 'No databases yet.');
        return;
      }
      fill(tbody, dbs.map((d) => {
        const jwt = [d.jwtSecretConfigured ? 'secret' : null, d.jwksUri ? 'JWKS' : null].filter(Boolean).join(', ');
        return el('tr', { 'data-cs-database': d.managedDatabaseId },
          el('td', { title: d.managedDatabaseId }, d.label),
          el('td', { class: 'nowrap' }, `${d.provider} (${d.flavor})`),
          el('td', {}, d.schemaName ? `${d.databaseName}.${d.schemaName}` : d.databaseName),
          el('td', {}, jwt || 'none'),
          el('td', {}, d.createdAt),
          el('td', {}, el('button', { onclick: () => selectCloudSync(d) }, 'Sync settings')));
      }));
    } catch (e) {
      panelError(tbody, 6, e);
    }
  }

  async function selectCloudSync(d) {
    $('cs-detail').hidden = false;
    $('cs-db-name').textContent = d.label;
    const base = `/v1/databases/${enc(d.managedDatabaseId)}`;
    const tables = $('cs-tables').tBodies[0];
    await Promise.all([
      otherGet('cloudsync', `${base}/cloudsync/tables`).then((r) => {
        const list = (r && r.data) || [];
        if (list.length === 0) return emptyRow(tables, 2, 'No tables.');
        return fill(tables, list.map((t) => el('tr', { 'data-table': t.name },
          el('td', {}, t.name),
          el('td', { class: t.enabled ? 'status-active' : 'muted' }, t.enabled ? 'enabled' : 'disabled'))));
      }).catch((e) => panelError(tables, 2, e)),
      otherGet('cloudsync', `${base}/notifications/status`).then((r) => {
        const s = (r && r.data) || {};
        $('cs-push').textContent = `Push notifications: ${s.status}${s.reason ? ` (${s.reason})` : ''}`;
      }).catch((e) => {
        $('cs-push').textContent = `Push notifications: ${e.message}`;
      }),
    ]);
  }

  async function loadPlatforms() {
    try {
      const resp = await fetch('/_console/platforms', { cache: 'no-store', credentials: 'omit' });
      if (resp.ok) showPlatforms(await resp.json());
    } catch (_) {
      // An emulator without the listing: Comwit's panels only.
    }
  }

  // ---- start ------------------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    $('signin-button').addEventListener('click', () => signIn($('token').value.trim()));
    $('token').addEventListener('keydown', (e) => {
      if (e.key === 'Enter') signIn($('token').value.trim());
    });
    $('signout').addEventListener('click', signOut);
    $('run-sql').addEventListener('click', runSql);
    $('sql').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) runSql();
    });
    for (const name of Object.keys(PLATFORM_APIS)) {
      const signInOther = () => signInPlatform(name, $(`${name}-key`).value.trim());
      $(`${name}-signin-button`).addEventListener('click', signInOther);
      $(`${name}-key`).addEventListener('keydown', (e) => {
        if (e.key === 'Enter') signInOther();
      });
      $(`${name}-signout`).addEventListener('click', () => forgetKey(name));
    }
    const saved = sessionStorage.getItem(STORAGE_KEY);
    if (saved) signIn(saved);
    loadPlatforms();
  });
})();
