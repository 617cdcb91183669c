//! Name resolution: collects the declarations of every file of a project into one
//! [`Program`], resolves written types to semantic types (loading imported schemas),
//! and reports duplicate and unknown names.

use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use petgraph::graphmap::DiGraphMap;

use crate::connectors::{self, ConnectorKind};
use crate::diagnostic::{suggest, Code, Diagnostic};
use crate::import;
use crate::source::{FileId, Loc, SourceDb};
use crate::syntax::{self, FieldDecl, Ident, Item, SchemaBody, TypeExpr, TypeExprKind, Variant};
use crate::types::{EnumType, Field, RecordType, SchemaId, Type};

/// Built-in scalar type names.
pub const SCALARS: &[&str] = &[
    "String",
    "Int",
    "Decimal",
    "Float",
    "Bool",
    "Date",
    "Timestamp",
    "Json",
];

/// A resolved schema.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Name.
    pub name: String,
    /// Its fields.
    pub record: Rc<RecordType>,
    /// Where the name is declared.
    pub loc: Loc,
    /// Doc comment.
    pub doc: Option<String>,
}

/// What a type name refers to.
#[derive(Debug, Clone)]
pub enum TypeSymbol {
    /// A schema.
    Schema(SchemaId),
    /// A named enum and where it is declared.
    Enum(Rc<EnumType>, Loc),
    /// A schema whose import failed (already reported); uses of it are not checked.
    Broken(Loc),
}

/// A declared connection.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Its kind, when the kind is known.
    pub kind: Option<&'static ConnectorKind>,
    /// Where the name is declared.
    pub loc: Loc,
}

/// A map's signature.
#[derive(Debug, Clone)]
pub struct MapSignature {
    /// Source record type.
    pub source: Type,
    /// Target record type.
    pub target: Type,
    /// Where the name is declared.
    pub loc: Loc,
}

/// Every declaration of a project, resolved.
#[derive(Debug, Clone, Default)]
pub struct Program {
    /// Schemas by id.
    pub schemas: Vec<Schema>,
    /// Schemas and enums by name.
    pub types: HashMap<String, TypeSymbol>,
    /// Connections by name.
    pub connections: HashMap<String, Connection>,
    /// Map signatures by name.
    pub maps: HashMap<String, MapSignature>,
    /// Flows by name, with where each is declared.
    pub flows: HashMap<String, Loc>,
    /// Environments by name, with where each is declared.
    pub environments: HashMap<String, Loc>,
}

impl Program {
    /// The fields of a record or schema type (looking through an optional).
    pub fn record(&self, ty: &Type) -> Option<Rc<RecordType>> {
        match ty.unwrap_optional() {
            Type::Record(record) => Some(record.clone()),
            Type::Schema(id, _) => self.schemas.get(id.0 as usize).map(|s| s.record.clone()),
            _ => None,
        }
    }

    /// Where a schema type is declared.
    pub fn schema_loc(&self, ty: &Type) -> Option<Loc> {
        match ty.unwrap_optional() {
            Type::Schema(id, _) => self.schemas.get(id.0 as usize).map(|s| s.loc),
            _ => None,
        }
    }
}

