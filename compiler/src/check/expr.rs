//! Typing of expressions: paths, operators, conditionals with null narrowing,
//! interpolation and literals.

use crate::diagnostic::{suggest, Code, Diagnostic};
use crate::source::Loc;
use crate::syntax::{BinaryOp, Expr, ExprKind, StrPart, UnaryOp};
use crate::types::Type;

use super::compat::{assignable, quote_list, Mismatch};
use super::Checker;

/// Paths with the type they are known to have (not null) under some condition.
type Facts = Vec<(String, Type)>;

/// Variables in scope and paths known not to be null.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    vars: Vec<(String, Type)>,
    narrowed: Vec<(String, Type)>,
}

impl Scope {
    /// A scope with one variable.
    pub fn with(name: &str, ty: Type) -> Scope {
        Scope {
            vars: vec![(name.to_string(), ty)],
            narrowed: Vec::new(),
        }
    }

    /// This scope plus one more variable, shadowing any of the same name.
    pub fn bind(&self, name: &str, ty: Type) -> Scope {
        let mut inner = self.clone();
        inner.vars.push((name.to_string(), ty));
        inner
            .narrowed
            .retain(|(path, _)| path != name && !path.starts_with(&format!("{name}.")));
        inner
    }

    fn var(&self, name: &str) -> Option<&Type> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t)
    }

    fn narrow(&self, facts: Vec<(String, Type)>) -> Scope {
        let mut inner = self.clone();
        inner.narrowed.extend(facts);
        inner
    }

    fn narrowed(&self, path: &str) -> Option<&Type> {
        self.narrowed
            .iter()
            .rev()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t)
    }
}

/// The dotted path an expression names, such as `c.address.city`.
pub fn path_of(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Var(id) => Some(id.name.clone()),
        ExprKind::Field(base, field) => path_of(base).map(|p| format!("{p}.{}", field.name)),
        _ => None,
    }
}

impl Checker<'_> {
    /// Records that an integer literal (possibly negated) stands for a Decimal.
    fn decimal_literal(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Int(_) => {
                let loc = self.loc(expr.span);
                self.found.decimal_literals.push(loc);
            }
            ExprKind::Unary(UnaryOp::Neg, inner) => self.decimal_literal(inner),
            _ => {}
        }
    }

    /// Records that a number literal (possibly negated) stands for a Float; reports one
    /// too large for a Float. Returns the literal's type.
    fn float_literal(&mut self, expr: &Expr) -> Type {
        match &expr.kind {
            ExprKind::Int(_) => {
                let loc = self.loc(expr.span);
                self.found.float_literals.push(loc);
                Type::Float
            }
            ExprKind::Decimal(text) => {
                let loc = self.loc(expr.span);
                if text.parse::<f64>().is_ok_and(f64::is_finite) {
                    self.found.float_literals.push(loc);
                    Type::Float
                } else {
                    self.report(
                        Diagnostic::new(
                            Code::InvalidNumber,
                            loc,
                            format!("`{text}` is too large for a Float"),
                        )
                        .with_label("out of range")
                        .with_note("a Float holds magnitudes up to about 1.8 × 10^308"),
                    );
                    Type::Error
                }
            }
            ExprKind::Unary(UnaryOp::Neg, inner) => self.float_literal(inner),
            _ => Type::Error,
        }
    }
}

fn is_int_literal(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Int(_) => true,
        ExprKind::Unary(UnaryOp::Neg, inner) => is_int_literal(inner),
        _ => false,
    }
}

/// An integer or decimal literal, possibly negated.
fn is_number_literal(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Int(_) | ExprKind::Decimal(_) => true,
        ExprKind::Unary(UnaryOp::Neg, inner) => is_number_literal(inner),
        _ => false,
    }
}

