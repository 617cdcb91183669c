//! Run state in one SQLite file (WAL mode: readers such as `weft runs` do not block a
//! running flow; each change is one transaction).

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{
    Counts, Filter, NewDeadLetter, NewRun, RunRecord, RunStatus, Store, StoreError,
    StoredDeadLetter, Trigger,
};

/// The schema version this code writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    flow          TEXT NOT NULL,
    environment   TEXT NOT NULL,
    digest        TEXT NOT NULL,
    trigger       TEXT NOT NULL,
    status        TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    duration_ms   INTEGER,
    read          INTEGER NOT NULL DEFAULT 0,
    delivered     INTEGER NOT NULL DEFAULT 0,
    dropped       INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0,
    dead_lettered INTEGER NOT NULL DEFAULT 0,
    retries       INTEGER NOT NULL DEFAULT 0,
    failure       TEXT,
    pid           INTEGER
);
CREATE INDEX IF NOT EXISTS runs_by_flow ON runs (flow, environment, id);
CREATE TABLE IF NOT EXISTS dead_letters (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          INTEGER NOT NULL REFERENCES runs (id),
    flow            TEXT NOT NULL,
    environment     TEXT NOT NULL,
    record          TEXT NOT NULL,
    error           TEXT NOT NULL,
    step            INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    failed_at       TEXT NOT NULL,
    idempotency_key TEXT
);
CREATE INDEX IF NOT EXISTS dead_letters_by_flow ON dead_letters (flow, environment, id);
CREATE TABLE IF NOT EXISTS pending (
    run_id INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
";

/// Version 1 runs have no `pid`.
const MIGRATE_1: &str = "ALTER TABLE runs ADD COLUMN pid INTEGER;";

/// Run state in a SQLite database file.
#[derive(Debug)]
pub struct SqliteStore {
    db: Connection,
}

impl SqliteStore {
    /// Opens (or creates, with its folder) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::init(open_file(path).map_err(StoreError)?)
    }

    /// A store in memory, for tests.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::init(Connection::open_in_memory().map_err(sql)?)
    }

    fn init(db: Connection) -> Result<SqliteStore, StoreError> {
        configure(&db).map_err(sql)?;
        let version: i64 = db
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(sql)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError(format!(
                "the state file has schema version {version}; this weft knows up to {SCHEMA_VERSION}"
            )));
        }
        let migrate = if version == 1 { MIGRATE_1 } else { "" };
        db.execute_batch(&format!(
            "BEGIN; {migrate} {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        ))
        .map_err(sql)?;
        Ok(SqliteStore { db })
    }
}

/// Opens (or creates, with its folder) a state file shared by the run state and the
/// delivery state, configured by [`configure`].
pub fn open_file(path: &Path) -> Result<Connection, String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let db = Connection::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    configure(&db).map_err(|e| format!("cannot use {}: {e}", path.display()))?;
    Ok(db)
}

/// The settings every connection to a state file uses: WAL (readers do not block the
/// writer), foreign keys, and a 10 s wait for a busy file.
pub fn configure(db: &Connection) -> rusqlite::Result<()> {
    db.busy_timeout(Duration::from_secs(10))?;
    db.query_row("PRAGMA journal_mode = WAL", [], |row| {
        row.get::<_, String>(0)
    })?;
    db.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
}

