//! The built-in functions (`compiler/src/builtins.rs` lists them with their types).

use std::borrow::Cow;
use std::fmt::Write;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use chrono::{DateTime, Days, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use sha2::{Digest, Sha256};

use super::{arithmetic, compare, ev, finite, type_error, Cx, Env, EvalError, Result};
use crate::ir::{BinaryOp, Expr};
use crate::value::{parse_decimal, Value};

/// Widest `pad_left` result, so a bad width fails the record instead of the process.
const MAX_PAD_WIDTH: i64 = 1 << 20;

struct Args<'v, 'e, 'c> {
    name: &'v str,
    args: &'v [Expr],
    env: &'e Env<'v>,
    cx: Cx<'c>,
}

impl<'v> Args<'v, '_, '_> {
    fn arity(&self, n: usize) -> Result<()> {
        if self.args.len() == n {
            Ok(())
        } else {
            Err(EvalError::new(format!(
                "`{}` takes {n} argument{}, got {}",
                self.name,
                if n == 1 { "" } else { "s" },
                self.args.len()
            )))
        }
    }

    fn value(&self, i: usize) -> Result<Cow<'v, Value>> {
        ev(&self.args[i], self.env, self.cx)
    }

    fn string(&self, i: usize) -> Result<Cow<'v, str>> {
        match self.value(i)? {
            Cow::Borrowed(Value::String(s)) => Ok(Cow::Borrowed(s.as_str())),
            Cow::Owned(Value::String(s)) => Ok(Cow::Owned(s)),
            other => Err(self.bad(i, "String", &other)),
        }
    }

    fn int(&self, i: usize) -> Result<i64> {
        match &*self.value(i)? {
            Value::Int(n) => Ok(*n),
            other => Err(self.bad(i, "Int", other)),
        }
    }

    fn decimal(&self, i: usize) -> Result<Decimal> {
        match &*self.value(i)? {
            Value::Decimal(d) => Ok(*d),
            Value::Int(n) => Ok(Decimal::from(*n)),
            other => Err(self.bad(i, "Decimal", other)),
        }
    }

    fn float(&self, i: usize) -> Result<f64> {
        match &*self.value(i)? {
            Value::Float(x) => Ok(*x),
            other => Err(self.bad(i, "Float", other)),
        }
    }

    /// A `Decimal` or `Float` argument (an `Int` counts as a Decimal, as a literal would).
    fn real(&self, i: usize) -> Result<Real> {
        match &*self.value(i)? {
            Value::Decimal(d) => Ok(Real::Decimal(*d)),
            Value::Int(n) => Ok(Real::Decimal(Decimal::from(*n))),
            Value::Float(x) => Ok(Real::Float(*x)),
            other => Err(self.bad(i, "Decimal or Float", other)),
        }
    }

    fn date(&self, i: usize) -> Result<NaiveDate> {
        match &*self.value(i)? {
            Value::Date(d) => Ok(*d),
            other => Err(self.bad(i, "Date", other)),
        }
    }

    fn timestamp(&self, i: usize) -> Result<DateTime<Utc>> {
        match &*self.value(i)? {
            Value::Timestamp(t) => Ok(*t),
            other => Err(self.bad(i, "Timestamp", other)),
        }
    }

    fn list(&self, i: usize) -> Result<Cow<'v, Value>> {
        let v = self.value(i)?;
        match &*v {
            Value::List(_) => Ok(v),
            other => Err(self.bad(i, "a list", other)),
        }
    }

    fn lambda(&self, i: usize) -> Result<(&'v str, &'v Expr)> {
        match &self.args[i] {
            Expr::Lambda { param, body } => Ok((param, body)),
            _ => Err(EvalError::new(format!(
                "`{}`: argument {} must be a lambda `x => ...`",
                self.name,
                i + 1
            ))),
        }
    }

    fn bad(&self, i: usize, expected: &str, found: &Value) -> EvalError {
        type_error(
            &format!("`{}` argument {}", self.name, i + 1),
            expected,
            found,
        )
    }
}

