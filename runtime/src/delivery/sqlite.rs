//! Delivery state in one SQLite file: WAL mode (readers such as `weft audit export` do
//! not block writers), one transaction per change with its audit entries.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::audit::{Entry, NewEntry, GENESIS};
use super::identity::{Grant, Identity};
use super::store::{
    Activation, ActivationState, Approval, AuditOf, DeliveryStore, NewActivation, NewPromotion,
    Promotion, PromotionStatus, StoreError, TestRecord, User, Version,
};
use crate::artifact::Artifact;

/// The schema version this code writes (`PRAGMA user_version` of a delivery file).
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS artifacts (
    digest        TEXT PRIMARY KEY,
    project       TEXT NOT NULL,
    version       TEXT NOT NULL,
    commit_time   TEXT,
    artifact      TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    registered_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS artifacts_by_version ON artifacts (project, version);
CREATE TABLE IF NOT EXISTS activations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    flow         TEXT NOT NULL,
    environment  TEXT NOT NULL,
    digest       TEXT NOT NULL REFERENCES artifacts (digest),
    activated_at TEXT NOT NULL,
    activated_by TEXT NOT NULL,
    state        TEXT NOT NULL,
    known_good   INTEGER NOT NULL DEFAULT 0,
    cause        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS activations_by_flow ON activations (flow, environment, id);
CREATE INDEX IF NOT EXISTS activations_active ON activations (state) WHERE state = 'active';
CREATE TABLE IF NOT EXISTS promotions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    flow         TEXT NOT NULL,
    from_env     TEXT,
    to_env       TEXT NOT NULL,
    digest       TEXT NOT NULL REFERENCES artifacts (digest),
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    status       TEXT NOT NULL,
    diff         TEXT NOT NULL,
    gates        TEXT NOT NULL,
    reason       TEXT
);
CREATE INDEX IF NOT EXISTS promotions_by_status ON promotions (status, id);
CREATE TABLE IF NOT EXISTS approvals (
    promotion INTEGER NOT NULL REFERENCES promotions (id),
    user      TEXT NOT NULL,
    at        TEXT NOT NULL,
    PRIMARY KEY (promotion, user)
);
CREATE TABLE IF NOT EXISTS users (
    name       TEXT PRIMARY KEY,
    grants     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    hash       TEXT PRIMARY KEY,
    user       TEXT NOT NULL REFERENCES users (name),
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS test_results (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    digest  TEXT NOT NULL,
    passed  INTEGER NOT NULL,
    by_user TEXT NOT NULL,
    at      TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS test_results_by_digest ON test_results (digest, passed);
CREATE TABLE IF NOT EXISTS audit (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    flow        TEXT,
    environment TEXT,
    version     TEXT,
    digest      TEXT,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
";

/// Delivery state in a SQLite database file (it may share the file with the run state).
#[derive(Debug)]
pub struct SqliteDeliveryStore {
    db: Connection,
}

impl SqliteDeliveryStore {
    /// Opens (or creates, with its folder) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteDeliveryStore, StoreError> {
        SqliteDeliveryStore::init(crate::state::sqlite::open_file(path).map_err(StoreError)?)
    }

    /// A store in memory, for tests.
    pub fn in_memory() -> Result<SqliteDeliveryStore, StoreError> {
        SqliteDeliveryStore::init(Connection::open_in_memory().map_err(sql)?)
    }

    fn init(db: Connection) -> Result<SqliteDeliveryStore, StoreError> {
        crate::state::sqlite::configure(&db).map_err(sql)?;
        // The run state keeps its own `user_version` in a shared file: the delivery
        // schema version lives in a table of its own.
        db.execute_batch(&format!(
            "BEGIN; {SCHEMA}
             CREATE TABLE IF NOT EXISTS delivery_schema (version INTEGER NOT NULL);
             COMMIT;"
        ))
        .map_err(sql)?;
        let version: Option<i64> = db
            .query_row("SELECT max(version) FROM delivery_schema", [], |r| r.get(0))
            .map_err(sql)?;
        match version {
            None => {
                db.execute("INSERT INTO delivery_schema VALUES (?1)", [SCHEMA_VERSION])
                    .map_err(sql)?;
            }
            Some(v) if v > SCHEMA_VERSION => {
                return Err(StoreError(format!(
                "the delivery state has schema version {v}; this weft knows up to {SCHEMA_VERSION}"
            )))
            }
            Some(_) => {}
        }
        Ok(SqliteDeliveryStore { db })
    }

    fn write<T>(
        &mut self,
        audit: &[NewEntry],
        change: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.db.transaction().map_err(sql)?;
        let value = change(&tx)?;
        append_in(&tx, audit)?;
        tx.commit().map_err(sql)?;
        Ok(value)
    }
}

fn sql(error: rusqlite::Error) -> StoreError {
    StoreError(error.to_string())
}

/// Now, RFC 3339 in UTC with milliseconds: sorts as text.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn append_in(tx: &Transaction<'_>, audit: &[NewEntry]) -> Result<(), StoreError> {
    if audit.is_empty() {
        return Ok(());
    }
    // Chain from the recorded head, not the last row: a deleted tail then shows as a gap.
    let head: Option<(i64, String)> = tx
        .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(sql)?;
    let (mut seq, mut prev) = head.unwrap_or((0, GENESIS.to_string()));
    let at = now();
    for new in audit {
        seq += 1;
        let e = Entry::seal(seq, at.clone(), new, &prev);
        tx.execute(
            "INSERT INTO audit (seq, at, actor, action, flow, environment, version, digest, details, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![e.seq, e.at, e.actor, e.action, e.flow, e.environment, e.version, e.digest, e.details, e.prev_hash, e.hash],
        )
        .map_err(sql)?;
        prev = e.hash;
    }
    tx.execute(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        params![seq, prev],
    )
    .map_err(sql)?;
    Ok(())
}

const ACTIVATION: &str =
    "SELECT a.id, a.flow, a.environment, a.digest, a.activated_at, a.activated_by,
    a.state, a.known_good, a.cause, f.project, f.version, f.commit_time
    FROM activations a JOIN artifacts f ON f.digest = a.digest";

fn activation(row: &Row<'_>) -> rusqlite::Result<Activation> {
    let state: String = row.get(6)?;
    Ok(Activation {
        id: row.get(0)?,
        flow: row.get(1)?,
        environment: row.get(2)?,
        version: Version {
            digest: row.get(3)?,
            project: row.get(9)?,
            version: row.get(10)?,
            commit_time: row.get(11)?,
        },
        activated_at: row.get(4)?,
        activated_by: row.get(5)?,
        state: ActivationState::parse(&state).unwrap_or(ActivationState::Superseded),
        known_good: row.get::<_, i64>(7)? != 0,
        cause: row.get(8)?,
    })
}

const PROMOTION: &str = "SELECT p.id, p.flow, p.from_env, p.to_env, p.digest, p.requested_by,
    p.requested_at, p.status, p.diff, p.gates, p.reason, f.project, f.version, f.commit_time
    FROM promotions p JOIN artifacts f ON f.digest = p.digest";

fn promotion(row: &Row<'_>) -> rusqlite::Result<Promotion> {
    let status: String = row.get(7)?;
    let json = |i: usize| -> rusqlite::Result<serde_json::Value> {
        let text: String = row.get(i)?;
        Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    };
    Ok(Promotion {
        id: row.get(0)?,
        flow: row.get(1)?,
        from: row.get(2)?,
        to: row.get(3)?,
        version: Version {
            digest: row.get(4)?,
            project: row.get(11)?,
            version: row.get(12)?,
            commit_time: row.get(13)?,
        },
        requested_by: row.get(5)?,
        requested_at: row.get(6)?,
        status: PromotionStatus::parse(&status).unwrap_or(PromotionStatus::Refused),
        diff: json(8)?,
        gates: json(9)?,
        reason: row.get(10)?,
        approvals: Vec::new(),
    })
}

/// Audit rows are read leniently (any bytes, any type) so that a tampered row is
/// reported by `verify` instead of failing the read.
fn entry(row: &Row<'_>) -> rusqlite::Result<Entry> {
    let text = |i: usize| -> rusqlite::Result<Option<String>> {
        use rusqlite::types::ValueRef;
        Ok(match row.get_ref(i)? {
            ValueRef::Null => None,
            ValueRef::Integer(n) => Some(n.to_string()),
            ValueRef::Real(x) => Some(x.to_string()),
            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                Some(String::from_utf8_lossy(bytes).into_owned())
            }
        })
    };
    let required = |i: usize| text(i).map(Option::unwrap_or_default);
    Ok(Entry {
        seq: row.get(0)?,
        at: required(1)?,
        actor: required(2)?,
        action: required(3)?,
        flow: text(4)?,
        environment: text(5)?,
        version: text(6)?,
        digest: text(7)?,
        details: required(8)?,
        prev_hash: required(9)?,
        hash: required(10)?,
    })
}

