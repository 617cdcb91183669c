//! `textDocument/references`: every use of a schema, enum, connection, map, flow,
//! environment or record field across the project's files.
//!
//! The walk over a file ([`occurrences`]) lists every name written in it with what it
//! refers to; rename and semantic tokens use it too.

use std::collections::HashSet;

use tower_lsp_server::ls_types::{Location, Position};
use weft_compiler::analysis::Analysis;
use weft_compiler::resolve::{Program, SCALARS};
use weft_compiler::source::{FileId, Loc, Span};
use weft_compiler::syntax::{
    ConfigArg, ConfigValueKind, DataSource, Expr, ExprKind, FieldDecl, File, Ident, Item,
    MockResponse, OpCall, SchemaBody, StepKind, StrPart, TestStmtKind, Trigger, TypeExpr,
    TypeExprKind, Value, ValueKind,
};
use weft_compiler::types::Type;

use crate::definition;
use crate::lookup::{self, Binding, DeclKind, Symbol};
use crate::position::LineIndex;
use crate::world::Snapshot;

/// What a name refers to, for finding all its uses.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A declared name in its namespace.
    Named(DeclKind, String),
    /// A field of a record type (never an optional).
    Field {
        /// The record or schema type.
        owner: Type,
        /// The field name.
        name: String,
    },
}

/// How a name is shown: the classes of semantic tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A schema, enum, scalar or connector kind.
    Type,
    /// A built-in scalar type.
    Scalar,
    /// A variant of an enum.
    EnumMember,
    /// A map.
    Map,
    /// A built-in function (or a helper of a binding such as `bearer`).
    Builtin,
    /// A flow.
    Flow,
    /// A connection or an environment.
    Namespace,
    /// An operation of a connection.
    Operation,
    /// A map, lambda or `where` parameter.
    Parameter,
    /// A field, option name or object key.
    Property,
}

/// One name written in a file.
#[derive(Debug, Clone)]
pub struct Occurrence {
    /// The name as written (backticks included).
    pub span: Span,
    /// What it refers to, when it can be renamed.
    pub target: Option<Target>,
    /// Whether this is the declaration.
    pub decl: bool,
    /// How it is shown.
    pub class: Class,
}

/// The uses of the name at `position`; its declaration too when `include_declaration`.
pub fn references(
    snapshot: &Snapshot,
    analysis: &Analysis,
    file: FileId,
    position: Position,
    include_declaration: bool,
) -> Option<Vec<Location>> {
    let offset = LineIndex::new(snapshot.text(analysis, file)).offset(position);
    let target = target_at(analysis, file, offset)?.0;
    let locs = locations_of(analysis, &target, include_declaration);
    Some(
        locs.into_iter()
            .filter_map(|loc| snapshot.location(analysis, loc))
            .collect(),
    )
}

/// The target of the name at `offset`, with the name's span and the symbol found.
pub fn target_at(analysis: &Analysis, file: FileId, offset: usize) -> Option<(Target, Span)> {
    let (_, tree) = analysis.files.iter().find(|(id, _)| *id == file)?;
    let hit = lookup::find(&analysis.program, file, tree, offset)?;
    Some((target_of(&analysis.program, &hit.symbol)?, hit.span))
}

/// The target of a symbol; `None` for built-ins and variables.
pub fn target_of(program: &Program, symbol: &Symbol) -> Option<Target> {
    Some(match symbol {
        Symbol::Type(name) if program.types.contains_key(name) => {
            Target::Named(DeclKind::Type, name.clone())
        }
        Symbol::Connection(name) => Target::Named(DeclKind::Connection, name.clone()),
        Symbol::Map(name) => Target::Named(DeclKind::Map, name.clone()),
        Symbol::Flow(name) => Target::Named(DeclKind::Flow, name.clone()),
        Symbol::Environment(name) => Target::Named(DeclKind::Environment, name.clone()),
        Symbol::Field { owner, name } => {
            let owner = owner.unwrap_optional();
            program.record(owner)?;
            Target::Field {
                owner: owner.clone(),
                name: name.clone(),
            }
        }
        _ => return None,
    })
}

