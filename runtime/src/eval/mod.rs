//! The expression evaluator: runs map expressions and whole maps over [`Value`]s.
//!
//! Paths (`c.bill_to.city`) are evaluated by reference: a field of the input is only
//! cloned when it ends up in the output, never to look something up.

#[cfg(test)]
mod build;
mod builtins;
mod demand;
#[cfg(test)]
mod tests;

pub use demand::Demand;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::ir::{BinaryOp, Expr, Map, Program, StrPart, Type, UnaryOp};
use crate::value::{parse_decimal, record_fields, Value};

/// How deep map applications may nest before evaluation gives up (a map applying
/// itself would otherwise overflow the stack).
const MAX_APPLY_DEPTH: u32 = 32;

/// Variables in scope: the map parameter and enclosing lambda parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Env<'a> {
    binding: Option<(&'a str, &'a Value)>,
    parent: Option<&'a Env<'a>>,
}

impl<'a> Env<'a> {
    /// No variables.
    pub fn empty() -> Self {
        Env::default()
    }

    /// One variable.
    pub fn new(name: &'a str, value: &'a Value) -> Self {
        Env {
            binding: Some((name, value)),
            parent: None,
        }
    }

    /// This scope plus `name`, which shadows an outer variable of that name.
    pub fn bind<'b>(&'b self, name: &'b str, value: &'b Value) -> Env<'b> {
        Env {
            binding: Some((name, value)),
            parent: Some(self),
        }
    }

    /// The value of a variable.
    pub fn lookup(&self, name: &str) -> Option<&'a Value> {
        let mut env = self;
        loop {
            if let Some((n, v)) = env.binding {
                if n == name {
                    return Some(v);
                }
            }
            env = env.parent?;
        }
    }
}

/// Where an evaluation failed: a map and the target field being computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The map's name.
    pub map: String,
    /// The target field path.
    pub field: Vec<String>,
}

impl Frame {
    /// The artifact source-map id of this field: `map.NAME.field.PATH`.
    pub fn source_id(&self) -> String {
        format!("map.{}.field.{}", self.map, self.field.join("."))
    }
}

/// A run-time error of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// What went wrong.
    pub message: String,
    /// Where, innermost first: the field being computed, then the fields of the maps
    /// that applied its map.
    pub frames: Vec<Frame>,
}

impl EvalError {
    /// An error not yet placed in a map.
    pub fn new(message: impl Into<String>) -> Self {
        EvalError {
            message: message.into(),
            frames: Vec::new(),
        }
    }

    /// The source-map id of the innermost field, for pointing at the source.
    pub fn source_id(&self) -> Option<String> {
        self.frames.first().map(Frame::source_id)
    }

