"""Runs SQL against a database URL with an official Python libSQL client, for
tests/emulator/sql_python.rs (the Python counterpart of client.mjs).

  python client.py --client (libsql-client | libsql) [--batch | --transaction] [--ws]
                   [--args JSON] <url> <token> <sql> [<sql> ...]

--client libsql-client: PyPI `libsql-client` (0.3), its synchronous client
(create_client_sync): Hrana over HTTP v1 (`v1/execute`, `v1/batch`) for http:// URLs, Hrana
over WebSocket (`hrana2`) for ws:// URLs. Default: each statement with client.execute();
--batch: all statements in one client.batch() (transactional); --transaction: an
interactive client.transaction() committed at the end (WebSocket only: the HTTP client
refuses transactions).

--client libsql: PyPI `libsql` (0.1, the Rust `libsql` crate's remote client: Hrana over
HTTP v3, `v3/pipeline` and `v3/cursor`), through its DB-API: libsql.connect(url,
auth_token=...). Default: each statement with conn.execute() in autocommit mode
(isolation_level=None); --batch: all statements joined into one conn.executescript() (no
result sets); --transaction: the DB-API's implicit transaction (isolation_level
"DEFERRED": a BEGIN before the first write) and conn.commit() at the end.

--ws: the URL's `http` becomes `ws` (`https`, `wss`). --args JSON: a JSON array of
arguments bound to each statement that has a `?` (an object {"blob": "<base64>"} is a blob).

Prints {"results": [{"columns", "rows", "rowsAffected", "lastInsertRowid"}]} on stdout and
exits 0 (blobs as {"blob": "<base64>"}, integers exactly, 64-bit included); on failure
prints "ERROR <code>: <message>" on stderr and exits 1 (for `libsql`, whose errors carry no
code, the exception's class name stands for the code); exits 3 when the client is not
installed, 2 on a usage error.
"""

import base64
import json
import sys


def usage():
    print(
        "usage: python client.py --client (libsql-client | libsql) [--batch | --transaction] "
        "[--ws] [--args JSON] <url> <token> <sql> [<sql> ...]",
        file=sys.stderr,
    )
    sys.exit(2)


def parse(argv):
    opts = {"client": None, "mode": "execute", "ws": False, "args": None}
    args = list(argv)
    while args and args[0].startswith("--"):
        flag = args.pop(0)
        if flag == "--client" and args:
            opts["client"] = args.pop(0)
        elif flag in ("--batch", "--transaction"):
            opts["mode"] = flag[2:]
        elif flag == "--ws":
            opts["ws"] = True
        elif flag == "--args" and args:
            opts["args"] = [arg_in(v) for v in json.loads(args.pop(0))]
        else:
            usage()
    if opts["client"] not in ("libsql-client", "libsql") or len(args) < 3:
        usage()
    url, token, *sqls = args
    if opts["ws"]:
        url = "ws" + url[len("http"):] if url.startswith("http") else url
    return opts, url, token, sqls


def arg_in(value):
    if isinstance(value, dict) and set(value) == {"blob"}:
        return base64.b64decode(value["blob"])
    return value


def plain(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"blob": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def statements(opts, sqls):
    """Each SQL text with the arguments when it has a `?`, else none."""
    return [(sql, opts["args"] if opts["args"] is not None and "?" in sql else None) for sql in sqls]


# ---- libsql-client ----------------------------------------------------------------------


def not_installed(e):
    print(f"{e}: the Python libSQL clients are not installed in this Python", file=sys.stderr)
    sys.exit(3)


def run_libsql_client(opts, url, token, sqls):
    try:
        import libsql_client
    except ImportError as e:
        not_installed(e)

    def to_json(rs):
        return {
            "columns": list(rs.columns),
            "rows": [[plain(v) for v in row.astuple()] for row in rs.rows],
            "rowsAffected": rs.rows_affected,
            "lastInsertRowid": rs.last_insert_rowid,
        }

    stmts = [libsql_client.Statement(sql, args) if args is not None else sql for sql, args in statements(opts, sqls)]
    try:
        with libsql_client.create_client_sync(url, auth_token=token or None) as client:
            if opts["mode"] == "batch":
                results = client.batch(stmts)
            elif opts["mode"] == "transaction":
                with client.transaction() as tx:
                    results = [tx.execute(stmt) for stmt in stmts]
                    tx.commit()
            else:
                results = [client.execute(stmt) for stmt in stmts]
    except libsql_client.LibsqlError as e:
        fail(e.code, e.explanation)
    except Exception as e:  # a transport error: no LibsqlError, no code
        fail(type(e).__name__, str(e))
    return [to_json(rs) for rs in results]


# ---- libsql -------------------------------------------------------------------------------


def run_libsql(opts, url, token, sqls):
    try:
        import libsql
    except ImportError as e:
        not_installed(e)

    def to_json(cur):
        rows = cur.fetchall() if cur.description else []
        return {
            "columns": [d[0] for d in cur.description] if cur.description else [],
            "rows": [[plain(v) for v in row] for row in rows],
            "rowsAffected": cur.rowcount,
            "lastInsertRowid": cur.lastrowid,
        }

    results = []
    try:
        if opts["mode"] == "transaction":
            conn = libsql.connect(url, auth_token=token)
        else:
            conn = libsql.connect(url, auth_token=token, isolation_level=None)
        if opts["mode"] == "batch":
            conn.executescript(";\n".join(sqls))
        else:
            for sql, args in statements(opts, sqls):
                cur = conn.execute(sql, tuple(args)) if args is not None else conn.execute(sql)
                results.append(to_json(cur))
            if opts["mode"] == "transaction":
                conn.commit()
        conn.close()
    except Exception as e:  # libsql raises ValueError and its own errors, with no code
        fail(type(e).__name__, str(e))
    return results


def fail(code, message):
    print(f"ERROR {code}: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    opts, url, token, sqls = parse(sys.argv[1:])
    run = run_libsql_client if opts["client"] == "libsql-client" else run_libsql
    results = run(opts, url, token, sqls)
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
