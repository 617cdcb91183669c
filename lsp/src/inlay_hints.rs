//! `textDocument/inlayHint`: the types the checker inferred where the source does not
//! write them.
//!
//! - after each lambda parameter: `filter(o.lines, l => l.qty > 0)` shows `l: ErpOrderLine`;
//! - after each flow step that changes or filters the records without naming their
//!   type (`where`, `map`, and `call` without `as`): the record type it hands on,
//!   `-> CrmOpportunity`.
//!
//! Every type comes from the checker's results ([`weft_compiler::check::Typed`]); where
//! the checker could not tell (a broken line, an unknown name) nothing is shown.

use std::collections::HashMap;

use tower_lsp_server::ls_types::{
    InlayHint, InlayHintKind, InlayHintLabel, InlayHintTooltip, Range,
};
use weft_compiler::analysis::Analysis;
use weft_compiler::source::{FileId, Loc, Span};
use weft_compiler::syntax::{Expr, ExprKind, Ident, Item, StepKind, StrPart};
use weft_compiler::types::Type;

use crate::position::LineIndex;
use crate::world::Snapshot;

/// Longest type shown in full; longer ones are cut, with the whole type as tooltip.
const MAX_LABEL: usize = 48;

/// The hints of the declarations of `file` that overlap `range`.
pub fn inlay_hints(
    snapshot: &Snapshot,
    analysis: &Analysis,
    file: FileId,
    range: Range,
) -> Vec<InlayHint> {
    let Some((_, tree)) = analysis.files.iter().find(|(id, _)| *id == file) else {
        return Vec::new();
    };
    let index = LineIndex::new(snapshot.text(analysis, file));
    let wanted = index.span(range);
    let mut found: Vec<(usize, String, HintKind)> = Vec::new();
    let steps: HashMap<Loc, &Type> = analysis
        .typed
        .flows
        .iter()
        .flat_map(|flow| flow.steps.iter().map(|step| (step.loc, &step.record)))
        .collect();
    let parameter = |ident: &Ident| analysis.typed.parameters.get(&Loc::new(file, ident.span));
    for item in tree.items.iter().filter(|i| overlaps(i.span(), wanted)) {
        let mut lambdas = Vec::new();
        match item {
            Item::Map(decl) => {
                for assignment in &decl.assignments {
                    lambda_params(&assignment.value, &mut lambdas);
                }
            }
            Item::Flow(decl) => {
                for step in &decl.steps {
                    let hands_on = match &step.kind {
                        StepKind::Where(_, condition) => {
                            lambda_params(condition, &mut lambdas);
                            true
                        }
                        StepKind::Map(_) | StepKind::Call(_, None) => true,
                        _ => false,
                    };
                    if let StepKind::Read(call, _)
                    | StepKind::Call(call, _)
                    | StepKind::Write(call, _) = &step.kind
                    {
                        call.args
                            .iter()
                            .for_each(|a| lambda_params(a, &mut lambdas));
                    }
                    let record = steps.get(&Loc::new(file, step.span));
                    if let (true, Some(record)) = (hands_on, record) {
                        found.push((step.span.end, type_name(record), HintKind::Step));
                    }
                }
            }
            _ => {}
        }
        for param in lambdas {
            if let Some(ty) = parameter(param) {
                found.push((param.span.end, type_name(ty), HintKind::Parameter));
            }
        }
    }
    found.sort_by_key(|(at, _, _)| *at);
    found
        .into_iter()
        .filter(|(at, name, _)| !name.is_empty() && wanted.start <= *at && *at <= wanted.end)
        .map(|(at, name, kind)| hint(index.position(at), &name, kind))
        .collect()
}

/// Where a hint goes, which decides its text.
#[derive(Debug, Clone, Copy)]
enum HintKind {
    /// After a parameter: `: T`.
    Parameter,
    /// At the end of a flow step: `-> T`.
    Step,
}

fn hint(position: tower_lsp_server::ls_types::Position, name: &str, kind: HintKind) -> InlayHint {
    let (short, cut) = shorten(name);
    let label = match kind {
        HintKind::Parameter => format!(": {short}"),
        HintKind::Step => format!("-> {short}"),
    };
    InlayHint {
        position,
        label: InlayHintLabel::String(label),
        kind: Some(InlayHintKind::TYPE),
        text_edits: None,
        tooltip: cut.then(|| InlayHintTooltip::String(name.to_string())),
        padding_left: Some(matches!(kind, HintKind::Step)),
        padding_right: None,
        data: None,
    }
}

/// The type as Weft writes it; empty when the checker could not tell.
fn type_name(ty: &Type) -> String {
    if ty.is_error() {
        String::new()
    } else {
        ty.to_string()
    }
}

/// The name cut to [`MAX_LABEL`] characters, and whether it was cut.
fn shorten(name: &str) -> (String, bool) {
    if name.chars().count() <= MAX_LABEL {
        return (name.to_string(), false);
    }
    let mut short: String = name.chars().take(MAX_LABEL - 1).collect();
    short.push('…');
    (short, true)
}