impl SqliteDeliveryStore {
    fn approvals(&self, id: i64) -> Result<Vec<Approval>, StoreError> {
        let mut statement = self
            .db
            .prepare_cached("SELECT user, at FROM approvals WHERE promotion = ?1 ORDER BY at, user")
            .map_err(sql)?;
        let rows = statement
            .query_map([id], |r| {
                Ok(Approval {
                    user: r.get(0)?,
                    at: r.get(1)?,
                })
            })
            .map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    fn insert_activation(
        tx: &Transaction<'_>,
        new: &NewActivation,
        old_state: ActivationState,
        audit: &AuditOf<'_>,
    ) -> Result<Activation, StoreError> {
        let old = tx
            .query_row(
                &format!(
                    "{ACTIVATION} WHERE a.flow = ?1 AND a.environment = ?2 AND a.state = 'active'"
                ),
                [&new.flow, &new.environment],
                activation,
            )
            .optional()
            .map_err(sql)?;
        let known_good = i64::from(old_state == ActivationState::Superseded);
        tx.execute(
            "UPDATE activations SET state = ?1, known_good = ?2
             WHERE flow = ?3 AND environment = ?4 AND state = 'active'",
            params![old_state.as_str(), known_good, new.flow, new.environment],
        )
        .map_err(sql)?;
        let at = now();
        tx.execute(
            "INSERT INTO activations (flow, environment, digest, activated_at, activated_by, state, cause)
             VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6)",
            params![new.flow, new.environment, new.digest, at, new.by, new.cause],
        )
        .map_err(sql)?;
        let id = tx.last_insert_rowid();
        if let Some(promotion) = new.promotion {
            tx.execute(
                "UPDATE promotions SET status = 'activated' WHERE id = ?1",
                [promotion],
            )
            .map_err(sql)?;
        }
        let created = tx
            .query_row(&format!("{ACTIVATION} WHERE a.id = ?1"), [id], activation)
            .map_err(sql)?;
        append_in(tx, &audit(old.as_ref(), &created))?;
        Ok(created)
    }
}

