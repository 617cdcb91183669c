use super::*;

fn run(flow: &str, environment: &str) -> NewRun {
    NewRun {
        flow: flow.into(),
        environment: environment.into(),
        digest: "sha256:abc".into(),
        trigger: Trigger::Manual,
    }
}

fn letter(run: i64, n: u64) -> NewDeadLetter {
    NewDeadLetter {
        run,
        flow: "sync".into(),
        environment: "dev".into(),
        record: serde_json::json!({ "id": n }),
        error: "crm.post failed: status 500".into(),
        step: 3,
        attempts: 4,
        idempotency_key: Some(format!("key{n}")),
    }
}

fn temp_db(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-state-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("nested").join("state.db")
}

/// Removes the folder `temp_db` made for `path`.
fn remove_temp(path: &std::path::Path) {
    if let Some(dir) = path.parent().and_then(std::path::Path::parent) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_run_shows_as_running_until_it_is_finished() -> Result<(), StoreError> {
    let mut store = SqliteStore::in_memory()?;
    let id = store.start_run(&run("sync", "dev"))?;
    let started = store.run(id)?.ok_or_else(|| StoreError("missing".into()))?;
    assert_eq!(
        (started.status, started.duration_ms),
        (RunStatus::Running, None)
    );
    let counts = Counts {
        read: 5,
        delivered: 3,
        dropped: 1,
        skipped: 0,
        dead_lettered: 1,
        retries: 7,
    };
    store.finish_run(id, 1234, &counts, None)?;
    let done = store.run(id)?.ok_or_else(|| StoreError("missing".into()))?;
    assert_eq!(done.status, RunStatus::Succeeded);
    assert_eq!((done.duration_ms, done.counts), (Some(1234), counts));
    store.finish_run(id, 1, &counts, Some("reading failed"))?;
    let failed = store.run(id)?.ok_or_else(|| StoreError("missing".into()))?;
    assert_eq!(
        (failed.status, failed.failure.as_deref()),
        (RunStatus::Failed, Some("reading failed"))
    );
    assert!(store.finish_run(99, 1, &counts, None).is_err());
    Ok(())
}

#[test]
fn runs_are_listed_newest_first_and_filtered() -> Result<(), StoreError> {
    let mut store = SqliteStore::in_memory()?;
    let a = store.start_run(&run("sync", "dev"))?;
    let b = store.start_run(&run("sync", "prod"))?;
    let c = store.start_run(&run("other", "dev"))?;
    let ids = |runs: Vec<RunRecord>| runs.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(store.runs(&Filter::default())?), vec![c, b, a]);
    let sync = Filter {
        flow: Some("sync".into()),
        ..Filter::default()
    };
    assert_eq!(ids(store.runs(&sync)?), vec![b, a]);
    let dev_one = Filter {
        environment: Some("dev".into()),
        limit: Some(1),
        ..Filter::default()
    };
    assert_eq!(ids(store.runs(&dev_one)?), vec![c]);
    Ok(())
}

#[test]
fn dead_letters_are_stored_refailed_and_removed() -> Result<(), StoreError> {
    let mut store = SqliteStore::in_memory()?;
    let first = store.start_run(&run("sync", "dev"))?;
    let one = store.add_dead_letter(&letter(first, 1))?;
    let two = store.add_dead_letter(&letter(first, 2))?;
    let all = store.dead_letters(&Filter::default())?;
    assert_eq!(all.iter().map(|l| l.id).collect::<Vec<_>>(), vec![two, one]);
    assert_eq!(all[1].record, serde_json::json!({ "id": 1 }));
    assert_eq!((all[1].step, all[1].attempts), (3, 4));
    assert_eq!(all[1].idempotency_key.as_deref(), Some("key1"));
    let second = store.start_run(&run("sync", "dev"))?;
    store.refail_dead_letter(one, second, "status 502", 2)?;
    store.remove_dead_letter(two)?;
    let left = store.dead_letters(&Filter {
        id: Some(one),
        ..Filter::default()
    })?;
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].run, left[0].error.as_str(), left[0].attempts),
        (second, "status 502", 2)
    );
    assert_eq!(store.dead_letters(&Filter::default())?.len(), 1);
    Ok(())
}

#[test]
fn a_file_store_uses_wal_and_keeps_its_data() -> Result<(), StoreError> {
    let path = temp_db("file");
    let id = {
        let mut store = SqliteStore::open(&path)?;
        store.start_run(&run("sync", "dev"))?
    };
    let store = SqliteStore::open(&path)?;
    let mode: String = store
        .db
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .map_err(sql)?;
    assert_eq!(mode, "wal");
    assert_eq!(store.run(id)?.map(|r| r.status), Some(RunStatus::Running));
    remove_temp(&path);
    Ok(())
}

#[test]
fn a_newer_schema_is_refused() -> Result<(), StoreError> {
    let path = temp_db("newer");
    drop(SqliteStore::open(&path)?);
    let db = Connection::open(&path).map_err(sql)?;
    db.execute_batch("PRAGMA user_version = 99").map_err(sql)?;
    drop(db);
    let error = SqliteStore::open(&path).err();
    remove_temp(&path);
    assert!(error.is_some_and(|e| e.0.contains("schema version 99")));
    Ok(())
}

#[test]
fn the_journal_keeps_unsettled_records_of_a_dead_process_for_resuming() -> Result<(), StoreError> {
    let mut store = SqliteStore::in_memory()?;
    let id = store.start_run(&run("sync", "dev"))?;
    let other = store.start_run(&run("sync", "prod"))?;
    let records: Vec<String> = (0..5).map(|i| format!("{{\"id\":{i}}}")).collect();
    store.journal(id, 0, &records[..3])?;
    store.journal(id, 3, &records[3..])?;
    store.settle(id, 0, 3)?;
    // This process is alive: its own running runs are not interrupted.
    assert!(store.take_interrupted("dev", None)?.is_empty());
    // The process that ran them is gone.
    store
        .db
        .execute("UPDATE runs SET pid = NULL", [])
        .map_err(sql)?;
    assert!(store.take_interrupted("dev", Some("other"))?.is_empty());
    let interrupted = store.take_interrupted("dev", None)?;
    assert_eq!(interrupted.len(), 1);
    assert_eq!(interrupted[0].id, id);
    assert_eq!(interrupted[0].status, RunStatus::Interrupted);
    assert_eq!(
        store.run(id)?.map(|r| r.status),
        Some(RunStatus::Interrupted)
    );
    assert_eq!(
        store.run(other)?.map(|r| r.status),
        Some(RunStatus::Running)
    );
    assert_eq!(
        store.pending(id)?,
        vec![serde_json::json!({"id": 3}), serde_json::json!({"id": 4})]
    );
    // Taken once: a second start does not resume it again.
    assert!(store.take_interrupted("dev", None)?.is_empty());
    store.clear_pending(id)?;
    assert!(store.pending(id)?.is_empty());
    // Finishing a run drops what is left of its journal.
    store.journal(other, 0, &records)?;
    store.finish_run(other, 1, &Counts::default(), None)?;
    assert!(store.pending(other)?.is_empty());
    Ok(())
}