/// Every place `target` is written in the project, sorted by file and position.
pub fn locations_of(analysis: &Analysis, target: &Target, include_declaration: bool) -> Vec<Loc> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (file, tree) in &analysis.files {
        for occ in occurrences(&analysis.program, *file, tree) {
            if occ.target.as_ref() == Some(target)
                && (include_declaration || !occ.decl)
                && seen.insert((*file, occ.span.start))
            {
                out.push(Loc::new(*file, occ.span));
            }
        }
    }
    // Fields of imported schemas are declared in their JSON or YAML file.
    if include_declaration {
        if let Some(loc) = declaration_of(analysis, target) {
            if seen.insert((loc.file, loc.span.start)) {
                out.push(loc);
            }
        }
    }
    out.sort_by_key(|loc| (loc.file, loc.span.start));
    out
}

/// Where a target is declared.
pub fn declaration_of(analysis: &Analysis, target: &Target) -> Option<Loc> {
    let symbol = match target {
        Target::Named(kind, name) => match kind {
            DeclKind::Type => Symbol::Type(name.clone()),
            DeclKind::Connection => Symbol::Connection(name.clone()),
            DeclKind::Map => Symbol::Map(name.clone()),
            DeclKind::Flow => Symbol::Flow(name.clone()),
            DeclKind::Environment => Symbol::Environment(name.clone()),
        },
        Target::Field { owner, name } => Symbol::Field {
            owner: owner.clone(),
            name: name.clone(),
        },
    };
    let file = analysis.files.first().map(|(id, _)| *id)?;
    definition::declared_at(analysis, file, &symbol)
}

/// Every name written in `tree`, in no particular order.
pub fn occurrences(program: &Program, file: FileId, tree: &File) -> Vec<Occurrence> {
    let mut walker = Walker {
        program,
        file,
        out: Vec::new(),
    };
    for item in &tree.items {
        walker.item(item);
    }
    walker.out
}

struct Walker<'a> {
    program: &'a Program,
    file: FileId,
    out: Vec<Occurrence>,
}

