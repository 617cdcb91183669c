//! Lowering: a checked project to the runtime's IR, plus what the artifact and the diff
//! need beside it (source map, test summary, environment bindings by name only).

pub(crate) mod expr;

use std::collections::BTreeMap;

use petgraph::graph::DiGraph;
use weft_runtime::artifact::{SourceLocation, SourceMap, TestSummary};
use weft_runtime::ir;

use crate::analysis::Analysis;
use crate::connectors::AUTH_SCHEMES;
use crate::resolve::{self, TypeSymbol};
use crate::source::{FileId, Loc, Span};
use crate::syntax::{
    self, ConfigArg, ConfigValueKind, GateKind, Item, StepKind, TestStmtKind, TypeExprKind,
};
use crate::types::{self, Type};

/// A project lowered for the runtime.
#[derive(Debug, Clone)]
pub struct Lowered {
    /// The program an artifact carries.
    pub program: ir::Program,
    /// Where each declaration came from.
    pub source_map: SourceMap,
    /// The tests, for the promotion gates.
    pub tests: Vec<TestSummary>,
    /// Environment bindings, for the diff only: never written into an artifact.
    pub environments: BTreeMap<String, Environment>,
    /// The source map's entries as compiler locations, for reporting run-time errors
    /// like compile diagnostics (empty without a source map).
    pub locations: BTreeMap<String, Loc>,
}

/// Environment bindings live in the runtime, which binds them to real connections.
pub use weft_runtime::binding::{Binding, Environment};

/// Lowers a checked project; `None` when it has errors (an artifact is only ever built
/// from a program that type-checks).
pub fn lower(analysis: &Analysis) -> Option<Lowered> {
    lower_with(analysis, true)
}

/// Lowers a checked project without its source map, which comparing two versions does
/// not need (`source_map` is empty).
pub fn lower_without_source_map(analysis: &Analysis) -> Option<Lowered> {
    lower_with(analysis, false)
}

fn lower_with(analysis: &Analysis, source_map: bool) -> Option<Lowered> {
    if analysis.load_failed || analysis.error_count() > 0 {
        return None;
    }
    let mut lowering = Lowering {
        analysis,
        source_map: SourceMap::default(),
        file_index: BTreeMap::new(),
        locations: BTreeMap::new(),
    };
    if source_map {
        // Without indexed files no location is recorded, and no id is ever built.
        lowering.index_files();
    }
    let mut program = ir::Program::default();
    for (index, schema) in analysis.program.schemas.iter().enumerate() {
        let Some(TypeSymbol::Schema(id)) = analysis.program.types.get(&schema.name) else {
            continue;
        };
        if id.0 as usize != index {
            continue;
        }
        program.schemas.insert(
            schema.name.clone(),
            ir::Schema {
                doc: schema.doc.clone(),
                fields: fields(&schema.record),
            },
        );
        lowering.record_loc(|| format!("schema.{}", schema.name), schema.loc);
        for field in &schema.record.fields {
            lowering.record_loc(
                || format!("schema.{}.field.{}", schema.name, field.name),
                field.loc,
            );
        }
    }
    let mut tests = Vec::new();
    let mut environments = BTreeMap::new();
    for (file, tree) in &analysis.files {
        for item in &tree.items {
            lowering.item(*file, item, &mut program, &mut tests, &mut environments);
        }
    }
    program
        .rollbacks
        .sort_by(|a, b| (&a.flow, &a.environment).cmp(&(&b.flow, &b.environment)));
    tests.sort_by(|a: &TestSummary, b| a.name.cmp(&b.name));
    Some(Lowered {
        program,
        source_map: lowering.source_map,
        tests,
        environments,
        locations: lowering.locations,
    })
}

struct Lowering<'a> {
    analysis: &'a Analysis,
    source_map: SourceMap,
    /// Source map file index of each `.weft` or imported file, by file id.
    file_index: BTreeMap<FileId, u32>,
    /// Every recorded id's location.
    locations: BTreeMap<String, Loc>,
}

