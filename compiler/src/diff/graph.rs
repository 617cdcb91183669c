//! The dependency graph of one program version, for `affects`: an edge goes from what
//! is used to what uses it, so the flows a change reaches are those reachable from it.

use std::collections::{BTreeSet, HashMap};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::Bfs;
use weft_runtime::ir::{Program, Step};

use super::expr::{maps_in, schemas_in};
use super::Origin;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Node {
    Schema(String),
    Map(String),
    Flow(String),
    Connection(String),
}

/// Who uses what, in one program.
pub(super) struct Deps {
    graph: DiGraph<Node, ()>,
    index: HashMap<Node, NodeIndex>,
}

impl Deps {
    /// Builds the graph of a program.
    pub(super) fn new(program: &Program) -> Deps {
        let mut deps = Deps {
            graph: DiGraph::new(),
            index: HashMap::new(),
        };
        for (name, schema) in &program.schemas {
            let this = deps.node(Node::Schema(name.clone()));
            let mut used = Vec::new();
            for field in &schema.fields {
                schemas_in(&field.ty, &mut used);
            }
            for other in used {
                let from = deps.node(Node::Schema(other));
                deps.edge(from, this);
            }
        }
        for name in program.connections.keys() {
            deps.node(Node::Connection(name.clone()));
        }
        for (name, map) in &program.maps {
            let this = deps.node(Node::Map(name.clone()));
            let mut schemas = Vec::new();
            schemas_in(&map.source, &mut schemas);
            schemas_in(&map.target, &mut schemas);
            for schema in schemas {
                let from = deps.node(Node::Schema(schema));
                deps.edge(from, this);
            }
            let mut maps = Vec::new();
            for assignment in &map.fields {
                maps_in(&assignment.value, &mut maps);
            }
            for other in maps {
                let from = deps.node(Node::Map(other));
                deps.edge(from, this);
            }
        }
        for (name, flow) in &program.flows {
            let this = deps.node(Node::Flow(name.clone()));
            for step in flow.steps() {
                let mut schemas = Vec::new();
                let mut maps = Vec::new();
                let mut connection = None;
                match step {
                    Step::Read {
                        connection: c,
                        args,
                        record,
                        ..
                    }
                    | Step::Call {
                        connection: c,
                        args,
                        record,
                        ..
                    } => {
                        connection = Some(c);
                        schemas_in(record, &mut schemas);
                        args.iter().for_each(|a| maps_in(a, &mut maps));
                    }
                    Step::Write {
                        connection: c,
                        args,
                        record,
                        ..
                    } => {
                        connection = Some(c);
                        if let Some(record) = record {
                            schemas_in(record, &mut schemas);
                        }
                        args.iter().for_each(|a| maps_in(a, &mut maps));
                    }
                    Step::Where { condition, .. } => maps_in(condition, &mut maps),
                    Step::Map { map } => maps.push(map.clone()),
                }
                for schema in schemas {
                    let from = deps.node(Node::Schema(schema));
                    deps.edge(from, this);
                }
                for map in maps {
                    let from = deps.node(Node::Map(map));
                    deps.edge(from, this);
                }
                if let Some(c) = connection {
                    let from = deps.node(Node::Connection(c.clone()));
                    deps.edge(from, this);
                }
            }
        }
        deps
    }

    fn node(&mut self, node: Node) -> NodeIndex {
        if let Some(&index) = self.index.get(&node) {
            return index;
        }
        let index = self.graph.add_node(node.clone());
        self.index.insert(node, index);
        index
    }

    fn edge(&mut self, from: NodeIndex, to: NodeIndex) {
        if from != to && self.graph.find_edge(from, to).is_none() {
            self.graph.add_edge(from, to, ());
        }
    }

    /// Names of the flows reachable from `origin` (a flow reaches itself).
    pub(super) fn flows_reached(&self, origin: Origin<'_>) -> BTreeSet<String> {
        let node = match origin {
            Origin::Schema(n) => Node::Schema(n.to_string()),
            Origin::Map(n) => Node::Map(n.to_string()),
            Origin::Flow(n) => Node::Flow(n.to_string()),
            Origin::Connection(n) => Node::Connection(n.to_string()),
            Origin::Nothing => return BTreeSet::new(),
        };
        let mut out = BTreeSet::new();
        let Some(&start) = self.index.get(&node) else {
            return out;
        };
        let mut bfs = Bfs::new(&self.graph, start);
        while let Some(index) = bfs.next(&self.graph) {
            if let Some(Node::Flow(name)) = self.graph.node_weight(index) {
                out.insert(name.clone());
            }
        }
        out
    }
}
