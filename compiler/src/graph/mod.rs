//! Pictures of flows: one flow's chain, or every flow with the `after` links between
//! them, as Graphviz DOT, Mermaid or a standalone SVG.
//!
//! The IR is first turned into a [`View`] (plain data: nodes with their labels, edges,
//! links), and each format renders that view, so the three formats always show the same
//! graph. Output is deterministic: flows in name order, nodes in step order.

mod dot;
mod mermaid;
mod svg;
mod text;

#[cfg(test)]
mod tests;

use petgraph::visit::EdgeRef;
use weft_runtime::ir::{FinalAction, Flow, Program, Step, Trigger};

use crate::diagnostic::suggest;

/// Characters per label line before it wraps.
const WRAP: usize = 52;

/// The flow name asked for is not in the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFlow {
    /// The name asked for.
    pub name: String,
    /// The closest flow name, when one is close enough to be a likely typo.
    pub suggestion: Option<String>,
    /// Every flow name, sorted.
    pub available: Vec<String>,
}

impl std::fmt::Display for UnknownFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no flow named `{}`", self.name)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean `{s}`?")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownFlow {}

/// The graph of one flow (`Some(name)`) or of the whole program, in Graphviz DOT.
pub fn dot(program: &Program, flow: Option<&str>) -> Result<String, UnknownFlow> {
    Ok(dot::render(&View::new(program, flow)?))
}

/// The graph of one flow or of the whole program, as a Mermaid flowchart.
pub fn mermaid(program: &Program, flow: Option<&str>) -> Result<String, UnknownFlow> {
    Ok(mermaid::render(&View::new(program, flow)?))
}

/// The graph of one flow or of the whole program, as a standalone SVG document laid
/// out top to bottom, one column per flow.
pub fn svg(program: &Program, flow: Option<&str>) -> Result<String, UnknownFlow> {
    Ok(svg::render(&View::new(program, flow)?))
}

/// What a picture shows, before any format: flows as groups of nodes, and the `after`
/// links between flows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The flows shown, in name order (one when a flow was asked for).
    pub flows: Vec<FlowView>,
    /// `after` triggers whose flow is shown too, sorted.
    pub links: Vec<Link>,
}

/// One flow: its triggers, its steps, and where failed records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowView {
    /// The flow's name.
    pub name: String,
    /// Triggers first (declaration order), then steps (step order), then the error node.
    pub nodes: Vec<Node>,
    /// Edges between `nodes`, sorted.
    pub edges: Vec<Edge>,
    /// The step whose output ends the flow: where `after` links start.
    pub exit: Option<usize>,
}

impl FlowView {
    /// `flow name`, as the flow is declared.
    pub fn title(&self) -> String {
        format!("flow {}", text::name(&self.name))
    }
}

/// A box in the picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// What it is, for its shape and colour.
    pub kind: NodeKind,
    /// The trigger or step as written in Weft, or where a failed record goes.
    pub text: String,
    /// Second line: the record type a step hands on, or the retry policy of the error node.
    pub detail: Option<String>,
}

impl Node {
    /// The label's lines: `text` wrapped, then `detail`.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = text::wrap(&self.text, WRAP);
        if let Some(detail) = &self.detail {
            lines.extend(text::wrap(detail, WRAP));
        }
        lines
    }

    /// How many of [`Node::lines`] belong to `text`.
    pub fn text_lines(&self) -> usize {
        text::wrap(&self.text, WRAP).len()
    }
}

/// Kinds of node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    /// A trigger.
    Trigger,
    /// `read`.
    Read,
    /// `where`.
    Where,
    /// `map`.
    Map,
    /// `call`.
    Call,
    /// `write`.
    Write,
    /// The dead-letter store of a flow ending `then dead_letter`.
    DeadLetter,
    /// A note for `then skip` and `then fail`.
    ErrorNote,
}

/// An edge inside a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    /// Index in [`FlowView::nodes`].
    pub from: usize,
    /// Index in [`FlowView::nodes`].
    pub to: usize,
    /// Records, or failures.
    pub kind: EdgeKind,
}

/// Kinds of edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    /// Records handed to the next step.
    Records,
    /// Records that failed, to the error node.
    Error,
}

/// `trigger after X`: the end of flow X starts another flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Link {
    /// Index of X in [`View::flows`].
    pub from_flow: usize,
    /// X's exit node.
    pub from_node: usize,
    /// Index of the flow it starts.
    pub to_flow: usize,
    /// Its `after X` trigger node.
    pub to_node: usize,
}

impl View {
    /// The view of one flow, or of every flow when `flow` is `None`.
    pub fn new(program: &Program, flow: Option<&str>) -> Result<View, UnknownFlow> {
        let selected: Vec<(&String, &Flow)> = match flow {
            Some(name) => match program.flows.get_key_value(name) {
                Some(pair) => vec![pair],
                None => {
                    return Err(UnknownFlow {
                        name: name.to_string(),
                        suggestion: suggest(name, program.flows.keys().map(String::as_str))
                            .map(str::to_string),
                        available: program.flows.keys().cloned().collect(),
                    })
                }
            },
            None => program.flows.iter().collect(),
        };
        let flows: Vec<FlowView> = selected
            .iter()
            .map(|(name, flow)| flow_view(program, name, flow))
            .collect();
        let mut links = Vec::new();
        for (to_flow, (_, flow)) in selected.iter().enumerate() {
            for (to_node, trigger) in flow.triggers.iter().enumerate() {
                let Trigger::After { flow: source } = trigger else {
                    continue;
                };
                let Some(from_flow) = selected.iter().position(|(n, _)| *n == source) else {
                    continue;
                };
                if let Some(from_node) = flows.get(from_flow).and_then(|f| f.exit) {
                    links.push(Link {
                        from_flow,
                        from_node,
                        to_flow,
                        to_node,
                    });
                }
            }
        }
        links.sort();
        links.dedup();
        Ok(View { flows, links })
    }
}

