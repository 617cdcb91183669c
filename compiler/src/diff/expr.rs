//! Expression and type equality up to renaming of parameters and the order of enum
//! variants.

use weft_runtime::ir::{Expr, Field, Step, StrPart, Type};

/// How two values relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sameness {
    /// Equal (up to the renamings the caller declared).
    Same,
    /// Equal once lambda or `where` parameters are renamed.
    Renamed,
    /// Different.
    Different,
}

impl Sameness {
    fn and(self, other: Sameness) -> Sameness {
        match (self, other) {
            (Sameness::Different, _) | (_, Sameness::Different) => Sameness::Different,
            (Sameness::Renamed, _) | (_, Sameness::Renamed) => Sameness::Renamed,
            _ => Sameness::Same,
        }
    }

    fn of(equal: bool) -> Sameness {
        if equal {
            Sameness::Same
        } else {
            Sameness::Different
        }
    }
}

/// Compares two expressions; `bound` pairs variables in scope (old name, new name),
/// innermost last. A difference only in names paired in `bound` is `Same`; one in a
/// lambda parameter is `Renamed`.
pub(super) fn compare(old: &Expr, new: &Expr, bound: &mut Vec<(String, String)>) -> Sameness {
    match (old, new) {
        (Expr::Str { parts: a }, Expr::Str { parts: b }) => {
            if a.len() != b.len() {
                return Sameness::Different;
            }
            a.iter().zip(b).fold(Sameness::Same, |acc, pair| {
                acc.and(match pair {
                    (StrPart::Text { text: x }, StrPart::Text { text: y }) => Sameness::of(x == y),
                    (StrPart::Expr { expr: x }, StrPart::Expr { expr: y }) => compare(x, y, bound),
                    _ => Sameness::Different,
                })
            })
        }
        (Expr::Var { name: a }, Expr::Var { name: b }) => {
            // The innermost binding of either name decides.
            match bound.iter().rev().find(|(x, y)| x == a || y == b) {
                Some((x, y)) => Sameness::of(x == a && y == b),
                None => Sameness::of(a == b),
            }
        }
        (Expr::Field { base: a, name: x }, Expr::Field { base: b, name: y }) => {
            Sameness::of(x == y).and(compare(a, b, bound))
        }
        (
            Expr::Call {
                function: f,
                args: a,
            },
            Expr::Call {
                function: g,
                args: b,
            },
        ) => Sameness::of(f == g).and(all(a, b, bound)),
        (Expr::Apply { map: m, arg: a }, Expr::Apply { map: n, arg: b }) => {
            Sameness::of(m == n).and(compare(a, b, bound))
        }
        (Expr::Lambda { param: p, body: a }, Expr::Lambda { param: q, body: b }) => {
            bound.push((p.clone(), q.clone()));
            let body = compare(a, b, bound);
            bound.pop();
            if p == q {
                body
            } else {
                body.and(Sameness::Renamed)
            }
        }
        (Expr::List { items: a }, Expr::List { items: b }) => all(a, b, bound),
        (
            Expr::Unary {
                operator: o,
                operand: a,
            },
            Expr::Unary {
                operator: p,
                operand: b,
            },
        ) => Sameness::of(o == p).and(compare(a, b, bound)),
        (
            Expr::Binary {
                operator: o,
                lhs: a1,
                rhs: a2,
            },
            Expr::Binary {
                operator: p,
                lhs: b1,
                rhs: b2,
            },
        ) => Sameness::of(o == p)
            .and(compare(a1, b1, bound))
            .and(compare(a2, b2, bound)),
        (
            Expr::If {
                condition: c1,
                then: t1,
                otherwise: e1,
            },
            Expr::If {
                condition: c2,
                then: t2,
                otherwise: e2,
            },
        ) => compare(c1, c2, bound)
            .and(compare(t1, t2, bound))
            .and(compare(e1, e2, bound)),
        (a, b) => Sameness::of(a == b),
    }
}

fn all(a: &[Expr], b: &[Expr], bound: &mut Vec<(String, String)>) -> Sameness {
    if a.len() != b.len() {
        return Sameness::Different;
    }
    a.iter()
        .zip(b)
        .fold(Sameness::Same, |acc, (x, y)| acc.and(compare(x, y, bound)))
}

/// Compares two lists of closed expressions (step arguments).
fn all_closed(a: &[Expr], b: &[Expr]) -> bool {
    all(a, b, &mut Vec::new()) == Sameness::Same
}

/// Type equality, ignoring the order of enum variants (it has no meaning).
pub(super) fn same_type(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Record { fields: x }, Type::Record { fields: y }) => same_fields(x, y),
        (Type::List { item: x }, Type::List { item: y }) => same_type(x, y),
        (Type::Optional { inner: x }, Type::Optional { inner: y }) => same_type(x, y),
        (
            Type::Enum {
                name: n,
                variants: x,
            },
            Type::Enum {
                name: m,
                variants: y,
            },
        ) => n == m && same_variants(x, y),
        _ => a == b,
    }
}

/// Field lists are sorted by name in the IR; docs are compared too.
pub(super) fn same_fields(a: &[Field], b: &[Field]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.name == y.name && x.doc == y.doc && same_type(&x.ty, &y.ty))
}

