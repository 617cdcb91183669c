//! Semantic diff: what changed between two versions of a program, as data.
//!
//! One function, [`diff`], serves `weft diff`, the language server and the runtime's
//! approval view. It compares the IR (and, when both sides have them, the environment
//! bindings), never the text: declaration order, whitespace, comments, the order of
//! enum variants, gates and alerts, and how declarations are split into files produce
//! no change.
//!
//! Each [`Change`] has a stable address (`id`), an [`Action`], a [`Class`], a one-line
//! summary, the old and new value printed as Weft source, and the flows it reaches
//! through the dependency graph (`affects`). The result is versioned JSON
//! ([`FORMAT_VERSION`]); changes are sorted by id (numeric segments as numbers).
//!
//! # Addresses
//!
//! | id | what |
//! | --- | --- |
//! | `schema.S`, `schema.S.doc` | a schema, its doc comment |
//! | `schema.S.field.a.b`, `….doc`, `….variant.V` | a field (nested fields by dotted path), its doc, an enum variant of its type |
//! | `connection.C` | a connection |
//! | `map.M`, `map.M.doc`, `map.M.param` | a map, its doc, its parameter name |
//! | `map.M.source`, `map.M.target` (`….field.x`, `….variant.V`) | its source and target types |
//! | `map.M.field.a.b` | the assignment to target path `a.b` |
//! | `flow.F`, `flow.F.doc`, `flow.F.trigger`, `flow.F.error_policy` | a flow and its parts |
//! | `flow.F.step.N` | step `N`, counted from 0 after the trigger (the node index, as in the source map): the new position for added, changed and moved steps, the old position for removed ones, so a removed and an added step may share an id |
//! | `environment.E`, `environment.E.binding.C` | an environment, a binding |
//! | `environment.E.binding.C.kind`, `….endpoint`, `….secret.W`, `….option.O` | parts of a binding: `W` is where a secret is used (`auth.token`, `endpoint`) |
//! | `promotion`, `promotion.chain`, `promotion.gate.E` | the promotion policy, its chain, the gates to enter `E` |
//! | `rollback.F.E` | the rollback policy of flow `F` in environment `E` |
//!
//! # Classification
//!
//! **Breaking**: a contract with an external system or a deployment can break, or a
//! delivery control is weakened:
//! - a schema or a schema field removed; a required field added; a field's type changed
//!   (other than only becoming optional); an optional field made required; an enum
//!   variant removed. The same rules hold for record types written inline in a map's
//!   source or target, and a map's source or target type replaced by another is Breaking;
//! - a flow removed; the record type of a step changed (`read … as T`, `call … as T`,
//!   `write … as T` replaced by another type), or a `read` switched between `as [T]`
//!   and `as T`;
//! - a connection removed or its kind changed;
//! - an environment or a binding removed, a binding's kind changed, a secret added or a
//!   secret name changed (the host must provide it before the next deployment);
//! - the promotion policy removed, its chain changed, an environment's gates removed or
//!   weakened (a gate dropped, fewer approvals from a group, a different window);
//! - a rollback policy removed or weakened (threshold raised, more runs needed, an alert
//!   dropped, a different action).
//!
//! **Behaviour**: what runs or where it runs changes, contracts hold:
//! - a schema, map, flow, connection, environment, binding, promotion or rollback added;
//!   an optional field added; a required field made optional; an enum variant added;
//! - a map removed; a map assignment added, removed or its expression changed;
//! - a step added, removed, moved or changed (arguments, connection, operation, filter,
//!   map applied, a `write` contract pinned or unpinned); a trigger or error policy
//!   changed;
//! - a binding's endpoint or options changed, a secret no longer used;
//! - gates or rollback policies otherwise changed (tightened, window length changed).
//!
//! **Cosmetic**: nothing observable at run time changes: doc comments, and renamed
//! map, lambda or `where` parameters (expressions equal up to renaming).
//!
//! # What is compared
//!
//! The whole [`Program`] (schemas, connections, maps, flows,
//! promotion, rollbacks) and, only when both sides come from source, the environment
//! bindings (endpoint, secret *names*, options: there are no secret values anywhere in
//! the model). Artifacts carry no environments; when either side has none,
//! [`Diff::environments_compared`] is false. Tests, the project version and the source
//! map are not compared.
//!
//! Steps are matched by content (a longest common subsequence, equal up to renaming of
//! `where` parameters): a step found at another position is `reordered`; unmatched steps
//! of the same kind between the same matched neighbours are `modified`; the rest are
//! added or removed. Steps are taken in node order, which is step order: a flow's graph
//! is a chain today, so its edges are not compared separately.
//!
//! # Propagation
//!
//! `affects` lists the flows (as `flow.F`) that a change reaches along the dependency
//! graph of either version: schema → schemas that embed it → maps whose source or
//! target mentions it → maps that apply those maps → flows with such a `map` step;
//! schema → flows whose step record types mention it; map → flows whose `where`
//! conditions apply it; connection (and its bindings) → flows with steps on it; an
//! environment → the flows on the connections it binds; a flow's own changes and its
//! rollback policies → that flow. `after` triggers do not propagate.
//! Promotion changes affect every deployment and list no flow.

