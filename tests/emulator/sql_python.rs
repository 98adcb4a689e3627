//! The official Python libSQL clients against the emulator's database URL (issue 23, part 1):
//! PyPI `libsql-client` 0.3 (Hrana over HTTP v1, `v1/execute` and `v1/batch`; Hrana over
//! WebSocket, `hrana2`, for transactions) and PyPI `libsql` 0.1 (the Rust `libsql` crate's
//! remote client: Hrana over HTTP v3, `v3/pipeline` and `v3/cursor`), driven by
//! `tests/sql_client/client.py` with the project's `.venv` (`scripts/setup.sh` installs both).
//! What passes here is the Python columns of `docs/libsql-compat.md`.

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::sql_client::{python, PyClient};
use support::Emulator;

/// A database of the emulator: (id, database URL, token).
fn database(emu: &Emulator, name: &str) -> (String, String, String) {
    let (status, created) = emu.api(
        Method::POST,
        "/v1/projects/prj_local/databases",
        Some(json!({ "name": name })),
    );
    assert_eq!(status, 201, "{created:#}");
    let db = &created["database"];
    (
        str_of(&db["database_id"]),
        str_of(&db["database_url"]),
        str_of(&created["database_token"]),
    )
}

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

fn read_only_token(emu: &Emulator, id: &str) -> String {
    let (status, ro) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/query-token"),
        Some(json!({"ttl_seconds": 300, "audience": "sql-readonly"})),
    );
    assert_eq!(status, 201, "{ro:#}");
    str_of(&ro["query_token"])
}

fn rotate(emu: &Emulator, id: &str) -> String {
    let (status, rotated) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/token/rotate"),
        None,
    );
    assert_eq!(status, 200, "{rotated:#}");
    str_of(&rotated["database_token"])
}

fn set_suspended(emu: &Emulator, id: &str, suspended: bool) {
    let verb = if suspended { "suspend" } else { "resume" };
    let (status, body) = emu.api(Method::POST, &format!("/v1/databases/{id}/{verb}"), None);
    assert_eq!(status, 200, "{body:#}");
}

/// The typed values a client sends as arguments and reads back: the 64-bit extremes and
/// 2^53 + 1 (beyond a double's 53 bits), a float, non-ASCII text, NULL and a blob with every
/// byte class (base64 of 00 01 fe ff).
const ARGS: &str = r#"[9223372036854775807, -9223372036854775808, 9007199254740993, 2.5, "grüße ✓", null, {"blob": "AAH+/w=="}]"#;
/// The same for `libsql` 0.1, whose arguments are 32-bit integers at most: it sends a larger
/// Python int as a Hrana `float` (seen on the wire: `{"type": "float", "value":
/// 9007199254740992.0}` for 2^53 + 1), so 64-bit integers reach it only as results.
const ARGS_32: &str = r#"[2147483647, -2147483648, 7, 2.5, "grüße ✓", null, {"blob": "AAH+/w=="}]"#;
const INSERT: &str = "INSERT INTO vals (a, b, c, d, e, f, g) VALUES (?, ?, ?, ?, ?, ?, ?)";
const CREATE: &str = "CREATE TABLE vals (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, \
                      c INTEGER, d REAL, e TEXT, f TEXT, g BLOB)";

fn expected_row(client: PyClient) -> Value {
    let (a, b, c) = match client {
        PyClient::LibsqlClient => (
            9_223_372_036_854_775_807_i64,
            -9_223_372_036_854_775_808_i64,
            9_007_199_254_740_993_i64,
        ),
        PyClient::Libsql => (2_147_483_647, -2_147_483_648, 7),
    };
    json!([a, b, c, 2.5, "grüße ✓", null, {"blob": "AAH+/w=="}])
}