/// What name resolution reads from a declaration: names, types, doc comments, and
/// where they are written. When an edit leaves the interfaces of all declarations
/// equal, the resolved program stays the same (up to moved locations).
#[derive(Debug, PartialEq)]
pub enum Interface<'a> {
    /// A schema, whole.
    Schema(&'a syntax::SchemaDecl),
    /// An enum, whole.
    Enum(&'a syntax::EnumDecl),
    /// A connection, whole.
    Connection(&'a syntax::ConnectionDecl),
    /// A map's name and signature.
    Map(&'a Ident, &'a TypeExpr, &'a TypeExpr),
    /// A flow's name.
    Flow(&'a Ident),
    /// An environment's name.
    Environment(&'a Ident),
    /// The keyword and name of a declaration that did not parse.
    Broken(Option<&'a str>, Option<&'a Ident>),
}

/// The interface of a declaration; `None` for those resolution does not read (tests,
/// promotion, rollback).
pub fn interface(item: &Item) -> Option<Interface<'_>> {
    Some(match item {
        Item::Schema(d) => Interface::Schema(d),
        Item::Enum(d) => Interface::Enum(d),
        Item::Connection(d) => Interface::Connection(d),
        Item::Map(d) => Interface::Map(&d.name, &d.source, &d.target),
        Item::Flow(d) => Interface::Flow(&d.name),
        Item::Environment(d) => Interface::Environment(&d.name),
        Item::Error(broken) => Interface::Broken(broken.keyword.as_deref(), broken.name.as_ref()),
        Item::Test(_) | Item::Promotion(_) | Item::Rollback(_) => return None,
    })
}

/// Builds the program from parsed files, importing schema files into `db`.
pub fn resolve(db: &mut SourceDb, files: &[(FileId, syntax::File)]) -> (Program, Vec<Diagnostic>) {
    let mut resolver = Resolver {
        db,
        program: Program::default(),
        diagnostics: Vec::new(),
    };
    resolver.declare(files);
    resolver.declare_broken(files, false);
    resolver.resolve_schemas(files);
    resolver.resolve_signatures(files);
    resolver.declare_broken(files, true);
    resolver.find_infinite_schemas();
    (resolver.program, resolver.diagnostics)
}

struct Resolver<'a> {
    db: &'a mut SourceDb,
    program: Program,
    diagnostics: Vec<Diagnostic>,
}

/// Records a name in a namespace, reporting a duplicate.
fn declare_name<T>(
    table: &mut HashMap<String, T>,
    diagnostics: &mut Vec<Diagnostic>,
    what: &str,
    name: &Ident,
    loc: Loc,
    value: T,
    loc_of: impl Fn(&T) -> Loc,
) {
    if let Some(existing) = table.get(&name.name) {
        diagnostics.push(
            Diagnostic::new(
                Code::DuplicateDefinition,
                loc,
                format!("{what} `{}` is defined twice", name.name),
            )
            .with_label("second definition")
            .with_secondary(loc_of(existing), "first defined here")
            .with_note(format!(
                "rename one of them; {what} names are shared by every file of the project"
            )),
        );
        return;
    }
    table.insert(name.name.clone(), value);
}

impl Resolver<'_> {
    fn declare(&mut self, files: &[(FileId, syntax::File)]) {
        let program = &mut self.program;
        let diagnostics = &mut self.diagnostics;
        for (file, tree) in files {
            let at = |ident: &Ident| Loc::new(*file, ident.span);
            for item in &tree.items {
                match item {
                    Item::Schema(decl) => {
                        if SCALARS.contains(&decl.name.name.as_str()) {
                            diagnostics.push(Diagnostic::new(
                                Code::DuplicateDefinition,
                                at(&decl.name),
                                format!(
                                    "`{}` is a built-in type; give the schema another name",
                                    decl.name.name
                                ),
                            ));
                            continue;
                        }
                        let id = SchemaId(program.schemas.len() as u32);
                        let before = program.types.len();
                        let schemas = &program.schemas;
                        declare_name(
                            &mut program.types,
                            diagnostics,
                            "type",
                            &decl.name,
                            at(&decl.name),
                            TypeSymbol::Schema(id),
                            |t| symbol_loc(t, schemas),
                        );
                        if program.types.len() > before {
                            program.schemas.push(Schema {
                                name: decl.name.name.clone(),
                                record: Rc::new(RecordType::default()),
                                loc: at(&decl.name),
                                doc: decl.doc.clone(),
                            });
                        }
                    }
                    Item::Enum(decl) => {
                        let variants = check_variants(&decl.variants, *file, diagnostics);
                        let symbol = TypeSymbol::Enum(
                            Rc::new(EnumType {
                                name: Some(decl.name.name.clone()),
                                variants,
                            }),
                            at(&decl.name),
                        );
                        let schemas = &program.schemas;
                        declare_name(
                            &mut program.types,
                            diagnostics,
                            "type",
                            &decl.name,
                            at(&decl.name),
                            symbol,
                            |t| symbol_loc(t, schemas),
                        );
                    }
                    Item::Connection(decl) => {
                        let kind = connectors::kind(&decl.kind.name);
                        if kind.is_none() {
                            let names = connectors::KINDS.iter().map(|k| k.name);
                            let mut d = Diagnostic::new(
                                Code::UnknownConnectionKind,
                                Loc::new(*file, decl.kind.span),
                                format!("unknown connection kind `{}`", decl.kind.name),
                            )
                            .with_label("not a connector kind")
                            .with_note("the kinds are: http, file, postgres");
                            if let Some(best) = suggest(&decl.kind.name, names) {
                                d = d.with_fix(
                                    format!("did you mean `{best}`?"),
                                    Loc::new(*file, decl.kind.span),
                                    best,
                                );
                            }
                            diagnostics.push(d);
                        }
                        let connection = Connection {
                            kind,
                            loc: at(&decl.name),
                        };
                        declare_name(
                            &mut program.connections,
                            diagnostics,
                            "connection",
                            &decl.name,
                            at(&decl.name),
                            connection,
                            |c| c.loc,
                        );
                    }
                    Item::Flow(decl) => declare_name(
                        &mut program.flows,
                        diagnostics,
                        "flow",
                        &decl.name,
                        at(&decl.name),
                        at(&decl.name),
                        |l| *l,
                    ),
                    Item::Environment(decl) => declare_name(
                        &mut program.environments,
                        diagnostics,
                        "environment",
                        &decl.name,
                        at(&decl.name),
                        at(&decl.name),
                        |l| *l,
                    ),
                    Item::Map(_)
                    | Item::Test(_)
                    | Item::Promotion(_)
                    | Item::Rollback(_)
                    | Item::Error(_) => {}
                }
            }
        }
    }

    /// Registers the names of declarations that did not parse (already reported), so
    /// that their uses resolve to the error type instead of each reporting an unknown
    /// name. Maps go in after the real maps (`maps`), everything else before them.
    fn declare_broken(&mut self, files: &[(FileId, syntax::File)], maps: bool) {
        for (file, tree) in files {
            for item in &tree.items {
                let Item::Error(broken) = item else { continue };
                let (Some(keyword), Some(name)) = (&broken.keyword, &broken.name) else {
                    continue;
                };
                let loc = Loc::new(*file, name.span);
                let program = &mut self.program;
                match (keyword.as_str(), maps) {
                    ("schema" | "enum", false) => {
                        program
                            .types
                            .entry(name.name.clone())
                            .or_insert(TypeSymbol::Broken(loc));
                    }
                    ("connection", false) => {
                        program
                            .connections
                            .entry(name.name.clone())
                            .or_insert(Connection { kind: None, loc });
                    }
                    ("flow", false) => {
                        program.flows.entry(name.name.clone()).or_insert(loc);
                    }
                    ("environment", false) => {
                        program.environments.entry(name.name.clone()).or_insert(loc);
                    }
                    ("map", true) => {
                        program
                            .maps
                            .entry(name.name.clone())
                            .or_insert(MapSignature {
                                source: Type::Error,
                                target: Type::Error,
                                loc,
                            });
                    }
                    _ => {}
                }
            }
        }
    }

    fn resolve_schemas(&mut self, files: &[(FileId, syntax::File)]) {
        for (file, tree) in files {
            for item in &tree.items {
                let Item::Schema(decl) = item else { continue };
                let Some(TypeSymbol::Schema(id)) = self.program.types.get(&decl.name.name).cloned()
                else {
                    continue;
                };
                let Some(schema) = self.program.schemas.get(id.0 as usize) else {
                    continue;
                };
                if schema.loc != Loc::new(*file, decl.name.span) {
                    continue; // a duplicate, already reported
                }
                let record = match &decl.body {
                    SchemaBody::Fields(fields) => self.record(fields, *file),
                    SchemaBody::Import(path) => {
                        let base_dir = self
                            .db
                            .get(*file)
                            .path
                            .parent()
                            .map(Path::to_path_buf)
                            .unwrap_or_default();
                        let (record, diagnostics) = import::import_schema(
                            self.db,
                            Loc::new(*file, path.span),
                            &base_dir,
                            &path.value,
                        );
                        self.diagnostics.extend(diagnostics);
                        match record {
                            Some(record) => record,
                            None => {
                                // Later uses get the error type, so one broken import is one error.
                                let loc = Loc::new(*file, decl.name.span);
                                self.program
                                    .types
                                    .insert(decl.name.name.clone(), TypeSymbol::Broken(loc));
                                continue;
                            }
                        }
                    }
                };
                if let Some(schema) = self.program.schemas.get_mut(id.0 as usize) {
                    schema.record = Rc::new(record);
                }
            }
        }
    }

    fn resolve_signatures(&mut self, files: &[(FileId, syntax::File)]) {
        for (file, tree) in files {
            for item in &tree.items {
                let Item::Map(decl) = item else { continue };
                let source = self.resolve_type(&decl.source, *file);
                let target = self.resolve_type(&decl.target, *file);
                for (ty, written, role) in [
                    (&source, &decl.source, "source"),
                    (&target, &decl.target, "target"),
                ] {
                    if !ty.is_error() && self.program.record(ty).is_none() || ty.is_optional() {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                Loc::new(*file, written.span),
                                format!(
                                    "the {role} of a map must be a schema or record, not `{ty}`"
                                ),
                            )
                            .with_label(format!("`{ty}` has no fields"))
                            .with_note(
                                "maps turn one record into another; declare a schema for it",
                            ),
                        );
                    }
                }
                let loc = Loc::new(*file, decl.name.span);
                let signature = MapSignature {
                    source,
                    target,
                    loc,
                };
                declare_name(
                    &mut self.program.maps,
                    &mut self.diagnostics,
                    "map",
                    &decl.name,
                    loc,
                    signature,
                    |m| m.loc,
                );
            }
        }
    }

    fn record(&mut self, fields: &[FieldDecl], file: FileId) -> RecordType {
        record_of(&self.program, fields, file, &mut self.diagnostics)
    }

    fn resolve_type(&mut self, ty: &TypeExpr, file: FileId) -> Type {
        type_of(&self.program, ty, file, &mut self.diagnostics)
    }

    /// Reports schemas that contain themselves through required, non-list fields: no
    /// finite record could ever satisfy them.
    fn find_infinite_schemas(&mut self) {
        let mut graph = DiGraphMap::<u32, ()>::new();
        for (index, schema) in self.program.schemas.iter().enumerate() {
            graph.add_node(index as u32);
            let mut targets = Vec::new();
            required_refs(&schema.record, &mut targets);
            for target in targets {
                graph.add_edge(index as u32, target.0, ());
            }
        }
        for component in petgraph::algo::tarjan_scc(&graph) {
            let first = component.first().copied().unwrap_or_default();
            let cyclic = component.len() > 1 || graph.contains_edge(first, first);
            if !cyclic {
                continue;
            }
            let names: Vec<&str> = component
                .iter()
                .rev()
                .filter_map(|i| self.program.schemas.get(*i as usize))
                .map(|s| s.name.as_str())
                .collect();
            if let Some(schema) = self.program.schemas.get(first as usize) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::InfiniteSchema,
                        schema.loc,
                        format!(
                            "schema `{}` contains itself through required fields ({} -> {})",
                            schema.name,
                            names.join(" -> "),
                            names.first().unwrap_or(&"")
                        ),
                    )
                    .with_label("no finite record can have this type")
                    .with_note(
                        "make one of the fields on the cycle optional (`T?`) or a list (`[T]`)",
                    ),
                );
            }
        }
    }
}

