//! `textDocument/hover`: kind, signature and doc comment of the name under the cursor.

use std::fmt::Write as _;

use tower_lsp_server::ls_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position};
use weft_compiler::analysis::Analysis;
use weft_compiler::builtins;
use weft_compiler::connectors::{self, ConnectorKind, Role};
use weft_compiler::resolve::{TypeSymbol, SCALARS};
use weft_compiler::source::FileId;
use weft_compiler::syntax::{Item, SchemaBody};

use crate::lookup::{self, DeclKind, Symbol};
use crate::position::LineIndex;
use crate::world::Snapshot;

/// Schemas with more fields than this show the first ones and a count.
const MAX_FIELDS: usize = 40;

/// The hover of the name at `position`, if it names something.
pub fn hover(
    snapshot: &Snapshot,
    analysis: &Analysis,
    file: FileId,
    position: Position,
) -> Option<Hover> {
    let index = LineIndex::new(snapshot.text(analysis, file));
    let offset = index.offset(position);
    let (_, tree) = analysis.files.iter().find(|(id, _)| *id == file)?;
    let hit = lookup::find(&analysis.program, file, tree, offset)?;
    let value = describe(analysis, &hit.symbol)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(index.range(hit.span)),
    })
}

/// Markdown for a symbol: a `weft` code block with its signature, then its docs.
pub fn describe(analysis: &Analysis, symbol: &Symbol) -> Option<String> {
    let program = &analysis.program;
    let files = &analysis.files;
    let doc_of = |kind: DeclKind, name: &str| -> Option<String> {
        let (_, item) = lookup::declaration(files, kind, name)?;
        match item {
            Item::Schema(d) => d.doc.clone(),
            Item::Enum(d) => d.doc.clone(),
            Item::Connection(d) => d.doc.clone(),
            Item::Map(d) => d.doc.clone(),
            Item::Flow(d) => d.doc.clone(),
            Item::Environment(d) => d.doc.clone(),
            _ => None,
        }
    };
    let (code, doc, extra) = match symbol {
        Symbol::Type(name) if SCALARS.contains(&name.as_str()) => {
            (name.clone(), Some(scalar_doc(name).to_string()), None)
        }
        Symbol::Type(name) => match program.types.get(name)? {
            TypeSymbol::Schema(id) => {
                let schema = program.schemas.get(id.0 as usize)?;
                let import = lookup::declaration(files, DeclKind::Type, name).and_then(
                    |(_, item)| match item {
                        Item::Schema(d) => match &d.body {
                            SchemaBody::Import(path) => Some(path.value.clone()),
                            SchemaBody::Fields(_) => None,
                        },
                        _ => None,
                    },
                );
                let mut code = format!("schema {}", name_text(name));
                if let Some(path) = &import {
                    let _ = write!(code, " from {path:?}");
                }
                code.push_str(" {\n");
                for field in schema.record.fields.iter().take(MAX_FIELDS) {
                    let _ = writeln!(code, "  {}: {}", name_text(&field.name), field.ty);
                }
                if schema.record.fields.len() > MAX_FIELDS {
                    let _ = writeln!(
                        code,
                        "  // {} more fields",
                        schema.record.fields.len() - MAX_FIELDS
                    );
                }
                code.push('}');
                (code, schema.doc.clone(), None)
            }
            TypeSymbol::Enum(e, _) => {
                let variants: Vec<String> = e.variants.iter().map(|v| variant_text(v)).collect();
                (
                    format!("enum {} {{ {} }}", name_text(name), variants.join(", ")),
                    doc_of(DeclKind::Type, name),
                    None,
                )
            }
            TypeSymbol::Broken(_) => (
                format!("schema {}", name_text(name)),
                Some("This schema could not be imported; see its diagnostics.".to_string()),
                None,
            ),
        },
        Symbol::ConnectorKind(kind) => {
            let kind = connectors::kind(kind)?;
            (
                kind.name.to_string(),
                Some("Connector kind.".to_string()),
                Some(operations(kind, None)),
            )
        }
        Symbol::Connection(name) => {
            let connection = program.connections.get(name)?;
            let kind = connection.kind.map_or("?", |k| k.name);
            (
                format!("connection {name}: {kind}"),
                doc_of(DeclKind::Connection, name),
                connection.kind.map(|k| operations(k, Some(name))),
            )
        }
        Symbol::Operation {
            connection,
            operation,
        } => {
            let kind = program.connections.get(connection)?.kind?;
            let op = kind.operation(operation)?;
            (
                format!("{connection}.{}({})", op.name, op.params.join(", ")),
                Some(format!("{}.", capitalise(op.doc))),
                Some(format!("Usable in {}.", role_text(op.role))),
            )
        }
        Symbol::Map(name) => {
            let map = program.maps.get(name)?;
            let param = lookup::declaration(files, DeclKind::Map, name)
                .and_then(|(_, item)| match item {
                    Item::Map(d) => Some(d.param.name.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "x".to_string());
            (
                format!("map {name}({param}: {}) -> {}", map.source, map.target),
                doc_of(DeclKind::Map, name),
                None,
            )
        }
        Symbol::Flow(name) => {
            program.flows.get(name)?;
            let steps = analysis
                .typed
                .flows
                .iter()
                .find(|f| &f.name == name)
                .map(|flow| {
                    let mut out = String::from("Records after each step:\n");
                    for step in &flow.steps {
                        let _ = writeln!(out, "- `{}`: `{}`", step.text, step.record);
                    }
                    out
                });
            (format!("flow {name}"), doc_of(DeclKind::Flow, name), steps)
        }
        Symbol::Environment(name) => {
            program.environments.get(name)?;
            let bindings =
                lookup::declaration(files, DeclKind::Environment, name).and_then(|(_, item)| {
                    match item {
                        Item::Environment(d) if !d.bindings.is_empty() => {
                            let mut out = String::from("Bindings:\n");
                            for b in &d.bindings {
                                let _ = writeln!(
                                    out,
                                    "- `{} = {}(...)`",
                                    b.connection.name, b.kind.name
                                );
                            }
                            Some(out)
                        }
                        _ => None,
                    }
                });
            (
                format!("environment {name}"),
                doc_of(DeclKind::Environment, name),
                bindings,
            )
        }
        Symbol::Function(name) => {
            let builtin = builtins::lookup(name)?;
            (
                builtin.signature.to_string(),
                Some(builtin.doc.to_string()),
                Some("Built-in function.".to_string()),
            )
        }
        Symbol::Field { owner, name } => {
            let record = program.record(owner)?;
            let field = record.field(name)?;
            (
                format!("{}: {}", name_text(name), field.ty),
                field.doc.clone(),
                Some(format!("Field of `{}`.", owner.unwrap_optional())),
            )
        }
        Symbol::Variable { name, ty, .. } => {
            let code = if ty.is_error() {
                name.clone()
            } else {
                format!("{name}: {ty}")
            };
            (code, None, Some("Parameter.".to_string()))
        }
    };
    let mut out = format!("```weft\n{code}\n```");
    for part in [doc, extra].into_iter().flatten() {
        if !part.trim().is_empty() {
            out.push_str("\n\n");
            out.push_str(part.trim_end());
        }
    }
    Some(out)
}

/// A field or type name as written: backticks when it is not an identifier.
pub fn name_text(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("`{name}`")
    }
}

fn variant_text(name: &str) -> String {
    if name_text(name) == name {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn role_text(role: Role) -> &'static str {
    match role {
        Role::Source => "`read` and `call` steps",
        Role::Target => "`write` and `call` steps",
        Role::Any => "`read`, `call` and `write` steps",
    }
}

/// The operations of a kind as a list, prefixed by the connection name when given.
fn operations(kind: &ConnectorKind, connection: Option<&str>) -> String {
    let mut out = String::from("Operations:\n");
    for op in kind.operations {
        let prefix = connection.map(|c| format!("{c}.")).unwrap_or_default();
        let _ = writeln!(
            out,
            "- `{prefix}{}({})`: {}",
            op.name,
            op.params.join(", "),
            op.doc
        );
    }
    out
}

fn scalar_doc(name: &str) -> &'static str {
    match name {
        "String" => "Built-in type: text.",
        "Int" => "Built-in type: 64-bit whole number.",
        "Decimal" => "Built-in type: exact decimal number (money, quantities).",
        "Float" => "Built-in type: IEEE-754 binary64 floating-point number (measurements, scientific values).",
        "Bool" => "Built-in type: `true` or `false`.",
        "Date" => "Built-in type: calendar date, `\"2025-11-24\"` in JSON.",
        "Timestamp" => "Built-in type: instant with offset, RFC 3339 in JSON.",
        "Json" => "Built-in type: any JSON value, unchecked.",
        _ => "Built-in type.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_compiler::analysis::check_files;

    /// The hover text at the `$0` marker of `source`.
    fn check(source: &str, expect: &str) {
        let offset = source.find("$0").unwrap_or_default();
        let text = source.replace("$0", "");
        let analysis = check_files(&[("t.weft".into(), "t.weft".into(), text)], None);
        let (file, tree) = &analysis.files[0];
        let found = lookup::find(&analysis.program, *file, tree, offset)
            .and_then(|hit| describe(&analysis, &hit.symbol));
        assert_eq!(found.as_deref().unwrap_or("nothing"), expect);
    }

    const PROGRAM: &str = "/// Kinds.\nenum K { a, \"b c\" }\n/// A thing.\nschema A {\n  /// The name.\n  name: String\n  k: K?\n}\n/// Source system.\nconnection src: http\nmap m(x: A) -> A { name = x.name }\n/// Moves things.\nflow f {\n  trigger manual\n  read src.get(\"/\") as [A]\n  map m\n  write src.post(\"/\")\n}\nenvironment dev {\n  src = http(\"https://example.com\")\n}\n";

    #[test]
    fn declarations() {
        check(
            &PROGRAM.replace("-> A", "-> A$0"),
            "```weft\nschema A {\n  name: String\n  k: K?\n}\n```\n\nA thing.",
        );
        check(
            &PROGRAM.replace("k: K?", "k: K$0?"),
            "```weft\nenum K { a, \"b c\" }\n```\n\nKinds.",
        );
        check(&PROGRAM.replace("read src", "read s$0rc"), "```weft\nconnection src: http\n```\n\nSource system.\n\nOperations:\n- `src.get(path)`: GET a JSON array (or object) from `path` under the bound base URL\n- `src.post(path)`: POST each record as JSON to `path`\n- `src.put(path)`: PUT each record as JSON to `path`\n- `src.patch(path)`: PATCH each record as JSON to `path`\n- `src.delete(path)`: DELETE `path` once per record");
        check(&PROGRAM.replace("flow f", "flow f$0"), "```weft\nflow f\n```\n\nMoves things.\n\nRecords after each step:\n- `read src.get`: `A`\n- `map m`: `A`\n- `write src.post`: `A`");
        check(
            &PROGRAM.replace("environment dev", "environment d$0ev"),
            "```weft\nenvironment dev\n```\n\nBindings:\n- `src = http(...)`",
        );
        check(&PROGRAM.replace("src.post", "src.po$0st"), "```weft\nsrc.post(path)\n```\n\nPOST each record as JSON to `path`.\n\nUsable in `read`, `call` and `write` steps.");
    }

    #[test]
    fn fields_and_variables() {
        check(
            &PROGRAM.replace("= x.name", "= x.na$0me"),
            "```weft\nname: String\n```\n\nThe name.\n\nField of `A`.",
        );
        check(
            &PROGRAM.replace("= x.name", "= x$0.name"),
            "```weft\nx: A\n```\n\nParameter.",
        );
        check(
            &PROGRAM.replace("String\n", "Str$0ing\n"),
            "```weft\nString\n```\n\nBuilt-in type: text.",
        );
        check(
            &PROGRAM.replace("name: String\n", "name: String\n  w: Fl$0oat\n"),
            "```weft\nFloat\n```\n\nBuilt-in type: IEEE-754 binary64 floating-point number (measurements, scientific values).",
        );
        check(
            &PROGRAM.replace("name = x.name", "name = to_string(int_to_f$0loat(1))"),
            "```weft\nint_to_float(n: Int) -> Float\n```\n\nThe nearest Float (exact up to 2^53).\n\nBuilt-in function.",
        );
    }
}
