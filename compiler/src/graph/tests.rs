use petgraph::graph::DiGraph;
use weft_runtime::ir::{
    BinaryOp, ErrorPolicy, Expr, FinalAction, Flow, Map, Program, Step, StrPart, Trigger, Type,
    UnaryOp,
};

use super::text;
use super::{EdgeKind, Link, NodeKind, UnknownFlow, View};

fn var(name: &str) -> Expr {
    Expr::Var {
        name: name.to_string(),
    }
}

fn field(base: Expr, name: &str) -> Expr {
    Expr::Field {
        base: Box::new(base),
        name: name.to_string(),
    }
}

fn bin(operator: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    Expr::Binary {
        operator,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
    }
}

fn str_lit(text: &str) -> Expr {
    Expr::Str {
        parts: vec![StrPart::Text {
            text: text.to_string(),
        }],
    }
}

fn schema(name: &str) -> Type {
    Type::Schema {
        name: name.to_string(),
    }
}

fn chain(steps: Vec<Step>) -> DiGraph<Step, ()> {
    let mut graph = DiGraph::new();
    let mut previous = None;
    for step in steps {
        let node = graph.add_node(step);
        if let Some(p) = previous {
            graph.add_edge(p, node, ());
        }
        previous = Some(node);
    }
    graph
}

fn flow(triggers: Vec<Trigger>, steps: Vec<Step>, then: FinalAction) -> Flow {
    Flow {
        doc: None,
        triggers,
        graph: chain(steps),
        error_policy: ErrorPolicy {
            retries: 3,
            backoff_millis: 10_000,
            then,
        },
    }
}

fn read(path: &str, record: &str) -> Step {
    Step::Read {
        connection: "erp".to_string(),
        operation: "get".to_string(),
        args: vec![str_lit(path)],
        record: schema(record),
        many: true,
    }
}

fn write(path: &str, record: Option<&str>) -> Step {
    Step::Write {
        connection: "crm".to_string(),
        operation: "post".to_string(),
        args: vec![str_lit(path)],
        record: record.map(schema),
    }
}

/// Two flows: `order_sync` every 15 minutes, `shipment_sync` after it.
fn program() -> Program {
    let mut program = Program::default();
    program.maps.insert(
        "order_to_deal".to_string(),
        Map {
            doc: None,
            param: "o".to_string(),
            source: schema("Order"),
            target: schema("Deal"),
            fields: Vec::new(),
        },
    );
    program.flows.insert(
        "order_sync".to_string(),
        flow(
            vec![Trigger::Every { millis: 900_000 }],
            vec![
                read("/orders?since={last_run}", "Order"),
                Step::Where {
                    param: "o".to_string(),
                    condition: bin(
                        BinaryOp::Gt,
                        field(var("o"), "total"),
                        Expr::Decimal {
                            value: "0.00".to_string(),
                        },
                    ),
                },
                Step::Map {
                    map: "order_to_deal".to_string(),
                },
                write("/deals", None),
            ],
            FinalAction::DeadLetter,
        ),
    );
    program.flows.insert(
        "shipment_sync".to_string(),
        flow(
            vec![
                Trigger::After {
                    flow: "order_sync".to_string(),
                },
                Trigger::Manual,
            ],
            vec![
                read("/shipments", "Shipment"),
                Step::Call {
                    connection: "tpl".to_string(),
                    operation: "post".to_string(),
                    args: vec![str_lit("/shipments")],
                    record: schema("Confirmation"),
                },
                write("/confirmations", Some("Confirmation")),
            ],
            FinalAction::Skip,
        ),
    );
    program
}

