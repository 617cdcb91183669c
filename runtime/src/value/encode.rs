//! Writing values as JSON: a serde `Serialize` that streams straight into the output
//! (no intermediate `serde_json::Value`).

use std::fmt;

use chrono::{Datelike, NaiveDate, SecondsFormat};
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::{decimal_to_json, Value};

/// Writes a date as `YYYY-MM-DD`, without parsing a format string for the common years.
pub(crate) fn write_date(out: &mut impl fmt::Write, date: NaiveDate) -> fmt::Result {
    let year = date.year();
    if (0..=9999).contains(&year) {
        write!(out, "{year:04}-{:02}-{:02}", date.month(), date.day())
    } else {
        // chrono's ISO 8601 form for years outside 0..=9999 (`+10000-01-01`).
        write!(out, "{}", date.format("%Y-%m-%d"))
    }
}

/// A date as `Display`, so a serializer can write it without an allocation.
struct IsoDate(NaiveDate);

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_date(f, self.0)
    }
}

/// Serialises as [`Value::to_json`] would, without building the JSON tree first. A
/// non-finite Float is an error: JSON has no such number, and writing `null` instead
/// would lose data silently.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Decimal(d) => decimal_to_json(*d).serialize(serializer),
            Value::Float(x) if x.is_finite() => serializer.serialize_f64(*x),
            Value::Float(x) => Err(S::Error::custom(format!(
                "{x} is not a finite number and cannot be written as JSON"
            ))),
            Value::String(s) => serializer.serialize_str(s),
            Value::Date(d) => serializer.collect_str(&IsoDate(*d)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn json(v: &Value) -> String {
        serde_json::to_string(v).unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn floats_are_shortest_and_whole_numbers_keep_a_point() {
        assert_eq!(json(&Value::Float(5.0)), "5.0");
        assert_eq!(json(&Value::Float(0.1)), "0.1");
        assert_eq!(json(&Value::Float(44938.97000000001)), "44938.97000000001");
        assert_eq!(json(&Value::Float(-0.0)), "-0.0");
        assert_eq!(json(&Value::Float(1e20)), "1e+20");
        // The same text as the JSON tree gives.
        for x in [5.0, 0.1, 1e20, 1.5e-7, -2.25, f64::MAX, f64::MIN_POSITIVE] {
            assert_eq!(
                json(&Value::Float(x)),
                Value::Float(x).to_json().to_string()
            );
        }
    }

    #[test]
    fn non_finite_floats_are_errors_not_null() {
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let out = json(&Value::Float(x));
            assert!(out.starts_with("error:"), "{x} gave {out}");
            assert_ne!(Value::Float(x).to_json(), serde_json::Value::Null);
        }
    }

    #[test]
    fn dates_in_and_outside_four_digit_years() {
        let date = |y, m, d| Value::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default());
        assert_eq!(json(&date(2019, 6, 4)), r#""2019-06-04""#);
        assert_eq!(json(&date(12, 1, 2)), r#""0012-01-02""#);
        assert_eq!(json(&date(10000, 1, 1)), r#""+10000-01-01""#);
        assert_eq!(date(2019, 6, 4).to_string(), "2019-06-04");
    }
}
