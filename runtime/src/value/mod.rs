//! Run-time values: what records, fields and expression results are while a flow runs,
//! and their conversion from and to JSON, guided by the IR types.

mod decode;
mod encode;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::ir::{Field, Program, Type};

pub use decode::Decoder;

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
    /// A binary64 floating-point number; the evaluator only ever makes finite ones.
    Float(f64),
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

/// Writes a finite Float as JSON does: the shortest text that reads back as the same
/// number, with a `.0` on whole numbers (`5.0`, `0.1`, `1e20`). Non-finite values, which
/// the evaluator never produces, are written as Rust names them (`NaN`, `inf`).
pub(crate) fn write_float(out: &mut impl fmt::Write, value: f64) -> fmt::Result {
    if value.is_finite() {
        out.write_str(zmij::Buffer::new().format_finite(value))
    } else {
        write!(out, "{value}")
    }
}

impl Value {
    /// Converts a JSON document into a value of type `ty`: numbers become `Int`,
    /// `Decimal` or `Float` as the type says, strings become dates, timestamps or checked
    /// enum values, missing optional fields become `Null`, extra fields are dropped.
    /// A `Decimal` also accepts a string holding a number, as many APIs send money.
    ///
    /// To convert many documents of one type, build a [`Decoder`] once instead.
    pub fn from_json(
        json: &serde_json::Value,
        ty: &Type,
        program: &Program,
    ) -> Result<Value, ConvertError> {
        Decoder::new(ty, program).decode_value(json)
    }

    /// The JSON form: decimals as numbers when a JSON number holds them exactly, else as
    /// strings; floats as numbers; dates and timestamps in ISO 8601 / RFC 3339. A
    /// non-finite Float (never made by the evaluator) becomes a string, never `null`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Decimal(d) => decimal_to_json(*d),
            Value::Float(f) => {
                serde_json::Number::from_f64(*f).map_or_else(|| J::String(f.to_string()), J::Number)
            }
            Value::String(s) => J::String(s.clone()),
            Value::Date(_) | Value::Timestamp(_) => J::String(self.to_string()),
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
            Value::Float(_) => "Float",
            Value::String(_) => "String",
            Value::Date(_) => "Date",
            Value::Timestamp(_) => "Timestamp",
            Value::List(_) => "List",
            Value::Record(_) => "Record",
            Value::Json(_) => "Json",
        }
    }
}

/// Text form, as `to_string` and interpolation render it: decimals in plain notation,
/// floats as JSON writes them, dates ISO 8601, timestamps RFC 3339, lists, records and
/// JSON as compact JSON.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Float(x) => write_float(f, *x),
            Value::String(s) => f.write_str(s),
            Value::Date(d) => encode::write_date(f, *d),
            Value::Timestamp(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Value::Json(j) => write!(f, "{j}"),
            Value::List(_) | Value::Record(_) => write!(f, "{}", self.to_json()),
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