fn sql(error: rusqlite::Error) -> StoreError {
    StoreError(error.to_string())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count(row: &Row<'_>, column: &str) -> rusqlite::Result<u64> {
    row.get::<_, i64>(column)
        .map(|n| u64::try_from(n).unwrap_or(0))
}

/// `WHERE` clauses and their values for a filter.
fn conditions(filter: &Filter) -> (String, Vec<rusqlite::types::Value>) {
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    if let Some(id) = filter.id {
        clauses.push("id = ?");
        values.push(rusqlite::types::Value::Integer(id));
    }
    if let Some(flow) = &filter.flow {
        clauses.push("flow = ?");
        values.push(rusqlite::types::Value::Text(flow.clone()));
    }
    if let Some(environment) = &filter.environment {
        clauses.push("environment = ?");
        values.push(rusqlite::types::Value::Text(environment.clone()));
    }
    let mut text = String::new();
    if !clauses.is_empty() {
        text = format!(" WHERE {}", clauses.join(" AND "));
    }
    text.push_str(" ORDER BY id DESC");
    if let Some(limit) = filter.limit {
        text.push_str(&format!(" LIMIT {limit}"));
    }
    (text, values)
}

fn run_record(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    let text = |column: &str| row.get::<_, String>(column);
    let invalid = |column: &str, value: String| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown {column} `{value}`").into(),
        )
    };
    let status = text("status")?;
    let trigger = text("trigger")?;
    Ok(RunRecord {
        id: row.get("id")?,
        flow: text("flow")?,
        environment: text("environment")?,
        digest: text("digest")?,
        trigger: Trigger::parse(&trigger).ok_or_else(|| invalid("trigger", trigger.clone()))?,
        status: RunStatus::parse(&status).ok_or_else(|| invalid("status", status.clone()))?,
        started_at: text("started_at")?,
        duration_ms: row
            .get::<_, Option<i64>>("duration_ms")?
            .map(|n| u64::try_from(n).unwrap_or(0)),
        counts: Counts {
            read: count(row, "read")?,
            delivered: count(row, "delivered")?,
            dropped: count(row, "dropped")?,
            skipped: count(row, "skipped")?,
            dead_lettered: count(row, "dead_lettered")?,
            retries: count(row, "retries")?,
        },
        failure: row.get("failure")?,
    })
}

fn dead_letter(row: &Row<'_>) -> rusqlite::Result<StoredDeadLetter> {
    let record: String = row.get("record")?;
    Ok(StoredDeadLetter {
        id: row.get("id")?,
        run: row.get("run_id")?,
        flow: row.get("flow")?,
        environment: row.get("environment")?,
        record: serde_json::from_str(&record).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })?,
        error: row.get("error")?,
        step: count(row, "step")?,
        attempts: u32::try_from(count(row, "attempts")?).unwrap_or(u32::MAX),
        created_at: row.get("created_at")?,
        failed_at: row.get("failed_at")?,
        idempotency_key: row.get("idempotency_key")?,
    })
}

