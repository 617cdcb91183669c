//! `textDocument/documentSymbol` (the outline of one file) and `workspace/symbol`
//! (declarations of every file of a project, by name).

use tower_lsp_server::ls_types::{DocumentSymbol, Location, SymbolInformation, SymbolKind};
use weft_compiler::analysis::Analysis;
use weft_compiler::source::{FileId, Loc, Span};
use weft_compiler::syntax::{FieldDecl, Item, SchemaBody, StepKind, TypeExprKind};

use crate::hover::name_text;
use crate::position::LineIndex;
use crate::world::Snapshot;

/// The outline of a file: declarations with their members as children.
pub fn document_symbols(
    snapshot: &Snapshot,
    analysis: &Analysis,
    file: FileId,
) -> Vec<DocumentSymbol> {
    let Some((_, tree)) = analysis.files.iter().find(|(id, _)| *id == file) else {
        return Vec::new();
    };
    let text = snapshot.text(analysis, file);
    let outline = Outline {
        index: LineIndex::new(text),
        text,
    };
    tree.items
        .iter()
        .filter_map(|item| outline.item(item))
        .collect()
}

struct Outline<'a> {
    index: LineIndex<'a>,
    text: &'a str,
}

impl Outline<'_> {
    fn symbol(
        &self,
        name: String,
        detail: Option<String>,
        kind: SymbolKind,
        span: Span,
        selection: Span,
        children: Vec<DocumentSymbol>,
    ) -> DocumentSymbol {
        // The selection must lie inside the range.
        let span = span.to(selection);
        #[allow(deprecated)] // `deprecated` is a required field of the type.
        DocumentSymbol {
            name: if name.is_empty() {
                "?".to_string()
            } else {
                name
            },
            detail,
            kind,
            tags: None,
            deprecated: None,
            range: self.index.range(span),
            selection_range: self.index.range(selection),
            children: (!children.is_empty()).then_some(children),
        }
    }

    fn source(&self, span: Span) -> String {
        let text = self.text.get(span.start..span.end).unwrap_or("");
        let flat: Vec<&str> = text.split_whitespace().collect();
        flat.join(" ")
    }

    fn fields(&self, fields: &[FieldDecl]) -> Vec<DocumentSymbol> {
        fields
            .iter()
            .map(|field| {
                let children = match &field.ty.kind {
                    TypeExprKind::Record(inner) => self.fields(inner),
                    _ => Vec::new(),
                };
                let detail = match &field.ty.kind {
                    TypeExprKind::Record(_) => "{ ... }".to_string(),
                    _ => self.source(field.ty.span),
                };
                self.symbol(
                    name_text(&field.name.name),
                    Some(detail),
                    SymbolKind::FIELD,
                    field.span,
                    field.name.span,
                    children,
                )
            })
            .collect()
    }

    fn item(&self, item: &Item) -> Option<DocumentSymbol> {
        Some(match item {
            Item::Schema(d) => {
                let (detail, children) = match &d.body {
                    SchemaBody::Fields(fields) => (None, self.fields(fields)),
                    SchemaBody::Import(path) => {
                        (Some(format!("from {:?}", path.value)), Vec::new())
                    }
                };
                self.symbol(
                    d.name.name.clone(),
                    detail,
                    SymbolKind::STRUCT,
                    d.span,
                    d.name.span,
                    children,
                )
            }
            Item::Enum(d) => {
                let children = d
                    .variants
                    .iter()
                    .map(|v| {
                        self.symbol(
                            v.name.clone(),
                            None,
                            SymbolKind::ENUM_MEMBER,
                            v.span,
                            v.span,
                            Vec::new(),
                        )
                    })
                    .collect();
                self.symbol(
                    d.name.name.clone(),
                    None,
                    SymbolKind::ENUM,
                    d.span,
                    d.name.span,
                    children,
                )
            }
            Item::Connection(d) => self.symbol(
                d.name.name.clone(),
                Some(d.kind.name.clone()),
                SymbolKind::INTERFACE,
                d.span,
                d.name.span,
                Vec::new(),
            ),
            Item::Map(d) => {
                let children = d
                    .assignments
                    .iter()
                    .filter_map(|a| {
                        let first = a.target.first()?;
                        let last = a.target.last()?;
                        let path: Vec<String> =
                            a.target.iter().map(|i| name_text(&i.name)).collect();
                        Some(self.symbol(
                            path.join("."),
                            None,
                            SymbolKind::FIELD,
                            a.span,
                            first.span.to(last.span),
                            Vec::new(),
                        ))
                    })
                    .collect();
                let detail = format!(
                    "({}: {}) -> {}",
                    d.param.name,
                    self.source(d.source.span),
                    self.source(d.target.span)
                );
                self.symbol(
                    d.name.name.clone(),
                    Some(detail),
                    SymbolKind::FUNCTION,
                    d.span,
                    d.name.span,
                    children,
                )
            }
            Item::Flow(d) => {
                let children = d
                    .steps
                    .iter()
                    .filter_map(|step| {
                        let name = match &step.kind {
                            StepKind::Trigger(_) => "trigger".to_string(),
                            StepKind::Read(call, _) => {
                                format!("read {}.{}", call.connection.name, call.operation.name)
                            }
                            StepKind::Where(param, _) => format!("where {}", param.name),
                            StepKind::Map(name) => format!("map {}", name.name),
                            StepKind::Call(call, _) => {
                                format!("call {}.{}", call.connection.name, call.operation.name)
                            }
                            StepKind::Write(call, _) => {
                                format!("write {}.{}", call.connection.name, call.operation.name)
                            }
                            StepKind::OnError(_) => "on error".to_string(),
                            StepKind::Error => return None,
                        };
                        let detail = match &step.kind {
                            StepKind::Trigger(_) | StepKind::OnError(_) => {
                                Some(self.source(step.span))
                            }
                            _ => None,
                        };
                        Some(self.symbol(
                            name,
                            detail,
                            SymbolKind::METHOD,
                            step.span,
                            step.span,
                            Vec::new(),
                        ))
                    })
                    .collect();
                self.symbol(
                    d.name.name.clone(),
                    None,
                    SymbolKind::EVENT,
                    d.span,
                    d.name.span,
                    children,
                )
            }
            Item::Environment(d) => {
                let children = d
                    .bindings
                    .iter()
                    .map(|b| {
                        self.symbol(
                            b.connection.name.clone(),
                            Some(b.kind.name.clone()),
                            SymbolKind::PROPERTY,
                            b.span,
                            b.connection.span,
                            Vec::new(),
                        )
                    })
                    .collect();
                self.symbol(
                    d.name.name.clone(),
                    None,
                    SymbolKind::NAMESPACE,
                    d.span,
                    d.name.span,
                    children,
                )
            }
            Item::Test(d) => self.symbol(
                d.name.value.clone(),
                Some("test".to_string()),
                SymbolKind::METHOD,
                d.span,
                d.name.span,
                Vec::new(),
            ),
            Item::Promotion(d) => {
                let chain: Vec<&str> = d.chain.iter().map(|e| e.name.as_str()).collect();
                let children = d
                    .rules
                    .iter()
                    .map(|r| {
                        self.symbol(
                            r.environment.name.clone(),
                            Some(self.source(r.span)),
                            SymbolKind::PROPERTY,
                            r.span,
                            r.environment.span,
                            Vec::new(),
                        )
                    })
                    .collect();
                let keyword = Span::new(
                    d.span.start,
                    (d.span.start + "promotion".len()).min(d.span.end),
                );
                self.symbol(
                    "promotion".to_string(),
                    Some(chain.join(" -> ")),
                    SymbolKind::OBJECT,
                    d.span,
                    keyword,
                    children,
                )
            }
            Item::Rollback(d) => self.symbol(
                format!("rollback {} in {}", d.flow.name, d.environment.name),
                None,
                SymbolKind::OBJECT,
                d.span,
                d.flow.span.to(d.environment.span),
                Vec::new(),
            ),
            Item::Error(_) => return None,
        })
    }
}

