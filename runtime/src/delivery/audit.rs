//! The tamper-evident audit trail: an append-only list of entries, each carrying the
//! hash of the one before, so that an edited, deleted or reordered entry breaks the
//! chain at a place [`verify`] names.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash the first entry points back to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to append; the store gives it its number, time and hashes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewEntry {
    /// Who did it (a user name, `anonymous`, or `weft` for the server itself).
    pub actor: String,
    /// What happened: `registered`, `deployed`, `promotion_requested`, `approved`,
    /// `rejected`, `activated`, `rolled_back`, `refused`, `tests_recorded`, ...
    pub action: String,
    /// The flow, when the event concerns one.
    pub flow: Option<String>,
    /// The environment, when the event concerns one.
    pub environment: Option<String>,
    /// The artifact version.
    pub version: Option<String>,
    /// The artifact digest.
    pub digest: Option<String>,
    /// Gates evaluated, approvals, diff reviewed, reason: any JSON object.
    pub details: serde_json::Value,
}

impl NewEntry {
    /// An entry by `actor` doing `action`, with no subject yet.
    pub fn new(actor: &str, action: &str) -> NewEntry {
        NewEntry {
            actor: actor.to_string(),
            action: action.to_string(),
            details: serde_json::Value::Object(serde_json::Map::new()),
            ..NewEntry::default()
        }
    }

    /// Sets the flow and environment.
    pub fn at(mut self, flow: Option<&str>, environment: Option<&str>) -> NewEntry {
        self.flow = flow.map(str::to_string);
        self.environment = environment.map(str::to_string);
        self
    }

    /// Sets the version and digest.
    pub fn of(mut self, version: &str, digest: &str) -> NewEntry {
        self.version = Some(version.to_string());
        self.digest = Some(digest.to_string());
        self
    }

    /// Sets the details.
    pub fn details(mut self, details: serde_json::Value) -> NewEntry {
        self.details = details;
        self
    }
}

/// A stored entry. `details` is kept as the exact JSON text hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the trail, from 1, without gaps.
    pub seq: i64,
    /// When (RFC 3339, UTC, milliseconds).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// The flow.
    pub flow: Option<String>,
    /// The environment.
    pub environment: Option<String>,
    /// The artifact version.
    pub version: Option<String>,
    /// The artifact digest.
    pub digest: Option<String>,
    /// Details, compact JSON text.
    pub details: String,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of this entry's canonical encoding, `prev_hash` included.
    pub hash: String,
}

impl Entry {
    /// Builds the entry that follows `prev_hash` and computes its hash.
    pub fn seal(seq: i64, at: String, new: &NewEntry, prev_hash: &str) -> Entry {
        let mut entry = Entry {
            seq,
            at,
            actor: new.actor.clone(),
            action: new.action.clone(),
            flow: new.flow.clone(),
            environment: new.environment.clone(),
            version: new.version.clone(),
            digest: new.digest.clone(),
            details: new.details.to_string(),
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// The details as JSON (`null` when they are not valid JSON).
    pub fn details_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.details).unwrap_or(serde_json::Value::Null)
    }

    /// SHA-256 over a length-prefixed encoding of every field but `hash`: no two
    /// different entries share an encoding, whatever bytes their fields hold.
    pub fn compute_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"weft-audit-v1\n");
        field(&mut hasher, Some(&self.seq.to_string()));
        field(&mut hasher, Some(&self.at));
        field(&mut hasher, Some(&self.actor));
        field(&mut hasher, Some(&self.action));
        field(&mut hasher, self.flow.as_deref());
        field(&mut hasher, self.environment.as_deref());
        field(&mut hasher, self.version.as_deref());
        field(&mut hasher, self.digest.as_deref());
        field(&mut hasher, Some(&self.details));
        field(&mut hasher, Some(&self.prev_hash));
        let mut hex = String::with_capacity(64);
        for byte in hasher.finalize() {
            hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
        }
        hex
    }
}

fn field(hasher: &mut Sha256, value: Option<&str>) {
    match value {
        None => hasher.update(b"-\n"),
        Some(text) => {
            hasher.update(format!("{}:", text.len()).as_bytes());
            hasher.update(text.as_bytes());
            hasher.update(b"\n");
        }
    }
}

/// What is wrong at one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Its content no longer matches its hash.
    Edited,
    /// Entries before it are missing (a gap in the numbers, or a broken link).
    Deleted,
    /// It is out of order (numbers not increasing, or it links to another entry).
    Reordered,
    /// The trail ends before the recorded head: entries at the end are missing.
    Truncated,
}