impl Store for SqliteStore {
    fn start_run(&mut self, run: &NewRun) -> Result<i64, StoreError> {
        let tx = self.db.transaction().map_err(sql)?;
        tx.execute(
            "INSERT INTO runs (flow, environment, digest, trigger, status, started_at, pid)
             VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6)",
            params![
                run.flow,
                run.environment,
                run.digest,
                run.trigger.as_str(),
                now(),
                std::process::id()
            ],
        )
        .map_err(sql)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(sql)?;
        Ok(id)
    }

    fn finish_run(
        &mut self,
        id: i64,
        duration_ms: u64,
        counts: &Counts,
        failure: Option<&str>,
    ) -> Result<(), StoreError> {
        let status = if failure.is_some() {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        };
        let tx = self.db.transaction().map_err(sql)?;
        tx.execute("DELETE FROM pending WHERE run_id = ?1", [id])
            .map_err(sql)?;
        let changed = tx
            .execute(
                "UPDATE runs SET status = ?2, duration_ms = ?3, read = ?4, delivered = ?5,
                 dropped = ?6, skipped = ?7, dead_lettered = ?8, retries = ?9, failure = ?10
                 WHERE id = ?1",
                params![
                    id,
                    status.as_str(),
                    int(duration_ms),
                    int(counts.read),
                    int(counts.delivered),
                    int(counts.dropped),
                    int(counts.skipped),
                    int(counts.dead_lettered),
                    int(counts.retries),
                    failure
                ],
            )
            .map_err(sql)?;
        if changed == 0 {
            return Err(StoreError(format!("no run {id}")));
        }
        tx.commit().map_err(sql)
    }

    fn journal(&mut self, run: i64, first: u64, records: &[String]) -> Result<(), StoreError> {
        let tx = self.db.transaction().map_err(sql)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO pending (run_id, seq, record) VALUES (?1, ?2, ?3)",
                )
                .map_err(sql)?;
            for (i, record) in records.iter().enumerate() {
                insert
                    .execute(params![run, int(first + i as u64), record])
                    .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }

    fn settle(&mut self, run: i64, first: u64, count: u64) -> Result<(), StoreError> {
        self.db
            .prepare_cached("DELETE FROM pending WHERE run_id = ?1 AND seq >= ?2 AND seq < ?3")
            .and_then(|mut delete| delete.execute(params![run, int(first), int(first + count)]))
            .map_err(sql)?;
        Ok(())
    }

    fn pending(&self, run: i64) -> Result<Vec<serde_json::Value>, StoreError> {
        let mut statement = self
            .db
            .prepare("SELECT record FROM pending WHERE run_id = ?1 ORDER BY seq")
            .map_err(sql)?;
        let rows = statement
            .query_map([run], |row| row.get::<_, String>(0))
            .map_err(sql)?;
        rows.map(|text| {
            let text = text.map_err(sql)?;
            serde_json::from_str(&text)
                .map_err(|e| StoreError(format!("journal of run {run}: {e}")))
        })
        .collect()
    }

    fn clear_pending(&mut self, run: i64) -> Result<(), StoreError> {
        self.db
            .execute("DELETE FROM pending WHERE run_id = ?1", [run])
            .map_err(sql)?;
        Ok(())
    }

    fn take_interrupted(
        &mut self,
        environment: &str,
        flow: Option<&str>,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let tx = self.db.transaction().map_err(sql)?;
        let candidates: Vec<(RunRecord, Option<i64>)> = {
            let mut statement = tx
                .prepare(
                    "SELECT * FROM runs WHERE status = 'running' AND environment = ?1
                     AND (?2 IS NULL OR flow = ?2) ORDER BY id",
                )
                .map_err(sql)?;
            let rows = statement
                .query_map(params![environment, flow], |row| {
                    Ok((run_record(row)?, row.get::<_, Option<i64>>("pid")?))
                })
                .map_err(sql)?;
            rows.collect::<Result<_, _>>().map_err(sql)?
        };
        let mut interrupted = Vec::new();
        for (mut run, pid) in candidates {
            let alive = pid
                .and_then(|p| u32::try_from(p).ok())
                .is_some_and(super::process_alive);
            if alive {
                continue;
            }
            tx.execute(
                "UPDATE runs SET status = 'interrupted' WHERE id = ?1",
                [run.id],
            )
            .map_err(sql)?;
            run.status = RunStatus::Interrupted;
            interrupted.push(run);
        }
        tx.commit().map_err(sql)?;
        Ok(interrupted)
    }

    fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError> {
        self.db
            .query_row("SELECT * FROM runs WHERE id = ?1", [id], run_record)
            .optional()
            .map_err(sql)
    }

    fn runs(&self, filter: &Filter) -> Result<Vec<RunRecord>, StoreError> {
        let (conditions, values) = conditions(filter);
        let mut statement = self
            .db
            .prepare(&format!("SELECT * FROM runs{conditions}"))
            .map_err(sql)?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(values), run_record)
            .map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    fn add_dead_letter(&mut self, letter: &NewDeadLetter) -> Result<i64, StoreError> {
        let time = now();
        let tx = self.db.transaction().map_err(sql)?;
        tx.execute(
            "INSERT INTO dead_letters (run_id, flow, environment, record, error, step, attempts,
             created_at, failed_at, idempotency_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
            params![
                letter.run,
                letter.flow,
                letter.environment,
                letter.record.to_string(),
                letter.error,
                int(letter.step),
                letter.attempts,
                time,
                letter.idempotency_key
            ],
        )
        .map_err(sql)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(sql)?;
        Ok(id)
    }

    fn dead_letters(&self, filter: &Filter) -> Result<Vec<StoredDeadLetter>, StoreError> {
        let (conditions, values) = conditions(filter);
        let mut statement = self
            .db
            .prepare(&format!("SELECT * FROM dead_letters{conditions}"))
            .map_err(sql)?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(values), dead_letter)
            .map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    fn remove_dead_letter(&mut self, id: i64) -> Result<(), StoreError> {
        self.db
            .execute("DELETE FROM dead_letters WHERE id = ?1", [id])
            .map_err(sql)?;
        Ok(())
    }

    fn refail_dead_letter(
        &mut self,
        id: i64,
        run: i64,
        error: &str,
        attempts: u32,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE dead_letters SET run_id = ?2, error = ?3, attempts = ?4, failed_at = ?5
                 WHERE id = ?1",
                params![id, run, error, attempts, now()],
            )
            .map_err(sql)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
