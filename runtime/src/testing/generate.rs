//! Records that conform to a type, for property tests of maps: optionals present,
//! `null` and absent; every enum value; lists from empty to a few items; and the edge
//! values that break mappings in production (empty and blank strings, unicode, zero,
//! negative and extreme numbers, leap days, the epoch). Built on proptest, so a failing
//! record shrinks to a minimal one.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value as J};

use crate::ir::{Field, Program, Type};

/// Nesting beyond which lists are empty and optionals absent, so recursive schemas end.
const MAX_DEPTH: u32 = 6;

/// A strategy for JSON documents of type `ty`.
pub fn documents(ty: &Type, program: &Program) -> BoxedStrategy<J> {
    strategy(ty, program, 0)
}

fn strategy(ty: &Type, program: &Program, depth: u32) -> BoxedStrategy<J> {
    match ty {
        Type::String => strings(),
        Type::Int => ints(),
        Type::Decimal => decimals(),
        Type::Bool => any::<bool>().prop_map(J::Bool).boxed(),
        Type::Date => dates(),
        Type::Timestamp => timestamps(),
        Type::Json => prop_oneof![
            Just(J::Null),
            any::<i32>().prop_map(J::from),
            strings(),
            Just(json!({"nested": [1, "two", null]})),
        ]
        .boxed(),
        Type::Null => Just(J::Null).boxed(),
        Type::Enum { variants, .. } if !variants.is_empty() => {
            select(variants.clone()).prop_map(J::String).boxed()
        }
        Type::Enum { .. } => Just(J::String(String::new())).boxed(),
        Type::Optional { .. } if depth >= MAX_DEPTH => Just(J::Null).boxed(),
        Type::Optional { inner } => prop_oneof![
            1 => Just(J::Null),
            3 => strategy(inner, program, depth + 1),
        ]
        .boxed(),
        Type::List { .. } if depth >= MAX_DEPTH => Just(J::Array(Vec::new())).boxed(),
        Type::List { item } => proptest::collection::vec(strategy(item, program, depth + 1), 0..4)
            .prop_map(J::Array)
            .boxed(),
        Type::Schema { name } => match program.schemas.get(name) {
            Some(schema) => record(&schema.fields, program, depth),
            None => Just(J::Null).boxed(),
        },
        Type::Record { fields } => record(fields, program, depth),
    }
}

/// An object with every required field; optional fields are sometimes left out.
fn record(fields: &[Field], program: &Program, depth: u32) -> BoxedStrategy<J> {
    let parts: Vec<BoxedStrategy<Option<(String, J)>>> = fields
        .iter()
        .map(|field| {
            let name = field.name.clone();
            let value = strategy(&field.ty, program, depth + 1);
            if matches!(field.ty, Type::Optional { .. }) {
                let present = name.clone();
                prop_oneof![
                    1 => Just(None),
                    6 => value.prop_map(move |v| Some((present.clone(), v))),
                ]
                .boxed()
            } else {
                value.prop_map(move |v| Some((name.clone(), v))).boxed()
            }
        })
        .collect();
    parts
        .prop_map(|fields| J::Object(fields.into_iter().flatten().collect()))
        .boxed()
}

fn strings() -> BoxedStrategy<J> {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let alnum = proptest::collection::vec(select(ALNUM), 1..12)
        .prop_map(|bytes| bytes.into_iter().map(char::from).collect::<String>());
    let words = proptest::collection::vec(
        select(["acme", "Nord", "GmbH", "of", "São", "Ltd."].as_slice()),
        1..4,
    )
    .prop_map(|words| words.join(" "));
    let unicode = proptest::collection::vec(any::<char>(), 1..10)
        .prop_map(|chars| chars.into_iter().collect::<String>());
    prop_oneof![
        4 => alnum,
        2 => words,
        1 => Just(String::new()),
        1 => Just("   ".to_owned()),
        1 => Just(" padded ".to_owned()),
        1 => unicode,
        1 => Just("Zoë Ångström – 東京 🚚".to_owned()),
        1 => Just("O'Brien \"quoted\" \\ back/slash".to_owned()),
    ]
    .prop_map(J::String)
    .boxed()
}

