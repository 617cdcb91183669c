//! Assignability: when a value of one type may stand where another is expected.

use crate::resolve::Program;
use crate::types::Type;

/// Why a value does not fit.
#[derive(Debug, Clone, PartialEq)]
pub enum Mismatch {
    /// `T?` where `T` is expected: the value may be missing.
    Optional,
    /// Anything else, with an explanation where one helps.
    Other(Option<String>),
}

/// Whether a value of type `from` may be used where `to` is expected.
pub fn assignable(program: &Program, from: &Type, to: &Type) -> Result<(), Mismatch> {
    assignable_at(program, from, to, 0)
}

/// Records nested deeper than this are compared by name only, which also stops
/// recursive schemas from looping.
const MAX_DEPTH: usize = 8;

fn assignable_at(program: &Program, from: &Type, to: &Type, depth: usize) -> Result<(), Mismatch> {
    use Type::*;
    match (from, to) {
        (Error, _) | (_, Error) | (_, Json) => Ok(()),
        (Null, Optional(_)) => Ok(()),
        (Optional(_) | Null, other) if !other.is_optional() => {
            match assignable_at(program, from.unwrap_optional(), other, depth) {
                Ok(()) => Err(Mismatch::Optional),
                Err(e) => Err(e),
            }
        }
        (Optional(a), Optional(b)) => assignable_at(program, a, b, depth),
        (a, Optional(b)) => assignable_at(program, a, b, depth),
        (String, String)
        | (Int, Int)
        | (Decimal, Decimal)
        | (Float, Float)
        | (Bool, Bool)
        | (Date, Date)
        | (Timestamp, Timestamp)
        | (Json, _)
            if from == to =>
        {
            Ok(())
        }
        (Enum(_), String) => Ok(()),
        (Enum(a), Enum(b)) => {
            let extra: Vec<&str> = a
                .variants
                .iter()
                .filter(|v| !b.variants.contains(v))
                .map(std::string::String::as_str)
                .collect();
            if extra.is_empty() {
                Ok(())
            } else {
                Err(Mismatch::Other(Some(format!(
                    "values {} are not allowed in `{to}`",
                    quote_list(&extra)
                ))))
            }
        }
        (List(a), List(b)) => assignable_at(program, a, b, depth),
        (Schema(a, _), Schema(b, _)) if a == b => Ok(()),
        (Schema(..) | Record(_), Schema(..) | Record(_)) => {
            if depth >= MAX_DEPTH {
                return Err(Mismatch::Other(None));
            }
            let (Some(source), Some(target)) = (program.record(from), program.record(to)) else {
                return Err(Mismatch::Other(None));
            };
            for field in &target.fields {
                match source.field(&field.name) {
                    Some(have) => {
                        assignable_at(program, &have.ty, &field.ty, depth + 1).map_err(|e| {
                            let detail = match e {
                                Mismatch::Optional => format!(
                                    "field `{}` is optional in `{from}` but required in `{to}`",
                                    field.name
                                ),
                                Mismatch::Other(Some(why)) => {
                                    format!("field `{}`: {why}", field.name)
                                }
                                Mismatch::Other(None) => format!(
                                    "field `{}` is `{}` in `{from}` but `{}` in `{to}`",
                                    field.name, have.ty, field.ty
                                ),
                            };
                            Mismatch::Other(Some(detail))
                        })?
                    }
                    None if field.ty.is_optional() => {}
                    None => {
                        return Err(Mismatch::Other(Some(format!(
                            "`{from}` has no field `{}`, which `{to}` requires",
                            field.name
                        ))))
                    }
                }
            }
            Ok(())
        }
        _ => Err(Mismatch::Other(None)),
    }
}

/// `"a"`, `"b"` and `"c"`.
pub fn quote_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// The placeholder a fix-it writes for a value of this type.
pub fn placeholder(program: &Program, ty: &Type) -> String {
    match ty.unwrap_optional() {
        Type::String => "\"\"".into(),
        Type::Int => "0".into(),
        Type::Decimal | Type::Float => "0.0".into(),
        Type::Bool => "false".into(),
        Type::Date => "today()".into(),
        Type::Timestamp => "now()".into(),
        Type::List(_) => "[]".into(),
        Type::Enum(e) => e
            .variants
            .first()
            .map(|v| format!("\"{v}\""))
            .unwrap_or_else(|| "\"\"".into()),
        other if program.record(other).is_some() => "null".into(),
        _ => "null".into(),
    }
}
