//! What is at an offset: a read-only walk over one file's syntax tree that finds the
//! name under the cursor and what it refers to, with the types of the variables in
//! scope there. Types come from the compiler's resolved program; nothing is checked.

use weft_compiler::builtins::{self, Shape};
use weft_compiler::resolve::{self, Program, TypeSymbol};
use weft_compiler::source::{FileId, Span};
use weft_compiler::syntax::{
    BinaryOp, Expr, ExprKind, FieldDecl, File, Ident, Item, OpCall, SchemaBody, StepKind, StrPart,
    TestStmtKind, Trigger, TypeExpr, TypeExprKind, UnaryOp,
};
use weft_compiler::types::Type;

/// What a name refers to.
#[derive(Debug, Clone)]
pub enum Symbol {
    /// A schema, enum or built-in type name.
    Type(String),
    /// A connector kind, such as `http`.
    ConnectorKind(String),
    /// A connection.
    Connection(String),
    /// An operation of a connection: `erp.get`.
    Operation {
        /// The connection.
        connection: String,
        /// The operation.
        operation: String,
    },
    /// A map.
    Map(String),
    /// A flow.
    Flow(String),
    /// An environment.
    Environment(String),
    /// A built-in function.
    Function(String),
    /// A field of a record type: in a path, a map target or a schema declaration.
    Field {
        /// The record (or schema) type that has the field.
        owner: Type,
        /// The field name.
        name: String,
    },
    /// A map, lambda or `where` parameter.
    Variable {
        /// Its name.
        name: String,
        /// Its type, `Error` when unknown.
        ty: Type,
        /// Where it is declared.
        decl: Span,
    },
}

/// A variable in scope: name, type, declaration.
pub type Binding = (String, Type, Span);

/// The name under the cursor.
#[derive(Debug, Clone)]
pub struct Hit {
    /// What it refers to.
    pub symbol: Symbol,
    /// The name as written.
    pub span: Span,
    /// The variables in scope there, innermost last.
    pub scope: Vec<Binding>,
    /// The item the name is in: its index in the file.
    pub item: usize,
}

/// The name at `offset` in `tree` (a cursor just after a name counts as on it).
pub fn find(program: &Program, file: FileId, tree: &File, offset: usize) -> Option<Hit> {
    let walker = Walker {
        program,
        file,
        offset,
    };
    tree.items
        .iter()
        .enumerate()
        .filter(|(_, item)| covers(item.span(), offset))
        .find_map(|(index, item)| {
            let mut hit = walker.item(item)?;
            hit.item = index;
            Some(hit)
        })
}

fn covers(span: Span, offset: usize) -> bool {
    span.start <= offset && offset <= span.end
}

/// The item whose span holds `offset`.
pub fn item_at(tree: &File, offset: usize) -> Option<&Item> {
    tree.items.iter().find(|item| covers(item.span(), offset))
}

struct Walker<'a> {
    program: &'a Program,
    file: FileId,
    offset: usize,
}