/// Schemas a record refers to through required, non-list fields.
fn required_refs(record: &RecordType, out: &mut Vec<SchemaId>) {
    for field in &record.fields {
        match &field.ty {
            Type::Schema(id, _) => out.push(*id),
            Type::Record(inner) => required_refs(inner, out),
            _ => {}
        }
    }
}

fn symbol_loc(symbol: &TypeSymbol, schemas: &[Schema]) -> Loc {
    match symbol {
        TypeSymbol::Schema(id) => schemas
            .get(id.0 as usize)
            .map(|s| s.loc)
            .unwrap_or(Loc::new(FileId(0), Default::default())),
        TypeSymbol::Enum(_, loc) | TypeSymbol::Broken(loc) => *loc,
    }
}

fn check_variants(
    variants: &[Variant],
    file: FileId,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut seen: Vec<&Variant> = Vec::new();
    for variant in variants {
        if let Some(first) = seen.iter().find(|v| v.name == variant.name) {
            diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateVariant,
                    Loc::new(file, variant.span),
                    format!("enum variant `{}` is declared twice", variant.name),
                )
                .with_label("second declaration")
                .with_secondary(Loc::new(file, first.span), "first declared here")
                .with_note("remove the duplicate"),
            );
        } else {
            seen.push(variant);
        }
    }
    seen.into_iter().map(|v| v.name.clone()).collect()
}