    fn within(mut self, map: &str, field: &[String]) -> Self {
        self.frames.push(Frame {
            map: map.to_owned(),
            field: field.to_vec(),
        });
        self
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for (i, frame) in self.frames.iter().enumerate() {
            let word = if i == 0 { "in" } else { "applied from" };
            write!(
                f,
                " ({word} map `{}`, field `{}`)",
                frame.map,
                frame.field.join(".")
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for EvalError {}

type Result<T> = std::result::Result<T, EvalError>;

/// Where `now()` and `today()` read the time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system clock: production runs, and tests without a `clock` statement.
    #[default]
    System,
    /// A fixed instant, set by a test's `clock "..."` statement.
    Pinned(DateTime<Utc>),
}

impl Clock {
    /// The current instant by this clock.
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Pinned(at) => at,
        }
    }

    /// The current UTC date by this clock.
    pub fn today(self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// What evaluation carries besides the scope.
#[derive(Clone, Copy)]
pub(crate) struct Cx<'p> {
    program: &'p Program,
    depth: u32,
    clock: Clock,
}

impl<'p> Cx<'p> {
    fn new(program: &'p Program, clock: Clock) -> Self {
        Cx {
            program,
            depth: 0,
            clock,
        }
    }
}

/// Evaluates an expression by the system clock.
pub fn eval(expr: &Expr, env: &Env, program: &Program) -> Result<Value> {
    eval_at(expr, env, program, Clock::System)
}

/// Evaluates an expression; `now()` and `today()` read `clock`.
pub fn eval_at(expr: &Expr, env: &Env, program: &Program, clock: Clock) -> Result<Value> {
    ev(expr, env, Cx::new(program, clock)).map(Cow::into_owned)
}

/// Applies a map to a record: builds the target record from the assignments (dotted
/// paths create nested records), fields in the order of the target type.
pub fn apply_map(map: &Map, input: &Value, program: &Program) -> Result<Value> {
    apply_map_at(map, input, program, Clock::System)
}

/// [`apply_map`] with `now()` and `today()` reading `clock`.
pub fn apply_map_at(map: &Map, input: &Value, program: &Program, clock: Clock) -> Result<Value> {
    let name = program
        .maps
        .iter()
        .find(|(_, m)| std::ptr::eq(*m, map))
        .map_or("<map>", |(n, _)| n.as_str());
    run_map(name, map, input, Cx::new(program, clock))
}

/// Applies the map of this name in `program` to a record.
pub fn apply_named(name: &str, input: &Value, program: &Program) -> Result<Value> {
    apply_named_at(name, input, program, Clock::System)
}

/// [`apply_named`] with `now()` and `today()` reading `clock`.
pub fn apply_named_at(name: &str, input: &Value, program: &Program, clock: Clock) -> Result<Value> {
    let map = program
        .maps
        .get(name)
        .ok_or_else(|| EvalError::new(format!("unknown map `{name}`")))?;
    run_map(name, map, input, Cx::new(program, clock))
}

fn run_map(name: &str, map: &Map, input: &Value, cx: Cx<'_>) -> Result<Value> {
    if cx.depth >= MAX_APPLY_DEPTH {
        return Err(EvalError::new(format!(
            "map applications nested deeper than {MAX_APPLY_DEPTH} (a map applies itself?)"
        )));
    }
    let cx = Cx {
        depth: cx.depth + 1,
        ..cx
    };
    let env = Env::new(&map.param, input);
    let mut out: Vec<(String, Value)> = Vec::new();
    for assignment in &map.fields {
        let value = ev(&assignment.value, &env, cx)
            .map_err(|e| e.within(name, &assignment.target))?
            .into_owned();
        insert_path(&mut out, &assignment.target, value)
            .map_err(|e| e.within(name, &assignment.target))?;
    }
    let mut out = Value::Record(out);
    shape(&mut out, &map.target, cx.program);
    Ok(out)
}

fn insert_path(record: &mut Vec<(String, Value)>, path: &[String], value: Value) -> Result<()> {
    let Some((head, rest)) = path.split_first() else {
        return Err(EvalError::new("assignment with an empty target path"));
    };
    let slot = match record.iter().position(|(n, _)| n == head) {
        Some(i) => &mut record[i].1,
        None => {
            record.push((head.clone(), Value::Null));
            let last = record.len() - 1;
            &mut record[last].1
        }
    };
    if rest.is_empty() {
        *slot = value;
        return Ok(());
    }
    if slot.is_null() {
        *slot = Value::Record(Vec::new());
    }
    match slot {
        Value::Record(fields) => insert_path(fields, rest, value),
        other => Err(EvalError::new(format!(
            "cannot assign a field of `{head}`, which is already a {}",
            other.kind()
        ))),
    }
}

/// Orders record fields as the type declares them (recursively) and widens `Int` to
/// `Decimal` or `Float` where the type asks for one (`sum` of an empty list is `0`).
/// Works in place: assignments come sorted by path, so fields are nearly always in
/// order already.
fn shape(value: &mut Value, ty: &Type, program: &Program) {
    match (value, ty) {
        (value, Type::Optional { inner }) => shape(value, inner, program),
        (value @ Value::Int(_), Type::Decimal | Type::Float) => {
            if let Value::Int(i) = *value {
                *value = if *ty == Type::Float {
                    Value::Float(i as f64)
                } else {
                    Value::Decimal(Decimal::from(i))
                };
            }
        }
        (Value::List(items), Type::List { item }) => {
            for v in items {
                shape(v, item, program);
            }
        }
        (Value::Record(fields), ty) => {
            let Some(declared) = record_fields(ty, program) else {
                return;
            };
            let mut next = 0;
            for field in declared {
                if let Some(i) = fields[next..].iter().position(|(n, _)| *n == field.name) {
                    let i = next + i;
                    if i != next {
                        let moved = fields.remove(i);
                        fields.insert(next, moved);
                    }
                    shape(&mut fields[next].1, &field.ty, program);
                    next += 1;
                }
            }
        }
        _ => {}
    }
}

pub(crate) fn type_error(what: &str, expected: &str, found: &Value) -> EvalError {
    EvalError::new(format!(
        "{what}: expected {expected}, found {}",
        found.kind()
    ))
}

pub(crate) fn ev<'v>(expr: &'v Expr, env: &Env<'v>, cx: Cx<'_>) -> Result<Cow<'v, Value>> {
    Ok(match expr {
        Expr::Str { parts } => {
            let mut out = String::new();
            for part in parts {
                match part {
                    StrPart::Text { text } => out.push_str(text),
                    StrPart::Expr { expr } => {
                        let v = ev(expr, env, cx)?;
                        push_display(&mut out, &v);
                    }
                }
            }
            Cow::Owned(Value::String(out))
        }
        Expr::Int { value } => Cow::Owned(Value::Int(*value)),
        Expr::Decimal { value } => {
            Cow::Owned(Value::Decimal(parse_decimal(value).ok_or_else(|| {
                EvalError::new(format!("`{value}` is not a decimal number"))
            })?))
        }
        Expr::Float { value } => Cow::Owned(Value::Float(finite(*value, || {
            format!("the literal {value} is not a finite Float")
        })?)),
        Expr::Bool { value } => Cow::Owned(Value::Bool(*value)),
        Expr::Null => Cow::Owned(Value::Null),
        Expr::Var { name } => Cow::Borrowed(
            env.lookup(name)
                .ok_or_else(|| EvalError::new(format!("unknown variable `{name}`")))?,
        ),
        Expr::Field { base, name } => match ev(base, env, cx)? {
            Cow::Borrowed(v) => match field_ref(v, name)? {
                FieldRef::Ref(f) => Cow::Borrowed(f),
                FieldRef::Owned(f) => Cow::Owned(f),
            },
            Cow::Owned(v) => Cow::Owned(field_owned(v, name)?),
        },
        Expr::Call { function, args } => builtins::call(function, args, env, cx)?,
        Expr::Apply { map, arg } => {
            let m = cx
                .program
                .maps
                .get(map)
                .ok_or_else(|| EvalError::new(format!("unknown map `{map}`")))?;
            let input = ev(arg, env, cx)?;
            if input.is_null() {
                Cow::Owned(Value::Null)
            } else {
                Cow::Owned(run_map(map, m, &input, cx)?)
            }
        }
        Expr::Lambda { .. } => {
            return Err(EvalError::new(
                "a lambda can only be an argument of a list function",
            ))
        }
        Expr::List { items } => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(ev(item, env, cx)?.into_owned());
            }
            Cow::Owned(Value::List(out))
        }
        Expr::Unary { operator, operand } => {
            let v = ev(operand, env, cx)?;
            Cow::Owned(match (operator, &*v) {
                (UnaryOp::Neg, Value::Int(i)) => Value::Int(
                    i.checked_neg()
                        .ok_or_else(|| EvalError::new(format!("overflow in -({i})")))?,
                ),
                (UnaryOp::Neg, Value::Decimal(d)) => Value::Decimal(-*d),
                (UnaryOp::Neg, Value::Float(x)) => Value::Float(-*x),
                (UnaryOp::Neg, other) => {
                    return Err(type_error("`-`", "Int, Decimal or Float", other))
                }
                (UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
                (UnaryOp::Not, other) => return Err(type_error("`not`", "Bool", other)),
            })
        }
        Expr::Binary { operator, lhs, rhs } => binary(*operator, lhs, rhs, env, cx)?,
        Expr::If {
            condition,
            then,
            otherwise,
        } => match &*ev(condition, env, cx)? {
            Value::Bool(true) => ev(then, env, cx)?,
            Value::Bool(false) => ev(otherwise, env, cx)?,
            other => return Err(type_error("`if` condition", "Bool", other)),
        },
    })
}

