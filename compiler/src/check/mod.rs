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

use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use petgraph::graphmap::DiGraphMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::Program;
use crate::source::{FileId, Loc, SourceDb, Span};
use crate::syntax::{File, Item, PromotionDecl};
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
    pub maps: Vec<Rc<TypedMap>>,
    /// For each flow: the record type after every step.
    pub flows: Vec<Rc<TypedFlow>>,
    /// Source text holding literal credentials, which renderings must mask.
    pub redactions: Vec<Loc>,
    /// Integer literals that stand for Decimals (`price * 2` with a Decimal price).
    pub decimal_literals: std::collections::HashSet<Loc>,
    /// The type of every lambda and `where` parameter (whose type the source never
    /// writes), by the parameter's location.
    pub parameters: std::collections::HashMap<Loc, Type>,
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
    /// The steps that carry records, in order.
    pub steps: Vec<TypedStep>,
}

/// One step of a flow and the record type after it.
#[derive(Debug, Clone)]
pub struct TypedStep {
    /// The step as written in short: `map customer_to_account`, `read erp.get`.
    pub text: String,
    /// The record type the step hands on.
    pub record: Type,
    /// The whole step.
    pub loc: Loc,
}

/// Checks every declaration of every file.
pub fn check(
    db: &SourceDb,
    files: &[(FileId, File)],
    program: &Program,
    groups: &BTreeMap<String, Vec<String>>,
) -> (Typed, Vec<Diagnostic>) {
    let found: Vec<Findings> = files
        .iter()
        .flat_map(|(file, tree)| {
            tree.items
                .iter()
                .map(|item| check_item(db, program, groups, *file, item))
        })
        .collect();
    finish(db, files, program, groups, found.iter())
}

/// A use of one name by another, and where: a map calling a map (caller, callee), a
/// flow triggered after another (flow, the one it waits for), a connection used by a
/// flow (connection, flow).
pub(crate) type Link = (String, String, Loc);

/// An environment checked: its name, where the name is, where its closing brace is,
/// and the connections it binds.
pub(crate) type Bound = (String, Loc, Loc, HashSet<String>);

/// What checking one declaration found: its problems and types, and the facts the
/// checks of the whole project (cycles, unbound connections) are made from. A
/// declaration's findings depend only on it and the resolved program, so an editor
/// keeps those of the declarations an edit did not touch.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) map: Option<Rc<TypedMap>>,
    pub(crate) flow: Option<Rc<TypedFlow>>,
    pub(crate) map_calls: Vec<Link>,
    pub(crate) flow_triggers: Vec<Link>,
    pub(crate) used_connections: Vec<Link>,
    pub(crate) bound: Vec<Bound>,
    pub(crate) redactions: Vec<Loc>,
    pub(crate) decimal_literals: Vec<Loc>,
    pub(crate) float_literals: Vec<Loc>,
    pub(crate) parameters: Vec<(Loc, Type)>,
    /// The files all these point into, so that an edit of another file leaves them be.
    pub(crate) files: Vec<FileId>,
}

/// Checks one declaration of `file` against the resolved program. Promotion blocks are
/// checked with the whole project, by [`finish`].
pub fn check_item(
    db: &SourceDb,
    program: &Program,
    groups: &BTreeMap<String, Vec<String>>,
    file: FileId,
    item: &Item,
) -> Findings {
    let mut checker = Checker::new(db, program, groups);
    checker.file = file;
    match item {
        Item::Map(decl) => checker.map(decl),
        Item::Flow(decl) => checker.flow(decl),
        Item::Environment(decl) => checker.environment(decl),
        Item::Test(decl) => checker.test(decl),
        Item::Rollback(decl) => checker.rollback(decl),
        Item::Schema(_)
        | Item::Enum(_)
        | Item::Connection(_)
        | Item::Promotion(_)
        | Item::Error(_) => {}
    }
    checker.found.files = crate::relocate::files_of(&checker.found);
    checker.found
}

/// The checks of the whole project, from the findings of every declaration in file
/// order: calls between maps and `after` triggers in cycles, the promotion block,
/// connections a flow uses but an environment does not bind, tests with one name.
/// Returns the types of the project and all diagnostics.
pub fn finish<'f>(
    db: &SourceDb,
    files: &[(FileId, File)],
    program: &Program,
    groups: &BTreeMap<String, Vec<String>>,
    found: impl Iterator<Item = &'f Findings> + Clone,
) -> (Typed, Vec<Diagnostic>) {
    let mut checker = Checker::new(db, program, groups);
    let links = |pick: fn(&'f Findings) -> &'f Vec<Link>| -> Vec<&'f Link> {
        found.clone().flat_map(pick).collect()
    };
    checker.map_cycles(&links(|f| &f.map_calls));
    checker.flow_cycles(&links(|f| &f.flow_triggers));
    let promotions: Vec<(FileId, &PromotionDecl)> = files
        .iter()
        .flat_map(|(file, tree)| {
            tree.items.iter().filter_map(move |item| match item {
                Item::Promotion(decl) => Some((*file, decl)),
                _ => None,
            })
        })
        .collect();
    checker.promotions(&promotions);
    let bound: Vec<&Bound> = found.clone().flat_map(|f| &f.bound).collect();
    checker.unbound_connections(&links(|f| &f.used_connections), &bound);
    checker.duplicate_tests(files);
    let mut typed = Typed::default();
    let mut diagnostics = Vec::new();
    for f in found {
        diagnostics.extend(f.diagnostics.iter().cloned());
        typed.maps.extend(f.map.clone());
        typed.flows.extend(f.flow.clone());
        typed.redactions.extend(f.redactions.iter().copied());
        typed
            .decimal_literals
            .extend(f.decimal_literals.iter().copied());
        typed
            .float_literals
            .extend(f.float_literals.iter().copied());
        typed.parameters.extend(f.parameters.iter().cloned());
    }
    typed.redactions.extend(checker.found.redactions);
    diagnostics.extend(checker.found.diagnostics);
    (typed, diagnostics)
}

/// State of one checking pass.
pub struct Checker<'a> {
    program: &'a Program,
    db: &'a SourceDb,
    groups: &'a BTreeMap<String, Vec<String>>,
    /// The file being checked.
    file: FileId,
    /// The map being checked, for the map call graph.
    current_map: Option<String>,
    /// What the pass found.
    found: Findings,
}

impl<'a> Checker<'a> {
    fn new(
        db: &'a SourceDb,
        program: &'a Program,
        groups: &'a BTreeMap<String, Vec<String>>,
    ) -> Checker<'a> {
        Checker {
            program,
            db,
            groups,
            file: FileId(0),
            current_map: None,
            found: Findings::default(),
        }
    }
}

impl Checker<'_> {
    fn loc(&self, span: Span) -> Loc {
        Loc::new(self.file, span)
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.found.diagnostics.push(diagnostic);
    }

    fn map_call(&mut self, callee: &str, loc: Loc) {
        if let Some(caller) = &self.current_map {
            self.found
                .map_calls
                .push((caller.clone(), callee.to_string(), loc));
        }
    }

    /// Reports maps that call each other in a cycle: they would never finish.
    fn map_cycles(&mut self, calls: &[&Link]) {
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
