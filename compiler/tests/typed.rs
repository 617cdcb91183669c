//! Well-typed programs and what the checker makes of them: every
//! `tests/typed/*.weft` checks clean, and the inferred types of its maps, their lowered
//! expressions and the type each number literal was given are an insta snapshot.

mod common;

use std::fmt::Write as _;

use common::{files, manifest};
use weft_compiler::analysis::check_files;
use weft_compiler::{lower, render};
use weft_runtime::ir::{Expr, StrPart};

/// Every number literal in `expr`, as `text: Kind`.
fn literals(expr: &Expr, out: &mut Vec<String>) {
    let mut go = |e: &Expr| literals(e, out);
    match expr {
        Expr::Int { value } => out.push(format!("{value}: Int")),
        Expr::Decimal { value } => out.push(format!("{value}: Decimal")),
        Expr::Float { .. } => out.push(format!("{expr}: Float")),
        Expr::Str { parts } => {
            for part in parts {
                if let StrPart::Expr { expr } = part {
                    go(expr);
                }
            }
        }
        Expr::Field { base, .. } => go(base),
        Expr::Call { args, .. } => args.iter().for_each(go),
        Expr::List { items } => items.iter().for_each(go),
        Expr::Apply { arg, .. } => go(arg),
        Expr::Lambda { body, .. } => go(body),
        Expr::Unary { operand, .. } => go(operand),
        Expr::Binary { lhs, rhs, .. } => {
            go(lhs);
            go(rhs);
        }
        Expr::If {
            condition,
            then,
            otherwise,
        } => {
            go(condition);
            go(then);
            go(otherwise);
        }
        Expr::Bool { .. } | Expr::Null | Expr::Var { .. } => {}
    }
}

#[test]
fn fixtures() {
    insta::glob!("typed/*.weft", |path| {
        let analysis = check_files(&files(path), Some(&manifest()));
        assert!(
            analysis.diagnostics.is_empty(),
            "{} has diagnostics:\n{}",
            path.display(),
            render::text(&analysis.db, &analysis.diagnostics, false)
        );
        let mut out = analysis.typed_summary();
        let lowered =
            lower::lower(&analysis).unwrap_or_else(|| panic!("{} does not lower", path.display()));
        for (name, map) in &lowered.program.maps {
            let _ = writeln!(out, "lowered {name}:");
            for assignment in &map.fields {
                let mut found = Vec::new();
                literals(&assignment.value, &mut found);
                let _ = writeln!(
                    out,
                    "  {} = {}",
                    assignment.target.join("."),
                    assignment.value
                );
                if !found.is_empty() {
                    let _ = writeln!(out, "    literals: {}", found.join(", "));
                }
            }
        }
        insta::assert_snapshot!(out);
    });
}
