//! Lowering of expressions: calls of maps become `Apply`, integer literals the checker
//! typed as Decimal become Decimal literals, number literals it typed as Float become
//! Float literals.

use weft_runtime::ir;

use crate::analysis::Analysis;
use crate::builtins;
use crate::source::{FileId, Loc};
use crate::syntax::{BinaryOp, Expr, ExprKind, StrPart, UnaryOp};

/// The IR of a checked expression.
pub fn lower(analysis: &Analysis, file: FileId, expr: &Expr) -> ir::Expr {
    let go = |e: &Expr| Box::new(lower(analysis, file, e));
    match &expr.kind {
        ExprKind::Str(parts) => ir::Expr::Str {
            parts: parts
                .iter()
                .map(|p| match p {
                    StrPart::Text(text) => ir::StrPart::Text { text: text.clone() },
                    StrPart::Interpolation(e) => ir::StrPart::Expr {
                        expr: lower(analysis, file, e),
                    },
                })
                .collect(),
        },
        ExprKind::Int(value)
            if analysis
                .typed
                .decimal_literals
                .contains(&Loc::new(file, expr.span)) =>
        {
            ir::Expr::Decimal {
                value: value.to_string(),
            }
        }
        ExprKind::Int(value) if float_literal(analysis, file, expr) => ir::Expr::Float {
            value: *value as f64,
        },
        ExprKind::Int(value) => ir::Expr::Int { value: *value },
        ExprKind::Decimal(value) if float_literal(analysis, file, expr) => {
            // The checker only types a literal as Float when it parses to a finite one.
            match value.parse::<f64>() {
                Ok(value) => ir::Expr::Float { value },
                Err(_) => ir::Expr::Decimal {
                    value: value.clone(),
                },
            }
        }
        ExprKind::Decimal(value) => ir::Expr::Decimal {
            value: value.clone(),
        },
        ExprKind::Bool(value) => ir::Expr::Bool { value: *value },
        ExprKind::Null | ExprKind::Error => ir::Expr::Null,
        ExprKind::Var(id) => ir::Expr::Var {
            name: id.name.clone(),
        },
        ExprKind::Field(base, field) => ir::Expr::Field {
            base: go(base),
            name: field.name.clone(),
        },
        ExprKind::Call(name, args)
            if builtins::lookup(&name.name).is_none()
                && analysis.program.maps.contains_key(&name.name) =>
        {
            let arg = args.first().map_or(Box::new(ir::Expr::Null), go);
            ir::Expr::Apply {
                map: name.name.clone(),
                arg,
            }
        }
        ExprKind::Call(name, args) => ir::Expr::Call {
            function: name.name.clone(),
            args: args.iter().map(|a| lower(analysis, file, a)).collect(),
        },
        ExprKind::Lambda(param, body) => ir::Expr::Lambda {
            param: param.name.clone(),
            body: go(body),
        },
        ExprKind::List(items) => ir::Expr::List {
            items: items.iter().map(|i| lower(analysis, file, i)).collect(),
        },
        ExprKind::Unary(op, operand) => ir::Expr::Unary {
            operator: match op {
                UnaryOp::Neg => ir::UnaryOp::Neg,
                UnaryOp::Not => ir::UnaryOp::Not,
            },
            operand: go(operand),
        },
        ExprKind::Binary(op, lhs, rhs) => ir::Expr::Binary {
            operator: binary(*op),
            lhs: go(lhs),
            rhs: go(rhs),
        },
        ExprKind::If(condition, then, otherwise) => ir::Expr::If {
            condition: go(condition),
            then: go(then),
            otherwise: go(otherwise),
        },
    }
}

fn float_literal(analysis: &Analysis, file: FileId, expr: &Expr) -> bool {
    analysis
        .typed
        .float_literals
        .contains(&Loc::new(file, expr.span))
}

fn binary(op: BinaryOp) -> ir::BinaryOp {
    match op {
        BinaryOp::Mul => ir::BinaryOp::Mul,
        BinaryOp::Div => ir::BinaryOp::Div,
        BinaryOp::Rem => ir::BinaryOp::Rem,
        BinaryOp::Add => ir::BinaryOp::Add,
        BinaryOp::Sub => ir::BinaryOp::Sub,
        BinaryOp::Eq => ir::BinaryOp::Eq,
        BinaryOp::Ne => ir::BinaryOp::Ne,
        BinaryOp::Lt => ir::BinaryOp::Lt,
        BinaryOp::Le => ir::BinaryOp::Le,
        BinaryOp::Gt => ir::BinaryOp::Gt,
        BinaryOp::Ge => ir::BinaryOp::Ge,
        BinaryOp::And => ir::BinaryOp::And,
        BinaryOp::Or => ir::BinaryOp::Or,
        BinaryOp::Default => ir::BinaryOp::Default,
    }
}