mod deploy;
mod expr;
mod flows;
mod graph;
mod render;
pub mod side;
mod types;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use weft_runtime::artifact::Artifact;
use weft_runtime::ir::Program;

use crate::lower::{Environment, Lowered};

pub use render::{render_markdown, render_text, text_lines, Line, LineKind};

/// Version of the JSON diff format; bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// One side of a diff: a program and, when it comes from source, its environments.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Model {
    /// The lowered program.
    pub program: Program,
    /// Environment bindings by environment name; `None` for an artifact.
    pub environments: Option<BTreeMap<String, Environment>>,
}

impl Model {
    /// A model of a lowered project, with its environments.
    pub fn from_lowered(lowered: &Lowered) -> Model {
        Model {
            program: lowered.program.clone(),
            environments: Some(lowered.environments.clone()),
        }
    }

    /// A model of an artifact's program, without environments.
    pub fn from_artifact(artifact: &Artifact) -> Model {
        Model {
            program: artifact.program.clone(),
            environments: None,
        }
    }
}

impl From<Lowered> for Model {
    fn from(lowered: Lowered) -> Model {
        Model {
            program: lowered.program,
            environments: Some(lowered.environments),
        }
    }
}

/// Everything that changed from one model to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    /// [`FORMAT_VERSION`].
    pub format: u32,
    /// False when a side had no environments (an artifact): bindings were not compared.
    pub environments_compared: bool,
    /// The changes, sorted by id.
    pub changes: Vec<Change>,
}

impl Diff {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Number of changes of one class.
    pub fn count(&self, class: Class) -> usize {
        self.changes.iter().filter(|c| c.class == class).count()
    }

    /// The changes that reach flow `name`: its own, those of everything it depends on
    /// (every change whose `affects` lists it), and changes of the promotion policy,
    /// which gates every deployment.
    pub fn for_flow(&self, name: &str) -> Diff {
        let flow = format!("flow.{name}");
        Diff {
            changes: self
                .changes
                .iter()
                .filter(|c| {
                    c.affects.contains(&flow)
                        || c.id == "promotion"
                        || c.id.starts_with("promotion.")
                })
                .cloned()
                .collect(),
            ..self.clone()
        }
    }
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Stable address of what changed, such as `map.customer_to_account.field.Industry`.
    pub id: String,
    /// What happened to it.
    pub action: Action,
    /// How much it matters.
    pub class: Class,
    /// One line for people.
    pub summary: String,
    /// The old value as Weft source, when there is one.
    pub before: Option<String>,
    /// The new value as Weft source, when there is one.
    pub after: Option<String>,
    /// Flows reached, as `flow.NAME`, sorted.
    pub affects: Vec<String>,
}

/// What happened to the thing a change addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// It is new.
    Added,
    /// It is gone.
    Removed,
    /// It is there in both, with a different value.
    Modified,
    /// It is the same, at another position.
    Reordered,
}

/// How much a change matters; see the module documentation for the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// May break a contract or a deployment, or weakens a delivery control.
    Breaking,
    /// Changes what runs, or where.
    Behaviour,
    /// Changes nothing observable at run time.
    Cosmetic,
}

impl Class {
    /// `breaking`, `behaviour`, `cosmetic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Breaking => "breaking",
            Class::Behaviour => "behaviour",
            Class::Cosmetic => "cosmetic",
        }
    }
}

impl Action {
    /// `added`, `removed`, `modified`, `reordered`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Added => "added",
            Action::Removed => "removed",
            Action::Modified => "modified",
            Action::Reordered => "reordered",
        }
    }
}

