//! The JSON structures of Hrana over HTTP (`docs/HRANA_3_SPEC.md` and `docs/HTTP_V2_SPEC.md`
//! of the libSQL repository), as the emulator reads and writes them.
//!
//! Requests are parsed leniently where the specification allows (`null` for an optional
//! field, unknown fields ignored, an integer value as a JSON number as well as a string);
//! responses follow the shapes sqld sends (`replication_index: null`, `rows_read`,
//! `rows_written`, `query_duration_ms` in every statement result).

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `null` (or a missing field) as the type's default.
fn null_default<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(de)?.unwrap_or_default())
}

// ---- requests ------------------------------------------------------------------------------

/// `POST .../pipeline` body.
#[derive(Debug, Deserialize)]
pub struct PipelineReqBody {
    #[serde(default)]
    pub baton: Option<String>,
    pub requests: Vec<StreamRequest>,
}

/// `POST .../v3/cursor` body.
#[derive(Debug, Deserialize)]
pub struct CursorReqBody {
    #[serde(default)]
    pub baton: Option<String>,
    pub batch: Batch,
}

/// One request of a pipeline.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamRequest {
    Close {},
    Execute {
        stmt: Stmt,
    },
    Batch {
        batch: Batch,
    },
    Sequence {
        #[serde(default)]
        sql: Option<String>,
        #[serde(default)]
        sql_id: Option<i32>,
    },
    Describe {
        #[serde(default)]
        sql: Option<String>,
        #[serde(default)]
        sql_id: Option<i32>,
    },
    StoreSql {
        sql_id: i32,
        sql: String,
    },
    CloseSql {
        sql_id: i32,
    },
    GetAutocommit {},
}

/// A statement: SQL text (or a stored SQL id), arguments and `want_rows`.
#[derive(Debug, Deserialize)]
pub struct Stmt {
    #[serde(default)]
    pub sql: Option<String>,
    #[serde(default)]
    pub sql_id: Option<i32>,
    #[serde(default, deserialize_with = "null_default")]
    pub args: Vec<Value>,
    #[serde(default, deserialize_with = "null_default")]
    pub named_args: Vec<NamedArg>,
    #[serde(default)]
    pub want_rows: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct NamedArg {
    pub name: String,
    pub value: Value,
}

#[derive(Debug, Deserialize)]
pub struct Batch {
    #[serde(default, deserialize_with = "null_default")]
    pub steps: Vec<BatchStep>,
}

#[derive(Debug, Deserialize)]
pub struct BatchStep {
    #[serde(default)]
    pub condition: Option<BatchCond>,
    pub stmt: Stmt,
}

/// A batch step condition.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BatchCond {
    Ok {
        step: u32,
    },
    Error {
        step: u32,
    },
    Not {
        cond: Box<BatchCond>,
    },
    And {
        #[serde(default, deserialize_with = "null_default")]
        conds: Vec<BatchCond>,
    },
    Or {
        #[serde(default, deserialize_with = "null_default")]
        conds: Vec<BatchCond>,
    },
    IsAutocommit {},
}

// ---- values --------------------------------------------------------------------------------

/// A SQLite value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
}

