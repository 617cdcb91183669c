//! Run-time values: what records, fields and expression results are while a flow runs,
//! and their conversion from and to JSON, guided by the IR types.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::ir::{Field, Program, Type};

/// A value at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, and a missing optional field.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit whole number.
    Int(i64),
    /// An exact decimal.
    Decimal(Decimal),
    /// Text; also enum values.
    String(String),
    /// A calendar date.
    Date(NaiveDate),
    /// An instant.
    Timestamp(DateTime<Utc>),
    /// A list.
    List(Vec<Value>),
    /// A record: fields in order (target-type order for map outputs). Records are small,
    /// so a vector with linear lookup beats a hash map.
    Record(Vec<(String, Value)>),
    /// Untyped JSON, for fields of type `Json`.
    Json(serde_json::Value),
}

/// Why a JSON document does not fit its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    /// Where in the document, such as `$.bill_to.city` or `$.lines[2].qty`.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for ConvertError {}

/// A step in a JSON path, kept on a stack so the path is only rendered on error.
enum Seg<'a> {
    Field(&'a str),
    Index(usize),
}

fn render_path(segs: &[Seg<'_>]) -> String {
    let mut out = String::from("$");
    for seg in segs {
        match seg {
            Seg::Field(name) => {
                out.push('.');
                out.push_str(name);
            }
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// The fields of a record type, through schema names and optionals.
pub(crate) fn record_fields<'p>(ty: &'p Type, program: &'p Program) -> Option<&'p [Field]> {
    match ty {
        Type::Record { fields } => Some(fields),
        Type::Schema { name } => program.schemas.get(name).map(|s| s.fields.as_slice()),
        Type::Optional { inner } => record_fields(inner, program),
        _ => None,
    }
}

/// Parses a decimal in plain or scientific notation.
pub(crate) fn parse_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

impl Value {
    /// Converts a JSON document into a value of type `ty`: numbers become `Int` or
    /// `Decimal` as the type says, strings become dates, timestamps or checked enum
    /// values, missing optional fields become `Null`, extra fields are dropped.
    /// A `Decimal` also accepts a string holding a number, as many APIs send money.
    pub fn from_json(
        json: &serde_json::Value,
        ty: &Type,
        program: &Program,
    ) -> Result<Value, ConvertError> {
        let mut path = Vec::new();
        convert(json, ty, program, &mut path)
    }

    /// The JSON form: decimals as numbers when a JSON number holds them exactly, else as
    /// strings; dates and timestamps in ISO 8601 / RFC 3339.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Decimal(d) => decimal_to_json(*d),
            Value::String(s) => J::String(s.clone()),
            Value::Date(d) => J::String(d.format("%Y-%m-%d").to_string()),
            Value::Timestamp(t) => J::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Record(fields) => J::Object(
                fields
                    .iter()
                    .map(|(name, value)| (name.clone(), value.to_json()))
                    .collect(),
            ),
            Value::Json(j) => j.clone(),
        }
    }

    /// The field of a record (or of a JSON object) by name, without allocating.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Record(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether this is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "Bool",
            Value::Int(_) => "Int",
            Value::Decimal(_) => "Decimal",
            Value::String(_) => "String",
            Value::Date(_) => "Date",
            Value::Timestamp(_) => "Timestamp",
            Value::List(_) => "List",
            Value::Record(_) => "Record",
            Value::Json(_) => "Json",
        }
    }
}

/// Text form, as `to_string` and interpolation render it: numbers in plain notation,
/// dates ISO 8601, timestamps RFC 3339, lists, records and JSON as compact JSON.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::String(s) => f.write_str(s),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::Timestamp(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Value::Json(j) => write!(f, "{j}"),
            Value::List(_) | Value::Record(_) => write!(f, "{}", self.to_json()),
        }
    }
}

/// Serialises as [`Value::to_json`] would, without building the JSON tree first.
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Decimal(d) => decimal_to_json(*d).serialize(serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::Date(d) => serializer.collect_str(&d.format("%Y-%m-%d")),
            Value::Timestamp(t) => {
                serializer.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            }
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Record(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (name, value) in fields {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
            Value::Json(j) => j.serialize(serializer),
        }
    }
}

fn decimal_to_json(d: Decimal) -> serde_json::Value {
    if d.fract().is_zero() {
        if let Some(i) = d.to_i64() {
            return serde_json::Value::from(i);
        }
    }
    if let Some(f) = d.to_f64() {
        if let Some(n) = serde_json::Number::from_f64(f) {
            // serde_json prints the shortest text that reads back as `f`, so this is
            // exactly what a reader of the JSON gets.
            if parse_decimal(&n.to_string()) == Some(d) {
                return serde_json::Value::Number(n);
            }
        }
    }
    serde_json::Value::String(d.to_string())
}

