//! Flows: triggers, error policies and steps, matched by content.

use std::collections::BTreeSet;

use weft_runtime::ir::{Flow, Program, Step, Type};

use super::expr::{compare_steps, same_type, Sameness};
use super::types::doc_change;
use super::{changed_from_to, inline, Action, Class, Cx, Origin};

/// The flow as source lines: trigger, steps, error policy.
fn listing(flow: &Flow) -> String {
    let mut lines: Vec<String> = flow
        .triggers
        .iter()
        .map(|t| format!("trigger {t}"))
        .collect();
    lines.extend(flow.steps().map(ToString::to_string));
    lines.push(flow.error_policy.to_string());
    lines.join("\n")
}

fn triggers(flow: &Flow) -> String {
    flow.triggers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Flows: added, removed, doc, trigger, error policy, steps.
pub(super) fn flows(cx: &mut Cx<'_>, old: &Program, new: &Program) {
    let names: BTreeSet<&String> = old.flows.keys().chain(new.flows.keys()).collect();
    for name in names {
        let origin = Origin::Flow(name);
        let id = format!("flow.{name}");
        if let Some((a, b)) = cx.presence(
            id,
            &format!("flow {name}"),
            (old.flows.get(name), new.flows.get(name)),
            (Class::Breaking, Class::Behaviour),
            listing,
            origin,
        ) {
            compare_flows(cx, name, a, b);
        }
    }
}

fn compare_flows(cx: &mut Cx<'_>, name: &str, old: &Flow, new: &Flow) {
    let origin = Origin::Flow(name);
    if old.doc != new.doc {
        doc_change(
            cx,
            format!("flow.{name}.doc"),
            &format!("doc of flow {name}"),
            old.doc.as_deref(),
            new.doc.as_deref(),
            origin,
        );
    }
    if old.triggers != new.triggers {
        let (before, after) = (triggers(old), triggers(new));
        cx.push(
            format!("flow.{name}.trigger"),
            Action::Modified,
            Class::Behaviour,
            format!(
                "trigger of flow {name} {}",
                changed_from_to(&before, &after)
            ),
            Some(before),
            Some(after),
            origin,
        );
    }
    if old.error_policy != new.error_policy {
        let (before, after) = (old.error_policy.to_string(), new.error_policy.to_string());
        cx.push(
            format!("flow.{name}.error_policy"),
            Action::Modified,
            Class::Behaviour,
            format!(
                "error policy of flow {name} {}",
                changed_from_to(&before, &after)
            ),
            Some(before),
            Some(after),
            origin,
        );
    }
    let old_steps: Vec<&Step> = old.steps().collect();
    let new_steps: Vec<&Step> = new.steps().collect();
    steps(cx, name, &old_steps, &new_steps);
}

/// Pairs of (old index, new index) of a longest common subsequence of equivalent steps.
fn lcs(old: &[&Step], new: &[&Step]) -> Vec<(usize, usize)> {
    let (n, m) = (old.len(), new.len());
    // lengths[i][j]: LCS length of old[i..] and new[j..].
    let mut lengths = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lengths[i][j] = if compare_steps(old[i], new[j]) != Sameness::Different {
                lengths[i + 1][j + 1] + 1
            } else {
                lengths[i + 1][j].max(lengths[i][j + 1])
            };
        }
    }
    let mut pairs = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if compare_steps(old[i], new[j]) != Sameness::Different {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if lengths[i + 1][j] >= lengths[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

fn kind(step: &Step) -> &'static str {
    match step {
        Step::Read { .. } => "read",
        Step::Where { .. } => "where",
        Step::Map { .. } => "map",
        Step::Call { .. } => "call",
        Step::Write { .. } => "write",
    }
}

/// Steps: matched by content; moved steps are `Reordered`; unmatched steps of the same
/// kind between the same matched neighbours are `Modified`; the rest added or removed.
fn steps(cx: &mut Cx<'_>, flow: &str, old: &[&Step], new: &[&Step]) {
    let origin = Origin::Flow(flow);
    let id = |index: usize| format!("flow.{flow}.step.{index}");
    let pairs = lcs(old, new);
    for &(i, j) in &pairs {
        if compare_steps(old[i], new[j]) == Sameness::Renamed {
            cx.push(
                id(j),
                Action::Modified,
                Class::Cosmetic,
                format!("step {j} of flow {flow}: a parameter was renamed"),
                Some(old[i].to_string()),
                Some(new[j].to_string()),
                origin,
            );
        }
    }
    let mut old_free: Vec<bool> = vec![true; old.len()];
    let mut new_free: Vec<bool> = vec![true; new.len()];
    for &(i, j) in &pairs {
        old_free[i] = false;
        new_free[j] = false;
    }
    // Moves: an unmatched new step equal to an unmatched old one.
    for j in 0..new.len() {
        if !new_free[j] {
            continue;
        }
        let moved = (0..old.len())
            .find(|&i| old_free[i] && compare_steps(old[i], new[j]) != Sameness::Different);
        if let Some(i) = moved {
            old_free[i] = false;
            new_free[j] = false;
            cx.push(
                id(j),
                Action::Reordered,
                Class::Behaviour,
                format!(
                    "step `{}` of flow {flow} moved from position {i} to {j}",
                    new[j]
                ),
                Some(format!("step {i}")),
                Some(format!("step {j}")),
                origin,
            );
        }
    }
    // Changes in place: within each gap between matched steps, pair by kind in order.
    let mut bounds: Vec<(usize, usize)> = vec![(0, 0)];
    bounds.extend(pairs.iter().map(|&(i, j)| (i + 1, j + 1)));
    let mut ends: Vec<(usize, usize)> = pairs.clone();
    ends.push((old.len(), new.len()));
    for (&(old_start, new_start), &(old_end, new_end)) in bounds.iter().zip(&ends) {
        for j in new_start..new_end {
            if !new_free[j] {
                continue;
            }
            let same_kind =
                (old_start..old_end).find(|&i| old_free[i] && kind(old[i]) == kind(new[j]));
            if let Some(i) = same_kind {
                old_free[i] = false;
                new_free[j] = false;
                modified_step(cx, flow, i, j, old[i], new[j]);
            }
        }
    }
    for (i, step) in old.iter().enumerate() {
        if old_free[i] {
            cx.push(
                id(i),
                Action::Removed,
                Class::Behaviour,
                format!("step {i} `{step}` removed from flow {flow}"),
                Some(step.to_string()),
                None,
                origin,
            );
        }
    }
    for (j, step) in new.iter().enumerate() {
        if new_free[j] {
            cx.push(
                id(j),
                Action::Added,
                Class::Behaviour,
                format!("step {j} `{step}` added to flow {flow}"),
                None,
                Some(step.to_string()),
                origin,
            );
        }
    }
}

/// The parts of a step that talk to a connection.
struct Operation<'a> {
    connection: &'a str,
    operation: &'a str,
    args: String,
    record: Option<&'a Type>,
}

