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
  page.on('request', (r) => requests.push({ url: r.url(), headers: r.headers() }));
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

  // The screenshot shows the rows of a query.
  if (process.env.SCREENSHOT) {
    await page.fill('#sql', 'SELECT id, body, score FROM notes ORDER BY id');
    await page.click('#run-sql');
    await page.locator('#sql-result table.rows tbody tr').nth(1).waitFor();
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
    step(`screenshot ${process.env.SCREENSHOT}`);
  }

  // 6. A reload keeps the session (sessionStorage); signing out forgets the token.
  await page.reload();
  await page.locator('#console').waitFor({ state: 'visible' });
  await page.click('#signout');
  await page.locator('#signin').waitFor({ state: 'visible' });
  const kept = await page.evaluate(() => JSON.stringify(sessionStorage));
  check(!kept.includes('cwt_'), `sessionStorage after sign-out: ${kept}`);
  step('reload keeps the session, sign-out forgets the token');

  // 7. No token in any URL; every API call carried one in its Authorization header; nothing
  //    left this origin; the page logged no token and raised no error.
  for (const r of requests) {
    check(r.url.startsWith(`${base}/`), `a request left the emulator: ${r.url}`);
    check(!/cwt_|cqt_|cdt_/.test(r.url), `a token in a URL: ${r.url}`);
    const path = new URL(r.url).pathname;
    if (path.startsWith('/v1/') || path.startsWith('/db/')) {
      check(/^Bearer c(wt|qt)_/.test(r.headers.authorization || ''), `no bearer token on ${path}`);
    }
    if (path.startsWith('/db/')) {
      check(r.headers.authorization.startsWith('Bearer cqt_'), `SQL without a query token: ${path}`);
    }
  }
  const api = requests.filter((r) => new URL(r.url).pathname.startsWith('/v1/'));
  check(api.length > 10, `only ${api.length} API calls seen`);
  for (const m of pageMessages) {
    check(!m.includes(token) && !/cqt_|cdt_/.test(m), `the page logged a token: ${m}`);
    check(!m.startsWith('pageerror'), m);
  }
  step(`${requests.length} requests checked: tokens only in Authorization headers`);
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