#[derive(Deserialize)]
struct RawValue {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default)]
    base64: Option<String>,
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let raw = RawValue::deserialize(de)?;
        let value = raw.value;
        match raw.ty.as_str() {
            "null" => Ok(Value::Null),
            "integer" => match value {
                Some(serde_json::Value::String(s)) => {
                    s.trim().parse::<i64>().map(Value::Integer).map_err(|_| {
                        D::Error::custom("integer value must be a decimal 64-bit integer")
                    })
                }
                Some(serde_json::Value::Number(n)) => n
                    .as_i64()
                    .map(Value::Integer)
                    .ok_or_else(|| D::Error::custom("integer value out of the 64-bit range")),
                _ => Err(D::Error::custom(
                    "integer value must be a decimal integer in a string",
                )),
            },
            "float" => match value {
                Some(serde_json::Value::Number(n)) => n
                    .as_f64()
                    .map(Value::Float)
                    .ok_or_else(|| D::Error::custom("float value is not a number")),
                _ => Err(D::Error::custom("float value must be a JSON number")),
            },
            "text" => match value {
                Some(serde_json::Value::String(s)) => Ok(Value::Text(s)),
                _ => Err(D::Error::custom("text value must be a string")),
            },
            "blob" => {
                let text = raw
                    .base64
                    .ok_or_else(|| D::Error::custom("blob value needs a `base64` field"))?;
                let trimmed = text.trim_end_matches('=');
                STANDARD_NO_PAD
                    .decode(trimmed)
                    .or_else(|_| STANDARD.decode(&text))
                    .map(Value::Blob)
                    .map_err(|_| D::Error::custom("blob value is not valid base64"))
            }
            other => Err(D::Error::custom(format!("unknown value type `{other}`"))),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut map = ser.serialize_map(Some(2))?;
        match self {
            Value::Null => map.serialize_entry("type", "null")?,
            Value::Integer(i) => {
                map.serialize_entry("type", "integer")?;
                map.serialize_entry("value", &i.to_string())?;
            }
            Value::Float(f) => {
                map.serialize_entry("type", "float")?;
                map.serialize_entry("value", f)?;
            }
            Value::Text(s) => {
                map.serialize_entry("type", "text")?;
                map.serialize_entry("value", s)?;
            }
            Value::Blob(b) => {
                map.serialize_entry("type", "blob")?;
                map.serialize_entry("base64", &STANDARD_NO_PAD.encode(b))?;
            }
        }
        map.end()
    }
}

impl Value {
    /// Approximate size of the value in a JSON response (for the response-size cap).
    pub fn json_size(&self) -> usize {
        match self {
            Value::Null => 16,
            Value::Integer(_) | Value::Float(_) => 48,
            Value::Text(s) => 32 + s.len() + s.len() / 8,
            Value::Blob(b) => 32 + b.len() / 3 * 4 + 4,
        }
    }
}

