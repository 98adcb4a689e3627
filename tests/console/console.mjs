// Drives the emulator's browser console (GET / on the Comwit listener) in Debian's headless
// chromium through playwright-core, as tests/emulator/console.rs sets it up.
//
// Input (environment, so no token is on a command line):
//   CONSOLE_URL       the Comwit listener, e.g. http://127.0.0.1:8787
//   COMWIT_TOKEN      a cwt_ user token
//   DATABASE_ID       a database of the token's first project (empty, active)
//   APP_ID, BUILD_ID  an app of that project and one of its builds (may still be building)
//   HOSTNAME, HOSTNAME_STATUS  a hostname attached to the app and its status
//   DOMAIN_ID, RECORD_VALUE    a domain of the project and a record value in its zone
//   WAYSCLOUD_URL, WAYSCLOUD_KEY   WaysCloud's API (its own origin) and an API key
//   WAYSCLOUD_DB, WAYSCLOUD_SNAPSHOT  a PostgreSQL database of that key, with a firewall
//                     rule for 127.0.0.2, and one of its snapshots
//   CLOUDSYNC_URL, CLOUDSYNC_KEY   CloudSync's API (its own origin) and a management key
//   CLOUDSYNC_DB_ID   a database of that key with tables notes (synced) and drafts
//   SCREENSHOT        optional: where to write a PNG of the console
//   CHROMIUM          optional: the browser (default /usr/bin/chromium)
// Prints one line per step; exits 1 with the reason on the first failure.

import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const base = env('CONSOLE_URL').replace(/\/$/, '');
const token = env('COMWIT_TOKEN');
const databaseId = env('DATABASE_ID');
const appId = env('APP_ID');
const buildId = env('BUILD_ID');
const hostname = env('HOSTNAME');
const hostnameStatus = env('HOSTNAME_STATUS');
const domainId = env('DOMAIN_ID');
const recordValue = env('RECORD_VALUE');
const wcUrl = env('WAYSCLOUD_URL').replace(/\/$/, '');
const wcKey = env('WAYSCLOUD_KEY');
const wcDb = env('WAYSCLOUD_DB');
const wcSnapshot = env('WAYSCLOUD_SNAPSHOT');
const csUrl = env('CLOUDSYNC_URL').replace(/\/$/, '');
const csKey = env('CLOUDSYNC_KEY');
const csDbId = env('CLOUDSYNC_DB_ID');
const secrets = [token, wcKey, csKey];
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 20000;

const step = (what) => console.log(`console test: ${what}`);

function check(cond, message) {
  if (!cond) throw new Error(message);
}

