//! Unit tests on hand-built IR: equality up to renaming, step matching, ordering and
//! rendering details that the fixture scenarios do not reach.

use std::collections::BTreeMap;

use petgraph::graph::DiGraph;
use weft_runtime::ir::{
    BinaryOp, ErrorPolicy, Expr, Flow, Gate, Map, Program, Step, StrPart, Trigger, Type,
};

use super::expr::{compare, Sameness};
use super::*;

fn var(name: &str) -> Expr {
    Expr::Var { name: name.into() }
}

fn field(base: Expr, name: &str) -> Expr {
    Expr::Field {
        base: Box::new(base),
        name: name.into(),
    }
}

fn lambda(param: &str, body: Expr) -> Expr {
    Expr::Lambda {
        param: param.into(),
        body: Box::new(body),
    }
}

fn call(function: &str, args: Vec<Expr>) -> Expr {
    Expr::Call {
        function: function.into(),
        args,
    }
}

fn text(s: &str) -> Expr {
    Expr::Str {
        parts: vec![StrPart::Text { text: s.into() }],
    }
}

fn same(a: &Expr, b: &Expr, bound: &[(&str, &str)]) -> Sameness {
    let mut bound: Vec<(String, String)> = bound
        .iter()
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect();
    compare(a, b, &mut bound)
}

#[test]
fn renaming_parameters_is_not_a_change_of_value() {
    let old = call(
        "map",
        vec![
            field(var("c"), "lines"),
            lambda("l", field(var("l"), "qty")),
        ],
    );
    let new = call(
        "map",
        vec![
            field(var("o"), "lines"),
            lambda("x", field(var("x"), "qty")),
        ],
    );
    assert_eq!(same(&old, &new, &[("c", "o")]), Sameness::Renamed);
    assert_eq!(same(&old, &new, &[]), Sameness::Different);
    let same_lambda = call(
        "map",
        vec![
            field(var("o"), "lines"),
            lambda("l", field(var("l"), "qty")),
        ],
    );
    assert_eq!(same(&old, &same_lambda, &[("c", "o")]), Sameness::Same);
}

#[test]
fn shadowing_is_respected() {
    // c => c.x (inner c shadows the parameter) against c => o.x: different.
    let old = lambda("c", field(var("c"), "x"));
    let new = lambda("c", field(var("o"), "x"));
    assert_eq!(same(&old, &new, &[("c", "o")]), Sameness::Different);
    // A free variable on one side bound on the other.
    let captured = lambda("y", var("c"));
    let own = lambda("c", var("c"));
    assert_eq!(same(&captured, &own, &[("c", "c")]), Sameness::Different);
}

fn flow(steps: Vec<Step>) -> Flow {
    let mut graph = DiGraph::new();
    let mut previous = None;
    for step in steps {
        let node = graph.add_node(step);
        if let Some(p) = previous {
            graph.add_edge(p, node, ());
        }
        previous = Some(node);
    }
    Flow {
        doc: None,
        triggers: vec![Trigger::Manual],
        graph,
        error_policy: ErrorPolicy::default(),
    }
}

fn read(path: &str) -> Step {
    Step::Read {
        connection: "erp".into(),
        operation: "get".into(),
        args: vec![text(path)],
        record: Type::Schema { name: "T".into() },
        many: true,
    }
}

fn filter(param: &str, field_name: &str) -> Step {
    Step::Where {
        param: param.into(),
        condition: Expr::Binary {
            operator: BinaryOp::Gt,
            lhs: Box::new(field(var(param), field_name)),
            rhs: Box::new(Expr::Int { value: 0 }),
        },
    }
}

fn map_step(name: &str) -> Step {
    Step::Map { map: name.into() }
}

fn program_with(flows: Vec<(&str, Flow)>) -> Program {
    Program {
        flows: flows.into_iter().map(|(n, f)| (n.to_string(), f)).collect(),
        ..Program::default()
    }
}

fn model(program: Program) -> Model {
    Model {
        program,
        environments: None,
    }
}

fn changes(old: Program, new: Program) -> Vec<(String, Action, Class)> {
    diff(&model(old), &model(new))
        .changes
        .into_iter()
        .map(|c| (c.id, c.action, c.class))
        .collect()
}

#[test]
fn steps_are_matched_by_content() {
    let old = program_with(vec![(
        "f",
        flow(vec![
            read("/a"),
            filter("c", "x"),
            map_step("m"),
            map_step("n"),
        ]),
    )]);
    // The filter changes in place, `m` is removed, a map `k` is added after `n`.
    let new = program_with(vec![(
        "f",
        flow(vec![
            read("/a"),
            filter("c", "y"),
            map_step("n"),
            map_step("k"),
        ]),
    )]);
    assert_eq!(
        changes(old, new),
        [
            (
                "flow.f.step.1".to_string(),
                Action::Modified,
                Class::Behaviour
            ),
            (
                "flow.f.step.2".to_string(),
                Action::Removed,
                Class::Behaviour
            ),
            ("flow.f.step.3".to_string(), Action::Added, Class::Behaviour),
        ]
    );
}

#[test]
fn a_renamed_where_parameter_is_cosmetic_and_does_not_break_matching() {
    let old = program_with(vec![("f", flow(vec![read("/a"), filter("c", "x")]))]);
    let new = program_with(vec![("f", flow(vec![read("/a"), filter("row", "x")]))]);
    assert_eq!(
        changes(old, new),
        [(
            "flow.f.step.1".to_string(),
            Action::Modified,
            Class::Cosmetic
        )]
    );
}