fn flow_view(program: &Program, name: &str, flow: &Flow) -> FlowView {
    let mut nodes: Vec<Node> = flow
        .triggers
        .iter()
        .map(|t| Node {
            kind: NodeKind::Trigger,
            text: text::trigger(t),
            detail: None,
        })
        .collect();
    let first_step = nodes.len();
    let graph = &flow.graph;
    let count = graph.node_count();

    // The record type reaching each step: the first predecessor's output. Steps are
    // stored in step order, so predecessors come first.
    let mut outgoing: Vec<Option<weft_runtime::ir::Type>> = vec![None; count];
    let mut incoming: Vec<Option<usize>> = vec![None; count];
    for edge in graph.edge_references() {
        let (s, t) = (edge.source().index(), edge.target().index());
        if let Some(slot) = incoming.get_mut(t) {
            if slot.is_none_or(|p| s < p) {
                *slot = Some(s);
            }
        }
    }
    for (i, step) in graph.node_weights().enumerate() {
        let input = incoming
            .get(i)
            .copied()
            .flatten()
            .and_then(|p| outgoing.get(p).cloned().flatten());
        let (text, shown, record) = step_text(program, step, input);
        nodes.push(Node {
            kind: step_kind(step),
            text,
            detail: shown.as_ref().map(ToString::to_string),
        });
        if let Some(slot) = outgoing.get_mut(i) {
            *slot = record;
        }
    }

    let mut edges: Vec<Edge> = graph
        .edge_references()
        .map(|e| Edge {
            from: first_step + e.source().index(),
            to: first_step + e.target().index(),
            kind: EdgeKind::Records,
        })
        .collect();
    let has_incoming = |i: usize| graph.edge_references().any(|e| e.target().index() == i);
    let has_outgoing = |i: usize| graph.edge_references().any(|e| e.source().index() == i);
    for t in 0..first_step {
        for s in (0..count).filter(|&s| !has_incoming(s)) {
            edges.push(Edge {
                from: t,
                to: first_step + s,
                kind: EdgeKind::Records,
            });
        }
    }
    let exits: Vec<usize> = (0..count)
        .filter(|&s| !has_outgoing(s))
        .map(|s| first_step + s)
        .collect();
    let exit = exits.last().copied();

    let policy = &flow.error_policy;
    let error = nodes.len();
    nodes.push(Node {
        kind: match policy.then {
            FinalAction::DeadLetter => NodeKind::DeadLetter,
            FinalAction::Skip | FinalAction::Fail => NodeKind::ErrorNote,
        },
        text: text::final_action(policy.then).to_string(),
        detail: Some(text::retries(policy)),
    });
    for from in exits {
        edges.push(Edge {
            from,
            to: error,
            kind: EdgeKind::Error,
        });
    }
    edges.sort();
    edges.dedup();
    FlowView {
        name: text::printable(name),
        nodes,
        edges,
        exit,
    }
}

fn step_kind(step: &Step) -> NodeKind {
    match step {
        Step::Read { .. } => NodeKind::Read,
        Step::Where { .. } => NodeKind::Where,
        Step::Map { .. } => NodeKind::Map,
        Step::Call { .. } => NodeKind::Call,
        Step::Write { .. } => NodeKind::Write,
    }
}

/// A step as written, the type shown under it, and the type of each record it hands on
/// (they differ for `read ... as [T]`, which shows `[T]` and hands on `T`s).
fn step_text(
    program: &Program,
    step: &Step,
    input: Option<weft_runtime::ir::Type>,
) -> (
    String,
    Option<weft_runtime::ir::Type>,
    Option<weft_runtime::ir::Type>,
) {
    use weft_runtime::ir::Type;
    match step {
        Step::Read {
            connection,
            operation,
            args,
            record,
            many,
        } => {
            let shown = if *many {
                Type::List {
                    item: Box::new(record.clone()),
                }
            } else {
                record.clone()
            };
            (
                format!("read {}", text::op_call(connection, operation, args)),
                Some(shown),
                Some(record.clone()),
            )
        }
        Step::Where { param, condition } => (
            format!("where {} => {condition}", text::name(param)),
            input.clone(),
            input,
        ),
        Step::Map { map } => {
            let target = program.maps.get(map).map(|m| m.target.clone());
            (format!("map {}", text::name(map)), target.clone(), target)
        }
        Step::Call {
            connection,
            operation,
            args,
            record,
        } => (
            format!("call {}", text::op_call(connection, operation, args)),
            Some(record.clone()),
            Some(record.clone()),
        ),
        Step::Write {
            connection,
            operation,
            args,
            record,
        } => {
            let delivered = record.clone().or(input);
            (
                format!("write {}", text::op_call(connection, operation, args)),
                delivered.clone(),
                delivered,
            )
        }
    }
}
