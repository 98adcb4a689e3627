//! Runs Hrana stream requests on one SQLite connection (synchronously: the caller is a
//! blocking thread).
//!
//! Errors come in three strengths, as in sqld:
//! - [`Failure::Stmt`]: the statement (or request) failed; it becomes a Hrana `Error` in the
//!   results (or a batch step error) and the stream goes on;
//! - [`Failure::Protocol`]: the client broke the protocol (unknown stored SQL id, a batch
//!   condition naming a later step, ...): the HTTP request fails with 400 and the stream is
//!   closed;
//! - [`Failure::Forbidden`]: the token may not run this statement (a write with a read-only
//!   query token, an `ATTACH`): the HTTP request fails with 403 and the stream is closed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rusqlite::fallible_iterator::FallibleIterator as _;
use rusqlite::{Connection, ErrorCode, Statement, StatementStatus};

use super::conn::{self, AuthMode, ThreadPolicy};
use super::proto::{
    Batch, BatchCond, BatchResult, Col, CursorEntry, DescribeCol, DescribeParam, DescribeResult,
    Error, NamedArg, Stmt, StmtResult, StreamRequest, StreamResponse, StreamResult, Value,
};

/// How many SQL texts one stream may store (as sqld).
pub const MAX_STORED_SQLS: usize = 50;
/// The largest SQL text `store_sql` accepts, in bytes (as sqld).
pub const MAX_STORED_SQL_BYTES: usize = 5000;

/// Why a request did not produce a normal result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    #[error("{}: {}", .0.code, .0.message)]
    Stmt(Error),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("{0}")]
    Forbidden(String),
}

/// The Hrana protocol version of the endpoint (`v2` or `v3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    Hrana2,
    Hrana3,
}

/// Who is asking: decides what the authorizer allows and how refusals read.
#[derive(Debug, Clone)]
pub struct Access {
    pub database_id: String,
    /// `Some(audience)` for a read-only query token.
    pub read_only_audience: Option<String>,
    /// The database's `size_limit_mb` in bytes: its connections cannot grow the file
    /// past it (SQLite's own page limit, which answers `SQLITE_FULL`).
    pub size_limit_bytes: Option<u64>,
    /// A fingerprint of the token (never the token): streams are capped per token.
    pub owner: String,
}

impl Access {
    pub fn mode(&self) -> AuthMode {
        if self.read_only_audience.is_some() {
            AuthMode::ReadOnly
        } else {
            AuthMode::ReadWrite
        }
    }

    fn write_refused(&self) -> Failure {
        Failure::Forbidden(format!(
            "Authorization forbidden: Current session doesn't have Write permission to \
             namespace `{}` (query token audience `{}` is read-only)",
            self.database_id,
            self.read_only_audience.as_deref().unwrap_or("")
        ))
    }
}

/// How large responses may grow, as sqld bounds them (`--max-response-size`,
/// `--max-total-response-size`): the rows of one statement, and the rows of all statements
/// being answered at the same time (every request of the server shares `in_flight`).
#[derive(Debug, Clone)]
pub struct ResponseLimits {
    /// Bytes (approximately, in JSON) one statement's rows may take.
    pub per_statement: usize,
    /// Bytes the statements being answered right now may take together.
    pub total: usize,
    /// Bytes the statements being answered right now take (shared by all requests).
    pub in_flight: Arc<AtomicUsize>,
}

/// The bytes one statement added to [`ResponseLimits::in_flight`], given back when the
/// statement's rows are complete (or it failed), as sqld's result builder does on drop.
struct InFlight<'a> {
    counter: &'a AtomicUsize,
    bytes: usize,
}

impl InFlight<'_> {
    /// Counts `size` more bytes, or refuses them past either limit.
    fn add(&mut self, size: usize, limits: &ResponseLimits) -> Result<(), Failure> {
        let too_large = || Failure::Stmt(Error::new("RESPONSE_TOO_LARGE", "Response is too large"));
        if self.bytes.saturating_add(size) > limits.per_statement {
            return Err(too_large());
        }
        let before = self.counter.fetch_add(size, Ordering::Relaxed);
        self.bytes += size;
        if before.saturating_add(size) > limits.total {
            return Err(too_large());
        }
        Ok(())
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// Row counts of one executed statement, for the usage counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StmtStats {
    pub rows_read: u64,
    pub rows_written: u64,
}

