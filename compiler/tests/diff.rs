//! Semantic diff: every scenario under `tests/diff/<name>/` is a pair of projects,
//! `old.weft` and `new.weft` (several files each with `// file: NAME.weft` lines), and
//! the text rendering of their diff is an insta snapshot. Beside it: JSON and Markdown
//! snapshots of a few, properties over the example projects, and a round trip of the
//! IR printer through the compiler.

mod common;

use common::{files, manifest};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use weft_compiler::analysis::{check_files, check_project};
use weft_compiler::diff::{diff, render_markdown, render_text, Action, Class, Diff, Model};
use weft_compiler::lower::{lower, Lowered};
use weft_compiler::project::Manifest;
use weft_compiler::render;
use weft_runtime::ir::{self, Expr, Program, Step, Type};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diff")
}

/// Checks and lowers in-memory files; panics with the diagnostics when they have errors.
fn lowered(files: &[(String, PathBuf, String)], manifest: &Manifest, what: &str) -> Lowered {
    let analysis = check_files(files, Some(manifest));
    let rendered = render::text(&analysis.db, &analysis.diagnostics, false);
    lower(&analysis).unwrap_or_else(|| panic!("{what} does not compile:\n{rendered}"))
}

fn model(path: &Path) -> Model {
    Model::from(lowered(
        &files(path),
        &manifest(),
        &path.display().to_string(),
    ))
}

fn scenario(name: &str) -> (Model, Model) {
    let dir = scenarios_dir().join(name);
    (model(&dir.join("old.weft")), model(&dir.join("new.weft")))
}

fn example(name: &str) -> Lowered {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    let analysis = check_project(&root);
    let rendered = render::text(&analysis.db, &analysis.diagnostics, false);
    lower(&analysis).unwrap_or_else(|| panic!("{name} does not compile:\n{rendered}"))
}

const EXAMPLES: [&str; 3] = ["customer-sync", "order-to-cash", "hire-to-retire"];

fn mirror(action: Action) -> Action {
    match action {
        Action::Added => Action::Removed,
        Action::Removed => Action::Added,
        other => other,
    }
}

/// Swapping the sides swaps added and removed, and before and after. Step positions
/// in ids follow the new side, so steps are compared by count only.
fn assert_mirrored(forward: &Diff, backward: &Diff) {
    let is_step = |id: &str| id.contains(".step.");
    let key = |d: &Diff, flip: bool| {
        let mut keys: Vec<(String, Action, Option<String>, Option<String>)> = d
            .changes
            .iter()
            .filter(|c| !is_step(&c.id))
            .map(|c| {
                if flip {
                    (
                        c.id.clone(),
                        mirror(c.action),
                        c.after.clone(),
                        c.before.clone(),
                    )
                } else {
                    (c.id.clone(), c.action, c.before.clone(), c.after.clone())
                }
            })
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(
        key(forward, false),
        key(backward, true),
        "non-step changes are not mirrored"
    );
    let steps = |d: &Diff, flip: bool| {
        let mut counts = BTreeMap::new();
        for c in d.changes.iter().filter(|c| is_step(&c.id)) {
            let action = if flip { mirror(c.action) } else { c.action };
            *counts.entry(action).or_insert(0) += 1;
        }
        counts
    };
    assert_eq!(
        steps(forward, false),
        steps(backward, true),
        "step changes are not mirrored"
    );
    assert_eq!(
        forward.environments_compared,
        backward.environments_compared
    );
}

#[test]
fn scenarios() {
    insta::glob!("diff/*/old.weft", |old_path| {
        let dir = old_path.parent().unwrap_or(Path::new("."));
        let old = model(old_path);
        let new = model(&dir.join("new.weft"));
        let forward = diff(&old, &new);
        assert_mirrored(&forward, &diff(&new, &old));
        assert!(diff(&old, &old).is_empty());
        assert!(diff(&new, &new).is_empty());
        insta::assert_snapshot!(render_text(&forward));
    });
}

#[test]
fn there_are_at_least_25_scenarios_and_each_but_two_reports_a_change() {
    let mut names: Vec<String> = std::fs::read_dir(scenarios_dir())
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
        .filter(|e| e.path().join("old.weft").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 25, "only {} scenarios", names.len());
    for name in names {
        let (old, new) = scenario(&name);
        let changes = diff(&old, &new).changes.len();
        let quiet = ["identical", "declaration_order_and_comments"].contains(&name.as_str());
        assert_eq!(changes == 0, quiet, "{name}: {changes} changes");
    }
}

#[test]
fn json_of_a_few_scenarios() {
    for name in [
        "map_expression_changed",
        "schema_field_made_required",
        "binding_secrets_changed",
        "steps_reordered",
    ] {
        let (old, new) = scenario(name);
        let json =
            serde_json::to_string_pretty(&diff(&old, &new)).unwrap_or_else(|e| panic!("{e}"));
        insta::assert_snapshot!(format!("{name}.json"), json);
        let back: Diff = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, diff(&old, &new));
    }
}

