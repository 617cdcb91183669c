//! Typing of calls: built-in functions (including list functions with lambdas) and
//! maps applied as functions.

use crate::builtins::{self, Generic, Shape};
use crate::diagnostic::{suggest, Code, Diagnostic};
use crate::syntax::{Expr, ExprKind, Ident};
use crate::types::Type;

use super::expr::Scope;
use super::Checker;

impl Checker<'_> {
    /// The result type of `name(args)`.
    pub fn call(
        &mut self,
        expr: &Expr,
        name: &Ident,
        args: &[Expr],
        expected: Option<&Type>,
        scope: &Scope,
    ) -> Type {
        if let Some(builtin) = builtins::lookup(&name.name) {
            return match builtin.shape {
                Shape::Fixed {
                    params,
                    variadic,
                    result,
                } => {
                    let count_ok = if variadic {
                        args.len() >= params.len()
                    } else {
                        args.len() == params.len()
                    };
                    if !count_ok {
                        let wanted = if variadic {
                            format!("at least {}", params.len())
                        } else {
                            params.len().to_string()
                        };
                        self.arity(expr, name, builtin.signature, &wanted, args.len());
                    }
                    for (i, arg) in args.iter().enumerate() {
                        let Some(param) =
                            params
                                .get(i)
                                .or(if variadic { params.last() } else { None })
                        else {
                            self.value(arg, None, scope);
                            continue;
                        };
                        let want = param.ty();
                        let ty = self.value(arg, Some(&want), scope);
                        self.expect_type(
                            arg,
                            &ty,
                            &want,
                            &format!("argument {} of {}", i + 1, builtin.signature),
                        );
                    }
                    result.ty()
                }
                Shape::Generic(rule) => {
                    self.generic(expr, name, builtin.signature, rule, args, expected, scope)
                }
            };
        }
        if let Some(map) = self.program.maps.get(&name.name).cloned() {
            if args.len() != 1 {
                self.arity(
                    expr,
                    name,
                    &format!("{}(record: {}) -> {}", name.name, map.source, map.target),
                    "1",
                    args.len(),
                );
            }
            if let Some(arg) = args.first() {
                let ty = self.value(arg, Some(&map.source), scope);
                self.expect_type(
                    arg,
                    &ty,
                    &map.source,
                    &format!("map `{}` takes a `{}`", name.name, map.source),
                );
            }
            self.map_call(&name.name, self.loc(name.span));
            return map.target.clone();
        }
        let loc = self.loc(name.span);
        let candidates = builtins::BUILTINS
            .iter()
            .map(|b| b.name)
            .chain(self.program.maps.keys().map(String::as_str));
        let mut d = Diagnostic::new(
            Code::UnknownFunction,
            loc,
            format!("unknown function `{}`", name.name),
        )
        .with_label("no built-in function or map has this name");
        if let Some(best) = suggest(&name.name, candidates) {
            d = d.with_fix(format!("did you mean `{best}`?"), loc, best);
        } else {
            d = d.with_note("see the built-in functions in grammar/README.md");
        }
        self.report(d);
        for arg in args {
            self.value(arg, None, scope);
        }
        Type::Error
    }

    /// Types an argument that must be a value, not a lambda.
    fn value(&mut self, arg: &Expr, expected: Option<&Type>, scope: &Scope) -> Type {
        self.expr(arg, expected, scope)
    }

    fn arity(&mut self, expr: &Expr, name: &Ident, signature: &str, wanted: &str, got: usize) {
        let plural = |n: &str| if n == "1" { "" } else { "s" };
        self.report(
            Diagnostic::new(
                Code::WrongArgumentCount,
                self.loc(expr.span),
                format!(
                    "`{}` takes {wanted} argument{}, but is called with {got}",
                    name.name,
                    plural(wanted),
                ),
            )
            .with_label("wrong number of arguments")
            .with_note(format!("its signature is {signature}")),
        );
    }

    /// Types `x => body` with `x` bound to `param`; reports a value where a lambda belongs.
    fn lambda(&mut self, arg: &Expr, param: &Type, expected: Option<&Type>, scope: &Scope) -> Type {
        match &arg.kind {
            ExprKind::Lambda(name, body) => {
                let at = self.loc(name.span);
                self.found.parameters.push((at, param.clone()));
                self.expr(body, expected, &scope.bind(&name.name, param.clone()))
            }
            _ => {
                self.expr(arg, None, scope);
                self.report(
                    Diagnostic::new(
                        Code::LambdaMisplaced,
                        self.loc(arg.span),
                        "expected a lambda such as `x => x.amount`",
                    )
                    .with_label("a value, not a lambda")
                    .with_note("list functions apply a lambda to every item"),
                );
                Type::Error
            }
        }
    }

    /// The element type of a list argument; reports anything else.
    fn list(&mut self, arg: &Expr, scope: &Scope, signature: &str) -> Type {
        let ty = self.value(arg, None, scope);
        match ty {
            Type::List(inner) => *inner,
            Type::Error | Type::Json => Type::Error,
            Type::Optional(ref inner) if matches!(**inner, Type::List(_)) => {
                self.expect_type(arg, &ty, inner, signature);
                Type::Error
            }
            other => {
                self.report(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        self.loc(arg.span),
                        format!("expected a list, found `{other}`"),
                    )
                    .with_label(format!("`{other}`"))
                    .with_note(format!("the signature is {signature}")),
                );
                Type::Error
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn generic(
        &mut self,
        expr: &Expr,
        name: &Ident,
        signature: &str,
        rule: Generic,
        args: &[Expr],
        expected: Option<&Type>,
        scope: &Scope,
    ) -> Type {
        let want = match rule {
            Generic::ToString
            | Generic::Abs
            | Generic::Whole
            | Generic::First
            | Generic::ListInfo(_) => 1..=1,
            Generic::MinMax
            | Generic::Round
            | Generic::Sum
            | Generic::Map
            | Generic::Filter
            | Generic::AnyAll => 2..=2,
            Generic::Count => 1..=2,
            Generic::Coalesce => 2..=usize::MAX,
        };
        if !want.contains(&args.len()) {
            let wanted = match (want.start(), want.end()) {
                (a, b) if a == b => a.to_string(),
                (a, &usize::MAX) => format!("at least {a}"),
                (a, b) => format!("{a} or {b}"),
            };
            self.arity(expr, name, signature, &wanted, args.len());
            for arg in args {
                if !matches!(arg.kind, ExprKind::Lambda(..)) {
                    self.value(arg, None, scope);
                }
            }
            return Type::Error;
        }
        let first = &args[0];
        match rule {
            Generic::ToString => {
                let ty = self.value(first, None, scope);
                if !matches!(
                    ty,
                    Type::String
                        | Type::Int
                        | Type::Decimal
                        | Type::Float
                        | Type::Bool
                        | Type::Date
                        | Type::Timestamp
                        | Type::Enum(_)
                        | Type::Error
                ) {
                    self.expect_type(first, &ty, &Type::String, "to_string takes a scalar: String, Int, Decimal, Float, Bool, Date, Timestamp or an enum");
                }
                Type::String
            }
            Generic::Round | Generic::Whole => {
                // A literal is a Decimal unless a Float is wanted.
                let hint = match expected.map(Type::unwrap_optional) {
                    Some(Type::Float) if rule == Generic::Round => Type::Float,
                    _ => Type::Decimal,
                };
                let ty = self.value(first, Some(&hint), scope);
                let number = match ty {
                    Type::Decimal | Type::Float | Type::Error => ty,
                    other => {
                        self.expect_type(
                            first,
                            &other,
                            &Type::Decimal,
                            &format!("expected a Decimal or Float: {signature}"),
                        );
                        Type::Error
                    }
                };
                if rule == Generic::Whole {
                    return Type::Int;
                }
                let places = self.value(&args[1], Some(&Type::Int), scope);
                self.expect_type(&args[1], &places, &Type::Int, signature);
                number
            }
            Generic::Abs => {
                let ty = self.value(first, expected, scope);
                self.numeric(first, &ty, signature)
            }
            Generic::MinMax => {
                let a = self.value(first, expected, scope);
                let b = self.value(&args[1], Some(&a), scope);
                self.expect_type(&args[1], &b, &a, signature);
                if !matches!(
                    a,
                    Type::Int
                        | Type::Decimal
                        | Type::Float
                        | Type::String
                        | Type::Date
                        | Type::Timestamp
                        | Type::Error
                ) {
                    self.expect_type(
                        first,
                        &a,
                        &Type::Int,
                        "min and max compare Int, Decimal, Float, String, Date or Timestamp",
                    );
                }
                a
            }
            Generic::Sum => {
                let element = self.list(first, scope, signature);
                let hint = expected
                    .map(Type::unwrap_optional)
                    .filter(|t| matches!(t, Type::Int | Type::Decimal | Type::Float));
                let ty = self.lambda(&args[1], &element, hint, scope);
                self.numeric(&args[1], &ty, signature)
            }
            Generic::Count | Generic::Filter | Generic::AnyAll => {
                let element = self.list(first, scope, signature);
                if let Some(predicate) = args.get(1) {
                    let ty = self.lambda(predicate, &element, Some(&Type::Bool), scope);
                    if let ExprKind::Lambda(_, body) = &predicate.kind {
                        self.condition(body, &ty);
                    }
                }
                match rule {
                    Generic::Count => Type::Int,
                    Generic::Filter => Type::List(Box::new(element)),
                    _ => Type::Bool,
                }
            }
            Generic::Map => {
                let element = self.list(first, scope, signature);
                let hint = match expected.map(Type::unwrap_optional) {
                    Some(Type::List(inner)) => Some((**inner).clone()),
                    _ => None,
                };
                let ty = self.lambda(&args[1], &element, hint.as_ref(), scope);
                Type::List(Box::new(ty))
            }
            Generic::First => self.list(first, scope, signature).optional(),
            Generic::ListInfo(result) => {
                self.list(first, scope, signature);
                result.ty()
            }
            Generic::Coalesce => {
                let mut result = Type::Error;
                for (i, arg) in args.iter().enumerate() {
                    let hint = if result.is_error() {
                        expected.cloned()
                    } else {
                        Some(result.clone().optional())
                    };
                    let ty = self.value(arg, hint.as_ref(), scope);
                    if result.is_error() {
                        result = ty.unwrap_optional().clone();
                    } else {
                        self.expect_type(arg, &ty, &result.clone().optional(), signature);
                    }
                    if i + 1 == args.len() && ty.is_optional() {
                        return result.optional();
                    }
                }
                result
            }
        }
    }

    fn numeric(&mut self, at: &Expr, ty: &Type, signature: &str) -> Type {
        match ty {
            Type::Int | Type::Decimal | Type::Float | Type::Error => ty.clone(),
            other => {
                self.expect_type(
                    at,
                    other,
                    &Type::Decimal,
                    &format!("expected an Int, Decimal or Float: {signature}"),
                );
                Type::Error
            }
        }
    }
}