/// The state of one HTTP request's SQL work.
pub struct Session {
    pub access: Access,
    pub version: Version,
    /// One entry per statement SQLite ran.
    pub stats: Vec<StmtStats>,
    /// How large a statement's rows may grow (beyond it: `RESPONSE_TOO_LARGE`).
    pub limits: ResponseLimits,
}

/// Outcome of one batch step.
#[derive(Debug, Clone)]
pub enum StepOutcome {
    Skipped,
    Ok(StmtResult),
    Err(Error),
}

impl Session {
    pub fn new(access: Access, version: Version, limits: ResponseLimits) -> Session {
        Session {
            access,
            version,
            stats: Vec::new(),
            limits,
        }
    }

    /// Runs one pipeline request. `conn` is `None` once the stream was closed.
    pub fn handle(
        &mut self,
        conn: &mut Option<Connection>,
        sqls: &mut HashMap<i32, String>,
        request: StreamRequest,
    ) -> Result<StreamResult, Failure> {
        match self.try_handle(conn, sqls, request) {
            Ok(response) => Ok(StreamResult::Ok { response }),
            Err(Failure::Stmt(error)) => Ok(StreamResult::Error { error }),
            Err(other) => Err(other),
        }
    }

    fn try_handle(
        &mut self,
        conn: &mut Option<Connection>,
        sqls: &mut HashMap<i32, String>,
        request: StreamRequest,
    ) -> Result<StreamResponse, Failure> {
        match request {
            StreamRequest::Close {} => {
                // Dropping the connection rolls back an open transaction.
                *conn = None;
                Ok(StreamResponse::Close {})
            }
            StreamRequest::Execute { stmt } => {
                let db = conn_ref(conn)?;
                let sql = resolve_sql(stmt.sql.as_deref(), stmt.sql_id, sqls)?;
                let result = self.execute(db, &sql, &stmt)?;
                Ok(StreamResponse::Execute { result })
            }
            StreamRequest::Batch { batch } => {
                let db = conn_ref(conn)?;
                let outcomes = self.batch(db, sqls, &batch)?;
                Ok(StreamResponse::Batch {
                    result: batch_result(outcomes),
                })
            }
            StreamRequest::Sequence { sql, sql_id } => {
                let db = conn_ref(conn)?;
                let sql = resolve_sql(sql.as_deref(), sql_id, sqls)?;
                self.sequence(db, &sql)?;
                Ok(StreamResponse::Sequence {})
            }
            StreamRequest::Describe { sql, sql_id } => {
                let db = conn_ref(conn)?;
                let sql = resolve_sql(sql.as_deref(), sql_id, sqls)?;
                let result = self.describe(db, &sql)?;
                Ok(StreamResponse::Describe { result })
            }
            StreamRequest::StoreSql { sql_id, sql } => {
                if sqls.contains_key(&sql_id) {
                    return Err(Failure::Protocol(format!(
                        "SQL text {sql_id} already exists"
                    )));
                }
                if sqls.len() >= MAX_STORED_SQLS {
                    return Err(Failure::Stmt(Error::new(
                        "SQL_STORE_TOO_MANY",
                        format!(
                            "The server already stores {} SQL texts, it cannot store more",
                            sqls.len()
                        ),
                    )));
                }
                if sql.len() > MAX_STORED_SQL_BYTES {
                    return Err(Failure::Stmt(Error::new(
                        "SQL_STORE_TOO_LARGE",
                        format!(
                            "The statement is too large to be stored: {} bytes (at most \
                             {MAX_STORED_SQL_BYTES})",
                            sql.len()
                        ),
                    )));
                }
                sqls.insert(sql_id, sql);
                Ok(StreamResponse::StoreSql {})
            }
            StreamRequest::CloseSql { sql_id } => {
                sqls.remove(&sql_id);
                Ok(StreamResponse::CloseSql {})
            }
            StreamRequest::GetAutocommit {} => {
                if self.version < Version::Hrana3 {
                    return Err(Failure::Protocol(
                        "The `get_autocommit` request is only supported in protocol version \
                         hrana3 and higher"
                            .into(),
                    ));
                }
                let db = conn_ref(conn)?;
                Ok(StreamResponse::GetAutocommit {
                    is_autocommit: db.is_autocommit(),
                })
            }
        }
    }

