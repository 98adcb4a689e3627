// Runs SQL against a database URL with the official libSQL client (@libsql/client), for
// tests/emulator_sql.rs.
//
//   node client.mjs [--batch | --transaction] [--blob <bytes>] [--resolve-localhost]
//                   [--protobuf | --ws | --replica <file>] <url> <token> <sql> [<sql> ...]
//
// Default: each statement with client.execute(), in order. --batch: all statements in one
// client.batch(..., "write"). --transaction: an interactive client.transaction("write")
// (baton-carried stream), committed at the end. --blob N: each statement with a `?` gets one
// argument, a blob of N bytes (byte i is i % 251). --resolve-localhost: names under
// `localhost` connect to 127.0.0.1 (RFC 6761; browsers and systemd-resolved do so, a bare
// glibc resolver does not), for the database's own host `http://<id>.db.localhost:<port>`.
// --protobuf: instead of @libsql/client, its Hrana client (@libsql/hrana-client) asking for
// protocol version 3, which negotiates `v3-protobuf` when the server has it (each statement
// with stream.query(); with --batch, one batch over the cursor endpoint; with --transaction,
// BEGIN, the statements and COMMIT on the stream); the output then also has "encoding" (the
// one negotiated). With --ws too, the same over a WebSocket offering the subprotocols of
// protocol version 3 as the Hrana client's openWs(url, jwt, 3) does (`hrana3-protobuf`,
// `hrana3`, `hrana2`, `hrana1`); "encoding" is then the subprotocol the server chose.
//
// --ws: the same over Hrana over WebSocket: the URL's `http` becomes `ws` (`https`, `wss`),
// and @libsql/client negotiates the best subprotocol the server offers (hrana3 ...).
//
// --replica <file>: an embedded replica (the native `libsql` package under @libsql/client):
// `createClient({url: "file:<file>", syncUrl: <url>, authToken})`, then client.sync() (the
// first one downloads the database), then each statement with client.execute() (reads are
// local; writes go to <url> and, with readYourWrites, are pulled back), then client.sync()
// again. The output then also has "syncs" (what each sync() returned).
//
// Prints {"results": [{"columns", "columnTypes", "rows", "rowsAffected", "lastInsertRowid"}]}
// on stdout and exits 0; on failure prints "ERROR <code>: <message>" on stderr and exits 1.
import dns from "node:dns";
import http from "node:http";
import { Readable } from "node:stream";
import { createClient } from "@libsql/client";
import * as hrana from "@libsql/hrana-client";

function usage() {
  console.error(
    "usage: node client.mjs [--batch | --transaction] [--blob <bytes>] [--resolve-localhost] [--replica <file>] " +
      "<url> <token> <sql> [<sql> ...]",
  );
  process.exit(2);
}

const args = process.argv.slice(2);
let mode = "execute";
let blobBytes;
let resolveLocalhost = false;
let protobuf = false;
let ws = false;
let replica;
while (args.length > 0 && args[0].startsWith("--")) {
  const flag = args.shift();
  if (flag === "--batch" || flag === "--transaction") {
    mode = flag.slice(2);
  } else if (flag === "--blob") {
    blobBytes = Number(args.shift());
    if (!Number.isSafeInteger(blobBytes) || blobBytes < 0) {
      usage();
    }
  } else if (flag === "--resolve-localhost") {
    resolveLocalhost = true;
  } else if (flag === "--protobuf") {
    protobuf = true;
  } else if (flag === "--ws") {
    ws = true;
  } else if (flag === "--replica") {
    replica = args.shift();
    if (!replica) {
      usage();
    }
  } else {
    usage();
  }
}
if (args.length < 3) {
  usage();
}
const [given, authToken, ...sqls] = args;
const url = ws ? given.replace(/^http/, "ws") : given;

const blob = blobBytes === undefined ? undefined : Uint8Array.from({ length: blobBytes }, (_, i) => i % 251);
const statements = sqls.map((sql) => (blob !== undefined && sql.includes("?") ? { sql, args: [blob] } : sql));

// fetch over node:http, with names under `localhost` looked up as 127.0.0.1.
const systemLookup = dns.lookup;
const lookup = (hostname, options, callback) => {
  if (typeof options === "function") {
    callback = options;
    options = {};
  }
  if (hostname === "localhost" || hostname.endsWith(".localhost")) {
    if (options && options.all) {
      callback(null, [{ address: "127.0.0.1", family: 4 }]);
    } else {
      callback(null, "127.0.0.1", 4);
    }
  } else {
    systemLookup(hostname, options, callback);
  }
};
// A WebSocket connects through node:net, which looks names up with dns.lookup.
if (resolveLocalhost && ws) {
  dns.lookup = lookup;
}
const localhostFetch = async (input, init) => {
  const request = new Request(input, init);
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  return await new Promise((resolve, reject) => {
    const req = http.request(
      request.url,
      { method: request.method, headers: Object.fromEntries(request.headers), lookup },
      (res) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const v of Array.isArray(value) ? value : [value]) {
            if (v !== undefined) headers.append(name, v);
          }
        }
        const status = res.statusCode ?? 500;
        const empty = status === 204 || status === 304 || request.method === "HEAD";
        resolve(new Response(empty ? null : Readable.toWeb(res), { status, headers }));
      },
    );
    req.on("error", reject);
    if (body !== undefined) {
      req.setHeader("content-length", body.length);
    }
    req.end(body);
  });
};

