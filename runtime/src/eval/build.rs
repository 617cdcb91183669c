//! Test-only builders of IR expressions, shared by the evaluator's and the demand
//! analysis's tests.

use crate::ir::{BinaryOp, Expr, StrPart};

pub(crate) fn int(v: i64) -> Expr {
    Expr::Int { value: v }
}
pub(crate) fn dec(v: &str) -> Expr {
    Expr::Decimal { value: v.into() }
}
pub(crate) fn s(v: &str) -> Expr {
    Expr::Str {
        parts: vec![StrPart::Text { text: v.into() }],
    }
}
pub(crate) fn b(v: bool) -> Expr {
    Expr::Bool { value: v }
}
pub(crate) fn var(n: &str) -> Expr {
    Expr::Var { name: n.into() }
}
pub(crate) fn field(base: Expr, n: &str) -> Expr {
    Expr::Field {
        base: Box::new(base),
        name: n.into(),
    }
}
/// `a.b.c` as a variable and field accesses.
pub(crate) fn path(p: &str) -> Expr {
    let mut parts = p.split('.');
    let mut e = var(parts.next().unwrap_or_default());
    for part in parts {
        e = field(e, part);
    }
    e
}
pub(crate) fn call(f: &str, args: Vec<Expr>) -> Expr {
    Expr::Call {
        function: f.into(),
        args,
    }
}
pub(crate) fn lam(p: &str, body: Expr) -> Expr {
    Expr::Lambda {
        param: p.into(),
        body: Box::new(body),
    }
}
pub(crate) fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
    Expr::Binary {
        operator: op,
        lhs: Box::new(l),
        rhs: Box::new(r),
    }
}
pub(crate) fn list(items: Vec<Expr>) -> Expr {
    Expr::List { items }
}