/// Values, arguments, a batch and the refusals every Python client must see with their
/// reasons, over `url` (http:// or, with `--ws` in `flags`, ws://).
fn values_batch_and_refusals(client: PyClient, emu: &Emulator, name: &str, flags: &[&str]) {
    let (id, url, token) = database(emu, name);
    let run = |extra: &[&str], token: &str, sqls: &[&str]| {
        let mut args: Vec<&str> = flags.to_vec();
        args.extend_from_slice(extra);
        args.push(&url);
        args.push(token);
        args.extend_from_slice(sqls);
        python(client, &args)
    };

    // Execute: literals of each type, then the same values as arguments.
    let results = run(
        &[],
        &token,
        &[
            CREATE,
            "SELECT 1, 9223372036854775807, -9223372036854775808, 9007199254740993, -0.5, \
             'text', NULL, x'00ff'",
        ],
    )
    .results();
    assert_eq!(
        results[1]["rows"],
        json!([[
            1,
            9_223_372_036_854_775_807_i64,
            -9_223_372_036_854_775_808_i64,
            9_007_199_254_740_993_i64,
            -0.5,
            "text",
            null,
            {"blob": "AP8="}
        ]]),
        "{client:?}"
    );
    let args = match client {
        PyClient::LibsqlClient => ARGS,
        PyClient::Libsql => ARGS_32,
    };
    let results = run(
        &["--args", args],
        &token,
        &[INSERT, "SELECT a, b, c, d, e, f, g FROM vals"],
    )
    .results();
    assert_eq!(results[0]["rowsAffected"], 1, "{client:?}");
    assert_eq!(results[0]["lastInsertRowid"], 1, "{client:?}");
    assert_eq!(
        results[1]["columns"],
        json!(["a", "b", "c", "d", "e", "f", "g"])
    );
    assert_eq!(
        results[1]["rows"],
        json!([expected_row(client)]),
        "{client:?}"
    );

    let after_batches = match client {
        PyClient::LibsqlClient => {
            // A batch runs as one transaction: all of it lands, or (a failing step) none.
            let results = run(
                &["--batch"],
                &token,
                &[
                    "INSERT INTO vals (e) VALUES ('batched')",
                    "SELECT count(*) FROM vals",
                ],
            )
            .results();
            assert_eq!(results[1]["rows"], json!([[2]]));
            run(
                &["--batch"],
                &token,
                &[
                    "INSERT INTO vals (e) VALUES ('rolled back')",
                    "INSERT INTO nowhere VALUES (1)",
                ],
            )
            .refused("no such table: nowhere");
            json!([[2]])
        }
        PyClient::Libsql => {
            // executescript: one Hrana batch, each step conditioned on the one before (no
            // transaction), and no result sets. After a failing step the rest is skipped,
            // and the client reports success: it does not read the answer's `step_errors`
            // (the server sends the error, `SQLITE_UNKNOWN: no such table`, seen on the wire).
            let results = run(
                &["--batch"],
                &token,
                &[
                    "INSERT INTO vals (e) VALUES ('batched')",
                    "INSERT INTO nowhere VALUES (1)",
                    "INSERT INTO vals (e) VALUES ('skipped')",
                ],
            )
            .results();
            assert_eq!(results, json!([]));
            let results = run(&[], &token, &["SELECT e FROM vals WHERE id > 1"]).results();
            assert_eq!(results[0]["rows"], json!([["batched"]]));
            json!([[2]])
        }
    };
    let results = run(&[], &token, &["SELECT count(*) FROM vals"]).results();
    assert_eq!(results[0]["rows"], after_batches, "{client:?}");

    // A read-only token reads, and its write is refused with sqld's reason.
    let read_only = read_only_token(emu, &id);
    let results = run(&[], &read_only, &["SELECT count(*) FROM vals"]).results();
    assert_eq!(results[0]["rows"], after_batches);
    run(&[], &read_only, &["DELETE FROM vals"]).refused("FORBIDDEN");
    run(&[], &read_only, &["DELETE FROM vals"]).refused("Authorization forbidden");

    // A suspended database: the reason reaches the client; resumed, it answers again.
    set_suspended(emu, &id, true);
    run(&[], &token, &["SELECT 1"]).refused(&format!("database `{id}` is suspended"));
    set_suspended(emu, &id, false);
    run(&[], &token, &["SELECT 1"]).results();

    // A rotated-away token is refused with the reason; the new one works.
    let new_token = rotate(emu, &id);
    run(&[], &token, &["SELECT 1"]).refused("The JWT is invalid");
    run(&[], &token, &["SELECT 1"]).refused("rotated");
    let results = run(&[], &new_token, &["SELECT count(*) FROM vals"]).results();
    assert_eq!(results[0]["rows"], after_batches);
}