    /// Runs a batch: every step whose condition holds, in order.
    pub fn batch(
        &mut self,
        conn: &Connection,
        sqls: &HashMap<i32, String>,
        batch: &Batch,
    ) -> Result<Vec<StepOutcome>, Failure> {
        // Like sqld, the whole batch is checked before any step runs.
        let mut texts = Vec::with_capacity(batch.steps.len());
        for (i, step) in batch.steps.iter().enumerate() {
            if let Some(cond) = &step.condition {
                self.check_cond(cond, i)?;
            }
            texts.push(resolve_sql(
                step.stmt.sql.as_deref(),
                step.stmt.sql_id,
                sqls,
            )?);
        }
        let mut outcomes: Vec<StepOutcome> = Vec::with_capacity(batch.steps.len());
        for (step, sql) in batch.steps.iter().zip(&texts) {
            let enabled = match &step.condition {
                Some(cond) => eval_cond(cond, &outcomes, conn.is_autocommit()),
                None => true,
            };
            let outcome = if !enabled {
                StepOutcome::Skipped
            } else {
                match self.execute(conn, sql, &step.stmt) {
                    Ok(result) => StepOutcome::Ok(result),
                    Err(Failure::Stmt(error)) => StepOutcome::Err(error),
                    Err(other) => return Err(other),
                }
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    fn check_cond(&self, cond: &BatchCond, step: usize) -> Result<(), Failure> {
        let bad = || Failure::Protocol("Invalid reference to step in a batch condition".into());
        match cond {
            BatchCond::Ok { step: s } | BatchCond::Error { step: s } => {
                if usize::try_from(*s).map_or(true, |s| s >= step) {
                    return Err(bad());
                }
            }
            BatchCond::Not { cond } => self.check_cond(cond, step)?,
            BatchCond::And { conds } | BatchCond::Or { conds } => {
                for c in conds {
                    self.check_cond(c, step)?;
                }
            }
            BatchCond::IsAutocommit {} => {
                if self.version < Version::Hrana3 {
                    return Err(Failure::Protocol(
                        "BatchCond of type `is_autocommit` is only supported in protocol \
                         version hrana3 and higher"
                            .into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Runs one statement with its arguments.
    pub fn execute(
        &mut self,
        conn: &Connection,
        sql: &str,
        request: &Stmt,
    ) -> Result<StmtResult, Failure> {
        if !request.args.is_empty() && !request.named_args.is_empty() {
            return Err(Failure::Stmt(Error::new(
                "ARGS_BOTH_POSITIONAL_AND_NAMED",
                "Specifying both positional and named arguments is not supported",
            )));
        }
        let started = Instant::now();
        let mut stmt = self.prepare_single(conn, sql)?;
        self.check_access(&stmt)?;
        bind(&mut stmt, &request.args, &request.named_args)?;
        let col_count = stmt.column_count();
        let decltypes = if col_count > 0 {
            conn::column_decltypes(conn, sql)
        } else {
            Vec::new()
        };
        let cols = (0..col_count)
            .map(|i| Col {
                name: stmt.column_name(i).ok().map(str::to_owned),
                decltype: decltypes.get(i).cloned().flatten(),
            })
            .collect();
        let ran = self.run(conn, &mut stmt, request.want_rows.unwrap_or(true))?;
        Ok(StmtResult {
            cols,
            rows: ran.rows,
            affected_row_count: ran.affected_row_count,
            last_insert_rowid: ran.last_insert_rowid.map(|id| id.to_string()),
            replication_index: None,
            rows_read: ran.stats.rows_read,
            rows_written: ran.stats.rows_written,
            query_duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// Runs every statement of `sql` in order, ignoring rows; stops at the first error.
    pub fn sequence(&mut self, conn: &Connection, sql: &str) -> Result<(), Failure> {
        let mut statements = rusqlite::Batch::new(conn, sql);
        loop {
            conn::clear_denied();
            let mut stmt = match statements.next() {
                Ok(Some(stmt)) => stmt,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.failure(e)),
            };
            self.check_access(&stmt)?;
            if stmt.parameter_count() > 0 {
                return Err(Failure::Stmt(Error::new(
                    "ARGS_INVALID",
                    "Arguments do not match SQL parameters: a sequence cannot bind parameters",
                )));
            }
            self.run(conn, &mut stmt, false)?;
        }
    }

    /// Parses a statement without running it.
    pub fn describe(&mut self, conn: &Connection, sql: &str) -> Result<DescribeResult, Failure> {
        // Describing never runs the statement, so a read-only session may describe a write.
        let _policy = (conn::current_mode() == AuthMode::ReadOnly)
            .then(|| ThreadPolicy::switch_mode(AuthMode::ReadWrite));
        let stmt = self.prepare_single(conn, sql)?;
        let col_count = stmt.column_count();
        let decltypes = if col_count > 0 {
            conn::column_decltypes(conn, sql)
        } else {
            Vec::new()
        };
        Ok(DescribeResult {
            params: (1..=stmt.parameter_count())
                .map(|i| DescribeParam {
                    name: stmt.parameter_name(i).map(str::to_owned),
                })
                .collect(),
            cols: (0..col_count)
                .map(|i| DescribeCol {
                    name: stmt.column_name(i).unwrap_or_default().to_owned(),
                    decltype: decltypes.get(i).cloned().flatten(),
                })
                .collect(),
            is_explain: stmt.is_explain() > 0,
            is_readonly: stmt.readonly(),
        })
    }

    /// Prepares the only statement of `sql`.
    fn prepare_single<'c>(
        &self,
        conn: &'c Connection,
        sql: &str,
    ) -> Result<Statement<'c>, Failure> {
        conn::clear_denied();
        let mut statements = rusqlite::Batch::new(conn, sql);
        let stmt = match statements.next() {
            Ok(Some(stmt)) => stmt,
            Ok(None) => {
                return Err(Failure::Stmt(Error::new(
                    "SQL_NO_STATEMENT",
                    "SQL string does not contain any statement",
                )))
            }
            Err(e) => return Err(self.failure(e)),
        };
        let more = !matches!(statements.next(), Ok(None));
        // Preparing the rest may have tripped the authorizer; it is not run, so forget it.
        conn::clear_denied();
        if more {
            return Err(Failure::Stmt(Error::new(
                "SQL_MANY_STATEMENTS",
                "SQL string contains more than one statement",
            )));
        }
        Ok(stmt)
    }

    fn check_access(&self, stmt: &Statement<'_>) -> Result<(), Failure> {
        if self.access.read_only_audience.is_some() && !stmt.readonly() {
            return Err(self.access.write_refused());
        }
        Ok(())
    }

    /// Steps a prepared, bound statement to the end.
    fn run(
        &mut self,
        conn: &Connection,
        stmt: &mut Statement<'_>,
        want_rows: bool,
    ) -> Result<Ran, Failure> {
        let col_count = stmt.column_count();
        let before = conn.total_changes();
        let mut rows = Vec::new();
        let mut returned = 0u64;
        {
            let mut in_flight = InFlight {
                counter: &self.limits.in_flight,
                bytes: 0,
            };
            let mut query = stmt.raw_query();
            loop {
                let row = match query.next() {
                    Ok(Some(row)) => row,
                    Ok(None) => break,
                    Err(e) => return Err(self.failure(e)),
                };
                returned += 1;
                if !want_rows {
                    continue;
                }
                let mut values = Vec::with_capacity(col_count);
                for i in 0..col_count {
                    let value = Value::from(row.get_ref(i).map_err(|e| self.failure(e))?);
                    in_flight.add(value.json_size(), &self.limits)?;
                    values.push(value);
                }
                rows.push(values);
            }
        }
        let written = conn.total_changes().saturating_sub(before);
        let (affected_row_count, last_insert_rowid) = if !stmt.readonly() && written > 0 {
            (conn.changes(), Some(conn.last_insert_rowid()))
        } else {
            (0, None)
        };
        let scanned = u64::try_from(stmt.get_status(StatementStatus::FullscanStep)).unwrap_or(0);
        let stats = StmtStats {
            rows_read: returned.max(scanned),
            rows_written: written,
        };
        self.stats.push(stats);
        Ok(Ran {
            rows,
            affected_row_count,
            last_insert_rowid,
            stats,
        })
    }

    /// Maps a SQLite error: an authorizer refusal is [`Failure::Forbidden`], anything else
    /// a statement error.
    fn failure(&self, e: rusqlite::Error) -> Failure {
        let denied = conn::take_denied();
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            if f.code == ErrorCode::AuthorizationForStatementDenied {
                return match denied {
                    Some(rusqlite::ffi::SQLITE_ATTACH) => Failure::Forbidden(
                        "Authorization forbidden: ATTACH is not allowed: a database URL serves \
                         only its own database"
                            .into(),
                    ),
                    _ => self.access.write_refused(),
                };
            }
        }
        Failure::Stmt(stmt_error(e))
    }
}

struct Ran {
    rows: Vec<Vec<Value>>,
    affected_row_count: u64,
    last_insert_rowid: Option<i64>,
    stats: StmtStats,
}

fn conn_ref(conn: &Option<Connection>) -> Result<&Connection, Failure> {
    conn.as_ref()
        .ok_or_else(|| Failure::Protocol("Stream for this baton was closed".into()))
}

/// The SQL text of a request: inline or stored with `store_sql`.
pub fn resolve_sql(
    sql: Option<&str>,
    sql_id: Option<i32>,
    sqls: &HashMap<i32, String>,
) -> Result<String, Failure> {
    match (sql, sql_id) {
        (Some(sql), None) => Ok(sql.to_owned()),
        (None, Some(id)) => sqls
            .get(&id)
            .cloned()
            .ok_or_else(|| Failure::Protocol(format!("SQL text {id} not found"))),
        (Some(_), Some(_)) => Err(Failure::Protocol(
            "Either `sql` or `sql_id` are required, but not both".into(),
        )),
        (None, None) => Err(Failure::Protocol(
            "Either `sql` or `sql_id` are required".into(),
        )),
    }
}

/// Evaluates a (checked) condition against the outcomes of the earlier steps, as the Hrana
/// specification defines it: a skipped step is neither `ok` nor `error`.
fn eval_cond(cond: &BatchCond, outcomes: &[StepOutcome], autocommit: bool) -> bool {
    let at = |step: &u32| usize::try_from(*step).ok().and_then(|s| outcomes.get(s));
    match cond {
        BatchCond::Ok { step } => matches!(at(step), Some(StepOutcome::Ok(_))),
        BatchCond::Error { step } => matches!(at(step), Some(StepOutcome::Err(_))),
        BatchCond::Not { cond } => !eval_cond(cond, outcomes, autocommit),
        BatchCond::And { conds } => conds.iter().all(|c| eval_cond(c, outcomes, autocommit)),
        BatchCond::Or { conds } => conds.iter().any(|c| eval_cond(c, outcomes, autocommit)),
        BatchCond::IsAutocommit {} => autocommit,
    }
}

pub fn batch_result(outcomes: Vec<StepOutcome>) -> BatchResult {
    let mut step_results = Vec::with_capacity(outcomes.len());
    let mut step_errors = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        match outcome {
            StepOutcome::Skipped => {
                step_results.push(None);
                step_errors.push(None);
            }
            StepOutcome::Ok(result) => {
                step_results.push(Some(result));
                step_errors.push(None);
            }
            StepOutcome::Err(error) => {
                step_results.push(None);
                step_errors.push(Some(error));
            }
        }
    }
    BatchResult {
        step_results,
        step_errors,
        replication_index: None,
    }
}

/// The entries of a `v3/cursor` response for a batch's outcomes.
pub fn cursor_entries(outcomes: Vec<StepOutcome>) -> Vec<CursorEntry> {
    let mut entries = Vec::new();
    for (step, outcome) in outcomes.into_iter().enumerate() {
        let step = u32::try_from(step).unwrap_or(u32::MAX);
        match outcome {
            StepOutcome::Skipped => {}
            StepOutcome::Ok(result) => {
                entries.push(CursorEntry::StepBegin {
                    step,
                    cols: result.cols,
                });
                entries.extend(result.rows.into_iter().map(|row| CursorEntry::Row { row }));
                entries.push(CursorEntry::StepEnd {
                    affected_row_count: result.affected_row_count,
                    last_insert_rowid: result.last_insert_rowid,
                });
            }
            StepOutcome::Err(error) => entries.push(CursorEntry::StepError { step, error }),
        }
    }
    entries
}

/// Finds the index of a named parameter; a name without its prefix (`:`, `@`, `$`) is
/// tried with each of them.
fn param_index(stmt: &Statement<'_>, name: &str) -> Option<usize> {
    if name.starts_with([':', '@', '$', '?']) {
        return stmt.parameter_index(name).ok().flatten();
    }
    [":", "@", "$"].iter().find_map(|prefix| {
        stmt.parameter_index(&format!("{prefix}{name}"))
            .ok()
            .flatten()
    })
}

fn bind(stmt: &mut Statement<'_>, args: &[Value], named: &[NamedArg]) -> Result<(), Failure> {
    let invalid = |msg: String| {
        Failure::Stmt(Error::new(
            "ARGS_INVALID",
            format!("Arguments do not match SQL parameters: {msg}"),
        ))
    };
    let count = stmt.parameter_count();
    if named.is_empty() {
        if args.len() != count {
            return Err(invalid(format!(
                "the statement has {count} parameter(s) but {} argument(s) were given",
                args.len()
            )));
        }
        for (i, value) in args.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, value)
                .map_err(|e| invalid(e.to_string()))?;
        }
        return Ok(());
    }
    let mut bound = vec![false; count + 1];
    for arg in named {
        let index = param_index(stmt, &arg.name).ok_or_else(|| {
            invalid(format!(
                "the statement has no parameter named `{}`",
                arg.name
            ))
        })?;
        stmt.raw_bind_parameter(index, &arg.value)
            .map_err(|e| invalid(e.to_string()))?;
        if let Some(slot) = bound.get_mut(index) {
            *slot = true;
        }
    }
    if let Some(missing) = (1..=count).find(|i| !bound.get(*i).copied().unwrap_or(false)) {
        let name = stmt
            .parameter_name(missing)
            .map_or_else(|| format!("?{missing}"), str::to_owned);
        return Err(invalid(format!("no argument for parameter {name}")));
    }
    Ok(())
}

/// A SQLite error as a Hrana error, with sqld's codes.
pub fn stmt_error(e: rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::SqliteFailure(f, msg) => Error::new(
            sqlite_code(f.code),
            format!("SQLite error: {}", msg.unwrap_or_else(|| f.to_string())),
        ),
        rusqlite::Error::SqlInputError { msg, offset, .. } => Error::new(
            "SQL_INPUT_ERROR",
            format!("SQL input error: {msg} (at offset {offset})"),
        ),
        rusqlite::Error::InvalidParameterCount(..) | rusqlite::Error::InvalidParameterName(_) => {
            Error::new(
                "ARGS_INVALID",
                format!("Arguments do not match SQL parameters: {e}"),
            )
        }
        other => Error::new("SQLITE_UNKNOWN", format!("SQLite error: {other}")),
    }
}

fn sqlite_code(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InternalMalfunction => "SQLITE_INTERNAL",
        ErrorCode::PermissionDenied => "SQLITE_PERM",
        ErrorCode::OperationAborted => "SQLITE_ABORT",
        ErrorCode::DatabaseBusy => "SQLITE_BUSY",
        ErrorCode::DatabaseLocked => "SQLITE_LOCKED",
        ErrorCode::OutOfMemory => "SQLITE_NOMEM",
        ErrorCode::ReadOnly => "SQLITE_READONLY",
        ErrorCode::OperationInterrupted => "SQLITE_INTERRUPT",
        ErrorCode::SystemIoFailure => "SQLITE_IOERR",
        ErrorCode::DatabaseCorrupt => "SQLITE_CORRUPT",
        ErrorCode::NotFound => "SQLITE_NOTFOUND",
        ErrorCode::DiskFull => "SQLITE_FULL",
        ErrorCode::CannotOpen => "SQLITE_CANTOPEN",
        ErrorCode::FileLockingProtocolFailed => "SQLITE_PROTOCOL",
        ErrorCode::SchemaChanged => "SQLITE_SCHEMA",
        ErrorCode::TooBig => "SQLITE_TOOBIG",
        ErrorCode::ConstraintViolation => "SQLITE_CONSTRAINT",
        ErrorCode::TypeMismatch => "SQLITE_MISMATCH",
        ErrorCode::ApiMisuse => "SQLITE_MISUSE",
        ErrorCode::NoLargeFileSupport => "SQLITE_NOLFS",
        ErrorCode::AuthorizationForStatementDenied => "SQLITE_AUTH",
        ErrorCode::ParameterOutOfRange => "SQLITE_RANGE",
        ErrorCode::NotADatabase => "SQLITE_NOTADB",
        _ => "SQLITE_UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn setup() -> Result<(tempfile::TempDir, Connection), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("t.db");
        Connection::open(&path)?.execute_batch("PRAGMA journal_mode=WAL")?;
        let conn = conn::open(&path)?;
        Ok((dir, conn))
    }

    fn session(read_only: bool, version: Version) -> Session {
        Session::new(
            Access {
                database_id: "db_test".into(),
                read_only_audience: read_only.then(|| "sql-readonly".to_owned()),
                size_limit_bytes: None,
                owner: "test".into(),
            },
            version,
            ResponseLimits {
                per_statement: 1 << 20,
                total: 1 << 21,
                in_flight: Arc::new(AtomicUsize::new(0)),
            },
        )
    }

    fn stmt(v: serde_json::Value) -> Result<Stmt, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn response_limits_are_per_statement_and_in_flight() -> Result<(), Box<dyn std::error::Error>> {
        let (_dir, conn) = setup()?;
        let _policy = ThreadPolicy::enter(AuthMode::ReadWrite, None);
        let mut s = session(false, Version::Hrana3);
        let sql = "SELECT zeroblob(600000)";
        let big = stmt(json!({ "sql": sql }))?;
        // Each statement stays under its own limit (1 MiB): two of them pass, together
        // over it, and the in-flight count is given back after each.
        for _ in 0..2 {
            let r = s.execute(&conn, sql, &big)?;
            assert_eq!(r.rows.len(), 1);
        }
        assert_eq!(s.limits.in_flight.load(Ordering::Relaxed), 0);
        let sql = "SELECT zeroblob(600000), zeroblob(600000)";
        let too_big = stmt(json!({ "sql": sql }))?;
        match s.execute(&conn, sql, &too_big) {
            Err(Failure::Stmt(e)) => assert_eq!(e.code, "RESPONSE_TOO_LARGE"),
            other => panic!("expected RESPONSE_TOO_LARGE, got {other:?}"),
        }
        assert_eq!(s.limits.in_flight.load(Ordering::Relaxed), 0);
        // Other requests' rows in flight count against the total (2 MiB).
        s.limits.in_flight.store(1_500_000, Ordering::Relaxed);
        let sql = "SELECT zeroblob(600000)";
        match s.execute(&conn, sql, &big) {
            Err(Failure::Stmt(e)) => assert_eq!(e.code, "RESPONSE_TOO_LARGE"),
            other => panic!("expected RESPONSE_TOO_LARGE, got {other:?}"),
        }
        assert_eq!(s.limits.in_flight.load(Ordering::Relaxed), 1_500_000);
        Ok(())
    }

    #[test]
    fn execute_binds_and_reports() -> Result<(), Box<dyn std::error::Error>> {
        let (_dir, conn) = setup()?;
        let _policy = ThreadPolicy::enter(AuthMode::ReadWrite, None);
        let mut s = session(false, Version::Hrana3);
        let create = stmt(json!({"sql": "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)"}))?;
        let r = s.execute(
            &conn,
            "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)",
            &create,
        )?;
        assert_eq!(r.affected_row_count, 0);
        assert_eq!(r.last_insert_rowid, None);
        let insert = stmt(json!({"sql": "INSERT INTO t (b) VALUES (:b)",
            "named_args": [{"name": "b", "value": {"type": "text", "value": "x"}}]}))?;
        let r = s.execute(&conn, "INSERT INTO t (b) VALUES (:b)", &insert)?;
        assert_eq!(r.affected_row_count, 1);
        assert_eq!(r.last_insert_rowid.as_deref(), Some("1"));
        assert_eq!(r.rows_written, 1);
        let select = stmt(json!({"sql": "SELECT a, b FROM t WHERE a = ?",
            "args": [{"type": "integer", "value": "1"}]}))?;
        let r = s.execute(&conn, "SELECT a, b FROM t WHERE a = ?", &select)?;
        assert_eq!(
            r.rows,
            vec![vec![Value::Integer(1), Value::Text("x".into())]]
        );
        assert_eq!(r.cols[1].decltype.as_deref(), Some("TEXT"));
        assert_eq!(
            r.affected_row_count, 0,
            "a SELECT after an INSERT affects nothing"
        );
        assert_eq!(s.stats.len(), 3);

        let missing = stmt(json!({"sql": "SELECT ?"}))?;
        let err = s.execute(&conn, "SELECT ?", &missing);
        assert!(
            matches!(err, Err(Failure::Stmt(ref e)) if e.code == "ARGS_INVALID"),
            "{err:?}"
        );
        let many = stmt(json!({"sql": "SELECT 1; SELECT 2"}))?;
        let err = s.execute(&conn, "SELECT 1; SELECT 2", &many);
        assert!(matches!(err, Err(Failure::Stmt(ref e)) if e.code == "SQL_MANY_STATEMENTS"));
        let err = s.execute(&conn, " -- nothing", &many);
        assert!(matches!(err, Err(Failure::Stmt(ref e)) if e.code == "SQL_NO_STATEMENT"));
        let err = s.execute(&conn, "INSERT INTO t (a) VALUES (1)", &many);
        assert!(
            matches!(err, Err(Failure::Stmt(ref e)) if e.code == "SQLITE_CONSTRAINT"),
            "{err:?}"
        );
        let err = s.execute(&conn, "SELEC 1", &many);
        assert!(matches!(err, Err(Failure::Stmt(_))), "{err:?}");
        Ok(())
    }

    #[test]
    fn read_only_sessions_cannot_write() -> Result<(), Box<dyn std::error::Error>> {
        let (_dir, conn) = setup()?;
        {
            let _internal = ThreadPolicy::enter(AuthMode::Internal, None);
            conn.execute_batch("CREATE TABLE t (a); CREATE INDEX t_a ON t (a)")?;
        }
        let _policy = ThreadPolicy::enter(AuthMode::ReadOnly, None);
        let mut s = session(true, Version::Hrana3);
        let any = stmt(json!({"sql": "x"}))?;
        for sql in [
            "INSERT INTO t VALUES (1)",
            "CREATE TABLE u (a)",
            "DELETE FROM t",
            "PRAGMA user_version = 3",
            "VACUUM",
            "REINDEX",
            "ANALYZE",
        ] {
            let err = s.execute(&conn, sql, &any);
            assert!(matches!(err, Err(Failure::Forbidden(_))), "{sql}: {err:?}");
        }
        assert!(s.execute(&conn, "SELECT count(*) FROM t", &any).is_ok());
        assert!(s.execute(&conn, "BEGIN", &any).is_ok());
        assert!(s.execute(&conn, "COMMIT", &any).is_ok());
        let described = s.describe(&conn, "INSERT INTO t VALUES (?)")?;
        assert!(!described.is_readonly);
        assert_eq!(conn::current_mode(), AuthMode::ReadOnly);
        Ok(())
    }

    #[test]
    fn batch_conditions_follow_the_spec() -> Result<(), Box<dyn std::error::Error>> {
        let (_dir, conn) = setup()?;
        let _policy = ThreadPolicy::enter(AuthMode::ReadWrite, None);
        let mut s = session(false, Version::Hrana3);
        let batch: Batch = serde_json::from_value(json!({"steps": [
            {"stmt": {"sql": "CREATE TABLE t (a PRIMARY KEY)"}},
            {"stmt": {"sql": "INSERT INTO t VALUES (1)"}, "condition": {"type": "ok", "step": 0}},
            {"stmt": {"sql": "INSERT INTO t VALUES (1)"}},
            {"stmt": {"sql": "SELECT 3"}, "condition": {"type": "ok", "step": 2}},
            {"stmt": {"sql": "SELECT 4"}, "condition": {"type": "error", "step": 3}},
            {"stmt": {"sql": "SELECT 5"}, "condition": {"type": "not", "cond": {"type": "ok", "step": 3}}},
            {"stmt": {"sql": "SELECT 6"}, "condition": {"type": "and", "conds": [
                {"type": "ok", "step": 1}, {"type": "error", "step": 2}]}},
            {"stmt": {"sql": "SELECT 7"}, "condition": {"type": "or", "conds": [
                {"type": "ok", "step": 3}, {"type": "ok", "step": 4}]}},
            {"stmt": {"sql": "SELECT 8"}, "condition": {"type": "is_autocommit"}}
        ]}))?;
        let outcomes = s.batch(&conn, &HashMap::new(), &batch)?;
        let kinds: Vec<&str> = outcomes
            .iter()
            .map(|o| match o {
                StepOutcome::Skipped => "skip",
                StepOutcome::Ok(_) => "ok",
                StepOutcome::Err(_) => "err",
            })
            .collect();
        assert_eq!(
            kinds,
            ["ok", "ok", "err", "skip", "skip", "ok", "ok", "skip", "ok"]
        );
        let bad: Batch = serde_json::from_value(json!({"steps": [
            {"stmt": {"sql": "SELECT 1"}, "condition": {"type": "ok", "step": 0}}]}))?;
        assert!(matches!(
            s.batch(&conn, &HashMap::new(), &bad),
            Err(Failure::Protocol(_))
        ));
        let mut v2 = session(false, Version::Hrana2);
        let autocommit: Batch = serde_json::from_value(json!({"steps": [
            {"stmt": {"sql": "SELECT 1"}, "condition": {"type": "is_autocommit"}}]}))?;
        assert!(matches!(
            v2.batch(&conn, &HashMap::new(), &autocommit),
            Err(Failure::Protocol(_))
        ));
        Ok(())
    }
}
