// Runs SQL against a database URL with the official libSQL client (@libsql/client), for
// tests/emulator_sql.rs.
//
//   node client.mjs [--batch | --transaction] <url> <token> <sql> [<sql> ...]
//
// Default: each statement with client.execute(), in order. --batch: all statements in one
// client.batch(..., "write"). --transaction: an interactive client.transaction("write")
// (baton-carried stream), committed at the end.
//
// Prints {"results": [{"columns", "columnTypes", "rows", "rowsAffected", "lastInsertRowid"}]}
// on stdout and exits 0; on failure prints "ERROR <code>: <message>" on stderr and exits 1.
import { createClient } from "@libsql/client";

function usage() {
  console.error("usage: node client.mjs [--batch | --transaction] <url> <token> <sql> [<sql> ...]");
  process.exit(2);
}

const args = process.argv.slice(2);
let mode = "execute";
if (args[0] === "--batch" || args[0] === "--transaction") {
  mode = args.shift().slice(2);
}
if (args.length < 3) {
  usage();
}
const [url, authToken, ...statements] = args;

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

const client = createClient({ url, authToken, intMode: "bigint" });
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