#[test]
fn markdown_of_a_few_scenarios() {
    for name in ["promotion_gates_weakened", "step_contracts", "identical"] {
        let (old, new) = scenario(name);
        insta::assert_snapshot!(format!("{name}.md"), render_markdown(&diff(&old, &new)));
    }
}

#[test]
fn a_changed_map_marks_the_flows_that_use_it() {
    let (old, new) = scenario("map_expression_changed");
    let d = diff(&old, &new);
    let change = d
        .changes
        .iter()
        .find(|c| c.id == "map.customer_to_account.field.Industry")
        .unwrap_or_else(|| panic!("no change: {d:?}"));
    assert_eq!(change.action, Action::Modified);
    assert_eq!(change.class, Class::Behaviour);
    assert_eq!(change.affects, ["flow.account_sync"]);
    assert_eq!(
        change.summary,
        "mapping Account.Industry changed from `c.sector ?? \"Unknown\"` to `upper(c.sector ?? \"Unknown\")`"
    );
    // Through an application inside another map, both flows are reached.
    let (old, new) = scenario("applied_map_propagates");
    let d = diff(&old, &new);
    assert_eq!(d.changes.len(), 1);
    assert_eq!(
        d.changes[0].affects,
        ["flow.account_sync", "flow.site_sync"]
    );
}

#[test]
fn declaration_order_whitespace_and_comments_change_nothing() {
    let (old, new) = scenario("declaration_order_and_comments");
    let d = diff(&old, &new);
    assert!(d.is_empty(), "{}", render_text(&d));
    assert!(d.environments_compared);
}

#[test]
fn the_examples_have_no_changes_against_themselves() {
    for name in EXAMPLES {
        let a = Model::from(example(name));
        let b = Model::from(example(name));
        let d = diff(&a, &b);
        assert!(d.is_empty(), "{name}: {}", render_text(&d));
        assert!(d.environments_compared);
        // Against its artifact (no environments): still nothing, and it says so.
        let artifact = Model {
            program: b.program.clone(),
            environments: None,
        };
        let d = diff(&a, &artifact);
        assert!(d.is_empty());
        assert!(!d.environments_compared);
        assert!(render_text(&d).contains("environments not compared"));
    }
}

#[test]
fn changes_are_sorted_by_id_with_numbers_by_value() {
    let (old, new) = scenario("steps_reordered");
    let mut old = old;
    // Eleven more steps make ids step.2 and step.10 meet.
    if let Some(flow) = old.program.flows.get_mut("account_sync") {
        for _ in 0..11 {
            flow.graph.add_node(Step::Map {
                map: "site_to_address".into(),
            });
        }
    }
    let d = diff(&old, &new);
    let ids: Vec<&str> = d.changes.iter().map(|c| c.id.as_str()).collect();
    let position = |id: &str| ids.iter().position(|i| *i == id);
    assert!(position("flow.account_sync.step.2") < position("flow.account_sync.step.10"));
}

// ---- The printer round trip: the IR printed as Weft compiles back to the same IR. ----

fn ident(name: &str) -> String {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("`{name}`")
    }
}

fn doc(out: &mut String, doc: Option<&String>) {
    for line in doc
        .map(|d| d.lines().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        out.push_str(&format!("/// {line}\n").replace("///  ", "/// "));
    }
}

fn print_maps(program: &Program) -> String {
    let mut out = String::new();
    for (name, map) in &program.maps {
        doc(&mut out, map.doc.as_ref());
        out.push_str(&format!(
            "map {name}({}: {}) -> {} {{\n",
            map.param, map.source, map.target
        ));
        for assignment in &map.fields {
            let path: Vec<String> = assignment.target.iter().map(|s| ident(s)).collect();
            out.push_str(&format!("  {} = {}\n", path.join("."), assignment.value));
        }
        out.push_str("}\n\n");
    }
    out
}

