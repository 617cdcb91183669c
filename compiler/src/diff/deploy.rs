//! Where and how a program is deployed: environment bindings, promotion, rollback.

use std::collections::{BTreeMap, BTreeSet};

use weft_runtime::ir::{Gate, Promotion, Rollback};

use super::{changed_from_to, Action, Class, Cx, Origin};
use crate::lower::{Binding, Environment};

/// A binding as one line: kind, endpoint, secret names and options.
fn describe_binding(binding: &Binding) -> String {
    let mut parts = Vec::new();
    if let Some(endpoint) = &binding.endpoint {
        parts.push(format!("\"{endpoint}\""));
    }
    for (place, name) in &binding.secrets {
        parts.push(format!("{place}: secret \"{name}\""));
    }
    for (option, value) in &binding.options {
        parts.push(format!("{option}: {}", option_value(value)));
    }
    format!("{}({})", binding.kind, parts.join(", "))
}

/// Environments: added, removed, and each binding.
pub(super) fn environments(
    cx: &mut Cx<'_>,
    old: &BTreeMap<String, Environment>,
    new: &BTreeMap<String, Environment>,
) {
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for name in names {
        let id = format!("environment.{name}");
        match (old.get(name), new.get(name)) {
            (Some(a), None) => {
                let before = a.bindings.keys().cloned().collect::<Vec<_>>().join(", ");
                push_for_connections(
                    cx,
                    a.bindings.keys(),
                    id,
                    Action::Removed,
                    Class::Breaking,
                    format!("environment {name} removed"),
                    Some(before),
                    None,
                );
            }
            (None, Some(b)) => {
                let after = b.bindings.keys().cloned().collect::<Vec<_>>().join(", ");
                push_for_connections(
                    cx,
                    b.bindings.keys(),
                    id,
                    Action::Added,
                    Class::Behaviour,
                    format!("environment {name} added"),
                    None,
                    Some(after),
                );
            }
            (Some(a), Some(b)) => bindings(cx, name, a, b),
            (None, None) => {}
        }
    }
}

/// Records a change whose `affects` is the union over several connections.
#[allow(clippy::too_many_arguments)]
fn push_for_connections<'a>(
    cx: &mut Cx<'_>,
    connections: impl Iterator<Item = &'a String>,
    id: String,
    action: Action,
    class: Class,
    summary: String,
    before: Option<String>,
    after: Option<String>,
) {
    let mut affects = BTreeSet::new();
    for connection in connections {
        affects.extend(cx.old.flows_reached(Origin::Connection(connection)));
        affects.extend(cx.new.flows_reached(Origin::Connection(connection)));
    }
    cx.push(id, action, class, summary, before, after, Origin::Nothing);
    if let Some(last) = cx.changes.last_mut() {
        last.affects = affects.into_iter().map(|f| format!("flow.{f}")).collect();
    }
}

fn bindings(cx: &mut Cx<'_>, env: &str, old: &Environment, new: &Environment) {
    let names: BTreeSet<&String> = old.bindings.keys().chain(new.bindings.keys()).collect();
    for connection in names {
        let origin = Origin::Connection(connection);
        let id = format!("environment.{env}.binding.{connection}");
        if let Some((a, b)) = cx.presence(
            id.clone(),
            &format!("binding of {connection} in {env}"),
            (old.bindings.get(connection), new.bindings.get(connection)),
            (Class::Breaking, Class::Behaviour),
            describe_binding,
            origin,
        ) {
            binding(cx, env, connection, &id, a, b);
        }
    }
}