impl Walker<'_> {
    fn hit(&self, ident: &Ident, symbol: impl FnOnce() -> Symbol) -> Option<Hit> {
        self.hit_in(ident, &[], symbol)
    }

    fn hit_in(
        &self,
        ident: &Ident,
        scope: &[Binding],
        symbol: impl FnOnce() -> Symbol,
    ) -> Option<Hit> {
        covers(ident.span, self.offset).then(|| Hit {
            symbol: symbol(),
            span: ident.span,
            scope: scope.to_vec(),
            item: 0,
        })
    }

    fn item(&self, item: &Item) -> Option<Hit> {
        match item {
            Item::Schema(d) => {
                if let Some(hit) = self.hit(&d.name, || Symbol::Type(d.name.name.clone())) {
                    return Some(hit);
                }
                match &d.body {
                    SchemaBody::Fields(fields) => {
                        self.fields(fields, &named_type(self.program, &d.name.name))
                    }
                    SchemaBody::Import(_) => None,
                }
            }
            Item::Enum(d) => self.hit(&d.name, || Symbol::Type(d.name.name.clone())),
            Item::Connection(d) => self
                .hit(&d.name, || Symbol::Connection(d.name.name.clone()))
                .or_else(|| self.hit(&d.kind, || Symbol::ConnectorKind(d.kind.name.clone()))),
            Item::Map(d) => {
                let source = self.resolve(&d.source);
                let target = self.resolve(&d.target);
                let scope = vec![(d.param.name.clone(), source.clone(), d.param.span)];
                if let Some(hit) = self
                    .hit(&d.name, || Symbol::Map(d.name.name.clone()))
                    .or_else(|| {
                        self.hit(&d.param, || Symbol::Variable {
                            name: d.param.name.clone(),
                            ty: source.clone(),
                            decl: d.param.span,
                        })
                    })
                    .or_else(|| self.type_expr(&d.source, Some(&source)))
                    .or_else(|| self.type_expr(&d.target, Some(&target)))
                {
                    return Some(hit);
                }
                for assignment in &d.assignments {
                    if !covers(assignment.span, self.offset) {
                        continue;
                    }
                    let mut owner = target.clone();
                    for segment in &assignment.target {
                        if let Some(hit) = self.hit(segment, || Symbol::Field {
                            owner: owner.clone(),
                            name: segment.name.clone(),
                        }) {
                            return Some(hit);
                        }
                        owner = field_type(self.program, &owner, &segment.name);
                    }
                    if let Some(hit) = self.expr(&assignment.value, &scope) {
                        return Some(hit);
                    }
                }
                None
            }
            Item::Flow(d) => {
                if let Some(hit) = self.hit(&d.name, || Symbol::Flow(d.name.name.clone())) {
                    return Some(hit);
                }
                let mut record = Type::Error;
                for step in &d.steps {
                    let inside = covers(step.span, self.offset);
                    let hit = match &step.kind {
                        StepKind::Trigger(Trigger::After(flow)) if inside => {
                            self.hit(flow, || Symbol::Flow(flow.name.clone()))
                        }
                        StepKind::Read(call, ty) => {
                            let resolved = self.resolve(ty);
                            record = match (&ty.kind, resolved) {
                                (TypeExprKind::List(_), Type::List(inner)) => *inner,
                                (_, other) => other,
                            };
                            inside
                                .then(|| self.op_call(call).or_else(|| self.type_expr(ty, None)))
                                .flatten()
                        }
                        StepKind::Where(param, cond) if inside => {
                            let scope = vec![(param.name.clone(), record.clone(), param.span)];
                            self.hit(param, || Symbol::Variable {
                                name: param.name.clone(),
                                ty: record.clone(),
                                decl: param.span,
                            })
                            .or_else(|| self.expr(cond, &scope))
                        }
                        StepKind::Map(name) => {
                            record = self
                                .program
                                .maps
                                .get(&name.name)
                                .map_or(Type::Error, |m| m.target.clone());
                            self.hit(name, || Symbol::Map(name.name.clone()))
                        }
                        StepKind::Call(call, ty) => {
                            record = ty.as_ref().map_or(Type::Json, |t| self.resolve(t));
                            inside
                                .then(|| {
                                    self.op_call(call).or_else(|| {
                                        ty.as_ref().and_then(|t| self.type_expr(t, None))
                                    })
                                })
                                .flatten()
                        }
                        StepKind::Write(call, ty) if inside => self
                            .op_call(call)
                            .or_else(|| ty.as_ref().and_then(|t| self.type_expr(t, None))),
                        _ => None,
                    };
                    if hit.is_some() {
                        return hit;
                    }
                }
                None
            }
            Item::Environment(d) => self
                .hit(&d.name, || Symbol::Environment(d.name.name.clone()))
                .or_else(|| {
                    d.bindings.iter().find_map(|b| {
                        self.hit(&b.connection, || {
                            Symbol::Connection(b.connection.name.clone())
                        })
                        .or_else(|| {
                            self.hit(&b.kind, || Symbol::ConnectorKind(b.kind.name.clone()))
                        })
                    })
                }),
            Item::Test(d) => d.statements.iter().find_map(|s| match &s.kind {
                TestStmtKind::Mock { call, .. } | TestStmtKind::ExpectCalled { call, .. } => {
                    self.op_call(call)
                }
                TestStmtKind::Run(flow, _) => self.hit(flow, || Symbol::Flow(flow.name.clone())),
                TestStmtKind::Snapshot(map, _) | TestStmtKind::Property(map, _) => {
                    self.hit(map, || Symbol::Map(map.name.clone()))
                }
                _ => None,
            }),
            Item::Promotion(d) => d
                .chain
                .iter()
                .chain(d.rules.iter().map(|r| &r.environment))
                .find_map(|env| self.hit(env, || Symbol::Environment(env.name.clone()))),
            Item::Rollback(d) => self
                .hit(&d.flow, || Symbol::Flow(d.flow.name.clone()))
                .or_else(|| {
                    self.hit(&d.environment, || {
                        Symbol::Environment(d.environment.name.clone())
                    })
                }),
            Item::Error(_) => None,
        }
    }

    fn resolve(&self, ty: &TypeExpr) -> Type {
        resolve::type_of(self.program, ty, self.file, &mut Vec::new())
    }

    fn fields(&self, fields: &[FieldDecl], owner: &Type) -> Option<Hit> {
        fields.iter().find_map(|field| {
            self.hit(&field.name, || Symbol::Field {
                owner: owner.clone(),
                name: field.name.name.clone(),
            })
            .or_else(|| {
                let ty = field_type(self.program, owner, &field.name.name);
                self.type_expr(&field.ty, Some(&ty))
            })
        })
    }

    /// A written type; `ty` is its meaning, when known, for the fields of inline records.
    fn type_expr(&self, ty: &TypeExpr, meaning: Option<&Type>) -> Option<Hit> {
        if !covers(ty.span, self.offset) {
            return None;
        }
        match &ty.kind {
            TypeExprKind::Named(name) => self.hit(name, || Symbol::Type(name.name.clone())),
            TypeExprKind::Record(fields) => {
                let owner = meaning.cloned().unwrap_or(Type::Error);
                self.fields(fields, owner.unwrap_optional())
            }
            TypeExprKind::List(inner) => {
                let element = meaning.map(element);
                self.type_expr(inner, element.as_ref())
            }
            TypeExprKind::Optional(inner) => {
                self.type_expr(inner, meaning.map(Type::unwrap_optional))
            }
            TypeExprKind::Enum(_) | TypeExprKind::Error => None,
        }
    }

    fn op_call(&self, call: &OpCall) -> Option<Hit> {
        self.hit(&call.connection, || {
            Symbol::Connection(call.connection.name.clone())
        })
        .or_else(|| {
            self.hit(&call.operation, || Symbol::Operation {
                connection: call.connection.name.clone(),
                operation: call.operation.name.clone(),
            })
        })
    }

    fn expr(&self, expr: &Expr, scope: &[Binding]) -> Option<Hit> {
        if !covers(expr.span, self.offset) {
            return None;
        }
        match &expr.kind {
            ExprKind::Var(name) => self.hit_in(name, scope, || {
                let (ty, decl) = lookup(scope, &name.name)
                    .map_or((Type::Error, name.span), |(_, ty, decl)| {
                        (ty.clone(), *decl)
                    });
                Symbol::Variable {
                    name: name.name.clone(),
                    ty,
                    decl,
                }
            }),
            ExprKind::Field(base, name) => self
                .hit_in(name, scope, || Symbol::Field {
                    owner: type_of(self.program, base, scope),
                    name: name.name.clone(),
                })
                .or_else(|| self.expr(base, scope)),
            ExprKind::Call(name, args) => {
                if let Some(hit) = self.hit_in(name, scope, || {
                    if self.program.maps.contains_key(&name.name) {
                        Symbol::Map(name.name.clone())
                    } else {
                        Symbol::Function(name.name.clone())
                    }
                }) {
                    return Some(hit);
                }
                let item = lambda_item(self.program, &name.name, args, scope);
                args.iter().find_map(|arg| match &arg.kind {
                    ExprKind::Lambda(param, body) => {
                        let mut inner = scope.to_vec();
                        inner.push((param.name.clone(), item.clone(), param.span));
                        self.hit_in(param, &inner, || Symbol::Variable {
                            name: param.name.clone(),
                            ty: item.clone(),
                            decl: param.span,
                        })
                        .or_else(|| self.expr(body, &inner))
                    }
                    _ => self.expr(arg, scope),
                })
            }
            ExprKind::Lambda(param, body) => {
                let mut inner = scope.to_vec();
                inner.push((param.name.clone(), Type::Error, param.span));
                self.expr(body, &inner)
            }
            ExprKind::Str(parts) => parts.iter().find_map(|part| match part {
                StrPart::Interpolation(e) => self.expr(e, scope),
                StrPart::Text(_) => None,
            }),
            ExprKind::List(items) => items.iter().find_map(|e| self.expr(e, scope)),
            ExprKind::Unary(_, e) => self.expr(e, scope),
            ExprKind::Binary(_, a, b) => self.expr(a, scope).or_else(|| self.expr(b, scope)),
            ExprKind::If(c, a, b) => self
                .expr(c, scope)
                .or_else(|| self.expr(a, scope))
                .or_else(|| self.expr(b, scope)),
            _ => None,
        }
    }
}