/// The same set of variants, in any order.
pub(super) fn same_variants(a: &[String], b: &[String]) -> bool {
    let mut x: Vec<&String> = a.iter().collect();
    let mut y: Vec<&String> = b.iter().collect();
    x.sort();
    x.dedup();
    y.sort();
    y.dedup();
    x == y
}

/// Compares two steps: `Renamed` when only a `where` parameter (or a lambda in it)
/// differs.
pub(super) fn compare_steps(old: &Step, new: &Step) -> Sameness {
    match (old, new) {
        (
            Step::Read {
                connection: c1,
                operation: o1,
                args: a1,
                record: r1,
                many: m1,
            },
            Step::Read {
                connection: c2,
                operation: o2,
                args: a2,
                record: r2,
                many: m2,
            },
        ) => Sameness::of(
            c1 == c2 && o1 == o2 && all_closed(a1, a2) && same_type(r1, r2) && m1 == m2,
        ),
        (
            Step::Where {
                param: p,
                condition: a,
            },
            Step::Where {
                param: q,
                condition: b,
            },
        ) => {
            let mut bound = vec![(p.clone(), q.clone())];
            let condition = compare(a, b, &mut bound);
            if p == q {
                condition
            } else {
                condition.and(Sameness::Renamed)
            }
        }
        (Step::Map { map: a }, Step::Map { map: b }) => Sameness::of(a == b),
        (
            Step::Call {
                connection: c1,
                operation: o1,
                args: a1,
                record: r1,
            },
            Step::Call {
                connection: c2,
                operation: o2,
                args: a2,
                record: r2,
            },
        ) => Sameness::of(c1 == c2 && o1 == o2 && all_closed(a1, a2) && same_type(r1, r2)),
        (
            Step::Write {
                connection: c1,
                operation: o1,
                args: a1,
                record: r1,
            },
            Step::Write {
                connection: c2,
                operation: o2,
                args: a2,
                record: r2,
            },
        ) => Sameness::of(
            c1 == c2
                && o1 == o2
                && all_closed(a1, a2)
                && match (r1, r2) {
                    (Some(x), Some(y)) => same_type(x, y),
                    (None, None) => true,
                    _ => false,
                },
        ),
        _ => Sameness::Different,
    }
}

/// Schemas a type mentions by name, at any depth.
pub(super) fn schemas_in(ty: &Type, out: &mut Vec<String>) {
    match ty {
        Type::Schema { name } => out.push(name.clone()),
        Type::Record { fields } => {
            for field in fields {
                schemas_in(&field.ty, out);
            }
        }
        Type::List { item: inner } | Type::Optional { inner } => schemas_in(inner, out),
        _ => {}
    }
}

/// Calls `f` on `expr` and every expression inside it, parents first.
fn walk<'e>(expr: &'e Expr, f: &mut impl FnMut(&'e Expr)) {
    f(expr);
    match expr {
        Expr::Str { parts } => {
            for part in parts {
                if let StrPart::Expr { expr } = part {
                    walk(expr, f);
                }
            }
        }
        Expr::Field { base, .. } => walk(base, f),
        Expr::Call { args, .. } => args.iter().for_each(|a| walk(a, f)),
        Expr::List { items } => items.iter().for_each(|a| walk(a, f)),
        Expr::Apply { arg, .. } => walk(arg, f),
        Expr::Lambda { body, .. } => walk(body, f),
        Expr::Unary { operand, .. } => walk(operand, f),
        Expr::Binary { lhs, rhs, .. } => {
            walk(lhs, f);
            walk(rhs, f);
        }
        Expr::If {
            condition,
            then,
            otherwise,
        } => {
            walk(condition, f);
            walk(then, f);
            walk(otherwise, f);
        }
        Expr::Int { .. }
        | Expr::Decimal { .. }
        | Expr::Float { .. }
        | Expr::Bool { .. }
        | Expr::Null
        | Expr::Var { .. } => {}
    }
}

/// Maps an expression applies, at any depth.
pub(super) fn maps_in(expr: &Expr, out: &mut Vec<String>) {
    walk(expr, &mut |e| {
        if let Expr::Apply { map, .. } = e {
            out.push(map.clone());
        }
    });
}

/// The number literals of an expression in order, each with its type.
fn number_literals(expr: &Expr) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    walk(expr, &mut |e| match e {
        Expr::Int { .. } => out.push((e.to_string(), "an Int")),
        Expr::Decimal { .. } => out.push((e.to_string(), "a Decimal")),
        Expr::Float { .. } => out.push((e.to_string(), "a Float")),
        _ => {}
    });
    out
}

/// For two expressions that read the same but differ: the first number literal whose
/// type changed, as `literal `1.5` is now a Float, was a Decimal`.
pub(super) fn literal_type_change(old: &Expr, new: &Expr) -> Option<String> {
    number_literals(old)
        .into_iter()
        .zip(number_literals(new))
        .find(|(a, b)| a.1 != b.1)
        .map(|((_, was), (text, now))| format!("literal `{text}` is now {now}, was {was}"))
}
