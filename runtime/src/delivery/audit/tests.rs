use proptest::prelude::*;

use super::*;

fn chain(n: i64) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for seq in 1..=n {
        let prev = entries
            .last()
            .map_or(GENESIS.to_string(), |e| e.hash.clone());
        let new = NewEntry::new(if seq % 2 == 0 { "bob" } else { "alice" }, "approved")
            .at(Some("account_sync"), Some("prod"))
            .of("1.4.0", "sha256:abc")
            .details(serde_json::json!({"n": seq, "reason": "ok, \"quoted\""}));
        entries.push(Entry::seal(
            seq,
            format!("2026-01-0{seq}T10:00:00.000Z"),
            &new,
            &prev,
        ));
    }
    entries
}

fn head(entries: &[Entry]) -> Option<(i64, &str)> {
    entries.last().map(|e| (e.seq, e.hash.as_str()))
}

#[test]
fn an_intact_chain_verifies() {
    let entries = chain(5);
    let result = verify(&entries, head(&entries));
    assert_eq!(result.problem, None);
    assert_eq!(result.entries, 5);
    assert_eq!(result.head, entries[4].hash);
}

#[test]
fn an_edited_entry_is_named() {
    let mut entries = chain(5);
    let expected = head(&entries).map(|(s, h)| (s, h.to_string()));
    entries[2].actor = "mallory".into();
    let result = verify(&entries, expected.as_ref().map(|(s, h)| (*s, h.as_str())));
    let finding = result.problem.unwrap_or_else(|| panic!("not detected"));
    assert_eq!((finding.seq, finding.problem), (3, Problem::Edited));
}

#[test]
fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
    let mut entries = chain(5);
    entries[2].actor = "mallory".into();
    entries[2].hash = entries[2].compute_hash();
    let finding = verify(&entries, None)
        .problem
        .unwrap_or_else(|| panic!("not detected"));
    assert_eq!((finding.seq, finding.problem), (4, Problem::Edited));
}

#[test]
fn a_deleted_entry_is_named() {
    let mut entries = chain(5);
    entries.remove(1);
    let finding = verify(&entries, None)
        .problem
        .unwrap_or_else(|| panic!("not detected"));
    assert_eq!((finding.seq, finding.problem), (3, Problem::Deleted));
    assert!(
        finding.message.contains("entries 2 to 2"),
        "{}",
        finding.message
    );
}

#[test]
fn a_deleted_last_entry_is_caught_by_the_head() {
    let entries = chain(5);
    let recorded = (5, entries[4].hash.clone());
    let finding = verify(&entries[..4], Some((recorded.0, &recorded.1)))
        .problem
        .unwrap_or_else(|| panic!("not detected"));
    assert_eq!((finding.seq, finding.problem), (5, Problem::Truncated));
}

#[test]
fn reordered_entries_are_named() {
    let mut entries = chain(5);
    entries.swap(1, 2);
    let finding = verify(&entries, None)
        .problem
        .unwrap_or_else(|| panic!("not detected"));
    assert_eq!((finding.seq, finding.problem), (3, Problem::Reordered));
}

#[test]
fn exports_carry_every_field() {
    let entries = chain(2);
    let jsonl = export(&entries, ExportFormat::Jsonl);
    assert_eq!(jsonl.lines().count(), 2);
    let first: serde_json::Value =
        serde_json::from_str(jsonl.lines().next().unwrap_or_default()).unwrap_or_default();
    assert_eq!(first["details"]["n"], 1);
    assert_eq!(first["prev_hash"], GENESIS);
    let csv = export(&entries, ExportFormat::Csv);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().flatten().collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[1][2], "bob");
    assert_eq!(&rows[1][8], entries[1].details);
}

proptest! {
    /// Any change of any single byte of any stored field of any entry is detected,
    /// and the finding names that entry (or, for a link field, the one it breaks).
    #[test]
    fn any_single_byte_change_is_detected(
        target in 0usize..6,
        field_index in 0usize..10,
        position in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let mut entries = chain(6);
        let recorded = head(&entries).map(|(s, h)| (s, h.to_string()));
        let entry = &mut entries[target];
        let mut seq_text = entry.seq.to_string();
        let text: &mut String = match field_index {
            0 => &mut seq_text,
            1 => &mut entry.at,
            2 => &mut entry.actor,
            3 => &mut entry.action,
            4 => entry.flow.get_or_insert_with(String::new),
            5 => entry.environment.get_or_insert_with(String::new),
            6 => entry.version.get_or_insert_with(String::new),
            7 => entry.digest.get_or_insert_with(String::new),
            8 => &mut entry.details,
            _ => &mut entry.prev_hash,
        };
        let mut bytes = text.clone().into_bytes();
        prop_assume!(!bytes.is_empty());
        let i = position.index(bytes.len());
        bytes[i] ^= flip;
        *text = String::from_utf8_lossy(&bytes).into_owned();
        if field_index == 0 {
            entry.seq = seq_text.parse().unwrap_or(-1);
        }
        let result = verify(&entries, recorded.as_ref().map(|(s, h)| (*s, h.as_str())));
        let finding = result.problem;
        prop_assert!(finding.is_some(), "change not detected");
        let seq = finding.map(|f| f.seq).unwrap_or_default();
        prop_assert!(seq == target as i64 + 1 || seq == entries[target].seq, "named entry {seq}, changed {}", target + 1);
    }
}