/// The declaration of a named item (schema, enum, connection, map, flow or
/// environment) in any file of the analysis.
pub fn declaration<'a>(
    files: &'a [(FileId, File)],
    kind: DeclKind,
    name: &str,
) -> Option<(FileId, &'a Item)> {
    files.iter().find_map(|(file, tree)| {
        tree.items
            .iter()
            .find(|item| {
                let (k, n) = match item {
                    Item::Schema(d) => (DeclKind::Type, &d.name),
                    Item::Enum(d) => (DeclKind::Type, &d.name),
                    Item::Connection(d) => (DeclKind::Connection, &d.name),
                    Item::Map(d) => (DeclKind::Map, &d.name),
                    Item::Flow(d) => (DeclKind::Flow, &d.name),
                    Item::Environment(d) => (DeclKind::Environment, &d.name),
                    _ => return false,
                };
                k == kind && n.name == name
            })
            .map(|item| (*file, item))
    })
}

/// The namespaces of declarations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclKind {
    /// Schemas and enums.
    Type,
    /// Connections.
    Connection,
    /// Maps.
    Map,
    /// Flows.
    Flow,
    /// Environments.
    Environment,
}

/// The innermost variable of this name.
pub fn lookup<'a>(scope: &'a [Binding], name: &str) -> Option<&'a Binding> {
    scope.iter().rev().find(|(n, _, _)| n == name)
}

