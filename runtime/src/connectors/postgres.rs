//! The `postgres` connector (the synchronous `postgres` client). The endpoint is a
//! connection string, always a secret.
//!
//! - `query(sql)` is a source: each row becomes a JSON record through PostgreSQL's own
//!   `row_to_json`, so every column type converts as the server does it. Placeholders
//!   such as `{last_run}` become parameters (`$1`, ...), sent as text for the server to
//!   read as the type the query needs: never spliced into the SQL.
//! - `insert(table)` and `upsert(table, key)` are targets: the record's fields are the
//!   columns, converted by `json_populate_record` to the table's column types;
//!   `upsert` updates the row whose `key` column conflicts.
//!
//! Options: `timeout` (connecting), `pool_size` (accepted; one connection per run is
//! used since the engine sends one request at a time).

use std::error::Error;
use std::sync::Mutex;
use std::time::Duration;

use bytes::BytesMut;
use postgres::types::{to_sql_checked, Format, IsNull, ToSql, Type};

use super::{BindError, Connector, Settings};
use crate::connector::{ConnectorError, Filled, Request};

/// Connecting gives up after this long without a `timeout` option.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A bound `postgres` connection; connects on first use and again after a failure.
pub struct PostgresConnector {
    config: postgres::Config,
    client: Mutex<Option<postgres::Client>>,
}

impl PostgresConnector {
    /// A connector for this binding (the connection string is checked, not used yet).
    pub fn new(settings: &Settings<'_>) -> Result<PostgresConnector, BindError> {
        let mut config: postgres::Config = settings
            .endpoint()?
            .parse()
            .map_err(|_| settings.error("the connection string is not valid".into()))?;
        config.connect_timeout(settings.duration("timeout")?.unwrap_or(DEFAULT_TIMEOUT));
        settings.count("pool_size")?;
        Ok(PostgresConnector {
            config,
            client: Mutex::new(None),
        })
    }

    fn with_client<T>(
        &self,
        work: impl FnOnce(&mut postgres::Client) -> Result<T, postgres::Error>,
    ) -> Result<T, ConnectorError> {
        let mut slot = self
            .client
            .lock()
            .map_err(|_| ConnectorError::Transport("the connection is poisoned".into()))?;
        if slot.as_ref().is_none_or(postgres::Client::is_closed) {
            let client = self
                .config
                .connect(postgres::NoTls)
                .map_err(|e| db_error(&e))?;
            *slot = Some(client);
        }
        let Some(client) = slot.as_mut() else {
            return Err(ConnectorError::Transport("not connected".into()));
        };
        let result = work(client).map_err(|e| db_error(&e));
        if client.is_closed() {
            *slot = None;
        }
        result
    }

    fn query(&self, sql: &Filled) -> Result<serde_json::Value, ConnectorError> {
        let statement = format!(
            "SELECT row_to_json(q)::text FROM ({}) AS q",
            sql.join(|i, _| format!("${}", i + 1))
        );
        let params: Vec<Text<'_>> = sql.values.iter().map(|v| Text(v)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let rows = self.with_client(|client| client.query(statement.as_str(), &refs))?;
        rows.iter()
            .map(|row| {
                let text: String = row
                    .try_get(0)
                    .map_err(|e| ConnectorError::Transport(e.to_string()))?;
                serde_json::from_str(&text).map_err(|e| ConnectorError::Transport(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(serde_json::Value::Array)
    }

    fn store(
        &self,
        table: &str,
        key: Option<&str>,
        record: &serde_json::Value,
    ) -> Result<serde_json::Value, ConnectorError> {
        let Some(fields) = record.as_object().filter(|f| !f.is_empty()) else {
            return Err(ConnectorError::Invalid(
                "a row needs a record with fields".into(),
            ));
        };
        let table = qualified(table)?;
        let columns: Vec<String> = fields.keys().map(|k| identifier(k)).collect();
        let list = columns.join(", ");
        let mut statement = format!(
            "INSERT INTO {table} ({list}) SELECT {list} FROM json_populate_record(NULL::{table}, $1::json)"
        );
        if let Some(key) = key {
            let key_columns: Vec<String> = key.split(',').map(|k| identifier(k.trim())).collect();
            let updates: Vec<String> = columns
                .iter()
                .filter(|c| !key_columns.contains(c))
                .map(|c| format!("{c} = EXCLUDED.{c}"))
                .collect();
            let conflict = key_columns.join(", ");
            if updates.is_empty() {
                statement.push_str(&format!(" ON CONFLICT ({conflict}) DO NOTHING"));
            } else {
                statement.push_str(&format!(
                    " ON CONFLICT ({conflict}) DO UPDATE SET {}",
                    updates.join(", ")
                ));
            }
        }
        let json = record.to_string();
        let param = Text(&json);
        self.with_client(|client| client.execute(statement.as_str(), &[&param]))?;
        Ok(serde_json::Value::Null)
    }
}

impl Connector for PostgresConnector {
    fn send(&self, request: &Request<'_>) -> Result<serde_json::Value, ConnectorError> {
        let arg = |i: usize| {
            request.filled.get(i).ok_or_else(|| {
                ConnectorError::Invalid(format!(
                    "{}.{} is missing an argument",
                    request.connection, request.operation
                ))
            })
        };
        let body = || {
            request
                .body
                .as_ref()
                .ok_or_else(|| ConnectorError::Invalid("a write needs a record".into()))
        };
        // Table and key names are identifiers, quoted; their placeholders are filled in.
        let name = |i: usize| arg(i).map(|f| f.join(|_, v| v.to_owned()));
        match request.operation {
            "query" => self.query(arg(0)?),
            "insert" => self.store(&name(0)?, None, body()?),
            "upsert" => self.store(&name(0)?, Some(&name(1)?), body()?),
            other => Err(ConnectorError::Invalid(format!(
                "`postgres` connections have no operation `{other}`"
            ))),
        }
    }
}

/// A parameter sent as text, for the server to read as whatever type it needs.
#[derive(Debug)]
struct Text<'a>(&'a str);

impl ToSql for Text<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, _: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

/// A quoted SQL identifier.
fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table name, optionally `schema.table`, quoted.
fn qualified(table: &str) -> Result<String, ConnectorError> {
    let parts: Vec<&str> = table.split('.').collect();
    if parts.len() > 2 || parts.iter().any(|p| p.trim().is_empty()) {
        return Err(ConnectorError::Invalid(format!(
            "`{table}` is not a table name"
        )));
    }
    Ok(parts
        .iter()
        .map(|p| identifier(p.trim()))
        .collect::<Vec<_>>()
        .join("."))
}

/// Connection problems may pass; errors the server reports about the statement or
/// the data do not.
fn db_error(error: &postgres::Error) -> ConnectorError {
    match error.as_db_error() {
        Some(db) => {
            let class = &db.code().code()[..2];
            let message = format!("{}: {}", db.severity(), db.message());
            // 08 connection, 40 rollback (serialization, deadlock), 53 resources, 57 operator.
            if matches!(class, "08" | "40" | "53" | "57") {
                ConnectorError::Transport(message)
            } else {
                ConnectorError::Invalid(message)
            }
        }
        None if error.is_closed() => ConnectorError::Transport("the connection closed".into()),
        None => ConnectorError::Transport(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(qualified("s.t").ok().as_deref(), Some("\"s\".\"t\""));
        assert!(qualified("a.b.c").is_err());
        assert!(qualified("").is_err());
    }
}