impl From<rusqlite::types::ValueRef<'_>> for Value {
    fn from(v: rusqlite::types::ValueRef<'_>) -> Self {
        use rusqlite::types::ValueRef;
        match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Float(f),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Float(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

// ---- responses -----------------------------------------------------------------------------

/// The Hrana `Error` structure.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Error {
    pub message: String,
    pub code: String,
}

impl Error {
    pub fn new(code: &str, message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            code: code.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Col {
    pub name: Option<String>,
    pub decltype: Option<String>,
}

/// The result of one statement.
#[derive(Debug, Clone, Serialize)]
pub struct StmtResult {
    pub cols: Vec<Col>,
    pub rows: Vec<Vec<Value>>,
    pub affected_row_count: u64,
    pub last_insert_rowid: Option<String>,
    pub replication_index: Option<String>,
    pub rows_read: u64,
    pub rows_written: u64,
    pub query_duration_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchResult {
    pub step_results: Vec<Option<StmtResult>>,
    pub step_errors: Vec<Option<Error>>,
    pub replication_index: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DescribeParam {
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DescribeCol {
    pub name: String,
    pub decltype: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DescribeResult {
    pub params: Vec<DescribeParam>,
    pub cols: Vec<DescribeCol>,
    pub is_explain: bool,
    pub is_readonly: bool,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamResponse {
    Close {},
    Execute { result: StmtResult },
    Batch { result: BatchResult },
    Sequence {},
    Describe { result: DescribeResult },
    StoreSql {},
    CloseSql {},
    GetAutocommit { is_autocommit: bool },
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamResult {
    Ok { response: StreamResponse },
    Error { error: Error },
}

#[derive(Debug, Serialize)]
pub struct PipelineRespBody {
    pub baton: Option<String>,
    pub base_url: Option<String>,
    pub results: Vec<StreamResult>,
}

#[derive(Debug, Serialize)]
pub struct CursorRespBody {
    pub baton: Option<String>,
    pub base_url: Option<String>,
}

/// One line of a `v3/cursor` response after the first.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CursorEntry {
    StepBegin {
        step: u32,
        cols: Vec<Col>,
    },
    StepEnd {
        affected_row_count: u64,
        last_insert_rowid: Option<String>,
    },
    StepError {
        step: u32,
        error: Error,
    },
    Row {
        row: Vec<Value>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_round_trip() -> Result<(), serde_json::Error> {
        let cases = [
            (json!({"type": "null"}), Value::Null),
            (
                json!({"type": "integer", "value": "-9223372036854775808"}),
                Value::Integer(i64::MIN),
            ),
            (json!({"type": "float", "value": 1.5}), Value::Float(1.5)),
            (
                json!({"type": "text", "value": "héllo"}),
                Value::Text("héllo".into()),
            ),
            (
                json!({"type": "blob", "base64": "AAEC/w"}),
                Value::Blob(vec![0, 1, 2, 255]),
            ),
        ];
        for (wire, value) in cases {
            let parsed: Value = serde_json::from_value(wire.clone())?;
            assert_eq!(parsed, value);
            assert_eq!(serde_json::to_value(&value)?, wire);
        }
        // Padding and a JSON number are accepted on input.
        let padded: Value = serde_json::from_value(json!({"type": "blob", "base64": "AAEC/w=="}))?;
        assert_eq!(padded, Value::Blob(vec![0, 1, 2, 255]));
        let number: Value = serde_json::from_value(json!({"type": "integer", "value": 42}))?;
        assert_eq!(number, Value::Integer(42));
        for bad in [
            json!({"type": "integer", "value": "4.2"}),
            json!({"type": "integer"}),
            json!({"type": "float", "value": "1"}),
            json!({"type": "blob", "base64": "!!"}),
            json!({"type": "date", "value": "x"}),
            json!({"value": "x"}),
        ] {
            assert!(
                serde_json::from_value::<Value>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        Ok(())
    }

    #[test]
    fn requests_parse() -> Result<(), serde_json::Error> {
        let body: PipelineReqBody = serde_json::from_value(json!({
            "baton": null,
            "requests": [
                {"type": "execute", "stmt": {"sql": "SELECT ?", "args": [{"type": "integer", "value": "1"}], "want_rows": true}},
                {"type": "batch", "batch": {"steps": [
                    {"stmt": {"sql": "SELECT 1", "named_args": null}},
                    {"condition": {"type": "and", "conds": [{"type": "ok", "step": 0}, {"type": "not", "cond": {"type": "is_autocommit"}}]}, "stmt": {"sql_id": 3}}
                ]}},
                {"type": "store_sql", "sql_id": 3, "sql": "SELECT 2", "extra": true},
                {"type": "close_sql", "sql_id": 3},
                {"type": "sequence", "sql": "SELECT 1; SELECT 2"},
                {"type": "describe", "sql_id": 3},
                {"type": "get_autocommit"},
                {"type": "close"}
            ]
        }))?;
        assert_eq!(body.requests.len(), 8);
        assert!(matches!(
            body.requests[1],
            StreamRequest::Batch { ref batch } if batch.steps.len() == 2
        ));
        assert!(
            serde_json::from_value::<PipelineReqBody>(json!({"requests": [{"type": "nope"}]}))
                .is_err()
        );
        assert!(serde_json::from_value::<PipelineReqBody>(json!({"baton": null})).is_err());
        Ok(())
    }

    #[test]
    fn responses_serialize_like_sqld() -> Result<(), serde_json::Error> {
        let result = StreamResult::Ok {
            response: StreamResponse::Execute {
                result: StmtResult {
                    cols: vec![Col {
                        name: Some("a".into()),
                        decltype: Some("INTEGER".into()),
                    }],
                    rows: vec![vec![Value::Integer(1)]],
                    affected_row_count: 0,
                    last_insert_rowid: None,
                    replication_index: None,
                    rows_read: 1,
                    rows_written: 0,
                    query_duration_ms: 0.5,
                },
            },
        };
        assert_eq!(
            serde_json::to_value(&result)?,
            json!({"type": "ok", "response": {"type": "execute", "result": {
                "cols": [{"name": "a", "decltype": "INTEGER"}],
                "rows": [[{"type": "integer", "value": "1"}]],
                "affected_row_count": 0, "last_insert_rowid": null, "replication_index": null,
                "rows_read": 1, "rows_written": 0, "query_duration_ms": 0.5}}})
        );
        let err = StreamResult::Error {
            error: Error::new("SQLITE_CONSTRAINT", "SQLite error: x"),
        };
        assert_eq!(
            serde_json::to_value(&err)?,
            json!({"type": "error", "error": {"message": "SQLite error: x", "code": "SQLITE_CONSTRAINT"}})
        );
        assert_eq!(
            serde_json::to_value(StreamResponse::GetAutocommit {
                is_autocommit: true
            })?,
            json!({"type": "get_autocommit", "is_autocommit": true})
        );
        assert_eq!(
            serde_json::to_value(StreamResponse::Close {})?,
            json!({"type": "close"})
        );
        Ok(())
    }
}
