//! The Protobuf encoding of Hrana over HTTP (`v3-protobuf`), as sqld reads and writes it
//! (`libsql-hrana/src/proto.rs` and `protobuf.rs` of the libSQL repository): the messages
//! with their field numbers, and their conversion to and from the JSON structures of
//! [`super::proto`], so both encodings run the same code.
//!
//! Requests are decoded, responses encoded; a `oneof` that is missing (a request or value
//! of an unknown kind) is a protocol error, as a JSON `type` the emulator does not know.

use std::collections::HashMap;

use super::proto;

// ---- requests ------------------------------------------------------------------------------

#[derive(Clone, PartialEq, prost::Message)]
pub struct PipelineReqBody {
    #[prost(string, optional, tag = "1")]
    pub baton: Option<String>,
    #[prost(message, repeated, tag = "2")]
    pub requests: Vec<StreamRequest>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CursorReqBody {
    #[prost(string, optional, tag = "1")]
    pub baton: Option<String>,
    #[prost(message, optional, tag = "2")]
    pub batch: Option<Batch>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamRequest {
    #[prost(oneof = "Request", tags = "1, 2, 3, 4, 5, 6, 7, 8")]
    pub request: Option<Request>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Request {
    #[prost(message, tag = "1")]
    Close(Empty),
    #[prost(message, tag = "2")]
    Execute(ExecuteReq),
    #[prost(message, tag = "3")]
    Batch(BatchReq),
    #[prost(message, tag = "4")]
    Sequence(SqlReq),
    #[prost(message, tag = "5")]
    Describe(SqlReq),
    #[prost(message, tag = "6")]
    StoreSql(StoreSqlReq),
    #[prost(message, tag = "7")]
    CloseSql(CloseSqlReq),
    #[prost(message, tag = "8")]
    GetAutocommit(Empty),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Empty {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecuteReq {
    #[prost(message, optional, tag = "1")]
    pub stmt: Option<Stmt>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BatchReq {
    #[prost(message, optional, tag = "1")]
    pub batch: Option<Batch>,
}

/// `sequence` and `describe`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SqlReq {
    #[prost(string, optional, tag = "1")]
    pub sql: Option<String>,
    #[prost(int32, optional, tag = "2")]
    pub sql_id: Option<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StoreSqlReq {
    #[prost(int32, tag = "1")]
    pub sql_id: i32,
    #[prost(string, tag = "2")]
    pub sql: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CloseSqlReq {
    #[prost(int32, tag = "1")]
    pub sql_id: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Stmt {
    #[prost(string, optional, tag = "1")]
    pub sql: Option<String>,
    #[prost(int32, optional, tag = "2")]
    pub sql_id: Option<i32>,
    #[prost(message, repeated, tag = "3")]
    pub args: Vec<Value>,
    #[prost(message, repeated, tag = "4")]
    pub named_args: Vec<NamedArg>,
    #[prost(bool, optional, tag = "5")]
    pub want_rows: Option<bool>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct NamedArg {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<Value>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Batch {
    #[prost(message, repeated, tag = "1")]
    pub steps: Vec<BatchStep>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BatchStep {
    #[prost(message, optional, tag = "1")]
    pub condition: Option<BatchCond>,
    #[prost(message, optional, tag = "2")]
    pub stmt: Option<Stmt>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BatchCond {
    #[prost(oneof = "Cond", tags = "1, 2, 3, 4, 5, 6")]
    pub cond: Option<Cond>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Cond {
    #[prost(uint32, tag = "1")]
    Ok(u32),
    #[prost(uint32, tag = "2")]
    Error(u32),
    #[prost(message, boxed, tag = "3")]
    Not(Box<BatchCond>),
    #[prost(message, tag = "4")]
    And(BatchCondList),
    #[prost(message, tag = "5")]
    Or(BatchCondList),
    #[prost(message, tag = "6")]
    IsAutocommit(Empty),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BatchCondList {
    #[prost(message, repeated, tag = "1")]
    pub conds: Vec<BatchCond>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Value {
    #[prost(oneof = "ValueKind", tags = "1, 2, 3, 4, 5")]
    pub value: Option<ValueKind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ValueKind {
    #[prost(message, tag = "1")]
    Null(Empty),
    #[prost(sint64, tag = "2")]
    Integer(i64),
    #[prost(double, tag = "3")]
    Float(f64),
    #[prost(string, tag = "4")]
    Text(String),
    #[prost(bytes = "vec", tag = "5")]
    Blob(Vec<u8>),
}

// ---- responses -----------------------------------------------------------------------------

#[derive(Clone, PartialEq, prost::Message)]
pub struct PipelineRespBody {
    #[prost(string, optional, tag = "1")]
    pub baton: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub base_url: Option<String>,
    #[prost(message, repeated, tag = "3")]
    pub results: Vec<StreamResult>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CursorRespBody {
    #[prost(string, optional, tag = "1")]
    pub baton: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub base_url: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamResult {
    #[prost(oneof = "ResultKind", tags = "1, 2")]
    pub result: Option<ResultKind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ResultKind {
    #[prost(message, tag = "1")]
    Ok(StreamResponse),
    #[prost(message, tag = "2")]
    Error(Error),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamResponse {
    #[prost(oneof = "Response", tags = "1, 2, 3, 4, 5, 6, 7, 8")]
    pub response: Option<Response>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Response {
    #[prost(message, tag = "1")]
    Close(Empty),
    #[prost(message, tag = "2")]
    Execute(ExecuteResp),
    #[prost(message, tag = "3")]
    Batch(BatchResp),
    #[prost(message, tag = "4")]
    Sequence(Empty),
    #[prost(message, tag = "5")]
    Describe(DescribeResp),
    #[prost(message, tag = "6")]
    StoreSql(Empty),
    #[prost(message, tag = "7")]
    CloseSql(Empty),
    #[prost(message, tag = "8")]
    GetAutocommit(GetAutocommitResp),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecuteResp {
    #[prost(message, optional, tag = "1")]
    pub result: Option<StmtResult>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BatchResp {
    #[prost(message, optional, tag = "1")]
    pub result: Option<BatchResult>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DescribeResp {
    #[prost(message, optional, tag = "1")]
    pub result: Option<DescribeResult>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetAutocommitResp {
    #[prost(bool, tag = "1")]
    pub is_autocommit: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Error {
    #[prost(string, tag = "1")]
    pub message: String,
    #[prost(string, tag = "2")]
    pub code: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StmtResult {
    #[prost(message, repeated, tag = "1")]
    pub cols: Vec<Col>,
    #[prost(message, repeated, tag = "2")]
    pub rows: Vec<Row>,
    #[prost(uint64, tag = "3")]
    pub affected_row_count: u64,
    #[prost(sint64, optional, tag = "4")]
    pub last_insert_rowid: Option<i64>,
    #[prost(uint64, optional, tag = "5")]
    pub replication_index: Option<u64>,
    #[prost(uint64, tag = "6")]
    pub rows_read: u64,
    #[prost(uint64, tag = "7")]
    pub rows_written: u64,
    #[prost(double, tag = "8")]
    pub query_duration_ms: f64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Col {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub decltype: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Row {
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<Value>,
}

/// Step results and errors as maps from the step's index (a skipped step is absent).
#[derive(Clone, PartialEq, prost::Message)]
pub struct BatchResult {
    #[prost(map = "uint32, message", tag = "1")]
    pub step_results: HashMap<u32, StmtResult>,
    #[prost(map = "uint32, message", tag = "2")]
    pub step_errors: HashMap<u32, Error>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DescribeResult {
    #[prost(message, repeated, tag = "1")]
    pub params: Vec<DescribeParam>,
    #[prost(message, repeated, tag = "2")]
    pub cols: Vec<DescribeCol>,
    #[prost(bool, tag = "3")]
    pub is_explain: bool,
    #[prost(bool, tag = "4")]
    pub is_readonly: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DescribeParam {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DescribeCol {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, optional, tag = "2")]
    pub decltype: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CursorEntry {
    #[prost(oneof = "Entry", tags = "1, 2, 3, 4")]
    pub entry: Option<Entry>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Entry {
    #[prost(message, tag = "1")]
    StepBegin(StepBeginEntry),
    #[prost(message, tag = "2")]
    StepEnd(StepEndEntry),
    #[prost(message, tag = "3")]
    StepError(StepErrorEntry),
    #[prost(message, tag = "4")]
    Row(Row),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StepBeginEntry {
    #[prost(uint32, tag = "1")]
    pub step: u32,
    #[prost(message, repeated, tag = "2")]
    pub cols: Vec<Col>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StepEndEntry {
    #[prost(uint64, tag = "1")]
    pub affected_row_count: u64,
    #[prost(sint64, optional, tag = "2")]
    pub last_insert_rowid: Option<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StepErrorEntry {
    #[prost(uint32, tag = "1")]
    pub step: u32,
    #[prost(message, optional, tag = "2")]
    pub error: Option<Error>,
}

// ---- Hrana over WebSocket (`hrana3-protobuf`) ----------------------------------------------
//
// The messages of sqld's WebSocket subprotocol `hrana3-protobuf` (its `hrana/ws/protobuf.rs`;
// the field numbers as `@libsql/hrana-client` writes and reads them). Statements, batches,
// results, cursor entries and errors are the HTTP side's messages above; `ws.rs` converts
// these to and from its JSON structures.

#[derive(Clone, PartialEq, prost::Message)]
pub struct WsClientMsg {
    #[prost(oneof = "WsClientKind", tags = "1, 2")]
    pub msg: Option<WsClientKind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum WsClientKind {
    #[prost(message, tag = "1")]
    Hello(WsHelloMsg),
    #[prost(message, tag = "2")]
    Request(WsRequestMsg),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WsHelloMsg {
    #[prost(string, optional, tag = "1")]
    pub jwt: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WsRequestMsg {
    #[prost(int32, tag = "1")]
    pub request_id: i32,
    #[prost(oneof = "WsRequest", tags = "2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13")]
    pub request: Option<WsRequest>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum WsRequest {
    #[prost(message, tag = "2")]
    OpenStream(WsStreamReq),
    #[prost(message, tag = "3")]
    CloseStream(WsStreamReq),
    #[prost(message, tag = "4")]
    Execute(WsExecuteReq),
    #[prost(message, tag = "5")]
    Batch(WsBatchReq),
    #[prost(message, tag = "6")]
    OpenCursor(WsOpenCursorReq),
    #[prost(message, tag = "7")]
    CloseCursor(WsCursorReq),
    #[prost(message, tag = "8")]
    FetchCursor(WsFetchCursorReq),
    #[prost(message, tag = "9")]
    Sequence(WsSqlReq),
    #[prost(message, tag = "10")]
    Describe(WsSqlReq),
    #[prost(message, tag = "11")]
    StoreSql(StoreSqlReq),
    #[prost(message, tag = "12")]
    CloseSql(CloseSqlReq),
    #[prost(message, tag = "13")]
    GetAutocommit(WsStreamReq),
}

/// `open_stream`, `close_stream`, `get_autocommit`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WsStreamReq {
    #[prost(int32, tag = "1")]
    pub stream_id: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WsExecuteReq {
    #[prost(int32, tag = "1")]
    pub stream_id: i32,
    #[prost(message, optional, tag = "2")]
    pub stmt: Option<Stmt>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WsBatchReq {
    #[prost(int32, tag = "1")]
    pub stream_id: i32,
    #[prost(message, optional, tag = "2")]
    pub batch: Option<Batch>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WsOpenCursorReq {
    #[prost(int32, tag = "1")]
    pub stream_id: i32,
    #[prost(int32, tag = "2")]
    pub cursor_id: i32,
    #[prost(message, optional, tag = "3")]
    pub batch: Option<Batch>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WsCursorReq {
    #[prost(int32, tag = "1")]
    pub cursor_id: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WsFetchCursorReq {
    #[prost(int32, tag = "1")]
    pub cursor_id: i32,
    #[prost(uint32, tag = "2")]
    pub max_count: u32,
}

/// `sequence` and `describe` on a stream.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WsSqlReq {
    #[prost(int32, tag = "1")]
    pub stream_id: i32,
    #[prost(string, optional, tag = "2")]
    pub sql: Option<String>,
    #[prost(int32, optional, tag = "3")]
    pub sql_id: Option<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WsServerMsg {
    #[prost(oneof = "WsServerKind", tags = "1, 2, 3, 4")]
    pub msg: Option<WsServerKind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum WsServerKind {
    #[prost(message, tag = "1")]
    HelloOk(Empty),
    #[prost(message, tag = "2")]
    HelloError(WsHelloErrorMsg),
    #[prost(message, tag = "3")]
    ResponseOk(WsResponseOkMsg),
    #[prost(message, tag = "4")]
    ResponseError(WsResponseErrorMsg),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WsHelloErrorMsg {
    #[prost(message, optional, tag = "1")]
    pub error: Option<Error>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WsResponseErrorMsg {
    #[prost(int32, tag = "1")]
    pub request_id: i32,
    #[prost(message, optional, tag = "2")]
    pub error: Option<Error>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WsResponseOkMsg {
    #[prost(int32, tag = "1")]
    pub request_id: i32,
    #[prost(oneof = "WsResponse", tags = "2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13")]
    pub response: Option<WsResponse>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum WsResponse {
    #[prost(message, tag = "2")]
    OpenStream(Empty),
    #[prost(message, tag = "3")]
    CloseStream(Empty),
    #[prost(message, tag = "4")]
    Execute(ExecuteResp),
    #[prost(message, tag = "5")]
    Batch(BatchResp),
    #[prost(message, tag = "6")]
    OpenCursor(Empty),
    #[prost(message, tag = "7")]
    CloseCursor(Empty),
    #[prost(message, tag = "8")]
    FetchCursor(WsFetchCursorResp),
    #[prost(message, tag = "9")]
    Sequence(Empty),
    #[prost(message, tag = "10")]
    Describe(DescribeResp),
    #[prost(message, tag = "11")]
    StoreSql(Empty),
    #[prost(message, tag = "12")]
    CloseSql(Empty),
    #[prost(message, tag = "13")]
    GetAutocommit(GetAutocommitResp),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WsFetchCursorResp {
    #[prost(message, repeated, tag = "1")]
    pub entries: Vec<CursorEntry>,
    #[prost(bool, tag = "2")]
    pub done: bool,
}

/// A stream request's response as the WebSocket response of the same kind. (`close`, a
/// request of Hrana over HTTP only, cannot come from a WebSocket request; it would answer
/// as `close_stream`.)
pub fn ws_stream_response(r: proto::StreamResponse) -> WsResponse {
    match stream_response(r) {
        Response::Close(e) => WsResponse::CloseStream(e),
        Response::Execute(r) => WsResponse::Execute(r),
        Response::Batch(r) => WsResponse::Batch(r),
        Response::Sequence(e) => WsResponse::Sequence(e),
        Response::Describe(r) => WsResponse::Describe(r),
        Response::StoreSql(e) => WsResponse::StoreSql(e),
        Response::CloseSql(e) => WsResponse::CloseSql(e),
        Response::GetAutocommit(r) => WsResponse::GetAutocommit(r),
    }
}

// ---- requests into the JSON structures -----------------------------------------------------

/// Why a decoded message cannot be run (the protocol error's message).
pub fn missing(what: &str) -> String {
    format!("Cannot decode client message from Protobuf: {what} is missing or of an unknown kind")
}

pub fn pipeline_request(body: PipelineReqBody) -> Result<proto::PipelineReqBody, String> {
    Ok(proto::PipelineReqBody {
        baton: body.baton,
        requests: body
            .requests
            .into_iter()
            .map(stream_request)
            .collect::<Result<_, _>>()?,
    })
}

pub fn cursor_request(body: CursorReqBody) -> Result<proto::CursorReqBody, String> {
    Ok(proto::CursorReqBody {
        baton: body.baton,
        batch: batch(body.batch.ok_or_else(|| missing("batch"))?)?,
    })
}

fn stream_request(req: StreamRequest) -> Result<proto::StreamRequest, String> {
    Ok(match req.request.ok_or_else(|| missing("request"))? {
        Request::Close(_) => proto::StreamRequest::Close {},
        Request::Execute(r) => proto::StreamRequest::Execute {
            stmt: stmt(r.stmt.ok_or_else(|| missing("stmt"))?)?,
        },
        Request::Batch(r) => proto::StreamRequest::Batch {
            batch: batch(r.batch.ok_or_else(|| missing("batch"))?)?,
        },
        Request::Sequence(r) => proto::StreamRequest::Sequence {
            sql: r.sql,
            sql_id: r.sql_id,
        },
        Request::Describe(r) => proto::StreamRequest::Describe {
            sql: r.sql,
            sql_id: r.sql_id,
        },
        Request::StoreSql(r) => proto::StreamRequest::StoreSql {
            sql_id: r.sql_id,
            sql: r.sql,
        },
        Request::CloseSql(r) => proto::StreamRequest::CloseSql { sql_id: r.sql_id },
        Request::GetAutocommit(_) => proto::StreamRequest::GetAutocommit {},
    })
}

pub fn stmt(s: Stmt) -> Result<proto::Stmt, String> {
    Ok(proto::Stmt {
        sql: s.sql,
        sql_id: s.sql_id,
        args: s.args.into_iter().map(value).collect::<Result<_, _>>()?,
        named_args: s
            .named_args
            .into_iter()
            .map(|a| {
                Ok(proto::NamedArg {
                    name: a.name,
                    value: value(a.value.ok_or_else(|| missing("named argument value"))?)?,
                })
            })
            .collect::<Result<_, String>>()?,
        want_rows: s.want_rows,
    })
}

pub fn batch(b: Batch) -> Result<proto::Batch, String> {
    Ok(proto::Batch {
        steps: b
            .steps
            .into_iter()
            .map(|step| {
                Ok(proto::BatchStep {
                    condition: step.condition.map(cond).transpose()?,
                    stmt: stmt(step.stmt.ok_or_else(|| missing("batch step stmt"))?)?,
                })
            })
            .collect::<Result<_, String>>()?,
    })
}

fn cond(c: BatchCond) -> Result<proto::BatchCond, String> {
    let list = |l: BatchCondList| l.conds.into_iter().map(cond).collect::<Result<_, _>>();
    Ok(match c.cond.ok_or_else(|| missing("batch condition"))? {
        Cond::Ok(step) => proto::BatchCond::Ok { step },
        Cond::Error(step) => proto::BatchCond::Error { step },
        Cond::Not(inner) => proto::BatchCond::Not {
            cond: Box::new(cond(*inner)?),
        },
        Cond::And(l) => proto::BatchCond::And { conds: list(l)? },
        Cond::Or(l) => proto::BatchCond::Or { conds: list(l)? },
        Cond::IsAutocommit(_) => proto::BatchCond::IsAutocommit {},
    })
}

fn value(v: Value) -> Result<proto::Value, String> {
    Ok(match v.value.ok_or_else(|| missing("value"))? {
        ValueKind::Null(_) => proto::Value::Null,
        ValueKind::Integer(i) => proto::Value::Integer(i),
        ValueKind::Float(f) => proto::Value::Float(f),
        ValueKind::Text(s) => proto::Value::Text(s),
        ValueKind::Blob(b) => proto::Value::Blob(b),
    })
}

// ---- responses from the JSON structures ----------------------------------------------------

pub fn pipeline_response(body: proto::PipelineRespBody) -> PipelineRespBody {
    PipelineRespBody {
        baton: body.baton,
        base_url: body.base_url,
        results: body.results.into_iter().map(stream_result).collect(),
    }
}

pub fn cursor_response(body: proto::CursorRespBody) -> CursorRespBody {
    CursorRespBody {
        baton: body.baton,
        base_url: body.base_url,
    }
}

pub fn cursor_entry(entry: proto::CursorEntry) -> CursorEntry {
    let entry = match entry {
        proto::CursorEntry::StepBegin { step, cols } => Entry::StepBegin(StepBeginEntry {
            step,
            cols: cols.into_iter().map(col).collect(),
        }),
        proto::CursorEntry::StepEnd {
            affected_row_count,
            last_insert_rowid,
        } => Entry::StepEnd(StepEndEntry {
            affected_row_count,
            last_insert_rowid: rowid(last_insert_rowid),
        }),
        proto::CursorEntry::StepError { step, error: e } => Entry::StepError(StepErrorEntry {
            step,
            error: Some(error(e)),
        }),
        proto::CursorEntry::Row { row } => Entry::Row(Row {
            values: row.into_iter().map(value_out).collect(),
        }),
    };
    CursorEntry { entry: Some(entry) }
}

fn stream_result(r: proto::StreamResult) -> StreamResult {
    let result = match r {
        proto::StreamResult::Ok { response } => ResultKind::Ok(StreamResponse {
            response: Some(stream_response(response)),
        }),
        proto::StreamResult::Error { error: e } => ResultKind::Error(error(e)),
    };
    StreamResult {
        result: Some(result),
    }
}

fn stream_response(r: proto::StreamResponse) -> Response {
    match r {
        proto::StreamResponse::Close {} => Response::Close(Empty {}),
        proto::StreamResponse::Execute { result } => Response::Execute(ExecuteResp {
            result: Some(stmt_result(result)),
        }),
        proto::StreamResponse::Batch { result } => Response::Batch(BatchResp {
            result: Some(batch_result(result)),
        }),
        proto::StreamResponse::Sequence {} => Response::Sequence(Empty {}),
        proto::StreamResponse::Describe { result } => Response::Describe(DescribeResp {
            result: Some(DescribeResult {
                params: result
                    .params
                    .into_iter()
                    .map(|p| DescribeParam { name: p.name })
                    .collect(),
                cols: result
                    .cols
                    .into_iter()
                    .map(|c| DescribeCol {
                        name: c.name,
                        decltype: c.decltype,
                    })
                    .collect(),
                is_explain: result.is_explain,
                is_readonly: result.is_readonly,
            }),
        }),
        proto::StreamResponse::StoreSql {} => Response::StoreSql(Empty {}),
        proto::StreamResponse::CloseSql {} => Response::CloseSql(Empty {}),
        proto::StreamResponse::GetAutocommit { is_autocommit } => {
            Response::GetAutocommit(GetAutocommitResp { is_autocommit })
        }
    }
}

fn stmt_result(r: proto::StmtResult) -> StmtResult {
    StmtResult {
        cols: r.cols.into_iter().map(col).collect(),
        rows: r
            .rows
            .into_iter()
            .map(|row| Row {
                values: row.into_iter().map(value_out).collect(),
            })
            .collect(),
        affected_row_count: r.affected_row_count,
        last_insert_rowid: rowid(r.last_insert_rowid),
        replication_index: r.replication_index.and_then(|i| i.parse().ok()),
        rows_read: r.rows_read,
        rows_written: r.rows_written,
        query_duration_ms: r.query_duration_ms,
    }
}

fn batch_result(r: proto::BatchResult) -> BatchResult {
    let mut step_results = HashMap::new();
    let mut step_errors = HashMap::new();
    for (i, result) in r.step_results.into_iter().enumerate() {
        if let (Ok(i), Some(result)) = (u32::try_from(i), result) {
            step_results.insert(i, stmt_result(result));
        }
    }
    for (i, e) in r.step_errors.into_iter().enumerate() {
        if let (Ok(i), Some(e)) = (u32::try_from(i), e) {
            step_errors.insert(i, error(e));
        }
    }
    BatchResult {
        step_results,
        step_errors,
    }
}

/// The JSON side carries the rowid as a decimal string.
fn rowid(r: Option<String>) -> Option<i64> {
    r.and_then(|s| s.parse().ok())
}

fn col(c: proto::Col) -> Col {
    Col {
        name: c.name,
        decltype: c.decltype,
    }
}

pub fn error(e: proto::Error) -> Error {
    Error {
        message: e.message,
        code: e.code,
    }
}

fn value_out(v: proto::Value) -> Value {
    let kind = match v {
        proto::Value::Null => ValueKind::Null(Empty {}),
        proto::Value::Integer(i) => ValueKind::Integer(i),
        proto::Value::Float(f) => ValueKind::Float(f),
        proto::Value::Text(s) => ValueKind::Text(s),
        proto::Value::Blob(b) => ValueKind::Blob(b),
    };
    Value { value: Some(kind) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    #[test]
    fn requests_decode_into_the_json_structures() -> Result<(), Box<dyn std::error::Error>> {
        let not_autocommit = BatchCond {
            cond: Some(Cond::Not(Box::new(BatchCond {
                cond: Some(Cond::IsAutocommit(Empty {})),
            }))),
        };
        let body = PipelineReqBody {
            baton: None,
            requests: vec![
                StreamRequest {
                    request: Some(Request::Execute(ExecuteReq {
                        stmt: Some(Stmt {
                            sql: Some("SELECT ?, :b".into()),
                            args: vec![Value {
                                value: Some(ValueKind::Integer(-5)),
                            }],
                            named_args: vec![NamedArg {
                                name: "b".into(),
                                value: Some(Value {
                                    value: Some(ValueKind::Blob(vec![0, 255])),
                                }),
                            }],
                            ..Default::default()
                        }),
                    })),
                },
                StreamRequest {
                    request: Some(Request::Batch(BatchReq {
                        batch: Some(Batch {
                            steps: vec![BatchStep {
                                condition: Some(not_autocommit),
                                stmt: Some(Stmt {
                                    sql_id: Some(3),
                                    ..Default::default()
                                }),
                            }],
                        }),
                    })),
                },
                StreamRequest {
                    request: Some(Request::Close(Empty {})),
                },
            ],
        };
        let bytes = body.encode_to_vec();
        let decoded = pipeline_request(PipelineReqBody::decode(bytes.as_slice())?)?;
        assert_eq!(decoded.requests.len(), 3);
        match &decoded.requests[0] {
            proto::StreamRequest::Execute { stmt } => {
                assert_eq!(stmt.sql.as_deref(), Some("SELECT ?, :b"));
                assert_eq!(stmt.args, vec![proto::Value::Integer(-5)]);
                assert_eq!(stmt.named_args[0].value, proto::Value::Blob(vec![0, 255]));
            }
            other => panic!("{other:?}"),
        }
        match &decoded.requests[1] {
            proto::StreamRequest::Batch { batch } => {
                assert_eq!(batch.steps[0].stmt.sql_id, Some(3));
                assert!(matches!(
                    batch.steps[0].condition,
                    Some(proto::BatchCond::Not { ref cond })
                        if matches!(**cond, proto::BatchCond::IsAutocommit {})
                ));
            }
            other => panic!("{other:?}"),
        }
        // A request of an unknown kind (a field number this server does not know).
        let unknown = StreamRequest { request: None }.encode_to_vec();
        let body = PipelineReqBody::decode(
            [vec![0x12, unknown.len() as u8], unknown]
                .concat()
                .as_slice(),
        )?;
        assert!(pipeline_request(body).is_err());
        Ok(())
    }

    #[test]
    fn responses_encode_what_the_json_side_built() -> Result<(), Box<dyn std::error::Error>> {
        let result = proto::StmtResult {
            cols: vec![proto::Col {
                name: Some("a".into()),
                decltype: None,
            }],
            rows: vec![vec![proto::Value::Text("x".into()), proto::Value::Null]],
            affected_row_count: 1,
            last_insert_rowid: Some("-7".into()),
            replication_index: None,
            rows_read: 2,
            rows_written: 1,
            query_duration_ms: 0.5,
        };
        let body = proto::PipelineRespBody {
            baton: Some("b".into()),
            base_url: None,
            results: vec![
                proto::StreamResult::Ok {
                    response: proto::StreamResponse::Batch {
                        result: proto::BatchResult {
                            step_results: vec![None, Some(result)],
                            step_errors: vec![Some(proto::Error::new("E", "m")), None],
                            replication_index: None,
                        },
                    },
                },
                proto::StreamResult::Error {
                    error: proto::Error::new("SQLITE_ERROR", "bad"),
                },
            ],
        };
        let bytes = pipeline_response(body).encode_to_vec();
        let back = PipelineRespBody::decode(bytes.as_slice())?;
        assert_eq!(back.baton.as_deref(), Some("b"));
        let Some(ResultKind::Ok(StreamResponse {
            response:
                Some(Response::Batch(BatchResp {
                    result: Some(batch),
                })),
        })) = &back.results[0].result
        else {
            panic!("{back:?}");
        };
        assert_eq!(batch.step_results.len(), 1);
        let step = &batch.step_results[&1];
        assert_eq!(step.last_insert_rowid, Some(-7));
        assert_eq!(
            step.rows[0].values[1].value,
            Some(ValueKind::Null(Empty {}))
        );
        assert_eq!(batch.step_errors[&0].code, "E");
        assert!(matches!(
            back.results[1].result,
            Some(ResultKind::Error(ref e)) if e.code == "SQLITE_ERROR"
        ));
        Ok(())
    }
}