#[test]
fn a_flow_view_shows_each_step_with_the_type_it_hands_on() {
    let view = View::new(&program(), Some("order_sync")).unwrap_or_else(|e| panic!("{e}"));
    let [flow] = view.flows.as_slice() else {
        panic!("one flow expected");
    };
    let shown: Vec<(NodeKind, &str, Option<&str>)> = flow
        .nodes
        .iter()
        .map(|n| (n.kind, n.text.as_str(), n.detail.as_deref()))
        .collect();
    assert_eq!(
        shown,
        vec![
            (NodeKind::Trigger, "every 15m", None),
            (
                NodeKind::Read,
                "read erp.get(\"/orders?since={last_run}\")",
                Some("[Order]")
            ),
            (NodeKind::Where, "where o => o.total > 0.00", Some("Order")),
            (NodeKind::Map, "map order_to_deal", Some("Deal")),
            (NodeKind::Write, "write crm.post(\"/deals\")", Some("Deal")),
            (
                NodeKind::DeadLetter,
                "dead letter",
                Some("retry 3 backoff 10s")
            ),
        ]
    );
    let edges: Vec<(usize, usize, EdgeKind)> =
        flow.edges.iter().map(|e| (e.from, e.to, e.kind)).collect();
    assert_eq!(
        edges,
        vec![
            (0, 1, EdgeKind::Records),
            (1, 2, EdgeKind::Records),
            (2, 3, EdgeKind::Records),
            (3, 4, EdgeKind::Records),
            (4, 5, EdgeKind::Error),
        ]
    );
    assert_eq!(flow.exit, Some(4));
    assert!(view.links.is_empty(), "a single flow shows no links");
}

#[test]
fn the_program_view_links_after_triggers_to_the_end_of_their_flow() {
    let view = View::new(&program(), None).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = view.flows.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["order_sync", "shipment_sync"]);
    assert_eq!(
        view.links,
        vec![Link {
            from_flow: 0,
            from_node: 4,
            to_flow: 1,
            to_node: 0,
        }]
    );
    let shipment = &view.flows[1];
    let triggers: Vec<&str> = shipment
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Trigger)
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(triggers, ["after order_sync", "manual"]);
    // Both triggers start the first step.
    assert!(shipment.edges.iter().any(|e| (e.from, e.to) == (0, 2)));
    assert!(shipment.edges.iter().any(|e| (e.from, e.to) == (1, 2)));
    let last = shipment.nodes.last().map(|n| (n.kind, n.text.as_str()));
    assert_eq!(last, Some((NodeKind::ErrorNote, "skip record")));
}

#[test]
fn an_unknown_flow_suggests_the_closest_name() {
    let error = View::new(&program(), Some("order_snyc")).err();
    assert_eq!(
        error,
        Some(UnknownFlow {
            name: "order_snyc".to_string(),
            suggestion: Some("order_sync".to_string()),
            available: vec!["order_sync".to_string(), "shipment_sync".to_string()],
        })
    );
    let far = View::new(&program(), Some("payroll")).err();
    assert_eq!(far.and_then(|e| e.suggestion), None);
}

#[test]
fn durations_use_the_largest_exact_unit() {
    let cases = [
        (500, "500ms"),
        (1_500, "1500ms"),
        (30_000, "30s"),
        (90_000, "90s"),
        (900_000, "15m"),
        (7_200_000, "2h"),
        (86_400_000, "1d"),
        (0, "0ms"),
    ];
    for (millis, expected) in cases {
        assert_eq!(text::duration(millis), expected);
    }
}

#[test]
fn long_labels_wrap_after_separators() {
    let lines = text::wrap(
        "read erp.get(\"/customers?changed_since={last_run}&limit=500\")",
        52,
    );
    assert_eq!(
        lines,
        [
            "read erp.get(\"/customers?changed_since={last_run}&",
            "limit=500\")"
        ]
    );
    assert_eq!(text::wrap("short", 52), ["short"]);
    // A few characters over the width stay on the line rather than make a stub.
    let near = "where i => i.`display \"name\"` != \"<&>\\\"\" and i.id > 0";
    assert_eq!(text::wrap(near, 52), [near]);
    assert_eq!(text::wrap("", 52), [""]);
    assert_eq!(text::wrap("abcdefgh", 3), ["abc", "def", "gh"]);
    assert!(text::wrap("a b c d e f", 1).iter().all(|l| !l.is_empty()));
}