impl Walker<'_> {
    fn push(&mut self, ident: &Ident, target: Option<Target>, decl: bool, class: Class) {
        self.out.push(Occurrence {
            span: ident.span,
            target,
            decl,
            class,
        });
    }

    fn named(&mut self, ident: &Ident, kind: DeclKind, decl: bool, class: Class) {
        let target = Target::Named(kind, ident.name.clone());
        self.push(ident, Some(target), decl, class);
    }

    fn field(&mut self, ident: &Ident, owner: &Type, decl: bool) {
        let owner = owner.unwrap_optional();
        let target = self.program.record(owner).map(|_| Target::Field {
            owner: owner.clone(),
            name: ident.name.clone(),
        });
        self.push(ident, target, decl, Class::Property);
    }

    fn resolve(&self, ty: &TypeExpr) -> Type {
        weft_compiler::resolve::type_of(self.program, ty, self.file, &mut Vec::new())
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Schema(d) => {
                self.named(&d.name, DeclKind::Type, true, Class::Type);
                if let SchemaBody::Fields(fields) = &d.body {
                    let owner = lookup::named_type(self.program, &d.name.name);
                    self.fields(fields, &owner);
                }
            }
            Item::Enum(d) => {
                self.named(&d.name, DeclKind::Type, true, Class::Type);
                for variant in &d.variants {
                    self.out.push(Occurrence {
                        span: variant.span,
                        target: None,
                        decl: true,
                        class: Class::EnumMember,
                    });
                }
            }
            Item::Connection(d) => {
                self.named(&d.name, DeclKind::Connection, true, Class::Namespace);
                self.push(&d.kind, None, false, Class::Type);
            }
            Item::Map(d) => {
                let source = self.resolve(&d.source);
                let target = self.resolve(&d.target);
                self.named(&d.name, DeclKind::Map, true, Class::Map);
                self.push(&d.param, None, true, Class::Parameter);
                self.type_expr(&d.source, &source);
                self.type_expr(&d.target, &target);
                let scope = vec![(d.param.name.clone(), source, d.param.span)];
                for assignment in &d.assignments {
                    let mut owner = target.clone();
                    for segment in &assignment.target {
                        self.field(segment, &owner, false);
                        owner = lookup::field_type(self.program, &owner, &segment.name);
                    }
                    self.expr(&assignment.value, &scope);
                }
            }
            Item::Flow(d) => {
                self.named(&d.name, DeclKind::Flow, true, Class::Flow);
                let mut record = Type::Error;
                for step in &d.steps {
                    match &step.kind {
                        StepKind::Trigger(Trigger::After(flow)) => {
                            self.named(flow, DeclKind::Flow, false, Class::Flow)
                        }
                        StepKind::Trigger(_) | StepKind::OnError(_) | StepKind::Error => {}
                        StepKind::Read(call, ty) => {
                            let resolved = self.resolve(ty);
                            self.op_call(call);
                            self.type_expr(ty, &resolved);
                            record = match (&ty.kind, resolved) {
                                (TypeExprKind::List(_), Type::List(inner)) => *inner,
                                (_, other) => other,
                            };
                        }
                        StepKind::Where(param, cond) => {
                            self.push(param, None, true, Class::Parameter);
                            let scope = vec![(param.name.clone(), record.clone(), param.span)];
                            self.expr(cond, &scope);
                        }
                        StepKind::Map(name) => {
                            self.named(name, DeclKind::Map, false, Class::Map);
                            record = self
                                .program
                                .maps
                                .get(&name.name)
                                .map_or(Type::Error, |m| m.target.clone());
                        }
                        StepKind::Call(call, ty) => {
                            self.op_call(call);
                            record = ty.as_ref().map_or(Type::Json, |t| self.resolve(t));
                            if let Some(ty) = ty {
                                self.type_expr(ty, &record.clone());
                            }
                        }
                        StepKind::Write(call, ty) => {
                            self.op_call(call);
                            if let Some(ty) = ty {
                                let resolved = self.resolve(ty);
                                self.type_expr(ty, &resolved);
                            }
                        }
                    }
                }
            }
            Item::Environment(d) => {
                self.named(&d.name, DeclKind::Environment, true, Class::Namespace);
                for binding in &d.bindings {
                    self.named(
                        &binding.connection,
                        DeclKind::Connection,
                        false,
                        Class::Namespace,
                    );
                    self.push(&binding.kind, None, false, Class::Type);
                    self.config_args(&binding.args);
                }
            }
            Item::Test(d) => {
                for statement in &d.statements {
                    match &statement.kind {
                        TestStmtKind::Mock { call, response, .. } => {
                            self.op_call(call);
                            if let MockResponse::Returns(data) = response {
                                self.data(data);
                            }
                        }
                        TestStmtKind::ExpectCalled { call, body, .. } => {
                            self.op_call(call);
                            if let Some(data) = body {
                                self.data(data);
                            }
                        }
                        TestStmtKind::Run(flow, data) => {
                            self.named(flow, DeclKind::Flow, false, Class::Flow);
                            if let Some(data) = data {
                                self.data(data);
                            }
                        }
                        TestStmtKind::Snapshot(map, data) => {
                            self.named(map, DeclKind::Map, false, Class::Map);
                            // Inline records are sources of the map: their keys are fields.
                            let source = self
                                .program
                                .maps
                                .get(&map.name)
                                .map_or(Type::Error, |m| m.source.clone());
                            if let Some(DataSource::Inline(value)) = data {
                                self.value(value, &source);
                            }
                        }
                        TestStmtKind::Property(map, _) => {
                            self.named(map, DeclKind::Map, false, Class::Map)
                        }
                        TestStmtKind::ExpectOutput(data) => self.data(data),
                        _ => {}
                    }
                }
            }
            Item::Promotion(d) => {
                for env in d.chain.iter().chain(d.rules.iter().map(|r| &r.environment)) {
                    self.named(env, DeclKind::Environment, false, Class::Namespace);
                }
            }
            Item::Rollback(d) => {
                self.named(&d.flow, DeclKind::Flow, false, Class::Flow);
                self.named(
                    &d.environment,
                    DeclKind::Environment,
                    false,
                    Class::Namespace,
                );
            }
            Item::Error(_) => {}
        }
    }

    fn fields(&mut self, fields: &[FieldDecl], owner: &Type) {
        for field in fields {
            self.field(&field.name, owner, true);
            let ty = lookup::field_type(self.program, owner, &field.name.name);
            self.type_expr(&field.ty, &ty);
        }
    }

    /// A written type; `meaning` is what it resolved to, for inline records.
    fn type_expr(&mut self, ty: &TypeExpr, meaning: &Type) {
        match &ty.kind {
            TypeExprKind::Named(name) => {
                if self.program.types.contains_key(&name.name) {
                    self.named(name, DeclKind::Type, false, Class::Type);
                } else if SCALARS.contains(&name.name.as_str()) {
                    self.push(name, None, false, Class::Scalar);
                } else {
                    self.push(name, None, false, Class::Type);
                }
            }
            TypeExprKind::Record(fields) => self.fields(fields, meaning.unwrap_optional()),
            TypeExprKind::List(inner) => self.type_expr(inner, &lookup::element(meaning)),
            TypeExprKind::Optional(inner) => self.type_expr(inner, meaning.unwrap_optional()),
            TypeExprKind::Enum(variants) => {
                for variant in variants {
                    self.out.push(Occurrence {
                        span: variant.span,
                        target: None,
                        decl: true,
                        class: Class::EnumMember,
                    });
                }
            }
            TypeExprKind::Error => {}
        }
    }

    fn op_call(&mut self, call: &OpCall) {
        self.named(
            &call.connection,
            DeclKind::Connection,
            false,
            Class::Namespace,
        );
        self.push(&call.operation, None, false, Class::Operation);
        for arg in &call.args {
            self.expr(arg, &[]);
        }
    }

    fn config_args(&mut self, args: &[ConfigArg]) {
        for arg in args {
            if let Some(name) = &arg.name {
                self.push(name, None, false, Class::Property);
            }
            if let ConfigValueKind::Call(name, inner) = &arg.value.kind {
                self.push(name, None, false, Class::Builtin);
                self.config_args(inner);
            }
        }
    }

    fn data(&mut self, data: &DataSource) {
        if let DataSource::Inline(value) = data {
            self.value(value, &Type::Error);
        }
    }

    /// A test literal; `ty` is the record type it stands for, when known.
    fn value(&mut self, value: &Value, ty: &Type) {
        match &value.kind {
            ValueKind::List(items) => {
                let item = lookup::element(ty);
                items.iter().for_each(|v| self.value(v, &item));
            }
            ValueKind::Object(entries) => {
                for (key, v) in entries {
                    self.field(key, ty, false);
                    let inner = lookup::field_type(self.program, ty, &key.name);
                    self.value(v, &inner);
                }
            }
            _ => {}
        }
    }

    fn expr(&mut self, expr: &Expr, scope: &[Binding]) {
        match &expr.kind {
            ExprKind::Var(name) => self.push(name, None, false, Class::Parameter),
            ExprKind::Field(base, name) => {
                self.expr(base, scope);
                let owner = lookup::type_of(self.program, base, scope);
                self.field(name, &owner, false);
            }
            ExprKind::Call(name, args) => {
                if self.program.maps.contains_key(&name.name) {
                    self.named(name, DeclKind::Map, false, Class::Map);
                } else {
                    self.push(name, None, false, Class::Builtin);
                }
                let item = lookup::lambda_item(self.program, &name.name, args, scope);
                for arg in args {
                    match &arg.kind {
                        ExprKind::Lambda(param, body) => {
                            let mut inner = scope.to_vec();
                            inner.push((param.name.clone(), item.clone(), param.span));
                            self.push(param, None, true, Class::Parameter);
                            self.expr(body, &inner);
                        }
                        _ => self.expr(arg, scope),
                    }
                }
            }
            ExprKind::Lambda(param, body) => {
                let mut inner = scope.to_vec();
                inner.push((param.name.clone(), Type::Error, param.span));
                self.push(param, None, true, Class::Parameter);
                self.expr(body, &inner);
            }
            ExprKind::Str(parts) => {
                for part in parts {
                    if let StrPart::Interpolation(e) = part {
                        self.expr(e, scope);
                    }
                }
            }
            ExprKind::List(items) => items.iter().for_each(|e| self.expr(e, scope)),
            ExprKind::Unary(_, e) => self.expr(e, scope),
            ExprKind::Binary(_, a, b) => {
                self.expr(a, scope);
                self.expr(b, scope);
            }
            ExprKind::If(c, a, b) => {
                self.expr(c, scope);
                self.expr(a, scope);
                self.expr(b, scope);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_compiler::analysis::check_files;

    /// The texts of the references of the name at `$0`, declaration included.
    fn refs(source: &str) -> Vec<String> {
        let offset = source.find("$0").unwrap_or_default();
        let text = source.replace("$0", "");
        let analysis = check_files(&[("t.weft".into(), "t.weft".into(), text.clone())], None);
        let file = analysis.files[0].0;
        let Some((target, _)) = target_at(&analysis, file, offset) else {
            return Vec::new();
        };
        locations_of(&analysis, &target, true)
            .iter()
            .map(|loc| format!("{}@{}", &text[loc.span.start..loc.span.end], loc.span.start))
            .collect()
    }

    const SOURCE: &str = "schema A { name: String, sub: { city: String } }\nschema T { out: String }\nconnection src: http\nconnection dst: http\nmap m(a: A) -> T { out = a.sub.city }\nmap m2(a: A) -> T { out = m(a).out }\nflow f {\n trigger manual\n read src.get(\"/\") as [A]\n where x => x.name != \"\"\n map m\n write dst.post(\"/\")\n}\nflow g {\n trigger after f\n read src.get(\"/\") as [A]\n map m\n write dst.post(\"/\")\n}\nenvironment dev {\n src = http(\"https://a\")\n dst = http(\"https://b\")\n}\n";

    fn at(needle: &str, shift: usize) -> String {
        let offset = SOURCE.find(needle).unwrap_or_default() + shift;
        format!("{}$0{}", &SOURCE[..offset], &SOURCE[offset..])
    }

    #[test]
    fn names_in_every_kind_of_use() {
        let found = refs(&at("map m(", 4));
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found.iter().all(|f| f.starts_with("m@")));
        let found = refs(&at("schema A", 7));
        assert_eq!(found.len(), 5, "{found:?}");
        let found = refs(&at("connection src", 11));
        assert_eq!(found.len(), 4, "{found:?}");
        let found = refs(&at("flow f", 5));
        assert_eq!(found.len(), 2, "{found:?}");
        let found = refs(&at("environment dev", 12));
        assert_eq!(
            found,
            ["dev@".to_string() + &SOURCE.find("dev").unwrap_or(0).to_string()]
        );
    }

    #[test]
    fn fields_by_owner() {
        let found = refs(&at("name: String", 1));
        assert_eq!(found.len(), 2, "{found:?}");
        let found = refs(&at("out: String", 0));
        assert_eq!(found.len(), 4, "{found:?}");
        let found = refs(&at("city: String", 0));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            refs(&at("String", 0)).is_empty(),
            "scalars have no references"
        );
    }

    #[test]
    fn keys_of_snapshot_data_are_source_fields() {
        let source = format!(
            "{SOURCE}test \"t\" {{\n snapshot m with {{ name: \"x\", sub: {{ city: \"y\" }} }}\n}}\n"
        );
        for field in ["name: String", "city: String"] {
            let offset = source.find(field).unwrap_or_default();
            let marked = format!("{}$0{}", &source[..offset], &source[offset..]);
            assert_eq!(refs(&marked).len(), 3, "{field}");
        }
    }
}
