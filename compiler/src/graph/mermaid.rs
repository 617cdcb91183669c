//! Mermaid flowchart: one subgraph per flow, `after` links as thick arrows.

use std::fmt::Write as _;

use super::{EdgeKind, NodeKind, View};

pub(super) fn render(view: &View) -> String {
    let mut out = String::from("flowchart TB\n");
    let mut classes: [(NodeKind, Vec<String>); 5] = [
        (NodeKind::Trigger, Vec::new()),
        (NodeKind::Read, Vec::new()),
        (NodeKind::Where, Vec::new()),
        (NodeKind::DeadLetter, Vec::new()),
        (NodeKind::ErrorNote, Vec::new()),
    ];
    let mut error_edges = Vec::new();
    let mut edge_count = 0usize;
    for (f, flow) in view.flows.iter().enumerate() {
        let _ = writeln!(out, "  subgraph f{f}[\"{}\"]", escape(&flow.title()));
        out.push_str("    direction TB\n");
        for (n, node) in flow.nodes.iter().enumerate() {
            let label = node
                .lines()
                .iter()
                .map(|l| escape(l))
                .collect::<Vec<_>>()
                .join("<br/>");
            let (open, close) = match node.kind {
                NodeKind::Trigger => ("([", "])"),
                NodeKind::Read
                | NodeKind::Where
                | NodeKind::Map
                | NodeKind::Call
                | NodeKind::Write => ("(", ")"),
                NodeKind::DeadLetter => ("[(", ")]"),
                NodeKind::ErrorNote => (">", "]"),
            };
            let _ = writeln!(out, "    {}{open}\"{label}\"{close}", id(f, n));
            let class = match node.kind {
                NodeKind::Read | NodeKind::Call | NodeKind::Write => NodeKind::Read,
                NodeKind::Map => NodeKind::Where,
                k => k,
            };
            if let Some((_, ids)) = classes.iter_mut().find(|(k, _)| *k == class) {
                ids.push(id(f, n));
            }
        }
        for edge in &flow.edges {
            let arrow = match edge.kind {
                EdgeKind::Records => "-->",
                EdgeKind::Error => {
                    error_edges.push(edge_count);
                    "-.->|on error|"
                }
            };
            let _ = writeln!(out, "    {} {arrow} {}", id(f, edge.from), id(f, edge.to));
            edge_count += 1;
        }
        out.push_str("  end\n");
    }
    for link in &view.links {
        let _ = writeln!(
            out,
            "  {} ==>|after| {}",
            id(link.from_flow, link.from_node),
            id(link.to_flow, link.to_node)
        );
    }
    out.push_str("  classDef trigger fill:#eef2ff,stroke:#4338ca,color:#0f172a\n");
    out.push_str("  classDef io fill:#ecfdf5,stroke:#047857,color:#0f172a\n");
    out.push_str("  classDef pure fill:#ffffff,stroke:#475569,color:#0f172a\n");
    out.push_str("  classDef deadletter fill:#fef2f2,stroke:#b91c1c,color:#0f172a\n");
    out.push_str(
        "  classDef errornote fill:#fffbeb,stroke:#b45309,stroke-dasharray:4 3,color:#0f172a\n",
    );
    for (kind, ids) in &classes {
        if ids.is_empty() {
            continue;
        }
        let class = match kind {
            NodeKind::Trigger => "trigger",
            NodeKind::Read => "io",
            NodeKind::DeadLetter => "deadletter",
            NodeKind::ErrorNote => "errornote",
            _ => "pure",
        };
        let _ = writeln!(out, "  class {} {class}", ids.join(","));
    }
    if !error_edges.is_empty() {
        let list = error_edges
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let _ = writeln!(out, "  linkStyle {list} stroke:#b91c1c");
    }
    out
}

fn id(flow: usize, node: usize) -> String {
    format!("f{flow}n{node}")
}

/// Text inside a quoted Mermaid label. Mermaid decodes `#name;` entity codes itself,
/// so `#` is escaped too, and `<`, `>`, `&` so the HTML label shows them as typed.
pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