/// The type of a schema or enum by name; `Error` when unknown.
pub fn named_type(program: &Program, name: &str) -> Type {
    match program.types.get(name) {
        Some(TypeSymbol::Schema(id)) => Type::Schema(*id, name.into()),
        Some(TypeSymbol::Enum(e, _)) => Type::Enum(e.clone()),
        _ => Type::Error,
    }
}

/// The type of a field of a record type (through an optional); `Error` when unknown.
pub fn field_type(program: &Program, owner: &Type, name: &str) -> Type {
    program
        .record(owner)
        .and_then(|r| r.field(name).map(|f| f.ty.clone()))
        .unwrap_or(Type::Error)
}

/// The item type of a list (through an optional); `Error` for anything else.
pub fn element(ty: &Type) -> Type {
    match ty.unwrap_optional() {
        Type::List(inner) => (**inner).clone(),
        _ => Type::Error,
    }
}

/// Built-ins whose lambda argument takes the items of their first argument.
const LIST_FUNCTIONS: &[&str] = &["sum", "count", "map", "filter", "any", "all"];

/// The type a lambda parameter of a call gets: the item type of the call's list.
pub fn lambda_item(program: &Program, function: &str, args: &[Expr], scope: &[Binding]) -> Type {
    if !LIST_FUNCTIONS.contains(&function) || program.maps.contains_key(function) {
        return Type::Error;
    }
    args.first()
        .map_or(Type::Error, |list| element(&type_of(program, list, scope)))
}

/// The type of an expression, as far as hover and completion need it: paths,
/// map applications and the built-ins. `Error` when unknown.
pub fn type_of(program: &Program, expr: &Expr, scope: &[Binding]) -> Type {
    match &expr.kind {
        ExprKind::Var(name) => {
            lookup(scope, &name.name).map_or(Type::Error, |(_, ty, _)| ty.clone())
        }
        ExprKind::Field(base, name) => {
            field_type(program, &type_of(program, base, scope), &name.name)
        }
        ExprKind::Call(name, args) => call_type(program, &name.name, args, scope),
        ExprKind::Str(_) => Type::String,
        ExprKind::Int(_) => Type::Int,
        ExprKind::Decimal(_) => Type::Decimal,
        ExprKind::Bool(_) => Type::Bool,
        ExprKind::Null => Type::Null,
        ExprKind::List(items) => Type::List(Box::new(
            items
                .first()
                .map_or(Type::Error, |e| type_of(program, e, scope)),
        )),
        ExprKind::Unary(UnaryOp::Not, _) => Type::Bool,
        ExprKind::Unary(UnaryOp::Neg, e) => type_of(program, e, scope),
        ExprKind::Binary(BinaryOp::Default, a, b) => {
            let right = type_of(program, b, scope);
            if right.is_optional() {
                right
            } else {
                let left = type_of(program, a, scope);
                if left.is_error() {
                    right
                } else {
                    left.unwrap_optional().clone()
                }
            }
        }
        ExprKind::Binary(
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem,
            a,
            _,
        ) => type_of(program, a, scope),
        ExprKind::Binary(..) => Type::Bool,
        ExprKind::If(_, a, b) => {
            let (left, right) = (type_of(program, a, scope), type_of(program, b, scope));
            match (&left, &right) {
                (Type::Null, other) | (other, Type::Null) => other.clone().optional(),
                (Type::Error, other) => other.clone(),
                _ => left,
            }
        }
        ExprKind::Lambda(..) | ExprKind::Error => Type::Error,
    }
}

