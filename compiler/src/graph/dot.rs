//! Graphviz DOT: one cluster per flow, `after` links between clusters.

use std::fmt::Write as _;

use super::{EdgeKind, NodeKind, View};

pub(super) fn render(view: &View) -> String {
    let mut out = String::new();
    out.push_str("digraph weft {\n");
    out.push_str(
        "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=14, nodesep=0.4, ranksep=0.45];\n",
    );
    out.push_str("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=\"#475569\", fontname=\"Courier\", fontsize=12];\n");
    out.push_str("  edge [color=\"#475569\", fontname=\"Helvetica\", fontsize=10];\n");
    for (f, flow) in view.flows.iter().enumerate() {
        let _ = writeln!(out, "\n  subgraph \"cluster_{f}\" {{");
        let _ = writeln!(
            out,
            "    label={};\n    labeljust=l;\n    style=rounded;\n    color=\"#cbd5e1\";",
            quote(&flow.title())
        );
        for (n, node) in flow.nodes.iter().enumerate() {
            let label = node
                .lines()
                .iter()
                .map(|l| escape(l))
                .collect::<Vec<_>>()
                .join("\\n");
            let _ = writeln!(
                out,
                "    {} [label=\"{label}\"{}];",
                id(f, n),
                attributes(node.kind)
            );
        }
        for edge in &flow.edges {
            let style = match edge.kind {
                EdgeKind::Records => "",
                EdgeKind::Error => {
                    " [style=dashed, color=\"#b91c1c\", fontcolor=\"#b91c1c\", label=\"on error\"]"
                }
            };
            let _ = writeln!(
                out,
                "    {} -> {}{style};",
                id(f, edge.from),
                id(f, edge.to)
            );
        }
        out.push_str("  }\n");
    }
    if !view.links.is_empty() {
        out.push('\n');
    }
    for link in &view.links {
        let _ = writeln!(
            out,
            "  {} -> {} [color=\"#4338ca\", penwidth=1.6, label=\"after\", fontcolor=\"#4338ca\"];",
            id(link.from_flow, link.from_node),
            id(link.to_flow, link.to_node)
        );
    }
    out.push_str("}\n");
    out
}

fn id(flow: usize, node: usize) -> String {
    format!("f{flow}n{node}")
}

fn attributes(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Trigger => ", shape=oval, fillcolor=\"#eef2ff\", color=\"#4338ca\"",
        NodeKind::Read | NodeKind::Call | NodeKind::Write => {
            ", fillcolor=\"#ecfdf5\", color=\"#047857\""
        }
        NodeKind::Where | NodeKind::Map => "",
        NodeKind::DeadLetter => {
            ", shape=cylinder, style=filled, fillcolor=\"#fef2f2\", color=\"#b91c1c\""
        }
        NodeKind::ErrorNote => {
            ", shape=note, style=\"filled,dashed\", fillcolor=\"#fffbeb\", color=\"#b45309\""
        }
    }
}

/// A DOT quoted string.
fn quote(s: &str) -> String {
    format!("\"{}\"", escape(s))
}

/// The inside of a DOT quoted string. Backslashes are doubled too: in a label, `\n`,
/// `\l`, `\N`, `\G` and friends are escapes of their own.
pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}