/// Compares two models: what changed from `old` to `new`.
pub fn diff(old: &Model, new: &Model) -> Diff {
    let mut cx = Cx {
        old: Lazy::new(&old.program),
        new: Lazy::new(&new.program),
        changes: Vec::new(),
    };
    types::schemas(&mut cx, &old.program, &new.program);
    types::connections(&mut cx, &old.program, &new.program);
    types::maps(&mut cx, &old.program, &new.program);
    flows::flows(&mut cx, &old.program, &new.program);
    let environments_compared = match (&old.environments, &new.environments) {
        (Some(a), Some(b)) => {
            deploy::environments(&mut cx, a, b);
            true
        }
        _ => false,
    };
    deploy::promotion(
        &mut cx,
        old.program.promotion.as_ref(),
        new.program.promotion.as_ref(),
    );
    deploy::rollbacks(&mut cx, &old.program.rollbacks, &new.program.rollbacks);
    let mut changes = cx.changes;
    changes.sort_by(|a, b| {
        id_key(&a.id)
            .cmp(&id_key(&b.id))
            .then(a.action.cmp(&b.action))
            .then_with(|| a.summary.cmp(&b.summary))
    });
    changes.dedup();
    Diff {
        format: FORMAT_VERSION,
        environments_compared,
        changes,
    }
}

/// Sort key of an id: segments in order, numbers by value (`step.2` before `step.10`).
fn id_key(id: &str) -> Vec<(u8, u64, &str)> {
    id.split('.')
        .map(|segment| match segment.parse::<u64>() {
            Ok(n) if !segment.starts_with('+') => (0, n, ""),
            _ => (1, 0, segment),
        })
        .collect()
}

/// What a change starts from in the dependency graph.
#[derive(Debug, Clone, Copy)]
enum Origin<'a> {
    Schema(&'a str),
    Map(&'a str),
    Flow(&'a str),
    Connection(&'a str),
    Nothing,
}

/// The diff being built.
struct Cx<'a> {
    old: Lazy<'a>,
    new: Lazy<'a>,
    changes: Vec<Change>,
}

/// A program's dependency graph, built the first time a change asks what it affects:
/// two large versions that differ little never pay for it.
struct Lazy<'a> {
    program: &'a Program,
    deps: std::cell::OnceCell<graph::Deps>,
}

impl<'a> Lazy<'a> {
    fn new(program: &'a Program) -> Self {
        Lazy {
            program,
            deps: std::cell::OnceCell::new(),
        }
    }

    fn flows_reached(&self, origin: Origin<'_>) -> BTreeSet<String> {
        self.deps
            .get_or_init(|| graph::Deps::new(self.program))
            .flows_reached(origin)
    }
}

impl Cx<'_> {
    /// Reports `what` as removed (with `classes.0`) or added (with `classes.1`) when it
    /// exists in one version only, shown by `show`; when it exists in both, returns the
    /// two for the caller to compare.
    fn presence<'v, T: ?Sized>(
        &mut self,
        id: String,
        what: &str,
        sides: (Option<&'v T>, Option<&'v T>),
        classes: (Class, Class),
        show: impl Fn(&T) -> String,
        origin: Origin<'_>,
    ) -> Option<(&'v T, &'v T)> {
        match sides {
            (Some(a), None) => {
                self.push(
                    id,
                    Action::Removed,
                    classes.0,
                    format!("{what} removed"),
                    Some(show(a)),
                    None,
                    origin,
                );
                None
            }
            (None, Some(b)) => {
                self.push(
                    id,
                    Action::Added,
                    classes.1,
                    format!("{what} added"),
                    None,
                    Some(show(b)),
                    origin,
                );
                None
            }
            (Some(a), Some(b)) => Some((a, b)),
            (None, None) => None,
        }
    }

    /// Records a change; `affects` comes from `origin` in both versions.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        id: String,
        action: Action,
        class: Class,
        summary: String,
        before: Option<String>,
        after: Option<String>,
        origin: Origin<'_>,
    ) {
        let mut affects: BTreeSet<String> = BTreeSet::new();
        affects.extend(self.old.flows_reached(origin));
        affects.extend(self.new.flows_reached(origin));
        self.changes.push(Change {
            id,
            action,
            class,
            summary,
            before,
            after,
            affects: affects.into_iter().map(|f| format!("flow.{f}")).collect(),
        });
    }
}

/// Backticks for inline values in summaries, or nothing when the value is too long to
/// read inline (the renderers show `before` and `after` then).
fn inline(value: &str) -> Option<String> {
    const LIMIT: usize = 60;
    if value.chars().count() <= LIMIT && !value.contains('\n') {
        Some(format!("`{value}`"))
    } else {
        None
    }
}

/// `changed from `a` to `b`` when both are short, else `changed`.
fn changed_from_to(before: &str, after: &str) -> String {
    match (inline(before), inline(after)) {
        (Some(b), Some(a)) => format!("changed from {b} to {a}"),
        _ => "changed".to_string(),
    }
}
