//! The type checker: schema contracts of maps, flow step chains, environment
//! bindings, tests and delivery policies. It keeps going after every error.

mod call;
mod compat;
mod delivery;
mod environment;
mod expr;
mod flow;
mod map;
mod testing;

use std::collections::BTreeMap;

use petgraph::graphmap::DiGraphMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::Program;
use crate::source::{FileId, Loc, SourceDb, Span};
use crate::syntax::{File, Item};
use crate::types::Type;

pub use compat::{assignable, Mismatch};
pub use expr::path_of;

/// The cycles of a directed graph given as edges `(from, to, where)`: each as text
/// (`a -> b -> a`, starting from its smallest name) with the location of an edge in it.
fn cycles<'n>(edges: impl Iterator<Item = (&'n str, &'n str, Loc)>) -> Vec<(String, Loc)> {
    let mut graph = DiGraphMap::<&str, Loc>::new();
    for (from, to, loc) in edges {
        graph.add_edge(from, to, loc);
    }
    let mut found = Vec::new();
    for component in petgraph::algo::tarjan_scc(&graph) {
        let Some(&first) = component.first() else {
            continue;
        };
        if component.len() == 1 && !graph.contains_edge(first, first) {
            continue;
        }
        let mut names = component.clone();
        names.sort_unstable();
        let start = names[0];
        let Some(loc) = graph
            .edges(start)
            .find(|(_, to, _)| component.contains(to))
            .map(|(_, _, loc)| *loc)
        else {
            continue;
        };
        found.push((format!("{} -> {start}", names.join(" -> ")), loc));
    }
    found
}

/// What the checker learned about well-typed code, for `weft check --show-types`,
/// hover and the typed-output snapshots.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    /// For each map: its signature and the type of every assignment.
    pub maps: Vec<TypedMap>,
    /// For each flow: the record type after every step.
    pub flows: Vec<TypedFlow>,
    /// Source text holding literal credentials, which renderings must mask.
    pub redactions: Vec<Loc>,
    /// Integer literals that stand for Decimals (`price * 2` with a Decimal price).
    pub decimal_literals: std::collections::HashSet<Loc>,
    /// Integer and decimal literals that stand for Floats (`ratio * 0.5` with a Float
    /// ratio).
    pub float_literals: std::collections::HashSet<Loc>,
}

/// The types inside one map.
#[derive(Debug, Clone)]
pub struct TypedMap {
    /// Map name.
    pub name: String,
    /// Source type.
    pub source: Type,
    /// Target type.
    pub target: Type,
    /// `Target.path` and the type of the value assigned to it.
    pub fields: Vec<(String, Type)>,
}

/// The record type flowing through one flow.
#[derive(Debug, Clone)]
pub struct TypedFlow {
    /// Flow name.
    pub name: String,
    /// Each step as written in short, with the record type after it.
    pub steps: Vec<(String, Type)>,
}

/// Checks every declaration of every file.
pub fn check(
    db: &SourceDb,
    files: &[(FileId, File)],
    program: &Program,
    groups: &BTreeMap<String, Vec<String>>,
) -> (Typed, Vec<Diagnostic>) {
    let mut checker = Checker {
        program,
        db,
        groups,
        diagnostics: Vec::new(),
        typed: Typed::default(),
        file: FileId(0),
        current_map: None,
        map_calls: Vec::new(),
        used_connections: Vec::new(),
        flow_triggers: Vec::new(),
        bound: Vec::new(),
        redactions: Vec::new(),
    };
    for (file, tree) in files {
        checker.file = *file;
        for item in &tree.items {
            match item {
                Item::Map(decl) => checker.map(decl),
                Item::Flow(decl) => checker.flow(decl),
                _ => {}
            }
        }
    }
    checker.map_cycles();
    checker.flow_cycles();
    let mut promotions = Vec::new();
    for (file, tree) in files {
        checker.file = *file;
        for item in &tree.items {
            match item {
                Item::Environment(decl) => checker.environment(decl),
                Item::Test(decl) => checker.test(decl),
                Item::Promotion(decl) => promotions.push((*file, decl)),
                Item::Rollback(decl) => checker.rollback(decl),
                _ => {}
            }
        }
    }
    checker.promotions(&promotions);
    checker.unbound_connections();
    checker.duplicate_tests(files);
    let typed = Typed {
        redactions: checker.redactions,
        ..checker.typed
    };
    (typed, checker.diagnostics)
}

/// State of one checking pass.
pub struct Checker<'a> {
    program: &'a Program,
    db: &'a SourceDb,
    groups: &'a BTreeMap<String, Vec<String>>,
    diagnostics: Vec<Diagnostic>,
    typed: Typed,
    /// The file being checked.
    file: FileId,
    /// The map being checked, for the map call graph.
    current_map: Option<String>,
    /// Calls of one map from another: caller, callee, where.
    map_calls: Vec<(String, String, Loc)>,
    /// Connections used by flows: connection, flow, where.
    used_connections: Vec<(String, String, Loc)>,
    /// `after` triggers: the flow triggered, the flow it waits for, where.
    flow_triggers: Vec<(String, String, Loc)>,
    /// Environments checked: name, where the name is, where its closing brace is, connections bound.
    bound: Vec<(String, Loc, Loc, std::collections::HashSet<String>)>,
    /// Source text holding credentials, hidden from every rendering.
    redactions: Vec<Loc>,
}

impl Checker<'_> {
    fn loc(&self, span: Span) -> Loc {
        Loc::new(self.file, span)
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn map_call(&mut self, callee: &str, loc: Loc) {
        if let Some(caller) = &self.current_map {
            self.map_calls
                .push((caller.clone(), callee.to_string(), loc));
        }
    }

    /// Reports maps that call each other in a cycle: they would never finish.
    fn map_cycles(&mut self) {
        let calls = std::mem::take(&mut self.map_calls);
        for (cycle, loc) in cycles(
            calls
                .iter()
                .map(|(caller, callee, loc)| (caller.as_str(), callee.as_str(), *loc)),
        ) {
            self.report(
                Diagnostic::new(
                    Code::RecursiveMap,
                    loc,
                    format!("maps call each other in a cycle: {cycle}"),
                )
                .with_label("this call closes the cycle")
                .with_note("a map must not call itself, directly or through other maps"),
            );
        }
    }

    /// Whether a line of the source in `span` starts with `word` followed by one of
    /// `next`, possibly after spaces (or ends after it). The parser drops lines it cannot read (and reports
    /// them); this tells the checker that such a line was meant to provide something, so
    /// that it does not also report it as missing.
    fn has_line_starting(&self, span: Span, word: &str, next: &[char]) -> bool {
        self.text(span).lines().any(|line| {
            line.trim_start().strip_prefix(word).is_some_and(|rest| {
                rest.trim().is_empty()
                    || rest.starts_with(next)
                    || rest.trim_start().starts_with(next)
            })
        })
    }

    /// Text of the source at a span, for messages.
    fn text(&self, span: Span) -> &str {
        self.db
            .get(self.file)
            .text
            .get(span.start..span.end)
            .unwrap_or("")
    }
}