fn push_display(out: &mut String, v: &Value) {
    use std::fmt::Write;
    match v {
        Value::String(s) => out.push_str(s),
        // Writing into a String cannot fail.
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

enum FieldRef<'v> {
    Ref(&'v Value),
    Owned(Value),
}

fn field_ref<'v>(base: &'v Value, name: &str) -> Result<FieldRef<'v>> {
    match base {
        Value::Null => Ok(FieldRef::Owned(Value::Null)),
        Value::Record(_) => Ok(match base.field(name) {
            Some(v) => FieldRef::Ref(v),
            None => FieldRef::Owned(Value::Null),
        }),
        Value::Json(j) => Ok(FieldRef::Owned(json_field(j, name)?)),
        other => Err(type_error(&format!("field `.{name}`"), "a record", other)),
    }
}

fn field_owned(base: Value, name: &str) -> Result<Value> {
    match base {
        Value::Null => Ok(Value::Null),
        Value::Record(fields) => Ok(fields
            .into_iter()
            .find(|(n, _)| n == name)
            .map_or(Value::Null, |(_, v)| v)),
        Value::Json(j) => json_field(&j, name),
        other => Err(type_error(&format!("field `.{name}`"), "a record", &other)),
    }
}

fn json_field(j: &serde_json::Value, name: &str) -> Result<Value> {
    match j {
        serde_json::Value::Null => Ok(Value::Null),
        serde_json::Value::Object(o) => Ok(match o.get(name) {
            None | Some(serde_json::Value::Null) => Value::Null,
            Some(v) => Value::Json(v.clone()),
        }),
        _ => Err(EvalError::new(format!(
            "field `.{name}`: expected a JSON object"
        ))),
    }
}