#[test]
fn a_moved_step_is_reordered_not_removed_and_added() {
    let old = program_with(vec![(
        "f",
        flow(vec![
            read("/a"),
            filter("c", "x"),
            filter("c", "y"),
            map_step("m"),
        ]),
    )]);
    let new = program_with(vec![(
        "f",
        flow(vec![
            read("/a"),
            map_step("m"),
            filter("c", "x"),
            filter("c", "y"),
        ]),
    )]);
    let found = changes(old, new);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, Action::Reordered);
}

#[test]
fn ids_sort_numbers_by_value() {
    let mut ids = vec![
        "flow.f.step.10",
        "flow.f.step.2",
        "flow.f",
        "flow.f.doc",
        "flow.e",
    ];
    ids.sort_by_key(|id| id_key(id));
    assert_eq!(
        ids,
        [
            "flow.e",
            "flow.f",
            "flow.f.doc",
            "flow.f.step.2",
            "flow.f.step.10"
        ]
    );
}

#[test]
fn gates_are_weakened_by_fewer_approvals_and_dropped_gates_only() {
    let approvals = |count| Gate::Approvals {
        count,
        group: "leads".into(),
    };
    let old = vec![Gate::Tests, approvals(2)];
    assert!(!deploy_weakened(&old, &[Gate::Tests, approvals(3)]));
    assert!(!deploy_weakened(
        &old,
        &[approvals(2), Gate::Tests, Gate::NoSelfApproval]
    ));
    assert!(deploy_weakened(&old, &[Gate::Tests, approvals(1)]));
    assert!(deploy_weakened(&old, &[approvals(2)]));
    assert!(deploy_weakened(
        &old,
        &[
            Gate::Tests,
            Gate::Approvals {
                count: 2,
                group: "others".into()
            }
        ]
    ));
}

fn deploy_weakened(old: &[Gate], new: &[Gate]) -> bool {
    let promotion = |gates: &[Gate]| Program {
        promotion: Some(weft_runtime::ir::Promotion {
            chain: vec!["prod".into()],
            gates: BTreeMap::from([("prod".to_string(), gates.to_vec())]),
        }),
        ..Program::default()
    };
    let found = changes(promotion(old), promotion(new));
    found
        .iter()
        .any(|(id, _, class)| id == "promotion.gate.prod" && *class == Class::Breaking)
}

fn a_map(param: &str, value: Expr) -> Map {
    Map {
        doc: None,
        param: param.into(),
        source: Type::Schema { name: "A".into() },
        target: Type::Schema { name: "B".into() },
        fields: vec![weft_runtime::ir::Assignment {
            target: vec!["x".into()],
            value,
        }],
    }
}

#[test]
fn long_values_stay_out_of_the_summary_and_markdown_escapes_them() {
    let long = text(&"a|b`c".repeat(20));
    let old = Program {
        maps: BTreeMap::from([("m".to_string(), a_map("c", text("short")))]),
        ..Program::default()
    };
    let new = Program {
        maps: BTreeMap::from([("m".to_string(), a_map("c", long))]),
        ..Program::default()
    };
    let d = diff(&model(old), &model(new));
    assert_eq!(d.changes.len(), 1);
    assert_eq!(d.changes[0].summary, "mapping B.x changed");
    let text = render_text(&d);
    assert!(text.contains("      before: \"short\"\n"), "{text}");
    assert!(text.contains("environments not compared"), "{text}");
    let markdown = render_markdown(&d);
    // Pipes are escaped; the code span fence is longer than any run of backticks.
    assert!(markdown.contains("``\"a\\|b`c"), "{markdown}");
    assert!(!markdown.contains("a|b"), "{markdown}");
}

#[test]
fn a_changed_map_reaches_flows_through_maps_that_apply_it() {
    let apply = Expr::Apply {
        map: "inner".into(),
        arg: Box::new(var("c")),
    };
    let base = |inner_value: &str| Program {
        maps: BTreeMap::from([
            ("inner".to_string(), a_map("c", text(inner_value))),
            ("outer".to_string(), a_map("c", apply.clone())),
        ]),
        flows: BTreeMap::from([
            (
                "uses_outer".to_string(),
                flow(vec![read("/a"), map_step("outer")]),
            ),
            ("unrelated".to_string(), flow(vec![read("/b")])),
        ]),
        ..Program::default()
    };
    let d = diff(&model(base("x")), &model(base("y")));
    assert_eq!(d.changes.len(), 1);
    assert_eq!(d.changes[0].affects, ["flow.uses_outer"]);
}

#[test]
fn a_flow_sees_its_own_changes_what_it_uses_and_promotion() {
    let change = |id: &str, affects: &[&str]| Change {
        id: id.to_string(),
        action: Action::Modified,
        class: Class::Behaviour,
        summary: String::new(),
        before: None,
        after: None,
        affects: affects.iter().map(|a| a.to_string()).collect(),
    };
    let all = Diff {
        format: FORMAT_VERSION,
        environments_compared: true,
        changes: vec![
            change("flow.a.trigger", &["flow.a"]),
            change("flow.b.trigger", &["flow.b"]),
            change("map.shared.field.x", &["flow.a", "flow.b"]),
            change("promotion.gate.prod", &[]),
            change("schema.Unused", &[]),
        ],
    };
    let ids = |diff: Diff| -> Vec<String> { diff.changes.into_iter().map(|c| c.id).collect() };
    assert_eq!(
        ids(all.for_flow("a")),
        [
            "flow.a.trigger",
            "map.shared.field.x",
            "promotion.gate.prod"
        ]
    );
    assert_eq!(ids(all.for_flow("c")), ["promotion.gate.prod"]);
    assert!(all.for_flow("a").environments_compared);
}