/// A non-integral number argument.
enum Real {
    Decimal(Decimal),
    Float(f64),
}

fn items(list: &Value) -> &[Value] {
    match list {
        Value::List(items) => items,
        _ => &[],
    }
}

/// Applies a lambda to one item.
fn apply_lambda(
    (param, body): (&str, &Expr),
    item: &Value,
    env: &Env<'_>,
    cx: Cx<'_>,
) -> Result<Value> {
    let scope = env.bind(param, item);
    ev(body, &scope, cx).map(Cow::into_owned)
}

fn predicate(
    lambda: (&str, &Expr),
    item: &Value,
    env: &Env<'_>,
    cx: Cx<'_>,
    name: &str,
) -> Result<bool> {
    let scope = env.bind(lambda.0, item);
    match &*ev(lambda.1, &scope, cx)? {
        Value::Bool(b) => Ok(*b),
        other => Err(type_error(&format!("`{name}` lambda"), "Bool", other)),
    }
}

fn string(s: String) -> Cow<'static, Value> {
    Cow::Owned(Value::String(s))
}

fn owned<'v>(v: Value) -> Cow<'v, Value> {
    Cow::Owned(v)
}

pub(super) fn call<'v>(
    name: &'v str,
    args: &'v [Expr],
    env: &Env<'v>,
    cx: Cx<'_>,
) -> Result<Cow<'v, Value>> {
    let a = Args {
        name,
        args,
        env,
        cx,
    };
    Ok(match name {
        "upper" => {
            a.arity(1)?;
            string(a.string(0)?.to_uppercase())
        }
        "lower" => {
            a.arity(1)?;
            string(a.string(0)?.to_lowercase())
        }
        "trim" => {
            a.arity(1)?;
            match a.string(0)? {
                Cow::Borrowed(s) => string(s.trim().to_owned()),
                Cow::Owned(s) if s.trim().len() == s.len() => string(s),
                Cow::Owned(s) => string(s.trim().to_owned()),
            }
        }
        "length" => {
            a.arity(1)?;
            let n = a.string(0)?.chars().count();
            owned(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
        }
        "substring" => {
            a.arity(3)?;
            let s = a.string(0)?;
            let start = a.int(1)?;
            let len = a.int(2)?;
            if start < 0 || len < 0 {
                return Err(EvalError::new(format!(
                    "`substring`: start and length must not be negative (got {start}, {len})"
                )));
            }
            let count = s.chars().count();
            let start_u = usize::try_from(start).unwrap_or(usize::MAX);
            if start_u > count {
                return Err(EvalError::new(format!(
                    "`substring`: start {start} is past the end of a {count}-character string"
                )));
            }
            let len_u = usize::try_from(len).unwrap_or(usize::MAX);
            string(s.chars().skip(start_u).take(len_u).collect())
        }
        "replace" => {
            a.arity(3)?;
            let s = a.string(0)?;
            let from = a.string(1)?;
            let to = a.string(2)?;
            // An empty `from` would insert `to` between every character; leave the text.
            if from.is_empty() {
                string(s.into_owned())
            } else {
                string(s.replace(&*from, &to))
            }
        }
        "contains" => {
            a.arity(2)?;
            owned(Value::Bool(a.string(0)?.contains(&*a.string(1)?)))
        }
        "starts_with" => {
            a.arity(2)?;
            owned(Value::Bool(a.string(0)?.starts_with(&*a.string(1)?)))
        }
        "ends_with" => {
            a.arity(2)?;
            owned(Value::Bool(a.string(0)?.ends_with(&*a.string(1)?)))
        }
        "split" => {
            a.arity(2)?;
            let s = a.string(0)?;
            let sep = a.string(1)?;
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars().map(|c| Value::String(c.to_string())).collect()
            } else {
                s.split(&*sep)
                    .map(|p| Value::String(p.to_owned()))
                    .collect()
            };
            owned(Value::List(parts))
        }
        "join" => {
            a.arity(2)?;
            let list = a.list(0)?;
            let sep = a.string(1)?;
            let mut out = String::new();
            for (i, item) in items(&list).iter().enumerate() {
                if i > 0 {
                    out.push_str(&sep);
                }
                match item {
                    Value::String(s) => out.push_str(s),
                    other => return Err(type_error("`join` item", "String", other)),
                }
            }
            string(out)
        }
        "pad_left" => {
            a.arity(3)?;
            let s = a.string(0)?;
            let width = a.int(1)?;
            let fill = a.string(2)?;
            if width > MAX_PAD_WIDTH {
                return Err(EvalError::new(format!(
                    "`pad_left`: width {width} is larger than {MAX_PAD_WIDTH}"
                )));
            }
            let have = s.chars().count();
            let want = usize::try_from(width).unwrap_or(0);
            if have >= want || fill.is_empty() {
                string(s.into_owned())
            } else {
                let mut out: String = fill.chars().cycle().take(want - have).collect();
                out.push_str(&s);
                string(out)
            }
        }
        "concat" => {
            if args.is_empty() {
                return Err(EvalError::new("`concat` takes at least one argument"));
            }
            let mut out = String::new();
            for i in 0..args.len() {
                out.push_str(&a.string(i)?);
            }
            string(out)
        }
        "hash" => {
            a.arity(1)?;
            let digest = Sha256::digest(a.string(0)?.as_bytes());
            let mut out = String::with_capacity(64);
            for byte in digest {
                let _ = write!(out, "{byte:02x}");
            }
            string(out)
        }
        "uuid" => {
            a.arity(0)?;
            string(uuid_v4())
        }
        "to_string" => {
            a.arity(1)?;
            match a.value(0)? {
                Cow::Owned(Value::String(s)) => string(s),
                v => string(v.to_string()),
            }
        }
        "to_int" => {
            a.arity(1)?;
            let s = a.string(0)?;
            owned(s.trim().parse::<i64>().map_or(Value::Null, Value::Int))
        }
        "to_decimal" => {
            a.arity(1)?;
            let s = a.string(0)?;
            owned(parse_decimal(s.trim()).map_or(Value::Null, Value::Decimal))
        }
        "int_to_decimal" => {
            a.arity(1)?;
            owned(Value::Decimal(Decimal::from(a.int(0)?)))
        }
        "to_float" => {
            a.arity(1)?;
            let s = a.string(0)?;
            let parsed = s.trim().parse::<f64>().ok().filter(|x| x.is_finite());
            owned(parsed.map_or(Value::Null, Value::Float))
        }
        "int_to_float" => {
            a.arity(1)?;
            owned(Value::Float(a.int(0)? as f64))
        }
        "float_to_decimal" => {
            a.arity(1)?;
            let x = a.float(0)?;
            // The decimal the Float prints as: 0.1 becomes 0.1, not 0.1000000000000000055.
            owned(Value::Decimal(Decimal::from_str(&x.to_string()).map_err(
                |_| {
                    EvalError::new(format!(
                        "`float_to_decimal`: {} is outside the range of a Decimal",
                        Value::Float(x)
                    ))
                },
            )?))
        }
        "decimal_to_float" => {
            a.arity(1)?;
            let d = a.decimal(0)?;
            // Through the text, so the result is the Float nearest to the decimal.
            let x = d.to_string().parse::<f64>().unwrap_or(f64::NAN);
            owned(Value::Float(finite(x, || {
                format!("`decimal_to_float`: {d} has no Float form")
            })?))
        }
        "round" => {
            a.arity(2)?;
            let n = a.real(0)?;
            let places = a.int(1)?;
            if places < 0 {
                return Err(EvalError::new(format!(
                    "`round`: places must not be negative (got {places})"
                )));
            }
            match n {
                Real::Decimal(d) => {
                    let places = u32::try_from(places.min(28)).unwrap_or(28);
                    owned(Value::Decimal(d.round_dp_with_strategy(
                        places,
                        RoundingStrategy::MidpointAwayFromZero,
                    )))
                }
                Real::Float(x) => {
                    let places = usize::try_from(places).unwrap_or(usize::MAX);
                    owned(Value::Float(round_float(x, places)))
                }
            }
        }
        "floor" | "ceil" => {
            a.arity(1)?;
            let too_big = |r: &dyn std::fmt::Display| {
                EvalError::new(format!("`{name}`: {r} does not fit in an Int"))
            };
            let n = match a.real(0)? {
                Real::Decimal(d) => {
                    let r = if name == "floor" { d.floor() } else { d.ceil() };
                    r.to_i64().ok_or_else(|| too_big(&r))?
                }
                Real::Float(x) => {
                    let r = if name == "floor" { x.floor() } else { x.ceil() };
                    // i64 holds [-2^63, 2^63); a whole f64 in there converts exactly.
                    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&r) {
                        r as i64
                    } else {
                        return Err(too_big(&Value::Float(r)));
                    }
                }
            };
            owned(Value::Int(n))
        }
        "abs" => {
            a.arity(1)?;
            match &*a.value(0)? {
                Value::Int(i) => {
                    owned(Value::Int(i.checked_abs().ok_or_else(|| {
                        EvalError::new(format!("overflow in abs({i})"))
                    })?))
                }
                Value::Decimal(d) => owned(Value::Decimal(d.abs())),
                Value::Float(x) => owned(Value::Float(x.abs())),
                other => return Err(a.bad(0, "Int, Decimal or Float", other)),
            }
        }
        "min" | "max" => {
            a.arity(2)?;
            let x = a.value(0)?;
            let y = a.value(1)?;
            let ord = compare(&x, &y, &format!("`{name}`"))?;
            let take_x = if name == "min" {
                ord.is_le()
            } else {
                ord.is_ge()
            };
            if take_x {
                x
            } else {
                y
            }
        }
        "parse_date" => {
            a.arity(2)?;
            let s = a.string(0)?;
            let format = a.string(1)?;
            owned(NaiveDate::parse_from_str(&s, &format).map_or(Value::Null, Value::Date))
        }
        "parse_timestamp" => {
            a.arity(1)?;
            let s = a.string(0)?;
            owned(
                DateTime::parse_from_rfc3339(s.trim())
                    .map_or(Value::Null, |t| Value::Timestamp(t.with_timezone(&Utc))),
            )
        }
        "format_date" => {
            a.arity(2)?;
            let d = a.date(0)?;
            let format = a.string(1)?;
            let mut out = String::new();
            // chrono reports a bad format through fmt::Error; `to_string` would panic.
            write!(out, "{}", d.format(&format))
                .map_err(|_| EvalError::new(format!("`format_date`: invalid format `{format}`")))?;
            string(out)
        }
        "today" => {
            a.arity(0)?;
            owned(Value::Date(a.cx.clock.today()))
        }
        "now" => {
            a.arity(0)?;
            owned(Value::Timestamp(a.cx.clock.now()))
        }
        "add_days" => {
            a.arity(2)?;
            let d = a.date(0)?;
            let n = a.int(1)?;
            let r = if n >= 0 {
                d.checked_add_days(Days::new(n.unsigned_abs()))
            } else {
                d.checked_sub_days(Days::new(n.unsigned_abs()))
            };
            owned(Value::Date(r.ok_or_else(|| {
                EvalError::new(format!("`add_days`: {d} plus {n} days is out of range"))
            })?))
        }
        "date_of" => {
            a.arity(1)?;
            owned(Value::Date(a.timestamp(0)?.date_naive()))
        }
        "days_between" => {
            a.arity(2)?;
            let from = a.date(0)?;
            let to = a.date(1)?;
            owned(Value::Int(to.signed_duration_since(from).num_days()))
        }
        "sum" => {
            a.arity(2)?;
            let list = a.list(0)?;
            let f = a.lambda(1)?;
            let mut total = Value::Int(0);
            for item in items(&list) {
                let v = apply_lambda(f, item, env, cx)?;
                total = arithmetic(BinaryOp::Add, &total, &v)?;
            }
            owned(total)
        }
        "count" => {
            if args.len() != 1 {
                a.arity(2)?;
            }
            let list = a.list(0)?;
            let n = if args.len() == 1 {
                items(&list).len()
            } else {
                let f = a.lambda(1)?;
                let mut n = 0usize;
                for item in items(&list) {
                    if predicate(f, item, env, cx, name)? {
                        n += 1;
                    }
                }
                n
            };
            owned(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
        }
        "map" => {
            a.arity(2)?;
            let list = a.list(0)?;
            let f = a.lambda(1)?;
            let xs = items(&list);
            let mut out = Vec::with_capacity(xs.len());
            for item in xs {
                out.push(apply_lambda(f, item, env, cx)?);
            }
            owned(Value::List(out))
        }
        "filter" => {
            a.arity(2)?;
            let list = a.list(0)?;
            let f = a.lambda(1)?;
            let mut out = Vec::new();
            for item in items(&list) {
                if predicate(f, item, env, cx, name)? {
                    out.push(item.clone());
                }
            }
            owned(Value::List(out))
        }
        "any" | "all" => {
            a.arity(2)?;
            let list = a.list(0)?;
            let f = a.lambda(1)?;
            let want = name == "any";
            let mut result = !want;
            for item in items(&list) {
                if predicate(f, item, env, cx, name)? == want {
                    result = want;
                    break;
                }
            }
            owned(Value::Bool(result))
        }
        "first" => {
            a.arity(1)?;
            match a.list(0)? {
                Cow::Borrowed(Value::List(xs)) => {
                    xs.first().map_or(owned(Value::Null), Cow::Borrowed)
                }
                Cow::Owned(Value::List(xs)) => owned(xs.into_iter().next().unwrap_or(Value::Null)),
                _ => owned(Value::Null),
            }
        }
        "is_empty" => {
            a.arity(1)?;
            owned(Value::Bool(items(&*a.list(0)?).is_empty()))
        }
        "size" => {
            a.arity(1)?;
            let n = items(&*a.list(0)?).len();
            owned(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
        }
        "coalesce" => {
            if args.is_empty() {
                return Err(EvalError::new("`coalesce` takes at least one argument"));
            }
            for i in 0..args.len() {
                let v = a.value(i)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            owned(Value::Null)
        }
        other => return Err(EvalError::new(format!("unknown function `{other}`"))),
    })
}

/// Rounds a Float half away from zero to `places` decimals, on the decimal it prints as:
/// `round(2.675, 2)` is `2.68`, as with a Decimal, although the binary64 number nearest
/// to 2.675 lies just below it.
fn round_float(x: f64, places: usize) -> f64 {
    // Plain notation with the shortest digits that read back as `x`.
    let text = x.abs().to_string();
    let Some((whole, fraction)) = text.split_once('.') else {
        return x;
    };
    if fraction.len() <= places {
        return x;
    }
    let mut digits: Vec<u8> = whole.bytes().chain(fraction.bytes().take(places)).collect();
    if fraction.as_bytes()[places] >= b'5' {
        // Add one unit in the last kept place, carrying to the left.
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - places;
    let mut rounded = String::with_capacity(digits.len() + 1);
    rounded.extend(digits[..split].iter().map(|&d| char::from(d)));
    rounded.push('.');
    rounded.extend(digits[split..].iter().map(|&d| char::from(d)));
    rounded.push('0');
    let magnitude = rounded.parse::<f64>().unwrap_or(x.abs());
    magnitude.copysign(x)
}

static UUID_COUNTER: AtomicU64 = AtomicU64::new(0);

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A random (version 4) UUID from the clock and a process-wide counter: unique per
/// process and unpredictable enough for record keys, not for secrets.
fn uuid_v4() -> String {
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
    let count = UUID_COUNTER.fetch_add(1, AtomicOrdering::Relaxed);
    let mut state =
        nanos ^ count.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ u64::from(std::process::id()) << 32;
    let hi = splitmix64(&mut state);
    let lo = splitmix64(&mut state);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}