// Integers that fit a double come back as numbers, others as strings (JSON has no BigInt).
const plain = (value) => {
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (value instanceof ArrayBuffer) {
    return { blob: Buffer.from(value).toString("base64") };
  }
  return value;
};

const toJson = (rs) => ({
  columns: rs.columns,
  columnTypes: rs.columnTypes,
  rows: rs.rows.map((row) => Array.from(row, plain)),
  rowsAffected: rs.rowsAffected,
  lastInsertRowid: rs.lastInsertRowid === undefined ? null : plain(rs.lastInsertRowid),
});

// Hrana's rows as @libsql/client's result sets.
const fromHrana = (rs) => ({
  columns: rs.columnNames,
  columnTypes: rs.columnDecltypes.map((t) => t ?? ""),
  rows: rs.rows,
  rowsAffected: rs.affectedRowCount,
  lastInsertRowid: rs.lastInsertRowid,
});

if (protobuf) {
  // The socket is made here (as openWs(url, jwt, 3) makes it) so that its subprotocol shows.
  const socket = ws ? new hrana.WebSocket(url, ["hrana3-protobuf", "hrana3", "hrana2", "hrana1"]) : undefined;
  const client = ws
    ? new hrana.WsClient(socket, authToken)
    : hrana.openHttp(url, authToken, resolveLocalhost ? localhostFetch : undefined, undefined, 3);
  try {
    const version = await client.getVersion();
    const stream = client.openStream();
    stream.intMode = "bigint";
    let results = [];
    if (mode === "batch") {
      const batch = stream.batch(true);
      const steps = statements.map((stmt) => batch.step().query(stmt));
      await batch.execute();
      results = await Promise.all(steps);
    } else if (mode === "transaction") {
      await stream.run("BEGIN");
      for (const stmt of statements) {
        results.push(await stream.query(stmt));
      }
      await stream.run("COMMIT");
    } else {
      for (const stmt of statements) {
        results.push(await stream.query(stmt));
      }
    }
    stream.close();
    const encoding = ws ? socket.protocol : client._endpoint ? client._endpoint.encoding : undefined;
    process.stdout.write(JSON.stringify({ version, encoding, results: results.map(fromHrana).map(toJson) }) + "\n");
  } catch (e) {
    const code = e && e.code ? e.code : "UNKNOWN";
    const message = e && e.message ? e.message : String(e);
    process.stderr.write(`ERROR ${code}: ${message}\n`);
    process.exitCode = 1;
  } finally {
    client.close();
  }
  process.exit();
}

if (replica !== undefined) {
  let client;
  try {
    client = createClient({ url: `file:${replica}`, syncUrl: url, authToken, intMode: "bigint" });
    const syncs = [await client.sync()];
    const results = [];
    for (const stmt of statements) {
      results.push(await client.execute(stmt));
    }
    syncs.push(await client.sync());
    const plainSync = (s) => (s ? { frames_synced: s.frames_synced, frame_no: s.frame_no ?? null } : null);
    process.stdout.write(JSON.stringify({ syncs: syncs.map(plainSync), results: results.map(toJson) }) + "\n");
  } catch (e) {
    const code = e && e.code ? e.code : "UNKNOWN";
    const message = e && e.message ? e.message : String(e);
    process.stderr.write(`ERROR ${code}: ${message}\n`);
    process.exitCode = 1;
  } finally {
    if (client) client.close();
  }
  process.exit();
}

const client = createClient({
  url,
  authToken,
  intMode: "bigint",
  ...(resolveLocalhost && !ws ? { fetch: localhostFetch } : {}),
});
try {
  let results = [];
  if (mode === "batch") {
    results = await client.batch(statements, "write");
  } else if (mode === "transaction") {
    const tx = await client.transaction("write");
    try {
      for (const sql of statements) {
        results.push(await tx.execute(sql));
      }
      await tx.commit();
    } finally {
      tx.close();
    }
  } else {
    for (const sql of statements) {
      results.push(await client.execute(sql));
    }
  }
  process.stdout.write(JSON.stringify({ results: results.map(toJson) }) + "\n");
} catch (e) {
  const code = e && e.code ? e.code : "UNKNOWN";
  const message = e && e.message ? e.message : String(e);
  process.stderr.write(`ERROR ${code}: ${message}\n`);
  process.exitCode = 1;
} finally {
  client.close();
}