/// The record type of written fields, reporting duplicates and unknown types.
pub fn record_of(
    program: &Program,
    fields: &[FieldDecl],
    file: FileId,
    diagnostics: &mut Vec<Diagnostic>,
) -> RecordType {
    let mut record = RecordType::default();
    for field in fields {
        if let Some(first) = record.field(&field.name.name) {
            diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateField,
                    Loc::new(file, field.name.span),
                    format!("field `{}` is declared twice", field.name.name),
                )
                .with_label("second declaration")
                .with_secondary(first.loc, "first declared here")
                .with_note("remove one, or rename it"),
            );
            continue;
        }
        let ty = type_of(program, &field.ty, file, diagnostics);
        record.fields.push(Field {
            name: field.name.name.clone(),
            ty,
            doc: field.doc.clone(),
            loc: Loc::new(file, field.name.span),
        });
    }
    record
}

/// The semantic type of a written type, reporting unknown names.
pub fn type_of(
    program: &Program,
    ty: &TypeExpr,
    file: FileId,
    diagnostics: &mut Vec<Diagnostic>,
) -> Type {
    match &ty.kind {
        TypeExprKind::Named(name) => named(program, name, file, diagnostics),
        TypeExprKind::Record(fields) => {
            Type::Record(Rc::new(record_of(program, fields, file, diagnostics)))
        }
        TypeExprKind::List(inner) => {
            Type::List(Box::new(type_of(program, inner, file, diagnostics)))
        }
        TypeExprKind::Optional(inner) => type_of(program, inner, file, diagnostics).optional(),
        TypeExprKind::Enum(variants) => {
            let variants = check_variants(variants, file, diagnostics);
            Type::Enum(Rc::new(EnumType {
                name: None,
                variants,
            }))
        }
        TypeExprKind::Error => Type::Error,
    }
}