fn print_flows(program: &Program) -> String {
    let mut out = String::new();
    for (name, connection) in &program.connections {
        out.push_str(&format!("connection {name}: {}\n", connection.kind));
    }
    for (name, flow) in &program.flows {
        doc(&mut out, flow.doc.as_ref());
        out.push_str(&format!("flow {name} {{\n"));
        for trigger in &flow.triggers {
            out.push_str(&format!("  trigger {trigger}\n"));
        }
        for step in flow.steps() {
            out.push_str(&format!("  {step}\n"));
        }
        out.push_str(&format!("  {}\n}}\n\n", flow.error_policy));
    }
    out
}

/// Maps and flows (the expressions, types, steps, triggers and policies) of every
/// example, printed with `Display`, compile to the same IR.
#[test]
fn printed_maps_and_flows_compile_to_the_same_ir() {
    for name in EXAMPLES {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(name);
        let analysis = check_project(&root);
        let Some(project) = analysis.project.clone() else {
            panic!("{name}: no project");
        };
        let original = lower(&analysis).unwrap_or_else(|| panic!("{name} does not compile"));
        let mut sources = Vec::new();
        for path in &project.sources {
            let file = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = match file.as_str() {
                "maps.weft" => print_maps(&original.program),
                "flows.weft" => print_flows(&original.program),
                _ => std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}")),
            };
            sources.push((file, path.clone(), text));
        }
        let printed = lowered(&sources, &project.manifest, name);
        assert_eq!(
            printed.program.maps, original.program.maps,
            "{name}: maps differ"
        );
        assert_eq!(
            printed.program.flows, original.program.flows,
            "{name}: flows differ"
        );
        assert!(diff(&Model::from(original), &Model::from(printed)).is_empty());
    }
}

// ---- Properties over perturbed example programs. ----

/// One edit to a program; each makes a real difference.
#[derive(Debug, Clone)]
enum Perturbation {
    DropSchema(usize),
    DropField(usize, usize),
    ToggleOptional(usize, usize),
    DropMap(usize),
    WrapExpression(usize, usize),
    DropAssignment(usize, usize),
    DropFlow(usize),
    DropStep(usize, usize),
    SwapSteps(usize, usize),
    ChangeTrigger(usize),
    MoreRetries(usize),
    DropRollback(usize),
    RaiseThreshold(usize),
    DropBinding(usize, usize),
    RenameSecret(usize, usize),
    MoreApprovals,
}

fn perturbation() -> impl Strategy<Value = Perturbation> {
    let i = || 0usize..64;
    prop_oneof![
        i().prop_map(Perturbation::DropSchema),
        (i(), i()).prop_map(|(a, b)| Perturbation::DropField(a, b)),
        (i(), i()).prop_map(|(a, b)| Perturbation::ToggleOptional(a, b)),
        i().prop_map(Perturbation::DropMap),
        (i(), i()).prop_map(|(a, b)| Perturbation::WrapExpression(a, b)),
        (i(), i()).prop_map(|(a, b)| Perturbation::DropAssignment(a, b)),
        i().prop_map(Perturbation::DropFlow),
        (i(), i()).prop_map(|(a, b)| Perturbation::DropStep(a, b)),
        (i(), i()).prop_map(|(a, b)| Perturbation::SwapSteps(a, b)),
        i().prop_map(Perturbation::ChangeTrigger),
        i().prop_map(Perturbation::MoreRetries),
        i().prop_map(Perturbation::DropRollback),
        i().prop_map(Perturbation::RaiseThreshold),
        (i(), i()).prop_map(|(a, b)| Perturbation::DropBinding(a, b)),
        (i(), i()).prop_map(|(a, b)| Perturbation::RenameSecret(a, b)),
        Just(Perturbation::MoreApprovals),
    ]
}

fn nth_key<V>(map: &BTreeMap<String, V>, n: usize) -> Option<String> {
    if map.is_empty() {
        None
    } else {
        map.keys().nth(n % map.len()).cloned()
    }
}