fn overlaps(span: Span, wanted: Span) -> bool {
    span.start <= wanted.end && wanted.start <= span.end
}

/// The parameters of every lambda in `expr`, outermost first.
fn lambda_params<'e>(expr: &'e Expr, out: &mut Vec<&'e Ident>) {
    match &expr.kind {
        ExprKind::Lambda(param, body) => {
            out.push(param);
            lambda_params(body, out);
        }
        ExprKind::Field(base, _) | ExprKind::Unary(_, base) => lambda_params(base, out),
        ExprKind::Call(_, args) | ExprKind::List(args) => {
            args.iter().for_each(|a| lambda_params(a, out));
        }
        ExprKind::Binary(_, a, b) => {
            lambda_params(a, out);
            lambda_params(b, out);
        }
        ExprKind::If(c, a, b) => {
            lambda_params(c, out);
            lambda_params(a, out);
            lambda_params(b, out);
        }
        ExprKind::Str(parts) => {
            for part in parts {
                if let StrPart::Interpolation(e) = part {
                    lambda_params(e, out);
                }
            }
        }
        ExprKind::Int(_)
        | ExprKind::Decimal(_)
        | ExprKind::Bool(_)
        | ExprKind::Null
        | ExprKind::Var(_)
        | ExprKind::Error => {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::str::FromStr;

    use tower_lsp_server::ls_types::{Position, Uri};
    use weft_compiler::analysis::check_files;

    use super::*;
    use crate::world::ProjectKey;

    /// The hints of `source` rendered inline, as `⟨: T⟩` at their positions.
    fn check(source: &str, expect: &str) {
        let analysis = check_files(
            &[("t.weft".into(), "/p/t.weft".into(), source.to_string())],
            None,
        );
        let Ok(uri) = Uri::from_str("file:///p/t.weft") else {
            return;
        };
        let snapshot = Snapshot {
            key: ProjectKey::Single("/p/t.weft".into()),
            generation: 0,
            outcome: Err(String::new()),
            buffers: HashMap::from([("/p/t.weft".into(), (uri, source.to_string(), 1))]),
        };
        let whole = Range::new(Position::new(0, 0), Position::new(u32::MAX, 0));
        let hints = inlay_hints(&snapshot, &analysis, analysis.files[0].0, whole);
        let index = LineIndex::new(source);
        let mut out = source.to_string();
        for hint in hints.iter().rev() {
            let at = index.offset(hint.position);
            let InlayHintLabel::String(label) = &hint.label else {
                continue;
            };
            out.insert_str(at, &format!("⟨{label}⟩"));
        }
        let shown: Vec<&str> = out.lines().filter(|l| l.contains('⟨')).collect();
        assert_eq!(shown.join("\n"), expect);
    }

    const SCHEMAS: &str = "schema Line { sku: String, qty: Int }\nschema Order { id: Int, lines: [Line], tags: [String] }\nschema Out { n: Int, skus: [String], total: Int }\nconnection src: http\nconnection dst: http\n";

    #[test]
    fn lambda_parameters_get_their_item_type() {
        check(
            &format!("{SCHEMAS}map m(o: Order) -> Out {{\n  n = count(o.lines, l => l.qty > 0)\n  skus = map(filter(o.lines, x => x.qty > 1), y => y.sku)\n  total = sum(o.lines, l => l.qty)\n}}\n"),
            "  n = count(o.lines, l⟨: Line⟩ => l.qty > 0)\n  skus = map(filter(o.lines, x⟨: Line⟩ => x.qty > 1), y⟨: Line⟩ => y.sku)\n  total = sum(o.lines, l⟨: Line⟩ => l.qty)",
        );
    }

    #[test]
    fn flow_steps_show_the_records_they_hand_on() {
        check(
            &format!("{SCHEMAS}map m(o: Order) -> Out {{\n  n = o.id\n  skus = o.tags\n  total = 1\n}}\nflow f {{\n  trigger manual\n  read src.get(\"/orders\") as [Order]\n  where o => any(o.lines, l => l.qty > 0)\n  map m\n  call dst.post(\"/check\")\n  call dst.post(\"/more\") as Out\n  write dst.post(\"/out\")\n}}\n"),
            "  where o => any(o.lines, l⟨: Line⟩ => l.qty > 0)⟨-> Order⟩\n  map m⟨-> Out⟩\n  call dst.post(\"/check\")⟨-> Json⟩",
        );
    }

    #[test]
    fn unknown_types_show_nothing_and_long_types_are_cut() {
        check(
            &format!("{SCHEMAS}flow f {{\n  trigger manual\n  read src.get(\"/\") as [Order]\n  map nope\n  where x => true\n}}\n"),
            "",
        );
        let record = "schema R { rows: [{ alpha: String, beta: String, gamma: String, delta: String }] }\nschema T { n: Int }\nmap m(r: R) -> T {\n  n = count(r.rows, row => row.alpha == \"\")\n}\n";
        check(
            record,
            "  n = count(r.rows, row⟨: { alpha: String, beta: String, gamma: String, d…⟩ => row.alpha == \"\")",
        );
    }
}