/// The result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Entries checked.
    pub entries: usize,
    /// The last entry's hash (anchor it elsewhere to detect a rewritten tail).
    pub head: String,
    /// The first problem found, if any.
    pub problem: Option<Finding>,
}

/// The first entry found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The entry's number.
    pub seq: i64,
    /// What kind of tampering it shows.
    pub problem: Problem,
    /// A sentence for people.
    pub message: String,
}

/// Walks the chain in stored order (by `seq`) and reports the first broken entry.
/// `head` is the sequence number and hash the store recorded for its last append,
/// which detects entries deleted from the end.
pub fn verify(entries: &[Entry], head: Option<(i64, &str)>) -> Verification {
    let mut prev_hash = GENESIS.to_string();
    let mut prev_seq = 0i64;
    let mut problem = None;
    for entry in entries {
        let finding = |problem, message: String| Finding {
            seq: entry.seq,
            problem,
            message,
        };
        if entry.compute_hash() != entry.hash {
            problem = Some(finding(
                Problem::Edited,
                format!(
                    "entry {} was edited: its content does not match its hash",
                    entry.seq
                ),
            ));
            break;
        }
        if entry.seq <= prev_seq {
            problem = Some(finding(
                Problem::Reordered,
                format!(
                    "entry {} comes after entry {prev_seq}: the trail was reordered",
                    entry.seq
                ),
            ));
            break;
        }
        if entry.prev_hash != prev_hash {
            let (kind, what) =
                if let Some(linked) = entries.iter().find(|e| e.hash == entry.prev_hash) {
                    (
                        Problem::Reordered,
                        format!(
                            "it follows entry {} in the chain: the trail was reordered",
                            linked.seq
                        ),
                    )
                } else if entry.seq > prev_seq + 1 {
                    (
                        Problem::Deleted,
                        format!("entries {} to {} were deleted", prev_seq + 1, entry.seq - 1),
                    )
                } else {
                    (
                        Problem::Edited,
                        "it does not link to the entry before it".to_string(),
                    )
                };
            problem = Some(finding(kind, format!("entry {}: {what}", entry.seq)));
            break;
        }
        if entry.seq != prev_seq + 1 {
            problem = Some(finding(
                Problem::Deleted,
                format!("entries {} to {} were deleted", prev_seq + 1, entry.seq - 1),
            ));
            break;
        }
        prev_hash.clone_from(&entry.hash);
        prev_seq = entry.seq;
    }
    if problem.is_none() {
        if let Some((seq, hash)) = head {
            if seq != prev_seq || hash != prev_hash {
                problem = Some(Finding {
                    seq: prev_seq + 1,
                    problem: Problem::Truncated,
                    message: format!(
                        "the trail ends at entry {prev_seq} but its recorded head is entry {seq}: entries at the end were deleted or replaced"
                    ),
                });
            }
        }
    }
    Verification {
        entries: entries.len(),
        head: prev_hash,
        problem,
    }
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// One JSON object per line, details as a JSON object.
    Jsonl,
    /// RFC 4180 CSV with a header row, details as JSON text.
    Csv,
}

/// The entries in an export format.
pub fn export(entries: &[Entry], format: ExportFormat) -> String {
    let mut out = String::new();
    match format {
        ExportFormat::Jsonl => {
            for e in entries {
                let line = serde_json::json!({
                    "seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
                    "flow": e.flow, "environment": e.environment, "version": e.version,
                    "digest": e.digest, "details": e.details_json(),
                    "prev_hash": e.prev_hash, "hash": e.hash,
                });
                out.push_str(&line.to_string());
                out.push('\n');
            }
        }
        ExportFormat::Csv => {
            out.push_str(
                "seq,at,actor,action,flow,environment,version,digest,details,prev_hash,hash\r\n",
            );
            for e in entries {
                let cells = [
                    e.seq.to_string(),
                    e.at.clone(),
                    e.actor.clone(),
                    e.action.clone(),
                    e.flow.clone().unwrap_or_default(),
                    e.environment.clone().unwrap_or_default(),
                    e.version.clone().unwrap_or_default(),
                    e.digest.clone().unwrap_or_default(),
                    e.details.clone(),
                    e.prev_hash.clone(),
                    e.hash.clone(),
                ];
                let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                out.push_str(&row.join(","));
                out.push_str("\r\n");
            }
        }
    }
    out
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests;
