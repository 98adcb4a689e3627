// The platform-emulator's app runner (written into the state directory by the emulator).
//
//   node runner.mjs check ENTRY   loads ENTRY and checks that its default export has a
//                                 fetch function (exit 0), else says why (exit 1)
//   node runner.mjs serve ENTRY   loads ENTRY, listens on 127.0.0.1:0, prints
//                                 "comwit-runner: port N", and answers every request with
//                                 `default.fetch(request, env)`; exits when stdin closes
//
// The gateway sends each request with two headers of its own, removed here:
// x-comwit-emulator-url (the public URL the client asked for) and
// x-comwit-emulator-env-bytes (the body starts with that many bytes of JSON: the app's env).
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

const [mode, entry] = process.argv.slice(2);
const URL_HEADER = 'x-comwit-emulator-url';
const ENV_HEADER = 'x-comwit-emulator-env-bytes';

async function load() {
  const mod = await import(pathToFileURL(entry).href);
  const app = mod.default;
  if (app === null || typeof app !== 'object' && typeof app !== 'function' || typeof app.fetch !== 'function') {
    console.error(`${entry}: the default export has no fetch function ` +
      '(expected `export default { fetch(request, env) { ... } }`)');
    process.exit(1);
  }
  return app;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function handle(app, req, res) {
  const raw = await readBody(req);
  const envBytes = Number.parseInt(String(req.headers[ENV_HEADER] ?? '0'), 10) || 0;
  const env = envBytes > 0 ? JSON.parse(raw.subarray(0, envBytes).toString('utf8')) : {};
  const body = raw.subarray(envBytes);
  const url = String(req.headers[URL_HEADER] ?? `http://${req.headers.host ?? 'localhost'}${req.url}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === URL_HEADER || name === ENV_HEADER || name === 'content-length') continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  const init = { method, headers };
  if (method !== 'GET' && method !== 'HEAD' && body.length > 0) init.body = body;
  let response;
  try {
    response = await app.fetch(new Request(url, init), env);
    if (!(response instanceof Response)) throw new TypeError('fetch did not return a Response');
  } catch (err) {
    console.error(`fetch threw: ${err && err.stack ? err.stack : err}`);
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('internal error: the app\'s fetch threw an exception\n');
    return;
  }
  const out = Buffer.from(await response.arrayBuffer());
  const outHeaders = [];
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie' || name === 'content-length' || name === 'transfer-encoding') continue;
    outHeaders.push([name, value]);
  }
  for (const cookie of response.headers.getSetCookie?.() ?? []) outHeaders.push(['set-cookie', cookie]);
  outHeaders.push(['content-length', String(out.length)]);
  res.writeHead(response.status, response.statusText || undefined, outHeaders.flat());
  res.end(out);
}

if (mode === 'check') {
  await load();
  console.log(`${entry}: default export has a fetch function`);
} else if (mode === 'serve') {
  const app = await load();
  const server = createServer((req, res) => {
    handle(app, req, res).catch((err) => {
      console.error(`request failed: ${err && err.stack ? err.stack : err}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('internal error\n');
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`comwit-runner: port ${server.address().port}\n`);
  });
  const stop = () => process.exit(0);
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
} else {
  console.error('usage: node runner.mjs check|serve ENTRY');
  process.exit(2);
}