impl Lowering<'_> {
    /// Lists the files that declarations can come from, sorted by name.
    fn index_files(&mut self) {
        let mut names: Vec<(String, FileId)> = self
            .analysis
            .db
            .iter()
            .filter(|(_, f)| f.name != crate::project::MANIFEST)
            .map(|(id, f)| (f.name.replace('\\', "/"), id))
            .collect();
        names.sort();
        for (index, (name, id)) in names.into_iter().enumerate() {
            self.source_map.files.push(name);
            self.file_index.insert(id, index as u32);
        }
    }

    /// Records where a declaration is; `id` is only built when source maps are wanted.
    fn record_loc(&mut self, id: impl FnOnce() -> String, loc: Loc) {
        let Some(&file) = self.file_index.get(&loc.file) else {
            return;
        };
        let id = id();
        let (line, column) = self.analysis.db.line_col(loc.file, loc.span.start);
        self.locations.insert(id.clone(), loc);
        self.source_map.entries.insert(
            id,
            SourceLocation {
                file,
                line: line as u32,
                column: column as u32,
            },
        );
    }

    fn at(&mut self, id: impl FnOnce() -> String, file: FileId, span: Span) {
        self.record_loc(id, Loc::new(file, span));
    }

    fn item(
        &mut self,
        file: FileId,
        item: &Item,
        program: &mut ir::Program,
        tests: &mut Vec<TestSummary>,
        environments: &mut BTreeMap<String, Environment>,
    ) {
        match item {
            Item::Connection(decl) => {
                let kind = decl.kind.name.clone();
                program
                    .connections
                    .insert(decl.name.name.clone(), ir::Connection { kind });
                self.at(
                    || format!("connection.{}", decl.name.name),
                    file,
                    decl.name.span,
                );
            }
            Item::Map(decl) => {
                let Some(signature) = self.analysis.program.maps.get(&decl.name.name) else {
                    return;
                };
                let mut assignments: Vec<ir::Assignment> = decl
                    .assignments
                    .iter()
                    .map(|a| ir::Assignment {
                        target: a.target.iter().map(|s| s.name.clone()).collect(),
                        value: expr::lower(self.analysis, file, &a.value),
                    })
                    .collect();
                assignments.sort_by(|a, b| a.target.cmp(&b.target));
                for a in &decl.assignments {
                    let path: Vec<&str> = a.target.iter().map(|s| s.name.as_str()).collect();
                    self.at(
                        || format!("map.{}.field.{}", decl.name.name, path.join(".")),
                        file,
                        a.span,
                    );
                }
                self.at(|| format!("map.{}", decl.name.name), file, decl.name.span);
                program.maps.insert(
                    decl.name.name.clone(),
                    ir::Map {
                        doc: decl.doc.clone(),
                        param: decl.param.name.clone(),
                        source: ty(&signature.source),
                        target: ty(&signature.target),
                        fields: assignments,
                    },
                );
            }
            Item::Flow(decl) => {
                let flow = self.flow(file, decl);
                self.at(|| format!("flow.{}", decl.name.name), file, decl.name.span);
                program.flows.insert(decl.name.name.clone(), flow);
            }
            Item::Environment(decl) => {
                let bindings = decl
                    .bindings
                    .iter()
                    .map(|b| (b.connection.name.clone(), binding(b)))
                    .collect();
                for b in &decl.bindings {
                    self.at(
                        || {
                            format!(
                                "environment.{}.binding.{}",
                                decl.name.name, b.connection.name
                            )
                        },
                        file,
                        b.span,
                    );
                }
                self.at(
                    || format!("environment.{}", decl.name.name),
                    file,
                    decl.name.span,
                );
                environments.insert(decl.name.name.clone(), Environment { bindings });
            }
            Item::Test(decl) => {
                let mut flows = Vec::new();
                let mut maps = Vec::new();
                for stmt in &decl.statements {
                    match &stmt.kind {
                        TestStmtKind::Run(flow, _) => flows.push(flow.name.clone()),
                        TestStmtKind::Snapshot(map, _) | TestStmtKind::Property(map, _) => {
                            maps.push(map.name.clone())
                        }
                        _ => {}
                    }
                }
                flows.sort();
                flows.dedup();
                maps.sort();
                maps.dedup();
                self.at(|| format!("test.{}", decl.name.value), file, decl.name.span);
                tests.push(TestSummary {
                    name: decl.name.value.clone(),
                    flows,
                    maps,
                });
            }
            Item::Promotion(decl) => {
                let mut gates: BTreeMap<String, Vec<ir::Gate>> = BTreeMap::new();
                for rule in &decl.rules {
                    let entry = gates.entry(rule.environment.name.clone()).or_default();
                    entry.extend(rule.gates.iter().filter_map(|g| gate(&g.kind)));
                }
                self.at(|| "promotion".to_string(), file, decl.span);
                program.promotion = Some(ir::Promotion {
                    chain: decl.chain.iter().map(|e| e.name.clone()).collect(),
                    gates,
                });
            }
            Item::Rollback(decl) => {
                self.at(
                    || format!("rollback.{}.{}", decl.flow.name, decl.environment.name),
                    file,
                    decl.span,
                );
                program.rollbacks.push(ir::Rollback {
                    flow: decl.flow.name.clone(),
                    environment: decl.environment.name.clone(),
                    threshold_percent: decl.threshold.value,
                    window_millis: decl.window.millis,
                    min_runs: decl.min_runs.map_or(1, |m| m.value),
                    action: decl.action.name.clone(),
                    alerts: decl.alerts.iter().map(|a| a.value.clone()).collect(),
                });
            }
            Item::Schema(_) | Item::Enum(_) | Item::Error(_) => {}
        }
    }

    fn flow(&mut self, file: FileId, decl: &syntax::FlowDecl) -> ir::Flow {
        let mut triggers = Vec::new();
        let mut graph = DiGraph::new();
        let mut error_policy = ir::ErrorPolicy::default();
        let mut previous = None;
        for step in &decl.steps {
            let lowered = match &step.kind {
                StepKind::Trigger(trigger) => {
                    triggers.push(match trigger {
                        syntax::Trigger::Every(d) => ir::Trigger::Every { millis: d.millis },
                        syntax::Trigger::Cron(s) => ir::Trigger::Cron {
                            expression: s.value.clone(),
                        },
                        syntax::Trigger::Webhook(s) => ir::Trigger::Webhook {
                            path: s.value.clone(),
                        },
                        syntax::Trigger::Manual => ir::Trigger::Manual,
                        syntax::Trigger::After(f) => ir::Trigger::After {
                            flow: f.name.clone(),
                        },
                    });
                    None
                }
                StepKind::Read(call, written) => {
                    let many = matches!(written.kind, TypeExprKind::List(_));
                    let record = match self.written_type(file, written) {
                        Type::List(inner) if many => ty(&inner),
                        other => ty(&other),
                    };
                    let (connection, operation, args) = self.call(file, call);
                    Some(ir::Step::Read {
                        connection,
                        operation,
                        args,
                        record,
                        many,
                    })
                }
                StepKind::Where(param, condition) => Some(ir::Step::Where {
                    param: param.name.clone(),
                    condition: expr::lower(self.analysis, file, condition),
                }),
                StepKind::Map(name) => Some(ir::Step::Map {
                    map: name.name.clone(),
                }),
                StepKind::Call(call, written) => {
                    let record = written
                        .as_ref()
                        .map_or(ir::Type::Json, |t| ty(&self.written_type(file, t)));
                    let (connection, operation, args) = self.call(file, call);
                    Some(ir::Step::Call {
                        connection,
                        operation,
                        args,
                        record,
                    })
                }
                StepKind::Write(call, written) => {
                    let record = written.as_ref().map(|t| ty(&self.written_type(file, t)));
                    let (connection, operation, args) = self.call(file, call);
                    Some(ir::Step::Write {
                        connection,
                        operation,
                        args,
                        record,
                    })
                }
                StepKind::OnError(policy) => {
                    error_policy = ir::ErrorPolicy {
                        retries: policy
                            .retries
                            .map_or(0, |r| u32::try_from(r.value).unwrap_or(u32::MAX)),
                        backoff_millis: policy
                            .backoff
                            .map_or(error_policy.backoff_millis, |b| b.millis),
                        then: match policy.then.as_ref().map(|t| t.name.as_str()) {
                            Some("dead_letter") => ir::FinalAction::DeadLetter,
                            Some("skip") => ir::FinalAction::Skip,
                            _ => ir::FinalAction::Fail,
                        },
                    };
                    None
                }
                StepKind::Error => None,
            };
            if let Some(node) = lowered {
                let index = graph.add_node(node);
                self.at(
                    || format!("flow.{}.step.{}", decl.name.name, index.index()),
                    file,
                    step.span,
                );
                if let Some(before) = previous {
                    graph.add_edge(before, index, ());
                }
                previous = Some(index);
            }
        }
        ir::Flow {
            doc: decl.doc.clone(),
            triggers,
            graph,
            error_policy,
        }
    }

    fn call(&self, file: FileId, call: &syntax::OpCall) -> (String, String, Vec<ir::Expr>) {
        (
            call.connection.name.clone(),
            call.operation.name.clone(),
            call.args
                .iter()
                .map(|a| expr::lower(self.analysis, file, a))
                .collect(),
        )
    }

    fn written_type(&self, file: FileId, written: &syntax::TypeExpr) -> Type {
        // The project type-checks, so resolving again reports nothing.
        let mut ignored = Vec::new();
        resolve::type_of(&self.analysis.program, written, file, &mut ignored)
    }
}