/// Rebuilds a flow's chain with these steps.
fn with_steps(flow: &ir::Flow, steps: Vec<Step>) -> ir::Flow {
    let mut graph = petgraph::graph::DiGraph::new();
    let mut previous = None;
    for step in steps {
        let node = graph.add_node(step);
        if let Some(p) = previous {
            graph.add_edge(p, node, ());
        }
        previous = Some(node);
    }
    ir::Flow {
        doc: flow.doc.clone(),
        triggers: flow.triggers.clone(),
        graph,
        error_policy: flow.error_policy,
    }
}

/// Applies an edit; returns false when it found nothing to change.
fn perturb(model: &mut Model, edit: &Perturbation) -> bool {
    let program = &mut model.program;
    match *edit {
        Perturbation::DropSchema(n) => nth_key(&program.schemas, n)
            .and_then(|k| program.schemas.remove(&k))
            .is_some(),
        Perturbation::DropField(n, f) => {
            let Some(k) = nth_key(&program.schemas, n) else {
                return false;
            };
            let Some(schema) = program.schemas.get_mut(&k) else {
                return false;
            };
            if schema.fields.is_empty() {
                return false;
            }
            let len = schema.fields.len();
            schema.fields.remove(f % len);
            true
        }
        Perturbation::ToggleOptional(n, f) => {
            let Some(k) = nth_key(&program.schemas, n) else {
                return false;
            };
            let Some(schema) = program.schemas.get_mut(&k) else {
                return false;
            };
            let len = schema.fields.len();
            let Some(field) = schema.fields.get_mut(f % len.max(1)) else {
                return false;
            };
            field.ty = match std::mem::replace(&mut field.ty, Type::Null) {
                Type::Optional { inner } => *inner,
                other => Type::Optional {
                    inner: Box::new(other),
                },
            };
            true
        }
        Perturbation::DropMap(n) => nth_key(&program.maps, n)
            .and_then(|k| program.maps.remove(&k))
            .is_some(),
        Perturbation::WrapExpression(n, f) | Perturbation::DropAssignment(n, f) => {
            let Some(k) = nth_key(&program.maps, n) else {
                return false;
            };
            let Some(map) = program.maps.get_mut(&k) else {
                return false;
            };
            let len = map.fields.len();
            if len == 0 {
                return false;
            }
            if matches!(edit, Perturbation::DropAssignment(..)) {
                map.fields.remove(f % len);
            } else if let Some(a) = map.fields.get_mut(f % len) {
                a.value = Expr::Call {
                    function: "trim".into(),
                    args: vec![a.value.clone()],
                };
            }
            true
        }
        Perturbation::DropFlow(n) => nth_key(&program.flows, n)
            .and_then(|k| program.flows.remove(&k))
            .is_some(),
        Perturbation::DropStep(n, s) | Perturbation::SwapSteps(n, s) => {
            let Some(k) = nth_key(&program.flows, n) else {
                return false;
            };
            let Some(flow) = program.flows.get_mut(&k) else {
                return false;
            };
            let mut steps: Vec<Step> = flow.steps().cloned().collect();
            let len = steps.len();
            if matches!(edit, Perturbation::DropStep(..)) {
                if len == 0 {
                    return false;
                }
                steps.remove(s % len);
            } else {
                if len < 2 {
                    return false;
                }
                let i = s % (len - 1);
                if steps[i] == steps[i + 1] {
                    return false;
                }
                steps.swap(i, i + 1);
            }
            *flow = with_steps(flow, steps);
            true
        }
        Perturbation::ChangeTrigger(n) => {
            let Some(k) = nth_key(&program.flows, n) else {
                return false;
            };
            let Some(flow) = program.flows.get_mut(&k) else {
                return false;
            };
            flow.triggers = vec![ir::Trigger::Cron {
                expression: "0 3 * * *".into(),
            }];
            true
        }
        Perturbation::MoreRetries(n) => {
            let Some(k) = nth_key(&program.flows, n) else {
                return false;
            };
            let Some(flow) = program.flows.get_mut(&k) else {
                return false;
            };
            flow.error_policy.retries += 1;
            true
        }
        Perturbation::DropRollback(n) | Perturbation::RaiseThreshold(n) => {
            let len = program.rollbacks.len();
            if len == 0 {
                return false;
            }
            if matches!(edit, Perturbation::DropRollback(_)) {
                program.rollbacks.remove(n % len);
            } else {
                program.rollbacks[n % len].threshold_percent += 1.0;
            }
            true
        }
        Perturbation::DropBinding(e, b) | Perturbation::RenameSecret(e, b) => {
            let Some(envs) = model.environments.as_mut() else {
                return false;
            };
            let Some(k) = nth_key(envs, e) else {
                return false;
            };
            let Some(env) = envs.get_mut(&k) else {
                return false;
            };
            let Some(c) = nth_key(&env.bindings, b) else {
                return false;
            };
            if matches!(edit, Perturbation::DropBinding(..)) {
                env.bindings.remove(&c);
                return true;
            }
            let Some(binding) = env.bindings.get_mut(&c) else {
                return false;
            };
            let Some(name) = binding.secrets.values_mut().next() else {
                return false;
            };
            name.push_str("_ROTATED");
            true
        }
        Perturbation::MoreApprovals => {
            let Some(promotion) = program.promotion.as_mut() else {
                return false;
            };
            for gates in promotion.gates.values_mut() {
                for gate in gates.iter_mut() {
                    if let ir::Gate::Approvals { count, .. } = gate {
                        *count += 1;
                        return true;
                    }
                }
            }
            false
        }
    }
}

