//! Attaches `///` doc comments to the declaration or field that follows them.

use crate::syntax::{Comment, FieldDecl, Item, SchemaBody, TypeExpr, TypeExprKind};

/// Fills the `doc` of every declaration and field from the doc comments right above it.
pub(super) fn attach(items: &mut [Item], comments: &[Comment], text: &str) {
    for item in items {
        let start = item.span().start;
        let doc = doc_before(comments, text, start);
        match item {
            Item::Schema(d) => {
                d.doc = doc;
                if let SchemaBody::Fields(fields) = &mut d.body {
                    attach_fields(fields, comments, text);
                }
            }
            Item::Enum(d) => d.doc = doc,
            Item::Connection(d) => d.doc = doc,
            Item::Map(d) => d.doc = doc,
            Item::Flow(d) => d.doc = doc,
            Item::Environment(d) => d.doc = doc,
            Item::Test(d) => d.doc = doc,
            Item::Promotion(_) | Item::Rollback(_) | Item::Error(_) => {}
        }
    }
}

fn attach_fields(fields: &mut [FieldDecl], comments: &[Comment], text: &str) {
    for field in fields {
        field.doc = doc_before(comments, text, field.span.start);
        attach_type(&mut field.ty, comments, text);
    }
}

fn attach_type(ty: &mut TypeExpr, comments: &[Comment], text: &str) {
    match &mut ty.kind {
        TypeExprKind::Record(fields) => attach_fields(fields, comments, text),
        TypeExprKind::List(inner) | TypeExprKind::Optional(inner) => {
            attach_type(inner, comments, text)
        }
        TypeExprKind::Named(_) | TypeExprKind::Enum(_) | TypeExprKind::Error => {}
    }
}

/// The doc comments directly above `start`, separated from it by white space only.
fn doc_before(comments: &[Comment], text: &str, start: usize) -> Option<String> {
    let mut index = comments.partition_point(|c| c.span.end <= start);
    let mut end = start;
    let mut lines = Vec::new();
    while index > 0 {
        let comment = &comments[index - 1];
        let gap = text.get(comment.span.end..end).unwrap_or("x");
        if !comment.doc || !gap.trim().is_empty() {
            break;
        }
        lines.push(comment.text.as_str());
        end = comment.span.start;
        index -= 1;
    }
    if lines.is_empty() {
        return None;
    }
    lines.reverse();
    Some(lines.join("\n"))
}