fn binary<'v>(
    op: BinaryOp,
    lhs: &'v Expr,
    rhs: &'v Expr,
    env: &Env<'v>,
    cx: Cx<'_>,
) -> Result<Cow<'v, Value>> {
    let boolean = |e: &'v Expr, what: &str| -> Result<bool> {
        match &*ev(e, env, cx)? {
            Value::Bool(b) => Ok(*b),
            other => Err(type_error(what, "Bool", other)),
        }
    };
    match op {
        BinaryOp::And => {
            let v = boolean(lhs, "`and`")? && boolean(rhs, "`and`")?;
            return Ok(Cow::Owned(Value::Bool(v)));
        }
        BinaryOp::Or => {
            let v = boolean(lhs, "`or`")? || boolean(rhs, "`or`")?;
            return Ok(Cow::Owned(Value::Bool(v)));
        }
        BinaryOp::Default => {
            let l = ev(lhs, env, cx)?;
            return if l.is_null() { ev(rhs, env, cx) } else { Ok(l) };
        }
        _ => {}
    }
    let l = ev(lhs, env, cx)?;
    let r = ev(rhs, env, cx)?;
    let v = match op {
        BinaryOp::Eq => Value::Bool(equal(&l, &r)),
        BinaryOp::Ne => Value::Bool(!equal(&l, &r)),
        BinaryOp::Lt => Value::Bool(compare(&l, &r, "`<`")?.is_lt()),
        BinaryOp::Le => Value::Bool(compare(&l, &r, "`<=`")?.is_le()),
        BinaryOp::Gt => Value::Bool(compare(&l, &r, "`>`")?.is_gt()),
        BinaryOp::Ge => Value::Bool(compare(&l, &r, "`>=`")?.is_ge()),
        _ => arithmetic(op, &l, &r)?,
    };
    Ok(Cow::Owned(v))
}

/// `==`: structural; an `Int` equals the `Decimal` or `Float` of the same number; JSON
/// equals a typed value with the same JSON form.
pub(crate) fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(i), Value::Decimal(d)) | (Value::Decimal(d), Value::Int(i)) => {
            Decimal::from(*i) == *d
        }
        (Value::Int(i), Value::Float(x)) | (Value::Float(x), Value::Int(i)) => {
            int_cmp_float(*i, *x) == Some(Ordering::Equal)
        }
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Value::Record(x), Value::Record(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(n, v)| y.iter().any(|(m, w)| n == m && equal(v, w)))
        }
        (Value::Json(j), Value::Null) | (Value::Null, Value::Json(j)) => j.is_null(),
        (Value::Json(j), other) | (other, Value::Json(j)) if !matches!(other, Value::Json(_)) => {
            *j == other.to_json()
        }
        _ => a == b,
    }
}

/// `<` and friends: numbers (an `Int` against a `Decimal` or `Float` too), strings,
/// dates, timestamps.
pub(crate) fn compare(a: &Value, b: &Value, what: &str) -> Result<Ordering> {
    let unordered = || {
        EvalError::new(format!(
            "{what}: cannot compare {} with {}",
            a.kind(),
            b.kind()
        ))
    };
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Decimal(x), Value::Decimal(y)) => x.cmp(y),
        (Value::Int(x), Value::Decimal(y)) => Decimal::from(*x).cmp(y),
        (Value::Decimal(x), Value::Int(y)) => x.cmp(&Decimal::from(*y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).ok_or_else(unordered)?,
        (Value::Int(x), Value::Float(y)) => int_cmp_float(*x, *y).ok_or_else(unordered)?,
        (Value::Float(x), Value::Int(y)) => int_cmp_float(*y, *x).ok_or_else(unordered)?.reverse(),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Timestamp(x), Value::Timestamp(y)) => x.cmp(y),
        _ => return Err(unordered()),
    })
}

