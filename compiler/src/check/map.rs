//! Map contracts: every required target field assigned exactly once, no unknown
//! target fields, every value of the field's type.

use std::rc::Rc;

use crate::diagnostic::{suggest, Code, Diagnostic};
use crate::source::{Loc, Span};
use crate::syntax::{Assignment, MapDecl};
use crate::types::{Field, RecordType, Type};

use super::compat::placeholder;
use super::expr::Scope;
use super::{Checker, TypedMap};

impl Checker<'_> {
    pub(super) fn map(&mut self, decl: &MapDecl) {
        let Some(signature) = self.program.maps.get(&decl.name.name).cloned() else {
            return;
        };
        if signature.loc != self.loc(decl.name.span) {
            return; // a duplicate, already reported
        }
        self.current_map = Some(decl.name.name.clone());
        let scope = Scope::with(&decl.param.name, signature.source.clone());
        let target = self.program.record(&signature.target);
        let mut assigned: Vec<(Vec<String>, Span)> = Vec::new();
        let mut fields = Vec::new();
        // Target paths that were already reported as wrong but stand for a field; they
        // count as assigned so that a typo is not also reported as a missing field.
        let mut covered: Vec<(Vec<String>, Span)> = Vec::new();
        for assignment in &decl.assignments {
            let field_ty = target.as_ref().and_then(|record| {
                match self.target_field(assignment, record, &signature.target) {
                    Ok(ty) => Some(ty),
                    Err(Some(stands_for)) => {
                        covered.push((stands_for, assignment.span));
                        None
                    }
                    Err(None) => None,
                }
            });
            let ty = self.expr(&assignment.value, field_ty.as_ref(), &scope);
            let path: Vec<String> = assignment.target.iter().map(|id| id.name.clone()).collect();
            if let Some(want) = &field_ty {
                let context = format!(
                    "field `{}` of `{}` is `{want}`",
                    path.join("."),
                    signature.target
                );
                self.expect_type(&assignment.value, &ty, want, &context);
                self.duplicate_assignment(&path, assignment, &assigned);
                assigned.push((path.clone(), assignment.span));
            }
            fields.push((path.join("."), ty));
        }
        if let Some(record) = &target {
            let mut missing = Vec::new();
            assigned.extend(covered);
            self.missing_fields(record, &[], &assigned, &mut missing);
            for (path, field) in missing {
                // An assignment line for it (or for a record holding it) that did not
                // parse is reported already.
                let segments: Vec<&str> = path.split('.').collect();
                let broken = (1..=segments.len())
                    .any(|n| self.has_line_starting(decl.span, &segments[..n].join("."), &['=']));
                if broken {
                    continue;
                }
                self.missing_field(decl, &signature.target, &path, &field);
            }
        }
        self.current_map = None;
        self.found.map = Some(std::rc::Rc::new(TypedMap {
            name: decl.name.name.clone(),
            source: signature.source,
            target: signature.target,
            fields,
        }));
    }

    /// The type of the target field an assignment sets, reporting unknown fields. On
    /// error, the path of the field the assignment most likely meant, if any.
    fn target_field(
        &mut self,
        assignment: &Assignment,
        record: &Rc<RecordType>,
        target: &Type,
    ) -> Result<Type, Option<Vec<String>>> {
        let mut record = record.clone();
        let mut owner = target.clone();
        let mut prefix: Vec<String> = Vec::new();
        let last = assignment.target.len().saturating_sub(1);
        for (i, segment) in assignment.target.iter().enumerate() {
            let loc = self.loc(segment.span);
            let Some(field) = record.field(&segment.name).cloned() else {
                let names: Vec<&str> = record.fields.iter().map(|f| f.name.as_str()).collect();
                let mut d = Diagnostic::new(
                    Code::UnknownTargetField,
                    loc,
                    format!("`{owner}` has no field `{}`", segment.name),
                )
                .with_label("not a field of the target");
                let best = suggest(&segment.name, names.iter().copied());
                if let Some(best) = best {
                    d = d.with_fix(format!("did you mean `{best}`?"), loc, best);
                } else if names.is_empty() {
                    d = d.with_note(format!("`{owner}` declares no fields"));
                } else {
                    d = d.with_note(format!("`{owner}` has: {}", names.join(", ")));
                }
                if let Some(schema) = self.program.schema_loc(&owner) {
                    d = d.with_secondary(schema, format!("`{owner}` is declared here"));
                }
                self.report(d);
                return Err(best.map(|best| {
                    prefix.push(best.to_string());
                    prefix
                }));
            };
            prefix.push(field.name.clone());
            if i == last {
                return Ok(field.ty);
            }
            match self.program.record(&field.ty) {
                Some(inner) => {
                    record = inner;
                    owner = field.ty.unwrap_optional().clone();
                }
                None => {
                    self.report(
                        Diagnostic::new(
                            Code::NotARecord,
                            loc,
                            format!(
                                "field `{}` is a `{}`, so it has no fields to set",
                                segment.name, field.ty
                            ),
                        )
                        .with_label("not a record")
                        .with_note(format!("assign the whole field: `{} = ...`", segment.name)),
                    );
                    return Err(Some(prefix));
                }
            }
        }
        Err(None)
    }

    fn duplicate_assignment(
        &mut self,
        path: &[String],
        assignment: &Assignment,
        assigned: &[(Vec<String>, Span)],
    ) {
        let overlap = assigned
            .iter()
            .find(|(other, _)| other.starts_with(path) || path.starts_with(other));
        if let Some((other, first)) = overlap {
            let (message, note) = if other == path {
                (
                    format!("field `{}` is assigned twice", path.join(".")),
                    "each target field is assigned exactly once; remove one of them".to_string(),
                )
            } else {
                let (whole, part) = if other.len() < path.len() {
                    (other.as_slice(), path)
                } else {
                    (path, other.as_slice())
                };
                (
                    format!(
                        "`{}` and `{}` both set the same field",
                        path.join("."),
                        other.join(".")
                    ),
                    format!(
                        "assign either the whole field `{}` or its fields such as `{}`, not both",
                        whole.join("."),
                        part.join(".")
                    ),
                )
            };
            self.report(
                Diagnostic::new(
                    Code::DuplicateAssignment,
                    self.loc(assignment.span),
                    message,
                )
                .with_label("second assignment")
                .with_secondary(self.loc(*first), "first assigned here")
                .with_note(note),
            );
        }
    }

    /// Required fields not covered by any assignment, with their paths.
    fn missing_fields(
        &self,
        record: &RecordType,
        prefix: &[String],
        assigned: &[(Vec<String>, Span)],
        out: &mut Vec<(String, Field)>,
    ) {
        for field in &record.fields {
            let mut path = prefix.to_vec();
            path.push(field.name.clone());
            if assigned.iter().any(|(p, _)| *p == path) {
                continue;
            }
            let partly = assigned.iter().any(|(p, _)| p.starts_with(&path));
            match self.program.record(&field.ty) {
                Some(inner) if partly => self.missing_fields(&inner, &path, assigned, out),
                _ if field.ty.is_optional() => {}
                _ => out.push((path.join("."), field.clone())),
            }
        }
    }

    fn missing_field(&mut self, decl: &MapDecl, target: &Type, path: &str, field: &Field) {
        let close = decl.span.end.saturating_sub(1);
        let indent = decl
            .assignments
            .first()
            .map(|a| {
                let text = &self.db.get(self.file).text;
                let line_start = text
                    .get(..a.span.start)
                    .and_then(|t| t.rfind('\n'))
                    .map_or(0, |i| i + 1);
                a.span.start - line_start
            })
            .unwrap_or(2);
        let value = placeholder(self.program, &field.ty);
        let insertion = format!("{}{path} = {value}\n", " ".repeat(indent));
        let at_close = Loc::new(self.file, Span::new(close, close));
        let text_before = self.text(Span::new(decl.span.start, close)).to_string();
        let insertion = if text_before.trim_end_matches(' ').ends_with('\n') {
            insertion
        } else {
            format!("\n{insertion}")
        };
        self.report(
            Diagnostic::new(
                Code::MissingTargetField,
                self.loc(decl.name.span),
                format!(
                    "map `{}` does not set required field `{path}` of `{target}`",
                    decl.name.name
                ),
            )
            .with_label(format!("`{path}` is missing"))
            .with_secondary(
                field.loc,
                format!("`{}` is required (`{}`)", field.name, field.ty),
            )
            .with_note(format!(
                "assign it, e.g. `{path} = {value}`, or make it optional in the target schema"
            ))
            .with_fix(format!("add `{path} = {value}`"), at_close, insertion),
        );
    }
}