fn operation(step: &Step) -> Option<Operation<'_>> {
    let args = |args: &[weft_runtime::ir::Expr]| {
        args.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match step {
        Step::Read {
            connection,
            operation,
            args: a,
            record,
            ..
        }
        | Step::Call {
            connection,
            operation,
            args: a,
            record,
        } => Some(Operation {
            connection,
            operation,
            args: args(a),
            record: Some(record),
        }),
        Step::Write {
            connection,
            operation,
            args: a,
            record,
        } => Some(Operation {
            connection,
            operation,
            args: args(a),
            record: record.as_ref(),
        }),
        Step::Where { .. } | Step::Map { .. } => None,
    }
}

/// One step changed in place (same kind): says what changed and classifies it.
fn modified_step(cx: &mut Cx<'_>, flow: &str, i: usize, j: usize, old: &Step, new: &Step) {
    let at = if i == j {
        format!("step {j} of flow {flow}")
    } else {
        format!("step {j} (was {i}) of flow {flow}")
    };
    let (before, after) = (old.to_string(), new.to_string());
    let mut class = Class::Behaviour;
    let summary = match (old, new) {
        (Step::Map { map: a }, Step::Map { map: b }) => {
            format!("{at} now applies map {b} instead of {a}")
        }
        (Step::Where { .. }, Step::Where { .. }) => format!("filter of {at} changed"),
        (Step::Read { many: a, .. }, Step::Read { many: b, .. }) if a != b => {
            class = Class::Breaking;
            if *b {
                format!("{at} now reads a list of records")
            } else {
                format!("{at} now reads a single record")
            }
        }
        _ => match (operation(old), operation(new)) {
            (Some(a), Some(b)) => {
                let record_changed = match (a.record, b.record) {
                    (Some(x), Some(y)) => !same_type(x, y),
                    (None, None) => false,
                    _ => true,
                };
                let mut parts = Vec::new();
                if (a.connection, a.operation) != (b.connection, b.operation) {
                    parts.push(format!(
                        "operation {}.{} replaced by {}.{}",
                        a.connection, a.operation, b.connection, b.operation
                    ));
                }
                if a.args != b.args {
                    let what = match (inline(&a.args), inline(&b.args)) {
                        (Some(x), Some(y)) => format!("arguments changed from {x} to {y}"),
                        _ => "arguments changed".to_string(),
                    };
                    parts.push(what);
                }
                if record_changed {
                    let show =
                        |t: Option<&Type>| t.map_or("(none)".to_string(), ToString::to_string);
                    match (a.record, b.record) {
                        (Some(_), Some(_)) => {
                            class = Class::Breaking;
                            parts.push(format!(
                                "record type changed from {} to {}",
                                show(a.record),
                                show(b.record)
                            ));
                        }
                        (None, Some(t)) => parts.push(format!("contract pinned to {t}")),
                        (Some(t), None) => parts.push(format!("contract {t} no longer pinned")),
                        (None, None) => {}
                    }
                }
                format!("{at}: {}", parts.join("; "))
            }
            _ => format!("{at} changed"),
        },
    };
    cx.push(
        format!("flow.{flow}.step.{j}"),
        Action::Modified,
        class,
        summary,
        Some(before),
        Some(after),
        Origin::Flow(flow),
    );
}
