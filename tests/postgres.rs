//! End to end with the machine's PostgreSQL (127.0.0.1:5432, user `postgres`, database
//! `test`, trust auth): a query as a source with `{last_run}` as a parameter, and
//! insert and upsert as targets. Skips, saying why, when no server answers.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{stderr, stdout};

const DSN: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3";

fn connect() -> Option<postgres::Client> {
    match postgres::Client::connect(DSN, postgres::NoTls) {
        Ok(client) => Some(client),
        Err(e) => {
            eprintln!(
                "skipping the postgres test: no PostgreSQL at 127.0.0.1:5432 ({e}); see README"
            );
            None
        }
    }
}

fn weft(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PG_DSN", DSN)
        .output()
        .unwrap_or_else(|e| panic!("cannot run weft: {e}"))
}

#[test]
fn a_query_feeds_files_and_files_feed_insert_and_upsert() {
    let Some(mut db) = connect() else { return };
    let id = std::process::id();
    let (src, dst, log) = (
        format!("weft_src_{id}"),
        format!("weft_dst_{id}"),
        format!("weft_log_{id}"),
    );
    let setup = format!(
        "DROP TABLE IF EXISTS {src}, {dst}, {log};
         CREATE TABLE {src} (id int PRIMARY KEY, name text NOT NULL, active bool NOT NULL,
                             changed_at timestamptz NOT NULL, score numeric(6,2));
         CREATE TABLE {dst} (id int PRIMARY KEY, name text NOT NULL, active bool NOT NULL);
         CREATE TABLE {log} (id int NOT NULL, name text NOT NULL, active bool NOT NULL,
                             logged_at timestamptz NOT NULL DEFAULT now());
         INSERT INTO {src} VALUES
           (1, 'O''Brien; DROP TABLE {src}; --', true, '2025-01-01T00:00:00Z', 12.50),
           (2, 'old', true, '1960-01-01T00:00:00Z', NULL),
           (3, 'inactive', false, '2025-01-01T00:00:00Z', 1);"
    );
    db.batch_execute(&setup)
        .unwrap_or_else(|e| panic!("setup: {e}"));

    let flows = format!(
        r#"
schema Customer {{
  id: Int
  name: String
  active: Bool
}}

connection db: postgres
connection files: file

flow export {{
  trigger manual
  read db.query("SELECT id, name, active FROM {src} WHERE changed_at > {{last_run}} ORDER BY id") as [Customer]
  where c => c.active
  write files.write("customers.ndjson")
}}

flow import {{
  trigger manual
  read files.read("customers.ndjson") as [Customer]
  write db.upsert("{dst}", "id")
}}

flow audit {{
  trigger manual
  read files.read("customers.ndjson") as [Customer]
  write db.insert("{log}")
}}
"#
    );
    let dir = common::project(&[
        ("weft.toml", common::MANIFEST),
        ("src/flows.weft", flows.as_bytes()),
        (
            "src/environments.weft",
            b"environment test {\n  db = postgres(secret \"PG_DSN\", timeout: 5s)\n  files = file(\"data\")\n}\n",
        ),
    ]);
    // The file connection's folder is relative to where weft runs: the project root.
    std::fs::create_dir_all(dir.path().join("data")).unwrap_or_else(|e| panic!("mkdir: {e}"));

    let export = weft(&["run", "export", "--env", "test"], dir.path());
    assert_eq!(
        export.status.code(),
        Some(0),
        "{}{}",
        stdout(&export),
        stderr(&export)
    );
    assert!(
        stdout(&export).contains("read 2, delivered 1, dropped 1"),
        "{}",
        stdout(&export)
    );
    let written =
        std::fs::read_to_string(dir.path().join("data/customers.ndjson")).unwrap_or_default();
    let records: Vec<serde_json::Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_default())
        .collect();
    assert_eq!(
        records,
        vec![
            serde_json::json!({"id": 1, "name": format!("O'Brien; DROP TABLE {src}; --"), "active": true})
        ]
    );

    for _ in 0..2 {
        let import = weft(&["run", "import", "--env", "test"], dir.path());
        assert_eq!(
            import.status.code(),
            Some(0),
            "{}{}",
            stdout(&import),
            stderr(&import)
        );
    }
    std::fs::write(
        dir.path().join("data/customers.ndjson"),
        "{\"id\":1,\"name\":\"renamed\",\"active\":false}\n{\"id\":4,\"name\":\"new\",\"active\":true}\n",
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    let import = weft(&["run", "import", "--env", "test"], dir.path());
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));
    let audit = weft(&["run", "audit", "--env", "test"], dir.path());
    assert_eq!(audit.status.code(), Some(0), "{}", stderr(&audit));

    let rows: Vec<(i32, String, bool)> = db
        .query(
            &format!("SELECT id, name, active FROM {dst} ORDER BY id"),
            &[],
        )
        .unwrap_or_else(|e| panic!("select: {e}"))
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        rows,
        vec![
            (1, "renamed".to_owned(), false),
            (4, "new".to_owned(), true)
        ]
    );
    let logged: i64 = db
        .query_one(&format!("SELECT count(*) FROM {log}"), &[])
        .map(|r| r.get(0))
        .unwrap_or_else(|e| panic!("count: {e}"));
    assert_eq!(logged, 2);
    // The source table survived the name that looks like SQL.
    let kept: i64 = db
        .query_one(&format!("SELECT count(*) FROM {src}"), &[])
        .map(|r| r.get(0))
        .unwrap_or_else(|e| panic!("count: {e}"));
    assert_eq!(kept, 3);

    // A second export asks only for rows changed since the first run started.
    let again = weft(&["run", "export", "--env", "test"], dir.path());
    assert!(stdout(&again).contains("read 0,"), "{}", stdout(&again));

    let _ = db.batch_execute(&format!("DROP TABLE IF EXISTS {src}, {dst}, {log}"));
}