/// The IR of a semantic type; fields sorted by name.
pub fn ty(t: &Type) -> ir::Type {
    match t {
        Type::String => ir::Type::String,
        Type::Int => ir::Type::Int,
        Type::Decimal => ir::Type::Decimal,
        Type::Float => ir::Type::Float,
        Type::Bool => ir::Type::Bool,
        Type::Date => ir::Type::Date,
        Type::Timestamp => ir::Type::Timestamp,
        Type::Json | Type::Error => ir::Type::Json,
        Type::Null => ir::Type::Null,
        Type::Schema(_, name) => ir::Type::Schema {
            name: name.to_string(),
        },
        Type::Record(record) => ir::Type::Record {
            fields: fields(record),
        },
        Type::List(inner) => ir::Type::List {
            item: Box::new(ty(inner)),
        },
        Type::Optional(inner) => ir::Type::Optional {
            inner: Box::new(ty(inner)),
        },
        Type::Enum(e) => ir::Type::Enum {
            name: e.name.clone(),
            variants: e.variants.clone(),
        },
    }
}

fn fields(record: &types::RecordType) -> Vec<ir::Field> {
    let mut out: Vec<ir::Field> = record
        .fields
        .iter()
        .map(|f| ir::Field {
            name: f.name.clone(),
            ty: ty(&f.ty),
            doc: f.doc.clone(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn gate(kind: &GateKind) -> Option<ir::Gate> {
    Some(match kind {
        GateKind::Tests => ir::Gate::Tests,
        GateKind::Approvals(count, group) => ir::Gate::Approvals {
            count: count.value,
            group: group.value.clone(),
        },
        GateKind::NoSelfApproval => ir::Gate::NoSelfApproval,
        GateKind::Window(spec) => ir::Gate::Window {
            spec: spec.value.clone(),
        },
        GateKind::Error => return None,
    })
}

fn binding(b: &syntax::Binding) -> Binding {
    let mut out = Binding {
        kind: b.kind.name.clone(),
        ..Binding::default()
    };
    let mut positional = b.args.iter().filter(|a| a.name.is_none());
    if let Some(endpoint) = positional.next() {
        match &endpoint.value.kind {
            ConfigValueKind::Str(s) => out.endpoint = Some(s.clone()),
            ConfigValueKind::Secret(name) => {
                out.secrets.insert("endpoint".into(), name.value.clone());
            }
            _ => {}
        }
    }
    for arg in b.args.iter().filter(|a| a.name.is_some()) {
        let name = arg
            .name
            .as_ref()
            .map(|n| n.name.clone())
            .unwrap_or_default();
        option(&name, arg, &mut out);
    }
    out
}

fn option(path: &str, arg: &ConfigArg, out: &mut Binding) {
    match &arg.value.kind {
        ConfigValueKind::Secret(name) => {
            out.secrets.insert(path.to_string(), name.value.clone());
        }
        ConfigValueKind::Call(function, args) => {
            out.options.insert(path.to_string(), function.name.clone());
            let params = AUTH_SCHEMES
                .iter()
                .find(|(scheme, _)| *scheme == function.name)
                .map_or(&[][..], |(_, p)| *p);
            for (i, inner) in args.iter().enumerate() {
                let name = inner
                    .name
                    .as_ref()
                    .map(|n| n.name.clone())
                    .or_else(|| params.get(i).map(|p| p.to_string()))
                    .unwrap_or_else(|| i.to_string());
                option(&format!("{path}.{name}"), inner, out);
            }
        }
        ConfigValueKind::Str(s) => {
            out.options.insert(path.to_string(), s.clone());
        }
        ConfigValueKind::Int(n) => {
            out.options.insert(path.to_string(), n.to_string());
        }
        ConfigValueKind::Duration(millis) => {
            out.options.insert(path.to_string(), format!("{millis}ms"));
        }
        ConfigValueKind::Bool(b) => {
            out.options.insert(path.to_string(), b.to_string());
        }
        ConfigValueKind::Error => {}
    }
}
