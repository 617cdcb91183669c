//! Placeholders in connection arguments: `/accounts/{ERP_Customer_Id__c}` takes the
//! field of the record being sent, `?since={last_run}` a run variable. `{{` and `}}`
//! stand for literal braces. Values are percent-encoded, so a field cannot change the
//! shape of a path or query.

use std::collections::BTreeMap;

use crate::connector::Filled;
use crate::value::Value;

/// Fills the placeholders of `text`, percent-encoding their values; an error names a
/// placeholder that matches nothing.
#[cfg(test)]
pub(super) fn fill(
    text: &str,
    record: Option<&Value>,
    variables: &BTreeMap<String, String>,
) -> Result<String, String> {
    split(text, record, variables).map(|filled| filled.join(|_, v| encode(v)))
}

/// Takes `text` apart at its placeholders and finds their values.
pub(super) fn split(
    text: &str,
    record: Option<&Value>,
    variables: &BTreeMap<String, String>,
) -> Result<Filled, String> {
    let mut filled = Filled {
        literals: Vec::new(),
        values: Vec::new(),
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let brace = &rest[i..];
        if brace.starts_with("{{") || brace.starts_with("}}") {
            out.push_str(&brace[..1]);
            rest = &brace[2..];
            continue;
        }
        if let Some(after) = brace.strip_prefix('}') {
            out.push('}');
            rest = after;
            continue;
        }
        let Some(end) = brace.find('}') else {
            return Err(format!("`{text}` has a `{{` without its `}}`"));
        };
        let name = &brace[1..end];
        let value = match record.and_then(|r| r.field(name)) {
            Some(Value::Null) => {
                return Err(format!(
                    "placeholder `{{{name}}}` in `{text}`: the record's `{name}` is null"
                ))
            }
            Some(value) => scalar_text(value),
            None => match variables.get(name) {
                Some(v) => v.clone(),
                None => {
                    return Err(format!(
                        "placeholder `{{{name}}}` in `{text}` is neither a field of the record nor a run variable"
                    ))
                }
            },
        };
        filled.literals.push(std::mem::take(&mut out));
        filled.values.push(value);
        rest = &brace[end + 1..];
    }
    out.push_str(rest);
    filled.literals.push(out);
    Ok(filled)
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => match other.to_json() {
            serde_json::Value::String(s) => s,
            json => json.to_string(),
        },
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `:`).
pub(super) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Value {
        Value::Record(vec![
            ("id".into(), Value::Int(42)),
            ("name".into(), Value::String("A/B & C".into())),
            ("gone".into(), Value::Null),
        ])
    }

    #[test]
    fn fields_and_variables_are_filled_and_encoded() {
        let vars = BTreeMap::from([("last_run".to_string(), "2025-01-02T03:04:05Z".to_string())]);
        let r = record();
        assert_eq!(
            fill("/x/{id}/{name}?since={last_run}", Some(&r), &vars).as_deref(),
            Ok("/x/42/A%2FB%20%26%20C?since=2025-01-02T03:04:05Z")
        );
    }

    #[test]
    fn split_keeps_values_apart_from_the_text_around_them() {
        let vars = BTreeMap::from([("last_run".to_string(), "it's".to_string())]);
        let filled = split("a {{b}} {last_run} c {id}", Some(&record()), &vars);
        assert_eq!(
            filled,
            Ok(Filled {
                literals: vec!["a {b} ".into(), " c ".into(), String::new()],
                values: vec!["it's".into(), "42".into()],
            })
        );
    }

    #[test]
    fn doubled_braces_are_literal() {
        assert_eq!(
            fill("{{raw}} }", None, &BTreeMap::new()).as_deref(),
            Ok("{raw} }")
        );
    }

    #[test]
    fn unknown_null_and_unclosed_placeholders_are_errors() {
        let r = record();
        let vars = BTreeMap::new();
        assert!(fill("/{nope}", Some(&r), &vars).is_err_and(|e| e.contains("neither a field")));
        assert!(fill("/{gone}", Some(&r), &vars).is_err_and(|e| e.contains("is null")));
        assert!(fill("/{id", Some(&r), &vars).is_err_and(|e| e.contains("without")));
    }
}