/// The built-in that converts a number of type `from` into `to` where the two may not
/// mix implicitly: Float against Int or Decimal.
fn float_conversion(from: &Type, to: &Type) -> Option<&'static str> {
    match (from, to) {
        (Type::Int, Type::Float) => Some("int_to_float"),
        (Type::Decimal, Type::Float) => Some("decimal_to_float"),
        (Type::Float, Type::Decimal) => Some("float_to_decimal"),
        _ => None,
    }
}

impl Checker<'_> {
    /// The type of `expr`, reporting every problem in it. `expected` guides literals:
    /// an integer literal where a Decimal is expected is a Decimal.
    pub fn expr(&mut self, expr: &Expr, expected: Option<&Type>, scope: &Scope) -> Type {
        let loc = self.loc(expr.span);
        match &expr.kind {
            ExprKind::Str(parts) => {
                for part in parts {
                    if let StrPart::Interpolation(inner) = part {
                        let ty = self.expr(inner, None, scope);
                        self.interpolated(inner, &ty);
                    }
                }
                match expected.map(Type::unwrap_optional) {
                    Some(Type::Enum(e)) => {
                        if let [StrPart::Text(text)] = parts.as_slice() {
                            if e.variants.contains(text) {
                                return Type::Enum(e.clone());
                            }
                            let names: Vec<&str> = e.variants.iter().map(String::as_str).collect();
                            let mut d = Diagnostic::new(
                                Code::NotAnEnumValue,
                                loc,
                                format!("\"{text}\" is not a value of `{}`", Type::Enum(e.clone())),
                            )
                            .with_label("not one of the allowed values")
                            .with_note(format!("allowed values: {}", quote_list(&names)));
                            if let Some(best) = suggest(text, names.iter().copied()) {
                                d = d.with_fix(
                                    format!("did you mean \"{best}\"?"),
                                    loc,
                                    format!("\"{best}\""),
                                );
                            }
                            self.report(d);
                            return Type::Error;
                        }
                        Type::String
                    }
                    _ => Type::String,
                }
            }
            ExprKind::Int(_) => match expected.map(Type::unwrap_optional) {
                Some(Type::Decimal) => {
                    self.found.decimal_literals.push(loc);
                    Type::Decimal
                }
                Some(Type::Float) => self.float_literal(expr),
                _ => Type::Int,
            },
            ExprKind::Decimal(_) => match expected.map(Type::unwrap_optional) {
                Some(Type::Float) => self.float_literal(expr),
                _ => Type::Decimal,
            },
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Null => Type::Null,
            ExprKind::Var(id) => match scope.narrowed(&id.name).or_else(|| scope.var(&id.name)) {
                Some(ty) => ty.clone(),
                None if crate::builtins::lookup(&id.name).is_some()
                    || self.program.maps.contains_key(&id.name) =>
                {
                    let what = if self.program.maps.contains_key(&id.name) {
                        "a map"
                    } else {
                        "a built-in function"
                    };
                    self.report(
                        Diagnostic::new(
                            Code::UnknownVariable,
                            loc,
                            format!("`{}` is {what}, not a variable", id.name),
                        )
                        .with_label("used as a value")
                        .with_note(format!("call it with its arguments: `{}(...)`", id.name)),
                    );
                    Type::Error
                }
                None => {
                    let mut d = Diagnostic::new(
                        Code::UnknownVariable,
                        loc,
                        format!("unknown variable `{}`", id.name),
                    )
                    .with_label("not defined here");
                    let names: Vec<&str> = scope.vars.iter().map(|(n, _)| n.as_str()).collect();
                    if let Some(best) = suggest(&id.name, names.iter().copied()) {
                        d = d.with_fix(format!("did you mean `{best}`?"), loc, best);
                    } else if !names.is_empty() {
                        d = d.with_note(format!("in scope: {}", names.join(", ")));
                    }
                    self.report(d);
                    Type::Error
                }
            },
            ExprKind::Field(base, field) => {
                if let Some(ty) = path_of(expr).and_then(|p| scope.narrowed(&p).cloned()) {
                    return ty;
                }
                let base_ty = self.expr(base, None, scope);
                self.field(expr, base, &base_ty, field)
            }
            ExprKind::Call(name, args) => self.call(expr, name, args, expected, scope),
            ExprKind::Lambda(..) => {
                self.report(
                    Diagnostic::new(Code::LambdaMisplaced, loc, "a lambda can only be an argument of a list function")
                        .with_label("not a value")
                        .with_note("use it inside sum, count, map, filter, any or all, e.g. `sum(o.lines, l => l.amount)`"),
                );
                Type::Error
            }
            ExprKind::List(items) => {
                let element_hint = match expected.map(Type::unwrap_optional) {
                    Some(Type::List(inner)) => Some((**inner).clone()),
                    _ => None,
                };
                let mut element: Option<Type> = element_hint.clone();
                for item in items {
                    let ty = self.expr(item, element.as_ref(), scope);
                    match &element {
                        None => element = Some(ty),
                        Some(want) => {
                            self.expect_type(
                                item,
                                &ty,
                                &want.clone(),
                                "list items must all have one type",
                            );
                        }
                    }
                }
                Type::List(Box::new(element.unwrap_or(Type::Json)))
            }
            ExprKind::Unary(op, operand) => {
                let want = match op {
                    UnaryOp::Neg => None,
                    UnaryOp::Not => Some(Type::Bool),
                };
                let ty = self.expr(operand, expected, scope);
                match (op, ty.unwrap_optional()) {
                    (_, Type::Error) => Type::Error,
                    (_, _) if ty.is_optional() => {
                        self.optional_operand(operand, &ty);
                        Type::Error
                    }
                    (UnaryOp::Neg, Type::Int | Type::Decimal | Type::Float) => ty,
                    (UnaryOp::Not, Type::Bool) => Type::Bool,
                    _ => {
                        let what = want
                            .map_or("an Int, Decimal or Float".to_string(), |t| format!("a {t}"));
                        self.report(
                            Diagnostic::new(
                                Code::OperatorMismatch,
                                loc,
                                format!("this operator needs {what}, not `{ty}`"),
                            )
                            .with_label(format!("`{ty}`")),
                        );
                        Type::Error
                    }
                }
            }
            ExprKind::Binary(op, lhs, rhs) => self.binary(expr, *op, lhs, rhs, expected, scope),
            ExprKind::If(cond, then, otherwise) => {
                let cond_ty = self.expr(cond, Some(&Type::Bool), scope);
                self.condition(cond, &cond_ty);
                let (when_true, when_false) = self.narrowings(cond, scope);
                let a = self.expr(then, expected, &scope.narrow(when_true));
                let b = self.expr(otherwise, expected.or(Some(&a)), &scope.narrow(when_false));
                self.unify(otherwise, &a, &b)
            }
            ExprKind::Error => Type::Error,
        }
    }

    /// Checks that `expr` of type `ty` fits `want`, reporting a mismatch with `context`.
    pub fn expect_type(&mut self, expr: &Expr, ty: &Type, want: &Type, context: &str) -> bool {
        match assignable(self.program, ty, want) {
            Ok(()) => true,
            Err(Mismatch::Optional) => {
                let loc = self.loc(expr.span);
                let fallback = super::compat::placeholder(self.program, want);
                let end = Loc::new(
                    loc.file,
                    crate::source::Span::new(expr.span.end, expr.span.end),
                );
                self.report(
                    Diagnostic::new(Code::OptionalNotAllowed, loc, format!("`{ty}` may be null, but a `{want}` is required here"))
                        .with_label(format!("this is `{ty}`"))
                        .with_note("give a default with `??`, test it with `if x != null then ... else ...`, or make the target optional")
                        .with_fix(format!("add a default: `?? {fallback}`"), end, format!(" ?? {fallback}")),
                );
                false
            }
            Err(Mismatch::Other(why)) => {
                let conversion = float_conversion(ty, want.unwrap_optional());
                if let (Some(convert), false) = (conversion, ty.is_optional()) {
                    let d = self.unconverted(expr, ty, want.unwrap_optional(), convert);
                    self.report(d.with_note(context.to_string()));
                    return false;
                }
                let mut d = Diagnostic::new(
                    Code::TypeMismatch,
                    self.loc(expr.span),
                    format!("expected `{want}`, found `{ty}`"),
                )
                .with_label(format!("this is `{ty}`"))
                .with_note(context.to_string());
                if let Some(why) = why {
                    d = d.with_note(why);
                } else if let Some(hint) = conversion_hint(ty, want) {
                    d = d.with_note(hint);
                }
                self.report(d);
                false
            }
        }
    }

    /// A value of a numeric type used as another that it may not stand for implicitly:
    /// reported with the conversion as a fix-it.
    fn unconverted(&self, expr: &Expr, ty: &Type, want: &Type, convert: &str) -> Diagnostic {
        let loc = self.loc(expr.span);
        Diagnostic::new(
            Code::UnconvertedNumber,
            loc,
            format!("a `{ty}` is used as a `{want}` without a conversion"),
        )
        .with_label(format!("this is `{ty}`"))
        .with_note(number_kinds(ty, want))
        .with_fix(
            format!("convert with {convert}(...)"),
            loc,
            format!("{convert}({})", self.text(expr.span)),
        )
    }

    fn field(
        &mut self,
        expr: &Expr,
        base: &Expr,
        base_ty: &Type,
        field: &crate::syntax::Ident,
    ) -> Type {
        let loc = self.loc(field.span);
        match base_ty.unwrap_optional() {
            Type::Error => Type::Error,
            Type::Json => Type::Json,
            Type::List(_) => {
                self.report(
                    Diagnostic::new(
                        Code::NotARecord,
                        loc,
                        format!(
                            "`{}` is a list, so it has no field `{}`",
                            path_of(base).unwrap_or_default(),
                            field.name
                        ),
                    )
                    .with_label("field of a list")
                    .with_note(format!(
                        "to take the field of every item write `map({list}, x => x.{field})`; for the first item, `first({list})` (which is optional)",
                        list = path_of(base).unwrap_or_else(|| "list".into()),
                        field = field.name
                    )),
                );
                Type::Error
            }
            other => match self.program.record(other) {
                Some(record) => match record.field(&field.name) {
                    // Reading through an optional record yields an optional.
                    Some(f) if base_ty.is_optional() => f.ty.clone().optional(),
                    Some(f) => f.ty.clone(),
                    None => {
                        let names: Vec<&str> =
                            record.fields.iter().map(|f| f.name.as_str()).collect();
                        let base_path = path_of(base).unwrap_or_else(|| "the value".into());
                        let mut d = Diagnostic::new(
                            Code::UnknownSourceField,
                            loc,
                            format!("`{base_path}` has no field `{}`", field.name),
                        )
                        .with_label(format!("not a field of `{other}`"));
                        if let Some(best) = suggest(&field.name, names.iter().copied()) {
                            d = d.with_fix(format!("did you mean `{best}`?"), loc, best);
                        } else if names.is_empty() {
                            d = d.with_note(format!("`{other}` declares no fields"));
                        } else {
                            d = d.with_note(format!("`{other}` has: {}", names.join(", ")));
                        }
                        if let Some(schema) = self.program.schema_loc(other) {
                            d = d.with_secondary(schema, format!("`{other}` is declared here"));
                        }
                        self.report(d);
                        Type::Error
                    }
                },
                None => {
                    self.report(
                        Diagnostic::new(
                            Code::NotARecord,
                            loc,
                            format!(
                                "`{other}` is not a record, so it has no field `{}`",
                                field.name
                            ),
                        )
                        .with_label("field of a non-record")
                        .with_secondary(self.loc(expr.span), "in this path"),
                    );
                    Type::Error
                }
            },
        }
    }

    fn binary(
        &mut self,
        expr: &Expr,
        op: BinaryOp,
        lhs: &Expr,
        rhs: &Expr,
        expected: Option<&Type>,
        scope: &Scope,
    ) -> Type {
        let loc = self.loc(expr.span);
        match op {
            BinaryOp::Default => {
                let left = self.expr(lhs, expected.map(|t| t.clone().optional()).as_ref(), scope);
                if !left.is_optional() && !left.is_error() {
                    let (_, when_absent) = (lhs.span, rhs.span);
                    self.report(
                        Diagnostic::new(Code::NeedlessDefault, self.loc(when_absent), format!("`{}` is a `{left}` and is never null, so this default is never used", path_of(lhs).unwrap_or_else(|| "the left side".into())))
                            .with_label("never used")
                            .with_fix("remove the default", Loc::new(loc.file, crate::source::Span::new(lhs.span.end, expr.span.end)), ""),
                    );
                }
                let inner = left.unwrap_optional().clone();
                let hint = if inner.is_error() || inner == Type::Null {
                    expected.cloned()
                } else {
                    Some(inner.clone())
                };
                let right = self.expr(rhs, hint.as_ref(), scope);
                if inner.is_error() || inner == Type::Null {
                    return right;
                }
                let wanted = if right.is_optional() {
                    inner.clone().optional()
                } else {
                    inner.clone()
                };
                self.expect_type(
                    rhs,
                    &right,
                    &wanted,
                    "the default must have the type of the value it replaces",
                );
                if right.is_optional() {
                    inner.optional()
                } else {
                    inner
                }
            }
            BinaryOp::And | BinaryOp::Or => {
                let a = self.expr(lhs, Some(&Type::Bool), scope);
                self.condition(lhs, &a);
                let (when_true, _) = self.narrowings(lhs, scope);
                let inner = if op == BinaryOp::And {
                    scope.narrow(when_true)
                } else {
                    scope.clone()
                };
                let b = self.expr(rhs, Some(&Type::Bool), &inner);
                self.condition(rhs, &b);
                Type::Bool
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                let a = self.expr(lhs, None, scope);
                let b = self.expr(rhs, Some(&a), scope);
                let a = if is_int_literal(lhs) && b.unwrap_optional() == &Type::Decimal {
                    self.decimal_literal(lhs);
                    Type::Decimal
                } else if is_number_literal(lhs) && b.unwrap_optional() == &Type::Float {
                    self.float_literal(lhs)
                } else {
                    a
                };
                let comparable = a == Type::Null
                    || b == Type::Null
                    || assignable(self.program, a.unwrap_optional(), b.unwrap_optional()).is_ok()
                    || assignable(self.program, b.unwrap_optional(), a.unwrap_optional()).is_ok();
                if !comparable
                    && self.mixed_numbers(
                        expr,
                        op,
                        lhs,
                        a.unwrap_optional(),
                        rhs,
                        b.unwrap_optional(),
                        expected,
                    )
                {
                    return Type::Bool;
                }
                if !comparable {
                    self.report(
                        Diagnostic::new(
                            Code::OperatorMismatch,
                            loc,
                            format!("cannot compare `{a}` with `{b}`: they are different types"),
                        )
                        .with_label(format!("`{a}` {} `{b}`", op.symbol()))
                        .with_note(conversion_hint(&b, &a).unwrap_or_else(|| {
                            "convert one side so both have the same type".into()
                        })),
                    );
                }
                Type::Bool
            }
            _ => {
                let numeric_hint = expected
                    .map(Type::unwrap_optional)
                    .filter(|t| matches!(t, Type::Int | Type::Decimal | Type::Float))
                    .cloned();
                let mut a = self.expr(lhs, numeric_hint.as_ref(), scope);
                let b = self.expr(rhs, Some(&a), scope);
                if a == Type::Int && b == Type::Decimal && is_int_literal(lhs) {
                    self.decimal_literal(lhs);
                    a = Type::Decimal;
                } else if matches!(a, Type::Int | Type::Decimal)
                    && b == Type::Float
                    && is_number_literal(lhs)
                {
                    a = self.float_literal(lhs);
                }
                if a.is_error() || b.is_error() {
                    return Type::Error;
                }
                for (side, ty) in [(lhs, &a), (rhs, &b)] {
                    if ty.is_optional() {
                        self.optional_operand(side, ty);
                        return Type::Error;
                    }
                }
                let comparison = matches!(
                    op,
                    BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
                );
                let allowed = if comparison {
                    matches!(
                        a,
                        Type::Int
                            | Type::Decimal
                            | Type::Float
                            | Type::String
                            | Type::Date
                            | Type::Timestamp
                    )
                } else {
                    matches!(a, Type::Int | Type::Decimal | Type::Float)
                };
                if a == b && allowed {
                    return if comparison { Type::Bool } else { a };
                }
                if self.mixed_numbers(expr, op, lhs, &a, rhs, &b, expected) {
                    return if comparison { Type::Bool } else { Type::Error };
                }
                let mut d = Diagnostic::new(
                    Code::OperatorMismatch,
                    loc,
                    format!("`{}` cannot be applied to `{a}` and `{b}`", op.symbol()),
                )
                .with_label(format!("`{a}` {} `{b}`", op.symbol()));
                d = if a == Type::String && b == Type::String && op == BinaryOp::Add {
                    d.with_note("join text with interpolation, \"${a}${b}\", or concat(a, b)")
                } else if matches!(
                    (&a, &b),
                    (Type::Int, Type::Decimal) | (Type::Decimal, Type::Int)
                ) {
                    d.with_note("Int and Decimal do not mix implicitly: convert the Int with int_to_decimal(...)")
                } else if comparison {
                    d.with_note(
                        "both sides must be the same type: Int, Decimal, Float, String, Date or Timestamp",
                    )
                } else {
                    d.with_note("arithmetic needs two Ints, two Decimals or two Floats")
                };
                self.report(d);
                Type::Error
            }
        }
    }

    /// Reports a Float meeting an Int or a Decimal in `lhs op rhs`, with fix-its that
    /// convert one side; false when the operands are not such a pair.
    #[allow(clippy::too_many_arguments)]
    fn mixed_numbers(
        &mut self,
        expr: &Expr,
        op: BinaryOp,
        lhs: &Expr,
        a: &Type,
        rhs: &Expr,
        b: &Type,
        expected: Option<&Type>,
    ) -> bool {
        // Each way of making both sides one type: (side converted, from, to).
        let mut ways: Vec<(&Expr, &Type, &Type)> = Vec::new();
        match (a, b) {
            (Type::Float, Type::Int | Type::Decimal) => ways.push((rhs, b, a)),
            (Type::Int | Type::Decimal, Type::Float) => ways.push((lhs, a, b)),
            _ => return false,
        }
        if matches!(
            (a, b),
            (Type::Float, Type::Decimal) | (Type::Decimal, Type::Float)
        ) {
            let float_side = if *a == Type::Float { lhs } else { rhs };
            let other = (float_side, &Type::Float, &Type::Decimal);
            // The conversion towards the type the context wants comes first.
            if expected.map(Type::unwrap_optional) == Some(&Type::Decimal) {
                ways.insert(0, other);
            } else {
                ways.push(other);
            }
        }
        let mut d = Diagnostic::new(
            Code::UnconvertedNumber,
            self.loc(expr.span),
            format!("`{}` cannot mix `{a}` and `{b}`", op.symbol()),
        )
        .with_label(format!("`{a}` {} `{b}`", op.symbol()))
        .with_note(number_kinds(a, b));
        for (side, from, to) in ways {
            if let Some(convert) = float_conversion(from, to) {
                let loc = self.loc(side.span);
                d = d.with_fix(
                    format!("convert the {from} with {convert}(...)"),
                    loc,
                    format!("{convert}({})", self.text(side.span)),
                );
            }
        }
        self.report(d);
        true
    }

    fn optional_operand(&mut self, operand: &Expr, ty: &Type) {
        let loc = self.loc(operand.span);
        let fallback = super::compat::placeholder(self.program, ty);
        let end = Loc::new(
            loc.file,
            crate::source::Span::new(operand.span.end, operand.span.end),
        );
        self.report(
            Diagnostic::new(
                Code::OptionalNotAllowed,
                loc,
                format!(
                    "`{}` is `{ty}` and may be null; operators need a value",
                    path_of(operand).unwrap_or_else(|| "this".into())
                ),
            )
            .with_label(format!("`{ty}`"))
            .with_note("give a default with `??`, or test it with `if x != null then ... else ...`")
            .with_fix(
                format!("add a default: `?? {fallback}`"),
                end,
                format!(" ?? {fallback}"),
            ),
        );
    }

    /// Reports a condition that is not a plain Bool.
    pub fn condition(&mut self, cond: &Expr, ty: &Type) {
        match ty {
            Type::Bool | Type::Error => {}
            Type::Optional(inner) if **inner == Type::Bool => self.optional_operand(cond, ty),
            other => self.report(
                Diagnostic::new(
                    Code::ConditionNotBool,
                    self.loc(cond.span),
                    format!("a condition must be a Bool, not `{other}`"),
                )
                .with_label(format!("`{other}`"))
                .with_note("compare it, e.g. `x > 0` or `x != null`"),
            ),
        }
    }

    /// Paths known not to be null when `cond` is true, and when it is false.
    fn narrowings(&mut self, cond: &Expr, scope: &Scope) -> (Facts, Facts) {
        match &cond.kind {
            ExprKind::Binary(op @ (BinaryOp::Ne | BinaryOp::Eq), a, b) => {
                let subject = match (&a.kind, &b.kind) {
                    (_, ExprKind::Null) => a,
                    (ExprKind::Null, _) => b,
                    _ => return (Vec::new(), Vec::new()),
                };
                let Some(path) = path_of(subject) else {
                    return (Vec::new(), Vec::new());
                };
                let ty = self.quietly(|checker| checker.expr(subject, None, scope));
                let fact = vec![(path, ty.unwrap_optional().clone())];
                if *op == BinaryOp::Ne {
                    (fact, Vec::new())
                } else {
                    (Vec::new(), fact)
                }
            }
            ExprKind::Binary(BinaryOp::And, a, b) => {
                let (mut facts, _) = self.narrowings(a, scope);
                let (more, _) = self.narrowings(b, &scope.narrow(facts.clone()));
                facts.extend(more);
                (facts, Vec::new())
            }
            ExprKind::Unary(UnaryOp::Not, inner) => {
                let (t, f) = self.narrowings(inner, scope);
                (f, t)
            }
            _ => (Vec::new(), Vec::new()),
        }
    }

    fn quietly(&mut self, f: impl FnOnce(&mut Self) -> Type) -> Type {
        let before = self.found.diagnostics.len();
        let ty = f(self);
        self.found.diagnostics.truncate(before);
        ty
    }

    fn unify(&mut self, at: &Expr, a: &Type, b: &Type) -> Type {
        match (a, b) {
            (Type::Error, other) | (other, Type::Error) => other.clone(),
            (Type::Null, other) | (other, Type::Null) => other.clone().optional(),
            _ if assignable(self.program, b, a).is_ok() => {
                if b.is_optional() {
                    a.clone().optional()
                } else {
                    a.clone()
                }
            }
            _ if assignable(self.program, a, b).is_ok() => b.clone(),
            _ => {
                self.report(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        self.loc(at.span),
                        format!("the branches of `if` have different types: `{a}` and `{b}`"),
                    )
                    .with_label(format!("this is `{b}`"))
                    .with_note("both branches must produce the same type"),
                );
                Type::Error
            }
        }
    }

    /// The first scalar field of a record type, for examples in messages.
    fn scalar_field(&self, ty: &Type) -> Option<String> {
        let record = self.program.record(ty)?;
        record
            .fields
            .iter()
            .find(|f| {
                matches!(
                    f.ty,
                    Type::String
                        | Type::Int
                        | Type::Decimal
                        | Type::Float
                        | Type::Date
                        | Type::Timestamp
                )
            })
            .map(|f| f.name.clone())
    }

    fn interpolated(&mut self, inner: &Expr, ty: &Type) {
        match ty {
            Type::String
            | Type::Int
            | Type::Decimal
            | Type::Float
            | Type::Bool
            | Type::Date
            | Type::Timestamp
            | Type::Enum(_)
            | Type::Error => {}
            Type::Optional(_) | Type::Null => self.optional_operand(inner, ty),
            other => {
                let path = path_of(inner);
                let what = path
                    .as_ref()
                    .map_or("this value".to_string(), |p| format!("`{p}`"));
                let p = path.unwrap_or_else(|| "xs".into());
                let mut d = Diagnostic::new(Code::NotInterpolatable, self.loc(inner.span), format!("{what} is `{other}`, which cannot be put into a string"))
                    .with_label(format!("`{other}`"))
                    .with_note("only scalars can be interpolated: String, Int, Decimal, Float, Bool, Date, Timestamp and enums");
                if let Type::List(element) = other {
                    let item = match self.scalar_field(element) {
                        Some(field) => format!("x.{field}"),
                        None => "to_string(x)".to_string(),
                    };
                    d = d.with_note(format!("interpolate its size, `${{size({p})}}`, or build the text outside the string: `concat(\"...\", join(map({p}, x => {item}), \", \"))`"));
                } else if let Some(field) = self.scalar_field(other) {
                    d = d.with_note(format!(
                        "interpolate one of its fields instead, such as `${{{p}.{field}}}`"
                    ));
                }
                self.report(d)
            }
        }
    }
}