/// Declarations of every file of the analysis whose name matches `query` (its
/// characters in order, ignoring case; an empty query matches all).
pub fn workspace_symbols(
    snapshot: &Snapshot,
    analysis: &Analysis,
    query: &str,
) -> Vec<SymbolInformation> {
    let mut out = Vec::new();
    for (file, tree) in &analysis.files {
        for item in &tree.items {
            let (name, kind, span) = match item {
                Item::Schema(d) => (d.name.name.clone(), SymbolKind::STRUCT, d.name.span),
                Item::Enum(d) => (d.name.name.clone(), SymbolKind::ENUM, d.name.span),
                Item::Connection(d) => (d.name.name.clone(), SymbolKind::INTERFACE, d.name.span),
                Item::Map(d) => (d.name.name.clone(), SymbolKind::FUNCTION, d.name.span),
                Item::Flow(d) => (d.name.name.clone(), SymbolKind::EVENT, d.name.span),
                Item::Environment(d) => (d.name.name.clone(), SymbolKind::NAMESPACE, d.name.span),
                Item::Test(d) => (d.name.value.clone(), SymbolKind::METHOD, d.name.span),
                _ => continue,
            };
            if !matches(query, &name) {
                continue;
            }
            let Some(location) = snapshot.location(analysis, Loc::new(*file, span)) else {
                continue;
            };
            #[allow(deprecated)] // `deprecated` is a required field of the type.
            out.push(SymbolInformation {
                name,
                kind,
                tags: None,
                deprecated: None,
                location: Location::new(location.uri, location.range),
                container_name: None,
            });
        }
    }
    out.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then_with(|| a.location.uri.cmp(&b.location.uri))
    });
    out
}

/// Whether the characters of `query` occur in `name` in order, ignoring case.
fn matches(query: &str, name: &str) -> bool {
    let mut chars = name.chars().flat_map(char::to_lowercase);
    query
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace())
        .all(|q| chars.any(|c| c == q))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn fuzzy_names() {
        assert!(matches("", "account_sync"));
        assert!(matches("accsync", "account_sync"));
        assert!(matches("ErpC", "ErpCustomer"));
        assert!(!matches("syncacc", "account_sync"));
    }
}
