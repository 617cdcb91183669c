//! Comparing JSON records the way a reviewer reads them: numbers by value (`19.90`
//! equals `19.9`), object keys in any order, and differences listed field by field
//! (`$.Industry: expected "Banking", got "Other"`) instead of two blobs.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value as J;

/// How much of the actual value the expected one must describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Every field on both sides.
    Exact,
    /// The expected fields (recursively); the actual value may have more.
    Partial,
}

/// The differences between `expected` and `actual`, one line per field; empty when they
/// match.
pub fn differences(expected: &J, actual: &J, mode: Match) -> Vec<String> {
    let mut out = Vec::new();
    walk(expected, actual, mode, &mut String::from("$"), &mut out);
    out
}

fn walk(expected: &J, actual: &J, mode: Match, path: &mut String, out: &mut Vec<String>) {
    match (expected, actual) {
        (J::Object(e), J::Object(a)) => {
            for (key, ev) in e {
                let len = path.len();
                push_key(path, key);
                match a.get(key) {
                    Some(av) => walk(ev, av, mode, path, out),
                    None => out.push(format!("{path}: missing, expected {}", show(ev))),
                }
                path.truncate(len);
            }
            if mode == Match::Exact {
                for (key, av) in a.iter().filter(|(k, _)| !e.contains_key(*k)) {
                    let len = path.len();
                    push_key(path, key);
                    out.push(format!("{path}: not expected, got {}", show(av)));
                    path.truncate(len);
                }
            }
        }
        (J::Array(e), J::Array(a)) => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(ev, av, mode, path, out);
                path.truncate(len);
            }
            if e.len() != a.len() {
                out.push(format!(
                    "{path}: expected {} item(s), got {}",
                    e.len(),
                    a.len()
                ));
            }
        }
        (J::Number(e), J::Number(a)) if same_number(e, a) => {}
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{path}: expected {}, got {}", show(e), show(a))),
    }
}

fn push_key(path: &mut String, key: &str) {
    if !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_') {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str(&format!("[{}]", J::String(key.to_owned())));
    }
}

fn same_number(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    let decimal = |n: &serde_json::Number| {
        let text = n.to_string();
        Decimal::from_str(&text)
            .ok()
            .or_else(|| Decimal::from_scientific(&text).ok())
    };
    match (decimal(a), decimal(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.as_f64() == b.as_f64(),
    }
}

/// A value in a message: short values whole, long ones cut.
fn show(value: &J) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_compare_by_value_and_keys_in_any_order() {
        let e = json!({"a": 19.90, "b": [1, 2.0], "c": {"x": 1, "y": 2}});
        let a = json!({"c": {"y": 2, "x": 1.0}, "b": [1.00, 2], "a": 19.9});
        assert!(differences(&e, &a, Match::Exact).is_empty());
    }

    #[test]
    fn differences_name_each_field() {
        let e = json!({"Name": "Acme", "Address": {"city": "Berlin"}, "Tags": ["a"], "Gone": 1});
        let a = json!({"Name": "ACME", "Address": {"city": "Berlin", "zip": "10115"}, "Tags": ["a", "b"], "odd key": true});
        assert_eq!(
            differences(&e, &a, Match::Exact),
            vec![
                "$.Address.zip: not expected, got \"10115\"",
                "$.Gone: missing, expected 1",
                "$.Name: expected \"Acme\", got \"ACME\"",
                "$.Tags: expected 1 item(s), got 2",
                "$[\"odd key\"]: not expected, got true",
            ]
        );
    }

    #[test]
    fn partial_matches_ignore_extra_fields_but_not_wrong_ones() {
        let e = json!({"Account": {"Id": "7"}});
        assert!(differences(
            &e,
            &json!({"Account": {"Id": "7", "x": 1}, "y": 2}),
            Match::Partial
        )
        .is_empty());
        assert_eq!(
            differences(&e, &json!({"Account": {"Id": 7}}), Match::Partial),
            vec!["$.Account.Id: expected \"7\", got 7"]
        );
    }

    #[test]
    fn strings_are_not_numbers() {
        assert_eq!(differences(&json!(1), &json!("1"), Match::Exact).len(), 1);
    }
}