/// What sets Float apart from the number type it meets, for notes.
fn number_kinds(a: &Type, b: &Type) -> String {
    let other = if *a == Type::Float { b } else { a };
    let what = if *other == Type::Int {
        "Int (whole numbers)"
    } else {
        "Decimal (exact)"
    };
    format!("Float (binary64, rounded) and {what} do not mix implicitly: convert one side")
}

/// How to convert between two scalar types, when there is a built-in for it.
pub fn conversion_hint(from: &Type, to: &Type) -> Option<String> {
    let hint = match (from.unwrap_optional(), to.unwrap_optional()) {
        (Type::Int, Type::Decimal) => "convert with int_to_decimal(...)",
        (Type::Decimal | Type::Float, Type::Int) => "convert with round(...), floor(...) or ceil(...)",
        (Type::Int, Type::Float) => "convert with int_to_float(...)",
        (Type::Decimal, Type::Float) => "convert with decimal_to_float(...)",
        (Type::Float, Type::Decimal) => "convert with float_to_decimal(...)",
        (Type::String, Type::Int) => "parse with to_int(...), which is `Int?`: add `?? 0` or check for null",
        (Type::String, Type::Decimal) => "parse with to_decimal(...), which is `Decimal?`: add a default with `??`",
        (Type::String, Type::Float) => "parse with to_float(...), which is `Float?`: add a default with `??`",
        (Type::String, Type::Date) => "parse with parse_date(s, \"%Y-%m-%d\"), which is `Date?`",
        (Type::String, Type::Timestamp) => "parse with parse_timestamp(...), which is `Timestamp?`",
        (Type::Timestamp, Type::Date) => "convert with date_of(...)",
        (Type::Int | Type::Decimal | Type::Float | Type::Bool | Type::Date | Type::Timestamp, Type::String) => "convert with to_string(...) or interpolate: \"${x}\"",
        (Type::String, Type::Enum(_)) => "only a string literal that names a variant converts to an enum; use `if ... then \"A\" else \"B\"`",
        _ => return None,
    };
    Some(hint.to_string())
}