fn binding(cx: &mut Cx<'_>, env: &str, connection: &str, id: &str, old: &Binding, new: &Binding) {
    let origin = Origin::Connection(connection);
    if old.kind != new.kind {
        cx.push(
            format!("{id}.kind"),
            Action::Modified,
            Class::Breaking,
            format!(
                "binding of {connection} in {env} is now {} (was {})",
                new.kind, old.kind
            ),
            Some(old.kind.clone()),
            Some(new.kind.clone()),
            origin,
        );
    }
    if old.endpoint != new.endpoint {
        let action = match (&old.endpoint, &new.endpoint) {
            (None, Some(_)) => Action::Added,
            (Some(_), None) => Action::Removed,
            _ => Action::Modified,
        };
        let summary = match (&old.endpoint, &new.endpoint) {
            (Some(a), Some(b)) => format!(
                "endpoint of {connection} in {env} {}",
                changed_from_to(a, b)
            ),
            (None, Some(b)) => {
                format!("endpoint of {connection} in {env} is now `{b}` (was a secret)")
            }
            _ => format!("endpoint of {connection} in {env} is now a secret"),
        };
        cx.push(
            format!("{id}.endpoint"),
            action,
            Class::Behaviour,
            summary,
            old.endpoint.clone(),
            new.endpoint.clone(),
            origin,
        );
    }
    let places: BTreeSet<&String> = old.secrets.keys().chain(new.secrets.keys()).collect();
    for place in places {
        let sid = format!("{id}.secret.{place}");
        match (old.secrets.get(place), new.secrets.get(place)) {
            (Some(a), None) => cx.push(
                sid,
                Action::Removed,
                Class::Behaviour,
                format!("{connection} in {env} no longer uses secret `{a}` ({place})"),
                Some(a.clone()),
                None,
                origin,
            ),
            (None, Some(b)) => cx.push(
                sid,
                Action::Added,
                Class::Breaking,
                format!("{connection} in {env} needs secret `{b}` ({place}): provide it on the host before deploying"),
                None,
                Some(b.clone()),
                origin,
            ),
            (Some(a), Some(b)) if a != b => cx.push(
                sid,
                Action::Modified,
                Class::Breaking,
                format!("secret for {connection} {place} in {env} changed from `{a}` to `{b}`: provide it on the host before deploying"),
                Some(a.clone()),
                Some(b.clone()),
                origin,
            ),
            _ => {}
        }
    }
    let options: BTreeSet<&String> = old.options.keys().chain(new.options.keys()).collect();
    for option in options {
        let oid = format!("{id}.option.{option}");
        let (a, b) = (
            old.options.get(option).map(|v| option_value(v)),
            new.options.get(option).map(|v| option_value(v)),
        );
        let (a, b) = (a.as_ref(), b.as_ref());
        let (action, summary) = match (a, b) {
            (Some(a), None) => (
                Action::Removed,
                format!("option {option} of {connection} in {env} removed (was `{a}`)"),
            ),
            (None, Some(b)) => (
                Action::Added,
                format!("option {option} of {connection} in {env} set to `{b}`"),
            ),
            (Some(a), Some(b)) if a != b => (
                Action::Modified,
                format!(
                    "option {option} of {connection} in {env} {}",
                    changed_from_to(a, b)
                ),
            ),
            _ => continue,
        };
        cx.push(
            oid,
            action,
            Class::Behaviour,
            summary,
            a.cloned(),
            b.cloned(),
            origin,
        );
    }
}

/// An option value as the source writes it: durations arrive in milliseconds.
fn option_value(value: &str) -> String {
    match value.strip_suffix("ms").map(str::parse::<u64>) {
        Some(Ok(millis)) => duration(millis),
        _ => value.to_string(),
    }
}

