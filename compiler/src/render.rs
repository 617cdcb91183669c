//! Renders diagnostics for people (ariadne) and for tools (JSON, SARIF 2.1.0).
//! Colour is the caller's choice; this module returns text and data only.

use ariadne::{Color, Config, IndexType, Label as AriadneLabel, Report, ReportKind};
use serde_json::{json, Value};

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::source::{floor_char_boundary, Loc, SourceDb};

/// Version of the JSON diagnostics format; bumped on any incompatible change.
pub const JSON_FORMAT_VERSION: u32 = 1;

/// Renders diagnostics as ariadne reports, one after another.
pub fn text(db: &SourceDb, diagnostics: &[Diagnostic], color: bool) -> String {
    let mut out = Vec::new();
    if diagnostics.is_empty() {
        return String::new();
    }
    let mut shown: Vec<_> = diagnostics
        .iter()
        .flat_map(|d| {
            std::iter::once(d.primary.loc.file).chain(d.secondary.iter().map(|l| l.loc.file))
        })
        .collect();
    shown.sort();
    shown.dedup();
    let mut cache = ariadne::sources(
        shown
            .into_iter()
            .map(|id| (db.get(id).name.clone(), db.get(id).text.clone())),
    );
    for d in diagnostics {
        let kind = match d.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
        };
        let primary_color = if d.is_error() {
            Color::Red
        } else {
            Color::Yellow
        };
        let mut report = Report::build(kind, span(db, d.primary.loc))
            .with_config(
                Config::default()
                    .with_color(color)
                    .with_index_type(IndexType::Byte),
            )
            .with_code(d.code.as_str())
            .with_message(&d.message)
            .with_label(
                AriadneLabel::new(span(db, d.primary.loc))
                    .with_message(&d.primary.message)
                    .with_color(primary_color)
                    .with_order(0),
            );
        for (i, label) in d.secondary.iter().enumerate() {
            report = report.with_label(
                AriadneLabel::new(span(db, label.loc))
                    .with_message(&label.message)
                    .with_color(Color::Blue)
                    .with_order(i as i32 + 1),
            );
        }
        for note in &d.notes {
            report = report.with_note(note);
        }
        for fix in &d.fixes {
            report = report.with_help(&fix.message);
        }
        // Writing into a Vec cannot fail for I/O reasons; a cache miss would only drop the report.
        let _ = report.finish().write(&mut cache, &mut out);
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        + if text.is_empty() { "" } else { "\n" }
}

fn span(db: &SourceDb, loc: Loc) -> (String, std::ops::Range<usize>) {
    let file = db.get(loc.file);
    let start = floor_char_boundary(&file.text, loc.span.start.min(file.text.len()));
    let end = floor_char_boundary(&file.text, loc.span.end.min(file.text.len())).max(start);
    (file.name.clone(), start..end)
}

fn location(db: &SourceDb, loc: Loc) -> Value {
    let (start_line, start_column) = db.line_col(loc.file, loc.span.start);
    let (end_line, end_column) = db.line_col(loc.file, loc.span.end);
    json!({
        "file": db.get(loc.file).name,
        "start": { "line": start_line, "column": start_column, "offset": loc.span.start },
        "end": { "line": end_line, "column": end_column, "offset": loc.span.end },
    })
}

/// Diagnostics as versioned JSON, with a summary.
pub fn json(db: &SourceDb, diagnostics: &[Diagnostic]) -> Value {
    let items: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            json!({
                "code": d.code.as_str(),
                "severity": d.severity,
                "message": d.message,
                "location": location(db, d.primary.loc),
                "label": d.primary.message,
                "related": d.secondary.iter().map(|l| json!({ "message": l.message, "location": location(db, l.loc) })).collect::<Vec<_>>(),
                "notes": d.notes,
                "fixes": d.fixes.iter().map(|f| json!({
                    "message": f.message,
                    "edits": f.edits.iter().map(|e| json!({ "location": location(db, e.loc), "replacement": e.replacement })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    json!({
        "version": JSON_FORMAT_VERSION,
        "diagnostics": items,
        "summary": { "errors": errors, "warnings": diagnostics.len() - errors },
    })
}

fn region(db: &SourceDb, loc: Loc) -> Value {
    let (start_line, start_column) = db.line_col(loc.file, loc.span.start);
    let (end_line, end_column) = db.line_col(loc.file, loc.span.end);
    json!({ "startLine": start_line, "startColumn": start_column, "endLine": end_line, "endColumn": end_column })
}

fn physical(db: &SourceDb, loc: Loc) -> Value {
    json!({ "physicalLocation": { "artifactLocation": { "uri": db.get(loc.file).name.replace('\\', "/") }, "region": region(db, loc) } })
}

/// Diagnostics as a SARIF 2.1.0 log, for code-scanning views in CI.
pub fn sarif(db: &SourceDb, diagnostics: &[Diagnostic], tool_version: &str) -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "shortDescription": { "text": code.title() },
                "defaultConfiguration": { "level": level(code.severity()) },
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": Code::ALL.iter().position(|c| *c == d.code),
                "level": level(d.severity),
                "message": { "text": d.message },
                "locations": [physical(db, d.primary.loc)],
                "relatedLocations": d.secondary.iter().enumerate().map(|(i, l)| {
                    let mut v = physical(db, l.loc);
                    v["id"] = json!(i);
                    v["message"] = json!({ "text": l.message });
                    v
                }).collect::<Vec<_>>(),
                "fixes": d.fixes.iter().map(|f| json!({
                    "description": { "text": f.message },
                    "artifactChanges": f.edits.iter().map(|e| json!({
                        "artifactLocation": { "uri": db.get(e.loc.file).name.replace('\\', "/") },
                        "replacements": [{ "deletedRegion": region(db, e.loc), "insertedContent": { "text": e.replacement } }],
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "weft", "version": tool_version, "rules": rules } },
            "results": results,
        }],
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