fn convert<'t>(
    json: &serde_json::Value,
    ty: &'t Type,
    program: &'t Program,
    path: &mut Vec<Seg<'t>>,
) -> Result<Value, ConvertError> {
    use serde_json::Value as J;
    let fail = |path: &Vec<Seg<'t>>, message: String| ConvertError {
        path: render_path(path),
        message,
    };
    let expected = |path: &Vec<Seg<'t>>, what: &str| {
        fail(path, format!("expected {what}, found {}", json_kind(json)))
    };
    match ty {
        Type::Optional { inner } => match json {
            J::Null => Ok(Value::Null),
            _ => convert(json, inner, program, path),
        },
        Type::Null => match json {
            J::Null => Ok(Value::Null),
            _ => Err(expected(path, "null")),
        },
        Type::Json => Ok(Value::Json(json.clone())),
        Type::String => match json {
            J::String(s) => Ok(Value::String(s.clone())),
            _ => Err(expected(path, "a string")),
        },
        Type::Bool => match json {
            J::Bool(b) => Ok(Value::Bool(*b)),
            _ => Err(expected(path, "a boolean")),
        },
        Type::Int => match json {
            J::Number(n) => match n.as_i64() {
                Some(i) => Ok(Value::Int(i)),
                None => Err(fail(
                    path,
                    format!("expected a 64-bit whole number, found {n}"),
                )),
            },
            _ => Err(expected(path, "a whole number")),
        },
        Type::Decimal => {
            let text = match json {
                J::Number(n) => n.to_string(),
                J::String(s) => s.trim().to_owned(),
                _ => return Err(expected(path, "a number")),
            };
            parse_decimal(&text)
                .map(Value::Decimal)
                .ok_or_else(|| fail(path, format!("`{text}` is not a decimal number")))
        }
        Type::Date => match json {
            J::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Value::Date)
                .map_err(|_| fail(path, format!("`{s}` is not a date (YYYY-MM-DD)"))),
            _ => Err(expected(path, "a date string")),
        },
        Type::Timestamp => match json {
            J::String(s) => DateTime::parse_from_rfc3339(s)
                .map(|t| Value::Timestamp(t.with_timezone(&Utc)))
                .map_err(|_| fail(path, format!("`{s}` is not an RFC 3339 timestamp"))),
            _ => Err(expected(path, "a timestamp string")),
        },
        Type::Enum { variants, .. } => match json {
            J::String(s) if variants.iter().any(|v| v == s) => Ok(Value::String(s.clone())),
            J::String(s) => Err(fail(
                path,
                format!("`{s}` is not one of {}", variants.join(", ")),
            )),
            _ => Err(expected(path, "a string")),
        },
        Type::List { item } => match json {
            J::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, j) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    out.push(convert(j, item, program, path)?);
                    path.pop();
                }
                Ok(Value::List(out))
            }
            _ => Err(expected(path, "an array")),
        },
        Type::Schema { name } => {
            let Some(schema) = program.schemas.get(name) else {
                return Err(fail(path, format!("unknown schema `{name}`")));
            };
            convert_record(json, &schema.fields, program, path)
        }
        Type::Record { fields } => convert_record(json, fields, program, path),
    }
}

fn convert_record<'t>(
    json: &serde_json::Value,
    fields: &'t [Field],
    program: &'t Program,
    path: &mut Vec<Seg<'t>>,
) -> Result<Value, ConvertError> {
    let serde_json::Value::Object(object) = json else {
        return Err(ConvertError {
            path: render_path(path),
            message: format!("expected an object, found {}", json_kind(json)),
        });
    };
    let mut out = Vec::with_capacity(fields.len());
    for field in fields {
        path.push(Seg::Field(&field.name));
        let value = match object.get(&field.name) {
            Some(j) => convert(j, &field.ty, program, path)?,
            None if matches!(field.ty, Type::Optional { .. } | Type::Null | Type::Json) => {
                Value::Null
            }
            None => {
                return Err(ConvertError {
                    path: render_path(path),
                    message: "missing required field".to_owned(),
                })
            }
        };
        path.pop();
        out.push((field.name.clone(), value));
    }
    Ok(Value::Record(out))
}

/// How a JSON value is named in messages: `a string`, `an object`.
pub(crate) fn json_kind(json: &serde_json::Value) -> &'static str {
    match json {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