/// Reorders what has no order: enum variants, gates, alerts.
fn shuffle_unordered(program: &mut Program) {
    fn variants(ty: &mut Type) {
        match ty {
            Type::Enum { variants, .. } => variants.reverse(),
            Type::Record { fields } => fields.iter_mut().for_each(|f| variants(&mut f.ty)),
            Type::List { item: inner } | Type::Optional { inner } => variants(inner),
            _ => {}
        }
    }
    for schema in program.schemas.values_mut() {
        schema.fields.iter_mut().for_each(|f| variants(&mut f.ty));
    }
    if let Some(promotion) = program.promotion.as_mut() {
        promotion.gates.values_mut().for_each(|g| g.reverse());
    }
    for rollback in &mut program.rollbacks {
        rollback.alerts.reverse();
    }
}

fn examples() -> Vec<Model> {
    static MODELS: std::sync::OnceLock<Vec<Model>> = std::sync::OnceLock::new();
    MODELS
        .get_or_init(|| EXAMPLES.iter().map(|n| Model::from(example(n))).collect())
        .clone()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// A perturbed example differs from the original; swapping sides mirrors the diff;
    /// each side is unchanged against itself.
    #[test]
    fn perturbations_are_reported_and_mirrored(
        which in 0usize..3,
        edits in proptest::collection::vec(perturbation(), 1..5),
    ) {
        let original = examples().swap_remove(which);
        let mut changed = original.clone();
        let mut any = false;
        for edit in &edits {
            any |= perturb(&mut changed, edit);
        }
        prop_assert!(diff(&changed, &changed).is_empty());
        let forward = diff(&original, &changed);
        if any && changed != original {
            prop_assert!(!forward.is_empty(), "{:?} reported nothing", edits);
            // Any change to the program is a change of its content address.
            if changed.program != original.program {
                prop_assert_ne!(
                    weft_runtime::artifact::program_digest(&original.program),
                    weft_runtime::artifact::program_digest(&changed.program),
                    "{:?} kept the digest", edits
                );
            }
        }
        assert_mirrored(&forward, &diff(&changed, &original));
        let ids: Vec<&str> = forward.changes.iter().map(|c| c.id.as_str()).collect();
        let sorted = { let mut s = ids.clone(); s.sort_by_key(|id| id.split('.').map(|p| p.parse::<u64>().map_or((1, 0, p.to_string()), |n| (0, n, String::new()))).collect::<Vec<_>>()); s };
        prop_assert_eq!(&ids, &sorted);
        for change in &forward.changes {
            for flow in &change.affects {
                let name = flow.strip_prefix("flow.").unwrap_or(flow);
                prop_assert!(original.program.flows.contains_key(name) || changed.program.flows.contains_key(name));
            }
        }
    }

    /// Enum variants, gates and alerts have no order: shuffling them changes nothing.
    #[test]
    fn unordered_parts_do_not_count(which in 0usize..3) {
        let original = examples().swap_remove(which);
        let mut shuffled = original.clone();
        shuffle_unordered(&mut shuffled.program);
        prop_assert!(diff(&original, &shuffled).is_empty());
    }
}