fn gates_text(gates: &[Gate]) -> String {
    gates
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Gates in a canonical order: their order in the source has no meaning.
fn sorted(gates: &[Gate]) -> Vec<Gate> {
    let mut gates = gates.to_vec();
    gates.sort_by_key(|g| g.to_string());
    gates.dedup();
    gates
}

/// Whether `new` lacks a gate of `old` or has a laxer one.
fn weakened(old: &[Gate], new: &[Gate]) -> bool {
    old.iter().any(|gate| {
        !new.iter().any(|n| match (gate, n) {
            (Gate::Approvals { count: a, group: g }, Gate::Approvals { count: b, group: h }) => {
                g == h && b >= a
            }
            _ => gate == n,
        })
    })
}

/// The promotion policy: chain and gates.
pub(super) fn promotion(cx: &mut Cx<'_>, old: Option<&Promotion>, new: Option<&Promotion>) {
    let chain = |p: &Promotion| p.chain.join(" -> ");
    match (old, new) {
        (Some(a), None) => cx.push(
            "promotion".to_string(),
            Action::Removed,
            Class::Breaking,
            "promotion policy removed: any version may be deployed anywhere".to_string(),
            Some(chain(a)),
            None,
            Origin::Nothing,
        ),
        (None, Some(b)) => cx.push(
            "promotion".to_string(),
            Action::Added,
            Class::Behaviour,
            "promotion policy added".to_string(),
            None,
            Some(chain(b)),
            Origin::Nothing,
        ),
        (Some(a), Some(b)) => {
            if a.chain != b.chain {
                let (before, after) = (chain(a), chain(b));
                cx.push(
                    "promotion.chain".to_string(),
                    Action::Modified,
                    Class::Breaking,
                    format!("promotion chain {}", changed_from_to(&before, &after)),
                    Some(before),
                    Some(after),
                    Origin::Nothing,
                );
            }
            let envs: BTreeSet<&String> = a.gates.keys().chain(b.gates.keys()).collect();
            for env in envs {
                let old_gates = sorted(a.gates.get(env).map_or(&[][..], |g| g));
                let new_gates = sorted(b.gates.get(env).map_or(&[][..], |g| g));
                if old_gates == new_gates {
                    continue;
                }
                let id = format!("promotion.gate.{env}");
                let (before, after) = (gates_text(&old_gates), gates_text(&new_gates));
                let (action, class, summary) = if old_gates.is_empty() {
                    (
                        Action::Added,
                        Class::Behaviour,
                        format!("gates to enter {env} added: {after}"),
                    )
                } else if new_gates.is_empty() {
                    (
                        Action::Removed,
                        Class::Breaking,
                        format!("gates to enter {env} removed: {before}"),
                    )
                } else if weakened(&old_gates, &new_gates) {
                    (
                        Action::Modified,
                        Class::Breaking,
                        format!("gates to enter {env} weakened"),
                    )
                } else {
                    (
                        Action::Modified,
                        Class::Behaviour,
                        format!("gates to enter {env} tightened"),
                    )
                };
                cx.push(
                    id,
                    action,
                    class,
                    summary,
                    (!old_gates.is_empty()).then_some(before),
                    (!new_gates.is_empty()).then_some(after),
                    Origin::Nothing,
                );
            }
        }
        (None, None) => {}
    }
}

fn percent(value: f64) -> String {
    format!("{value}%")
}

fn duration(millis: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
    ];
    for (size, unit) in UNITS {
        if millis != 0 && millis / size * size == millis {
            return format!("{}{unit}", millis / size);
        }
    }
    format!("{millis}ms")
}

/// Rollback policies, by flow and environment.
pub(super) fn rollbacks(cx: &mut Cx<'_>, old: &[Rollback], new: &[Rollback]) {
    let key = |r: &Rollback| (r.flow.clone(), r.environment.clone());
    let old: BTreeMap<(String, String), &Rollback> = old.iter().map(|r| (key(r), r)).collect();
    let new: BTreeMap<(String, String), &Rollback> = new.iter().map(|r| (key(r), r)).collect();
    let keys: BTreeSet<&(String, String)> = old.keys().chain(new.keys()).collect();
    for k in keys {
        let (flow, env) = k;
        let id = format!("rollback.{flow}.{env}");
        let origin = Origin::Flow(flow);
        if let Some((a, b)) = cx.presence(
            id.clone(),
            &format!("automatic rollback of {flow} in {env}"),
            (old.get(k), new.get(k)),
            (Class::Breaking, Class::Behaviour),
            |a| a.to_string(),
            origin,
        ) {
            let mut parts = Vec::new();
            let mut weaker = false;
            if a.threshold_percent != b.threshold_percent {
                weaker |= b.threshold_percent > a.threshold_percent;
                parts.push(format!(
                    "threshold {} -> {}",
                    percent(a.threshold_percent),
                    percent(b.threshold_percent)
                ));
            }
            if a.window_millis != b.window_millis {
                parts.push(format!(
                    "window {} -> {}",
                    duration(a.window_millis),
                    duration(b.window_millis)
                ));
            }
            if a.min_runs != b.min_runs {
                weaker |= b.min_runs > a.min_runs;
                parts.push(format!("min runs {} -> {}", a.min_runs, b.min_runs));
            }
            if a.action != b.action {
                weaker = true;
                parts.push(format!("action {} -> {}", a.action, b.action));
            }
            let old_alerts: BTreeSet<&String> = a.alerts.iter().collect();
            let new_alerts: BTreeSet<&String> = b.alerts.iter().collect();
            for gone in old_alerts.difference(&new_alerts) {
                weaker = true;
                parts.push(format!("alert \"{gone}\" removed"));
            }
            for added in new_alerts.difference(&old_alerts) {
                parts.push(format!("alert \"{added}\" added"));
            }
            if parts.is_empty() {
                continue;
            }
            cx.push(
                id,
                Action::Modified,
                if weaker {
                    Class::Breaking
                } else {
                    Class::Behaviour
                },
                format!(
                    "automatic rollback of {flow} in {env}{}: {}",
                    if weaker { " weakened" } else { "" },
                    parts.join(", ")
                ),
                Some(a.to_string()),
                Some(b.to_string()),
                origin,
            );
        }
    }
}
