use proptest::prelude::*;
use rusqlite::types::Value;

use super::*;
use crate::delivery::audit::verify;

const COLUMNS: [&str; 11] = [
    "seq",
    "at",
    "actor",
    "action",
    "flow",
    "environment",
    "version",
    "digest",
    "details",
    "prev_hash",
    "hash",
];

fn store_with_entries(n: i64) -> SqliteDeliveryStore {
    let mut store = SqliteDeliveryStore::in_memory().unwrap_or_else(|e| panic!("{e}"));
    for i in 0..n {
        let entry = NewEntry::new("alice", "approved")
            .at(Some("sync"), Some("prod"))
            .of("1.0.0", "sha256:00ff")
            .details(serde_json::json!({"promotion": i}));
        store.append(&[entry]).unwrap_or_else(|e| panic!("{e}"));
    }
    store
}

fn check(store: &SqliteDeliveryStore) -> Option<(i64, crate::delivery::audit::Problem)> {
    let entries = store.audit(None).unwrap_or_else(|e| panic!("{e}"));
    let head = store.audit_head().unwrap_or_else(|e| panic!("{e}"));
    verify(&entries, head.as_ref().map(|(s, h)| (*s, h.as_str())))
        .problem
        .map(|f| (f.seq, f.problem))
}

#[test]
fn appends_chain_and_deleting_rows_is_detected() {
    let store = store_with_entries(4);
    assert_eq!(check(&store), None);
    store
        .db
        .execute("DELETE FROM audit WHERE seq = 2", [])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        check(&store),
        Some((3, crate::delivery::audit::Problem::Deleted))
    );
    let store = store_with_entries(4);
    store
        .db
        .execute("DELETE FROM audit WHERE seq = 4", [])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        check(&store),
        Some((4, crate::delivery::audit::Problem::Truncated))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// One byte of one column of one stored row changed with SQL: always detected, at
    /// that row (or, for a changed number, where the order breaks).
    #[test]
    fn one_byte_changed_in_the_table_is_detected(
        row in 1i64..=5,
        column in 0usize..11,
        position in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let store = store_with_entries(5);
        let name = COLUMNS[column];
        let value: Value = store
            .db
            .query_row(&format!("SELECT {name} FROM audit WHERE seq = ?1"), [row], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut bytes = match &value {
            Value::Integer(n) => n.to_string().into_bytes(),
            Value::Text(t) => t.clone().into_bytes(),
            _ => Vec::new(),
        };
        prop_assume!(!bytes.is_empty());
        let i = position.index(bytes.len());
        bytes[i] ^= flip;
        let changed = match value {
            Value::Integer(_) => match String::from_utf8(bytes.clone()).ok().and_then(|t| t.parse::<i64>().ok()) {
                Some(n) => Value::Integer(n),
                None => Value::Blob(bytes),
            },
            _ => Value::Blob(bytes),
        };
        // A changed seq that collides with another row's is a constraint error, not
        // an edit: skip those.
        let updated = store.db.execute(&format!("UPDATE audit SET {name} = ?1 WHERE seq = ?2"), rusqlite::params![changed, row]);
        prop_assume!(updated.is_ok());
        let found = check(&store);
        prop_assert!(found.is_some(), "not detected: {name} of entry {row}");
    }
}