fn call_type(program: &Program, name: &str, args: &[Expr], scope: &[Binding]) -> Type {
    if let Some(map) = program.maps.get(name) {
        return map.target.clone();
    }
    let arg = |i: usize| {
        args.get(i)
            .map_or(Type::Error, |e| type_of(program, e, scope))
    };
    let lambda_body = || {
        let item = lambda_item(program, name, args, scope);
        match args.get(1).map(|e| &e.kind) {
            Some(ExprKind::Lambda(param, body)) => {
                let mut inner = scope.to_vec();
                inner.push((param.name.clone(), item, param.span));
                type_of(program, body, &inner)
            }
            _ => Type::Error,
        }
    };
    match name {
        "first" => element(&arg(0)).optional(),
        "filter" => arg(0),
        "map" => Type::List(Box::new(lambda_body())),
        "sum" => lambda_body(),
        "min" | "max" | "abs" | "round" => arg(0),
        "coalesce" => args
            .last()
            .map_or(Type::Error, |e| type_of(program, e, scope)),
        _ => match builtins::lookup(name).map(|b| b.shape) {
            Some(Shape::Fixed { result, .. }) => result.ty(),
            Some(Shape::Generic(_)) => match name {
                "to_string" => Type::String,
                "count" | "size" | "floor" | "ceil" => Type::Int,
                "is_empty" | "any" | "all" => Type::Bool,
                _ => Type::Error,
            },
            None => Type::Error,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_compiler::analysis::check_files;

    /// The symbol at the `$0` marker of `source`, rendered short.
    fn check(source: &str, expect: &str) {
        let offset = source.find("$0").unwrap_or_default();
        let text = source.replace("$0", "");
        let analysis = check_files(&[("t.weft".into(), "t.weft".into(), text)], None);
        let (file, tree) = &analysis.files[0];
        let found = find(&analysis.program, *file, tree, offset).map(|hit| match hit.symbol {
            Symbol::Field { owner, name } => format!("field {name} of {owner}"),
            Symbol::Variable { name, ty, .. } => format!("var {name}: {ty}"),
            other => format!("{other:?}"),
        });
        assert_eq!(found.as_deref().unwrap_or("nothing"), expect);
    }

    const SCHEMAS: &str = "schema A { name: String, sub: { city: String }, items: [B] }\nschema B { qty: Int }\nschema T { out: String, n: Int }\n";

    #[test]
    fn path_fields_and_variables() {
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{ out = a.sub.ci$0ty\n n = 1 }}"),
            "field city of { city: String }",
        );
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{ out = a$0.name\n n = 1 }}"),
            "var a: A",
        );
        check(
            &format!(
                "{SCHEMAS}map m(a: A) -> T {{ out = a.name\n n = sum(a.items, i => i.q$0ty) }}"
            ),
            "field qty of B",
        );
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{ out = \"x ${{a.na$0me}}\"\n n = 1 }}"),
            "field name of A",
        );
    }

    #[test]
    fn targets_and_declarations() {
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{ o$0ut = a.name\n n = 1 }}"),
            "field out of T",
        );
        check(
            &format!("{SCHEMAS}map m(a: A) -> $0T {{ out = a.name\n n = 1 }}"),
            "Type(\"T\")",
        );
        check(
            &format!("{SCHEMAS}map m$0(a: A) -> T {{ out = a.name\n n = 1 }}"),
            "Map(\"m\")",
        );
        check("schema A { na$0me: String }", "field name of A");
        check(
            "schema A { sub: { ci$0ty: String } }",
            "field city of { city: String }",
        );
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{ out = tr$0im(a.name)\n n = 1 }}"),
            "Function(\"trim\")",
        );
    }

    #[test]
    fn flows() {
        let flow = format!("{SCHEMAS}connection src: http\nmap m(a: A) -> T {{ out = a.name\n n = 1 }}\nflow f {{\n trigger manual\n read src.get(\"/\") as [A]\n where x => x.na$0me != \"\"\n map m\n}}");
        check(&flow, "field name of A");
        check(
            &flow
                .replace("x.na$0me", "x.name")
                .replace("map m\n}", "map $0m\n}"),
            "Map(\"m\")",
        );
        check(
            &flow
                .replace("x.na$0me", "x.name")
                .replace("src.get", "src.g$0et"),
            "Operation { connection: \"src\", operation: \"get\" }",
        );
    }
}