/// `libsql-client` over Hrana over HTTP v1 (`v1/execute`, `v1/batch`: the only HTTP
/// protocol it speaks).
#[test]
fn python_libsql_client_over_http_v1() {
    let emu = Emulator::start();
    values_batch_and_refusals(PyClient::LibsqlClient, &emu, "py-client-http", &[]);
    // Its HTTP client has no transactions (a client-side refusal: WebSocket is the way).
    let (_, url, token) = database(&emu, "py-client-no-tx");
    python(
        PyClient::LibsqlClient,
        &["--transaction", &url, &token, "SELECT 1"],
    )
    .refused("TRANSACTIONS_NOT_SUPPORTED");
}

/// `libsql-client` over Hrana over WebSocket (`hrana2`): the same, plus interactive
/// transactions, committed and rolled back.
#[test]
fn python_libsql_client_over_websocket() {
    let emu = Emulator::start();
    values_batch_and_refusals(PyClient::LibsqlClient, &emu, "py-client-ws", &["--ws"]);
    let (_, url, token) = database(&emu, "py-client-tx");
    let ws = |extra: &[&str], sqls: &[&str]| {
        let mut args = vec!["--ws"];
        args.extend_from_slice(extra);
        args.push(&url);
        args.push(&token);
        args.extend_from_slice(sqls);
        python(PyClient::LibsqlClient, &args)
    };
    ws(&[], &["CREATE TABLE t (x INTEGER NOT NULL)"]).results();
    let results = ws(
        &["--transaction"],
        &[
            "INSERT INTO t VALUES (1)",
            "INSERT INTO t VALUES (2)",
            "SELECT count(*) FROM t",
        ],
    )
    .results();
    assert_eq!(results[2]["rows"], json!([[2]]));
    // A failing statement ends the transaction uncommitted: its first insert is gone.
    ws(
        &["--transaction"],
        &["INSERT INTO t VALUES (3)", "INSERT INTO t VALUES (NULL)"],
    )
    .refused("NOT NULL constraint failed");
    let results = ws(&[], &["SELECT x FROM t ORDER BY x"]).results();
    assert_eq!(results[0]["rows"], json!([[1], [2]]));
}

/// `libsql` (the Rust crate's remote client) over Hrana over HTTP v3, through its DB-API:
/// values, executescript, refusals, and a transaction committed with `commit()`.
#[test]
fn python_libsql_over_http_v3() {
    let emu = Emulator::start();
    values_batch_and_refusals(PyClient::Libsql, &emu, "py-libsql", &[]);
    let (_, url, token) = database(&emu, "py-libsql-tx");
    let run = |extra: &[&str], sqls: &[&str]| {
        let mut args: Vec<&str> = extra.to_vec();
        args.push(&url);
        args.push(&token);
        args.extend_from_slice(sqls);
        python(PyClient::Libsql, &args)
    };
    run(&[], &["CREATE TABLE t (x INTEGER NOT NULL)"]).results();
    let results = run(
        &["--transaction"],
        &[
            "INSERT INTO t VALUES (1)",
            "INSERT INTO t VALUES (2)",
            "SELECT count(*) FROM t",
        ],
    )
    .results();
    assert_eq!(results[2]["rows"], json!([[2]]));
    run(
        &["--transaction"],
        &["INSERT INTO t VALUES (3)", "INSERT INTO t VALUES (NULL)"],
    )
    .refused("NOT NULL constraint failed");
    let results = run(&[], &["SELECT x FROM t ORDER BY x"]).results();
    assert_eq!(results[0]["rows"], json!([[1], [2]]));
}