if (!existsSync(executablePath)) {
  console.error(`console test: ${executablePath} is missing: run scripts/setup.sh (it installs Debian's chromium)`);
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), 'comwit-console-'));
let context;
let failure = null;
const requests = [];
const pageMessages = [];
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  page.on('request', (r) => requests.push({ url: r.url(), method: r.method(), headers: r.headers() }));
  page.on('console', (m) => pageMessages.push(m.text()));
  page.on('pageerror', (e) => pageMessages.push(`pageerror: ${e.message}`));

  const text = async (selector) => (await page.locator(selector).first().textContent()) || '';
  const waitText = async (selector, pattern, what, timeout = TIMEOUT) => {
    try {
      await page.waitForFunction(
        ([sel, src]) => {
          const node = document.querySelector(sel);
          return node !== null && new RegExp(src).test(node.textContent || '');
        },
        [selector, pattern.source],
        { timeout },
      );
    } catch (_) {
      throw new Error(`${what}: ${selector} never matched ${pattern}; it reads ${JSON.stringify(await text(selector).catch(() => '<missing>'))}`);
    }
  };

  // 1. The page, then a wrong token, a malformed one and the right one.
  const resp = await page.goto(`${base}/`);
  check(resp && resp.status() === 200, `GET / answered ${resp && resp.status()}`);
  check((await page.title()) === 'Comwit emulator console', `title ${await page.title()}`);
  step('page loaded');

  await page.fill('#token', 'hello');
  await page.click('#signin-button');
  await waitText('#signin-error', /not a Comwit user token.*cwt_/, 'malformed token');
  await page.fill('#token', `cwt_${'0'.repeat(32)}`);
  await page.click('#signin-button');
  await waitText('#signin-error', /refused this token \(401\)/, 'wrong token');
  check(await page.locator('#console').isHidden(), 'the console shows after a wrong token');
  step('wrong tokens refused with a clear message');

  await page.fill('#token', token);
  await page.press('#token', 'Enter');
  await page.locator('#console').waitFor({ state: 'visible' });
  await waitText('#signin-error', /^$/, 'no error after signing in');
  const dbRow = `#databases tr[data-database="${databaseId}"]`;
  await waitText(`${dbRow} td:nth-child(2)`, /^active$/, 'the database listed as active');
  check((await page.inputValue('#token')) === '', 'the token is left in the input');
  step('signed in: projects and databases listed');

  // 2. The app's build (started just before the browser): its log, followed until the build ends.
  await page.click(`#apps tr[data-app="${appId}"] button`);
  await page.locator(`#builds tr[data-build="${buildId}"]`).waitFor();
  await page.click(`#builds tr[data-build="${buildId}"] button`);
  await waitText('#log-status', /./, 'the build status');
  const firstStatus = await text('#log-status');
  await waitText('#log-status', /^ready$/, 'the build becomes ready', 90000);
  await waitText('#build-log', new RegExp(`build ${buildId}[\\s\\S]*ready: serving as the app's active build`), 'the build log');
  await waitText(`#apps tr[data-app="${appId}"] td:nth-child(3)`, new RegExp(`^${buildId}$`), 'the app\'s active build');
  step(`build log followed (first seen ${firstStatus}, then ready)`);

  // 3. The SQL editor: a script with a quoted semicolon, rows shown.
  await page.selectOption('#sql-database', databaseId);
  await page.fill('#sql', [
    'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, score REAL);',
    "INSERT INTO notes (body, score) VALUES ('hello from the console', 1.5), ('a; semicolon', NULL);",
    '-- a comment; with a semicolon',
    'SELECT id, body, score FROM notes ORDER BY id',
  ].join('\n'));
  await page.click('#run-sql');
  await page.locator('#sql-result table.rows tbody tr').nth(1).waitFor();
  const rows = await page.locator('#sql-result table.rows tbody tr').allTextContents();
  check(rows.length === 2, `rows: ${JSON.stringify(rows)}`);
  check(rows[0] === '1hello from the console1.5', `first row ${JSON.stringify(rows[0])}`);
  check(rows[1] === '2a; semicolonNULL', `second row ${JSON.stringify(rows[1])}`);
  const heads = await page.locator('#sql-result table.rows thead th').allTextContents();
  check(heads.join(',') === 'id,body,score', `columns ${heads}`);
  check((await text('#sql-error')) === '', `sql error ${await text('#sql-error')}`);
  step('query ran: 2 rows shown');

  // 4. Suspend: the editor is refused with the reason; resume: it runs again.
  await page.click(`${dbRow} button[data-action="suspend"]`);
  await waitText(`${dbRow} td:nth-child(2)`, /^suspended$/, 'suspend');
  await page.fill('#sql', 'SELECT count(*) AS n FROM notes');
  await page.click('#run-sql');
  await waitText('#sql-error', /SQL refused \(403\).*suspended; resume it to run SQL/, 'SQL on a suspended database');
  check(await page.locator('#sql-result table').count() === 0, 'rows shown for a refused query');
  step(`suspended: ${await text('#sql-error')}`);
  await page.click(`${dbRow} button[data-action="resume"]`);
  await waitText(`${dbRow} td:nth-child(2)`, /^active$/, 'resume');
  await page.click('#run-sql');
  await waitText('#sql-result table.rows tbody', /^2$/, 'count after resume');
  step('resumed: the editor runs again');

  // 5. Hostnames with their verification, domains and records.
  await waitText('#hostnames tbody', new RegExp(`${hostname.replace(/\./g, '\\.')}`), 'the hostname');
  const hostRow = await page.locator('#hostnames tbody tr').filter({ hasText: hostname }).first().locator('td').allTextContents();
  check(hostRow[2] === hostnameStatus, `hostname status ${JSON.stringify(hostRow)}; expected ${hostnameStatus}`);
  await page.click(`#domains tr[data-domain="${domainId}"] button`);
  await waitText('#records tbody', new RegExp(recordValue), 'the record');
  step(`hostname ${hostname} ${hostRow[2]}; records listed`);

  // 6. WaysCloud and CloudSync, each on its own origin with its own key: a wrong key is
  //    refused, the right one lists what the API made.
  await page.locator('#wayscloud-panel').waitFor({ state: 'visible' });
  await waitText('#wayscloud-url', new RegExp(`^${wcUrl}$`), 'the WaysCloud URL from the listing');
  await page.fill('#wayscloud-key', `wcs_${'0'.repeat(32)}`);
  await page.click('#wayscloud-signin-button');
  await waitText('#wayscloud-error', /refused this key \(401\)/, 'a wrong WaysCloud key');
  await page.fill('#wayscloud-key', wcKey);
  await page.press('#wayscloud-key', 'Enter');
  const wcRow = `#wc-databases tr[data-wc-database="${wcDb}"]`;
  await waitText(`${wcRow} td:nth-child(2)`, /^postgresql$/, 'the WaysCloud database');
  const wcCells = await page.locator(`${wcRow} td`).allTextContents();
  check(wcCells[2] === 'active' && /^[0-9.]+ MB$/.test(wcCells[3]), `WaysCloud row ${JSON.stringify(wcCells)}`);
  check((await page.inputValue('#wayscloud-key')) === '', 'the WaysCloud key is left in the input');
  await page.click(`${wcRow} button`);
  await waitText('#wc-rules tbody', /127\.0\.0\.2[\s\S]*console rule/, 'the firewall rule');
  await page.locator(`#wc-snapshots tr[data-snapshot="${wcSnapshot}"]`).waitFor();
  await waitText('#wc-snapshots tbody', /console snapshot/, 'the snapshot');
  step(`WaysCloud: ${wcDb} (${wcCells[3]}), its firewall rule and snapshot listed`);

  await page.locator('#cloudsync-panel').waitFor({ state: 'visible' });
  await page.fill('#cloudsync-key', `csk_${'0'.repeat(32)}`);
  await page.click('#cloudsync-signin-button');
  await waitText('#cloudsync-error', /refused this key \(401\)/, 'a wrong CloudSync key');
  await page.fill('#cloudsync-key', csKey);
  await page.click('#cloudsync-signin-button');
  const csRow = `#cs-databases tr[data-cs-database="${csDbId}"]`;
  await waitText(`${csRow} td:nth-child(1)`, /^Console DB$/, 'the CloudSync database');
  await waitText('#cloudsync-org', /organization/, 'the CloudSync organization');
  await page.click(`${csRow} button`);
  await waitText('#cs-tables tr[data-table="notes"] td:nth-child(2)', /^enabled$/, 'the synced table');
  await waitText('#cs-tables tr[data-table="drafts"] td:nth-child(2)', /^disabled$/, 'the table not synced');
  await waitText('#cs-push', /Push notifications: disabled/, 'the push status');
  step('CloudSync: the database, its tables and sync state listed');

  // No credential in the page's HTML (inputs cleared, nothing rendered from a key).
  const html = await page.content();
  for (const secret of secrets) check(!html.includes(secret), 'a credential in the page\'s HTML');
  step('no credential in the page source');

  // The screenshot shows the rows of a query.
  if (process.env.SCREENSHOT) {
    await page.fill('#sql', 'SELECT id, body, score FROM notes ORDER BY id');
    await page.click('#run-sql');
    await page.locator('#sql-result table.rows tbody tr').nth(1).waitFor();
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
    step(`screenshot ${process.env.SCREENSHOT}`);
  }

  // 7. A reload keeps every session (sessionStorage); signing out forgets every credential.
  await page.reload();
  await page.locator('#console').waitFor({ state: 'visible' });
  await page.locator(`#wc-databases tr[data-wc-database="${wcDb}"]`).waitFor();
  await page.locator(`#cs-databases tr[data-cs-database="${csDbId}"]`).waitFor();
  await page.click('#signout');
  await page.locator('#signin').waitFor({ state: 'visible' });
  await page.locator('#wayscloud-signin').waitFor({ state: 'visible' });
  await page.locator('#cloudsync-signin').waitFor({ state: 'visible' });
  const kept = await page.evaluate(() => JSON.stringify(sessionStorage));
  check(!kept.includes('cwt_') && secrets.every((x) => !kept.includes(x)), `sessionStorage after sign-out: ${kept}`);
  step('reload keeps the sessions, sign-out forgets every credential');

  // 8. No credential in any URL; every API call carried its own in its header and only
  //    there; nothing left the emulator's three origins; the page logged no credential and
  //    raised no error.
  const origins = { [base]: 'comwit', [wcUrl]: 'wayscloud', [csUrl]: 'cloudsync' };
  const seen = { comwit: 0, wayscloud: 0, cloudsync: 0 };
  for (const r of requests) {
    const url = new URL(r.url);
    const platform = origins[url.origin];
    check(platform !== undefined, `a request left the emulator: ${r.url}`);
    check(!/cwt_|cqt_|cdt_|wcs_|csk_/.test(r.url) && secrets.every((x) => !r.url.includes(x)), `a credential in a URL: ${r.url}`);
    const path = url.pathname;
    if (r.method === 'OPTIONS') continue; // a CORS preflight carries no credential
    if (platform === 'comwit' && (path.startsWith('/v1/') || path.startsWith('/db/'))) {
      check(/^Bearer c(wt|qt)_/.test(r.headers.authorization || ''), `no bearer token on ${path}`);
      check(!r.headers['x-api-key'], `a WaysCloud key sent to Comwit: ${path}`);
    }
    if (platform === 'comwit' && path.startsWith('/db/')) {
      check(r.headers.authorization.startsWith('Bearer cqt_'), `SQL without a query token: ${path}`);
    }
    if (platform === 'wayscloud') {
      check(/^wcs_/.test(r.headers['x-api-key'] || ''), `no X-API-Key on WaysCloud ${path}`);
      check(!r.headers.authorization, `an Authorization header sent to WaysCloud: ${path}`);
    }
    if (platform === 'cloudsync') {
      check(/^Bearer csk_/.test(r.headers.authorization || ''), `no key on CloudSync ${path}`);
      check(!r.headers['x-api-key'], `a WaysCloud key sent to CloudSync: ${path}`);
    }
    if (platform !== 'comwit') check(r.method === 'GET', `${r.method} ${r.url}: the other platforms are read-only`);
    if (path.startsWith('/v1/')) seen[platform] += 1;
  }
  check(seen.comwit > 10 && seen.wayscloud >= 5 && seen.cloudsync >= 4, `API calls seen: ${JSON.stringify(seen)}`);
  for (const m of pageMessages) {
    check(secrets.every((x) => !m.includes(x)) && !/cqt_|cdt_/.test(m), `the page logged a credential: ${m}`);
    check(!m.startsWith('pageerror'), m);
  }
  step(`${requests.length} requests checked (${JSON.stringify(seen)}): credentials only in their headers`);
} catch (e) {
  failure = e;
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
if (failure) {
  console.error(`console test failed: ${failure.message}`);
  process.exit(1);
}
console.log('console test: ok');