/// An `Int` against a `Float`, exactly (no rounding of the Int); `None` for NaN.
fn int_cmp_float(i: i64, x: f64) -> Option<Ordering> {
    // Every i64 lies in [-2^63, 2^63); outside that range the answer is the sign.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if x.is_nan() {
        None
    } else if x >= TWO_63 {
        Some(Ordering::Less)
    } else if x < -TWO_63 {
        Some(Ordering::Greater)
    } else {
        // In range, the float's integer part converts exactly.
        let whole = x.trunc() as i64;
        Some(i.cmp(&whole).then_with(|| {
            if x.fract() > 0.0 {
                Ordering::Less
            } else if x.fract() < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }))
    }
}

/// A Float result, or the error `why` when it is not finite (NaN or infinite): such
/// numbers have no JSON form and would only spread.
pub(crate) fn finite(x: f64, why: impl FnOnce() -> String) -> Result<f64> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(EvalError::new(why()))
    }
}

fn op_symbol(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Rem => "%",
        _ => "?",
    }
}

/// `+ - * / %` with overflow and division by zero as errors; an `Int` meeting a
/// `Decimal` or a `Float` is widened. Float results must be finite.
pub(crate) fn arithmetic(op: BinaryOp, a: &Value, b: &Value) -> Result<Value> {
    let sym = op_symbol(op);
    let overflow = || EvalError::new(format!("overflow in {a} {sym} {b}"));
    let zero = || EvalError::new(format!("division by zero in {a} {sym} {b}"));
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            let (x, y) = (*x, *y);
            if matches!(op, BinaryOp::Div | BinaryOp::Rem) && y == 0 {
                return Err(zero());
            }
            let r = match op {
                BinaryOp::Add => x.checked_add(y),
                BinaryOp::Sub => x.checked_sub(y),
                BinaryOp::Mul => x.checked_mul(y),
                BinaryOp::Div => x.checked_div(y),
                BinaryOp::Rem => x.checked_rem(y),
                _ => None,
            };
            r.map(Value::Int).ok_or_else(overflow)
        }
        (Value::Decimal(_) | Value::Int(_), Value::Decimal(_) | Value::Int(_)) => {
            let x = as_decimal(a);
            let y = as_decimal(b);
            if matches!(op, BinaryOp::Div | BinaryOp::Rem) && y.is_zero() {
                return Err(zero());
            }
            let r = match op {
                BinaryOp::Add => x.checked_add(y),
                BinaryOp::Sub => x.checked_sub(y),
                BinaryOp::Mul => x.checked_mul(y),
                BinaryOp::Div => x.checked_div(y),
                BinaryOp::Rem => x.checked_rem(y),
                _ => None,
            };
            r.map(Value::Decimal).ok_or_else(overflow)
        }
        (Value::Float(_) | Value::Int(_), Value::Float(_) | Value::Int(_)) => {
            let x = as_float(a);
            let y = as_float(b);
            if matches!(op, BinaryOp::Div | BinaryOp::Rem) && y == 0.0 {
                return Err(zero());
            }
            let r = match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div => x / y,
                BinaryOp::Rem => x % y,
                _ => f64::NAN,
            };
            finite(r, || {
                format!("overflow in {a} {sym} {b}: the result is not a finite Float")
            })
            .map(Value::Float)
        }
        (Value::Float(_), Value::Decimal(_)) | (Value::Decimal(_), Value::Float(_)) => {
            Err(EvalError::new(format!(
                "`{sym}`: cannot mix {} and {}; convert with float_to_decimal or decimal_to_float",
                a.kind(),
                b.kind()
            )))
        }
        _ => Err(EvalError::new(format!(
            "`{sym}`: expected two numbers, found {} and {}",
            a.kind(),
            b.kind()
        ))),
    }
}

fn as_float(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(x) => *x,
        _ => 0.0,
    }
}

fn as_decimal(v: &Value) -> Decimal {
    match v {
        Value::Int(i) => Decimal::from(*i),
        Value::Decimal(d) => *d,
        _ => Decimal::ZERO,
    }
}