/// A flow whose labels hold every character the three formats must escape.
fn hostile() -> Program {
    let mut program = Program::default();
    program.flows.insert(
        "say \"<&>\"".to_string(),
        flow(
            vec![Trigger::Webhook {
                path: "/a\"b<c>&d#quot;`x`\\n".to_string(),
            }],
            vec![write("/x?a=1&b=\"2\"<3>", Some("A<B>"))],
            FinalAction::Fail,
        ),
    );
    program
}

#[test]
fn dot_escapes_quotes_and_backslashes() {
    let dot = super::dot(&hostile(), None).unwrap_or_else(|e| panic!("{e}"));
    assert!(dot.contains(r#"label="flow `say \"<&>\"`""#), "{dot}");
    assert!(dot.contains(r#"webhook /a\"b<c>&d#quot;`x`\\n"#), "{dot}");
    // Every quote inside a label is escaped: quotes pair up on each line.
    for line in dot.lines() {
        let unescaped = line.replace("\\\\", "").replace("\\\"", "");
        assert_eq!(unescaped.matches('"').count() % 2, 0, "{line}");
    }
}

#[test]
fn mermaid_labels_use_entity_codes() {
    let mermaid = super::mermaid(&hostile(), None).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        mermaid.contains("webhook /a#quot;b#lt;c#gt;#amp;d#35;quot;#96;x#96;\\n"),
        "{mermaid}"
    );
    for line in mermaid.lines() {
        let inner = line.split_once("\"").map(|(_, rest)| rest).unwrap_or("");
        let inner = inner
            .rsplit_once("\"")
            .map(|(label, _)| label)
            .unwrap_or("");
        assert!(!inner.contains('"'), "{line}");
        assert!(!inner.replace("<br/>", "").contains('<'), "{line}");
    }
}

#[test]
fn svg_escapes_markup() {
    let svg = super::svg(&hostile(), None).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        svg.contains("webhook /a&quot;b&lt;c&gt;&amp;d#quot;`x`\\n"),
        "{svg}"
    );
    assert!(
        svg.contains("[A&lt;B&gt;]") || svg.contains("A&lt;B&gt;"),
        "{svg}"
    );
    assert!(!svg.contains("<c>"));
    assert_eq!(crate::xml::escape("a\u{1}b'"), "a\u{FFFD}b&apos;");
}

#[test]
fn output_does_not_depend_on_declaration_order() {
    let forward = program();
    let mut backward = Program::default();
    for (name, flow) in forward.flows.iter().rev() {
        backward.flows.insert(name.clone(), flow.clone());
    }
    backward.maps = forward.maps.clone();
    for render in [super::dot, super::mermaid, super::svg] {
        assert_eq!(render(&forward, None), render(&backward, None));
    }
}

#[test]
fn a_where_condition_reads_as_written() {
    let mut program = program();
    let condition = Expr::Unary {
        operator: UnaryOp::Not,
        operand: Box::new(bin(
            BinaryOp::And,
            field(var("o"), "a"),
            bin(
                BinaryOp::Default,
                field(var("o"), "b"),
                Expr::Bool { value: false },
            ),
        )),
    };
    program.flows.insert(
        "filter".to_string(),
        flow(
            vec![Trigger::Manual],
            vec![
                read("/orders", "Order"),
                Step::Where {
                    param: "o".to_string(),
                    condition,
                },
            ],
            FinalAction::Fail,
        ),
    );
    let view = View::new(&program, Some("filter")).unwrap_or_else(|e| panic!("{e}"));
    let texts: Vec<&str> = view.flows[0]
        .nodes
        .iter()
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "manual",
            "read erp.get(\"/orders\")",
            "where o => not (o.a and (o.b ?? false))",
            "fail run"
        ]
    );
}