impl DeliveryStore for SqliteDeliveryStore {
    fn register(
        &mut self,
        artifact: &Artifact,
        by: &str,
        audit: &[NewEntry],
    ) -> Result<bool, StoreError> {
        let known = self
            .db
            .prepare_cached("SELECT 1 FROM artifacts WHERE digest = ?1")
            .and_then(|mut s| s.exists([&artifact.digest]))
            .map_err(sql)?;
        if known {
            return Ok(false);
        }
        let json = serde_json::to_string(artifact).map_err(|e| StoreError(e.to_string()))?;
        self.write(audit, |tx| {
            let inserted = tx
                .execute(
                    "INSERT OR IGNORE INTO artifacts (digest, project, version, commit_time, artifact, registered_at, registered_by)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        artifact.digest,
                        artifact.project.name,
                        artifact.project.version,
                        artifact.build.git_author_time,
                        json,
                        now(),
                        by
                    ],
                )
                .map_err(sql)?;
            Ok(inserted == 1)
        })
    }

    fn artifact(&self, digest: &str) -> Result<Option<Artifact>, StoreError> {
        let text: Option<String> = self
            .db
            .query_row(
                "SELECT artifact FROM artifacts WHERE digest = ?1",
                [digest],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| StoreError(format!("artifact {digest}: {e}")))
        })
        .transpose()
    }

    fn version(&self, digest: &str) -> Result<Option<Version>, StoreError> {
        self.db
            .query_row(
                "SELECT digest, project, version, commit_time FROM artifacts WHERE digest = ?1",
                [digest],
                |r| {
                    Ok(Version {
                        digest: r.get(0)?,
                        project: r.get(1)?,
                        version: r.get(2)?,
                        commit_time: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(sql)
    }

    fn digests_of(&self, project: &str, version: &str) -> Result<Vec<String>, StoreError> {
        let mut statement = self
            .db
            .prepare_cached(
                "SELECT digest FROM artifacts WHERE project = ?1 AND version = ?2 ORDER BY registered_at DESC",
            )
            .map_err(sql)?;
        let rows = statement
            .query_map([project, version], |r| r.get(0))
            .map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    fn active(&self, flow: &str, environment: &str) -> Result<Option<Activation>, StoreError> {
        self.db
            .prepare_cached(&format!(
                "{ACTIVATION} WHERE a.flow = ?1 AND a.environment = ?2 AND a.state = 'active'"
            ))
            .and_then(|mut s| s.query_row([flow, environment], activation).optional())
            .map_err(sql)
    }

    fn all_active(&self) -> Result<Vec<Activation>, StoreError> {
        let mut statement = self
            .db
            .prepare_cached(&format!(
                "{ACTIVATION} WHERE a.state = 'active' ORDER BY a.flow, a.environment"
            ))
            .map_err(sql)?;
        let rows = statement.query_map([], activation).map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    fn history(&self, flow: &str, environment: &str) -> Result<Vec<Activation>, StoreError> {
        let mut statement = self
            .db
            .prepare_cached(&format!(
                "{ACTIVATION} WHERE a.flow = ?1 AND a.environment = ?2 ORDER BY a.id DESC"
            ))
            .map_err(sql)?;
        let rows = statement
            .query_map([flow, environment], activation)
            .map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    fn activate(
        &mut self,
        new: &NewActivation,
        audit: &AuditOf<'_>,
    ) -> Result<Activation, StoreError> {
        self.write(&[], |tx| {
            SqliteDeliveryStore::insert_activation(tx, new, ActivationState::Superseded, audit)
        })
    }

    fn roll_back(
        &mut self,
        new: &NewActivation,
        audit: &AuditOf<'_>,
    ) -> Result<Activation, StoreError> {
        self.write(&[], |tx| {
            SqliteDeliveryStore::insert_activation(tx, new, ActivationState::RolledBack, audit)
        })
    }

    fn create_promotion(
        &mut self,
        new: &NewPromotion,
        audit: &[NewEntry],
    ) -> Result<i64, StoreError> {
        self.write(audit, |tx| {
            tx.execute(
                "INSERT INTO promotions (flow, from_env, to_env, digest, requested_by, requested_at, status, diff, gates, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    new.flow,
                    new.from,
                    new.to,
                    new.digest,
                    new.requested_by,
                    now(),
                    new.status.as_str(),
                    new.diff.to_string(),
                    new.gates.to_string(),
                    new.reason
                ],
            )
            .map_err(sql)?;
            Ok(tx.last_insert_rowid())
        })
    }

    fn promotion(&self, id: i64) -> Result<Option<Promotion>, StoreError> {
        let found = self
            .db
            .prepare_cached(&format!("{PROMOTION} WHERE p.id = ?1"))
            .and_then(|mut s| s.query_row([id], promotion).optional())
            .map_err(sql)?;
        match found {
            None => Ok(None),
            Some(mut p) => {
                p.approvals = self.approvals(id)?;
                Ok(Some(p))
            }
        }
    }

    fn promotions(&self, status: Option<PromotionStatus>) -> Result<Vec<Promotion>, StoreError> {
        let mut statement = self
            .db
            .prepare_cached(&format!(
                "{PROMOTION} WHERE ?1 IS NULL OR p.status = ?1 ORDER BY p.id DESC"
            ))
            .map_err(sql)?;
        let rows = statement
            .query_map([status.map(PromotionStatus::as_str)], promotion)
            .map_err(sql)?;
        let mut list: Vec<Promotion> = rows.collect::<Result<_, _>>().map_err(sql)?;
        drop(statement);
        for p in &mut list {
            p.approvals = self.approvals(p.id)?;
        }
        Ok(list)
    }

    fn approve(
        &mut self,
        id: i64,
        user: &str,
        gates: &serde_json::Value,
        audit: &[NewEntry],
    ) -> Result<(), StoreError> {
        self.write(audit, |tx| {
            tx.execute(
                "INSERT OR IGNORE INTO approvals (promotion, user, at) VALUES (?1, ?2, ?3)",
                params![id, user, now()],
            )
            .map_err(sql)?;
            tx.execute(
                "UPDATE promotions SET gates = ?1 WHERE id = ?2",
                params![gates.to_string(), id],
            )
            .map_err(sql)?;
            Ok(())
        })
    }

    fn close_promotion(
        &mut self,
        id: i64,
        status: PromotionStatus,
        reason: &str,
        audit: &[NewEntry],
    ) -> Result<(), StoreError> {
        self.write(audit, |tx| {
            tx.execute(
                "UPDATE promotions SET status = ?1, reason = ?2 WHERE id = ?3",
                params![status.as_str(), reason, id],
            )
            .map_err(sql)?;
            Ok(())
        })
    }

    fn put_user(
        &mut self,
        user: &str,
        grants: &[Grant],
        audit: &[NewEntry],
    ) -> Result<(), StoreError> {
        let grants = serde_json::to_string(grants).map_err(|e| StoreError(e.to_string()))?;
        self.write(audit, |tx| {
            tx.execute(
                "INSERT INTO users (name, grants, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET grants = excluded.grants",
                params![user, grants, now()],
            )
            .map_err(sql)?;
            Ok(())
        })
    }

    fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.db
            .query_row(
                "SELECT name, grants, created_at FROM users WHERE name = ?1",
                [name],
                |r| {
                    let grants: String = r.get(1)?;
                    Ok(User {
                        name: r.get(0)?,
                        grants: serde_json::from_str(&grants).unwrap_or_default(),
                        created_at: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(sql)
    }

    fn user_count(&self) -> Result<u64, StoreError> {
        self.db
            .query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(sql)
    }

    fn add_token(
        &mut self,
        user: &str,
        token_hash: &str,
        audit: &[NewEntry],
    ) -> Result<(), StoreError> {
        self.write(audit, |tx| {
            tx.execute(
                "INSERT INTO tokens (hash, user, created_at) VALUES (?1, ?2, ?3)",
                params![token_hash, user, now()],
            )
            .map_err(sql)?;
            Ok(())
        })
    }

    fn identity(&self, token_hash: &str) -> Result<Option<Identity>, StoreError> {
        self.db
            .prepare_cached(
                "SELECT u.name, u.grants FROM tokens t JOIN users u ON u.name = t.user WHERE t.hash = ?1",
            )
            .and_then(|mut s| {
                s.query_row([token_hash], |r| {
                    let grants: String = r.get(1)?;
                    Ok(Identity {
                        name: r.get(0)?,
                        grants: serde_json::from_str(&grants).unwrap_or_default(),
                    })
                })
                .optional()
            })
            .map_err(sql)
    }

    fn record_tests(&mut self, record: &TestRecord, audit: &[NewEntry]) -> Result<(), StoreError> {
        self.write(audit, |tx| {
            tx.execute(
                "INSERT INTO test_results (digest, passed, by_user, at, summary) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    record.digest,
                    i64::from(record.passed),
                    record.by,
                    record.at,
                    record.summary.to_string()
                ],
            )
            .map_err(sql)?;
            Ok(())
        })
    }

    fn tests_passed(&self, digest: &str) -> Result<bool, StoreError> {
        self.db
            .prepare_cached("SELECT 1 FROM test_results WHERE digest = ?1 AND passed = 1 LIMIT 1")
            .and_then(|mut s| s.exists([digest]))
            .map_err(sql)
    }

    fn append(&mut self, audit: &[NewEntry]) -> Result<(), StoreError> {
        self.write(audit, |_| Ok(()))
    }

    fn audit(&self, since: Option<&str>) -> Result<Vec<Entry>, StoreError> {
        let mut statement = self
            .db
            .prepare_cached(
                "SELECT seq, at, actor, action, flow, environment, version, digest, details, prev_hash, hash
                 FROM audit WHERE ?1 IS NULL OR at >= ?1 ORDER BY seq",
            )
            .map_err(sql)?;
        let rows = statement.query_map([since], entry).map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        self.db
            .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(sql)
    }
}

#[cfg(test)]
mod tests;