fn named(program: &Program, name: &Ident, file: FileId, diagnostics: &mut Vec<Diagnostic>) -> Type {
    match name.name.as_str() {
        "String" => return Type::String,
        "Int" => return Type::Int,
        "Decimal" => return Type::Decimal,
        "Float" => return Type::Float,
        "Bool" => return Type::Bool,
        "Date" => return Type::Date,
        "Timestamp" => return Type::Timestamp,
        "Json" => return Type::Json,
        _ => {}
    }
    match program.types.get(&name.name) {
        Some(TypeSymbol::Schema(id)) => Type::Schema(*id, name.name.as_str().into()),
        Some(TypeSymbol::Enum(e, _)) => Type::Enum(e.clone()),
        Some(TypeSymbol::Broken(_)) => Type::Error,
        None => {
            let loc = Loc::new(file, name.span);
            let candidates = SCALARS
                .iter()
                .copied()
                .chain(program.types.keys().map(String::as_str));
            let mut d = Diagnostic::new(
                Code::UnknownType,
                loc,
                format!("unknown type `{}`", name.name),
            )
            .with_label("no schema, enum or built-in type has this name")
            .with_note(
                "built-in types are String, Int, Decimal, Float, Bool, Date, Timestamp and Json",
            );
            if let Some(best) = suggest(&name.name, candidates) {
                d = d.with_fix(format!("did you mean `{best}`?"), loc, best);
            }
            diagnostics.push(d);
            Type::Error
        }
    }
}