fn ints() -> BoxedStrategy<J> {
    prop_oneof![
        6 => -1000i64..1000,
        1 => Just(0i64),
        1 => Just(-1i64),
        1 => Just(i64::from(i32::MAX)),
        1 => Just(i64::MAX),
        1 => Just(i64::MIN),
        1 => any::<i64>(),
    ]
    .prop_map(J::from)
    .boxed()
}

/// Decimals as numeric strings, so every digit is exact.
fn decimals() -> BoxedStrategy<J> {
    prop_oneof![
        6 => (-1_000_000i64..1_000_000).prop_map(format_cents),
        1 => Just("0".to_owned()),
        1 => Just("0.01".to_owned()),
        1 => Just("-0.01".to_owned()),
        1 => Just("9999999999.99".to_owned()),
        1 => Just("123.456789".to_owned()),
    ]
    .prop_map(J::String)
    .boxed()
}

fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn dates() -> BoxedStrategy<J> {
    prop_oneof![
        6 => (1900i32..2100, 1u32..13, 1u32..29)
            .prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        1 => Just("1970-01-01".to_owned()),
        1 => Just("2024-02-29".to_owned()),
        1 => Just("9999-12-31".to_owned()),
        1 => Just("0001-01-01".to_owned()),
    ]
    .prop_map(J::String)
    .boxed()
}

fn timestamps() -> BoxedStrategy<J> {
    prop_oneof![
        6 => (1970i32..2100, 1u32..13, 1u32..29, 0u32..24, 0u32..60, 0u32..60)
            .prop_map(|(y, mo, d, h, mi, s)| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")),
        1 => Just("1970-01-01T00:00:00Z".to_owned()),
        1 => Just("2024-02-29T23:59:59.999+05:30".to_owned()),
        1 => Just("2038-01-19T03:14:08Z".to_owned()),
    ]
    .prop_map(J::String)
    .boxed()
}

#[cfg(test)]
mod tests {
    use proptest::test_runner::{Config, TestRunner};

    use super::*;
    use crate::value::Value;

    fn program() -> Program {
        serde_json::from_value(json!({
            "schemas": {
                "Node": {"fields": [
                    {"name": "id", "type": {"kind": "int"}},
                    {"name": "label", "type": {"kind": "optional", "inner": {"kind": "string"}}},
                    {"name": "kind", "type": {"kind": "enum", "name": null, "variants": ["A", "B"]}},
                    {"name": "at", "type": {"kind": "timestamp"}},
                    {"name": "on", "type": {"kind": "date"}},
                    {"name": "amount", "type": {"kind": "decimal"}},
                    {"name": "children", "type": {"kind": "list", "item": {"kind": "schema", "name": "Node"}}},
                    {"name": "parent", "type": {"kind": "optional", "inner": {"kind": "schema", "name": "Node"}}}
                ]}
            },
            "connections": {}, "maps": {}, "flows": {}, "rollbacks": []
        }))
        .unwrap_or_else(|e| panic!("test program: {e}"))
    }

    #[test]
    fn generated_documents_convert_to_their_type() {
        let p = program();
        let ty = Type::Schema {
            name: "Node".into(),
        };
        let mut runner = TestRunner::new(Config {
            cases: 300,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&documents(&ty, &p), |doc| {
            Value::from_json(&doc, &ty, &p)
                .map(|_| ())
                .map_err(|e| TestCaseError::fail(format!("{e} in {doc}")))
        });
        assert!(result.is_ok(), "{result:?}");
    }

    #[test]
    fn edge_values_show_up() {
        let p = program();
        let ty = Type::Schema {
            name: "Node".into(),
        };
        let mut runner = TestRunner::deterministic();
        let mut seen_max = false;
        let mut seen_absent = false;
        for _ in 0..2000 {
            let Ok(tree) = documents(&ty, &p).new_tree(&mut runner) else {
                continue;
            };
            let doc = tree.current();
            seen_max |= doc["id"] == json!(i64::MAX);
            seen_absent |= doc.get("label").is_none();
        }
        assert!(seen_max && seen_absent);
    }
}
