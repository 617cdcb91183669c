//! Decoding JSON into typed values. A [`Decoder`] compiles a type once (schemas
//! resolved, record fields indexed) and is then a serde `DeserializeSeed`: JSON text
//! becomes [`Value`]s in one pass, without an intermediate `serde_json::Value`. The
//! same decoder converts an already parsed `serde_json::Value`, so both paths share one
//! set of conversion rules and error messages.
//!
//! Given a [`Demand`], fields that evaluation never reads are still checked against
//! their types (so a record fails exactly as it would in full) but are not kept.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{parse_decimal, ConvertError, Value};
use crate::eval::Demand;
use crate::ir::{Field, Program, Type};

/// A type compiled for decoding JSON into [`Value`]s.
#[derive(Debug, Clone)]
pub struct Decoder {
    nodes: Vec<Node>,
    root: NodeId,
}

type NodeId = usize;

#[derive(Debug, Clone)]
enum Node {
    Null,
    Json,
    String,
    Int,
    Float,
    Decimal,
    Bool,
    Date,
    Timestamp,
    Enum(Vec<String>),
    List(NodeId),
    Optional(NodeId),
    Record(Record),
    UnknownSchema(String),
}

#[derive(Debug, Clone)]
struct Record {
    /// In the order of the type, which is the order of the decoded record.
    fields: Vec<FieldNode>,
    /// How a key is found among the fields.
    lookup: Lookup,
    /// How many fields are kept.
    kept: usize,
}

#[derive(Debug, Clone)]
struct FieldNode {
    name: String,
    node: NodeId,
    /// Position in the decoded record, for fields that are kept.
    slot: Option<usize>,
    /// Whether the field may be missing from the object (then it is `null`).
    optional: bool,
}

/// Records with at most this many fields find a key by a scan of short tags.
const SCAN_MAX: usize = 32;

#[derive(Debug, Clone)]
enum Lookup {
    /// The tag of each field, in field order: a scan compares two integers per field
    /// and calls no string comparison until a tag matches.
    Scan(Vec<Tag>),
    /// The field indexes in name order, for a binary search.
    Sorted(Vec<usize>),
}

/// A field name's length and first eight bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tag {
    len: usize,
    prefix: u64,
}

impl Tag {
    fn of(name: &str) -> Tag {
        let mut prefix = [0u8; 8];
        let head = &name.as_bytes()[..name.len().min(8)];
        prefix[..head.len()].copy_from_slice(head);
        Tag {
            len: name.len(),
            prefix: u64::from_le_bytes(prefix),
        }
    }
}

impl Record {
    fn index(&self, key: &str) -> Option<usize> {
        match &self.lookup {
            Lookup::Scan(tags) => {
                let tag = Tag::of(key);
                tags.iter().enumerate().find_map(|(i, t)| {
                    // Names of up to eight bytes are equal when their tags are.
                    let equal = *t == tag && (tag.len <= 8 || self.fields[i].name == key);
                    equal.then_some(i)
                })
            }
            Lookup::Sorted(order) => order
                .binary_search_by(|&i| self.fields[i].name.as_str().cmp(key))
                .ok()
                .map(|at| order[at]),
        }
    }
}

struct Builder<'p> {
    program: &'p Program,
    nodes: Vec<Node>,
    /// Schemas compiled whole, by name; recursive schemas point back into this.
    schemas: HashMap<String, NodeId>,
}

impl Builder<'_> {
    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn build(&mut self, ty: &Type, demand: &Demand) -> NodeId {
        let node = match ty {
            Type::Null => Node::Null,
            Type::Json => Node::Json,
            Type::String => Node::String,
            Type::Int => Node::Int,
            Type::Float => Node::Float,
            Type::Decimal => Node::Decimal,
            Type::Bool => Node::Bool,
            Type::Date => Node::Date,
            Type::Timestamp => Node::Timestamp,
            Type::Enum { variants, .. } => Node::Enum(variants.clone()),
            Type::List { item } => Node::List(self.build(item, demand)),
            Type::Optional { inner } => Node::Optional(self.build(inner, demand)),
            Type::Record { fields } => self.record(fields, demand),
            Type::Schema { name } => {
                let program = self.program;
                let Some(schema) = program.schemas.get(name) else {
                    return self.push(Node::UnknownSchema(name.clone()));
                };
                if !matches!(demand, Demand::All) {
                    let node = self.record(&schema.fields, demand);
                    return self.push(node);
                }
                if let Some(id) = self.schemas.get(name) {
                    return *id;
                }
                // Registered before its fields, so a field of its own type refers back.
                let id = self.push(Node::Null);
                self.schemas.insert(name.clone(), id);
                self.nodes[id] = self.record(&schema.fields, demand);
                return id;
            }
        };
        self.push(node)
    }

    fn record(&mut self, fields: &[Field], demand: &Demand) -> Node {
        let mut out = Vec::with_capacity(fields.len());
        let mut kept = 0;
        for field in fields {
            let wanted = match demand {
                Demand::All => Some(&Demand::All),
                Demand::Fields(read) => read.get(&field.name),
            };
            let node = self.build(&field.ty, wanted.unwrap_or(&Demand::All));
            let slot = wanted.map(|_| {
                kept += 1;
                kept - 1
            });
            out.push(FieldNode {
                name: field.name.clone(),
                node,
                slot,
                optional: matches!(field.ty, Type::Optional { .. } | Type::Null | Type::Json),
            });
        }
        let lookup = if out.len() <= SCAN_MAX {
            Lookup::Scan(out.iter().map(|f| Tag::of(&f.name)).collect())
        } else {
            let mut order: Vec<usize> = (0..out.len()).collect();
            order.sort_by(|&a, &b| out[a].name.cmp(&out[b].name));
            Lookup::Sorted(order)
        };
        Node::Record(Record {
            fields: out,
            lookup,
            kept,
        })
    }
}

impl Decoder {
    /// A decoder for whole values of type `ty`.
    pub fn new(ty: &Type, program: &Program) -> Decoder {
        Decoder::with_demand(ty, program, &Demand::All)
    }

    /// A decoder that keeps only the parts of a value of type `ty` that `demand` says
    /// are read; the rest is checked against its type and dropped.
    pub fn with_demand(ty: &Type, program: &Program, demand: &Demand) -> Decoder {
        let mut builder = Builder {
            program,
            nodes: Vec::new(),
            schemas: HashMap::new(),
        };
        let root = builder.build(ty, demand);
        Decoder {
            nodes: builder.nodes,
            root,
        }
    }

    /// Decodes one JSON document (such as a line of NDJSON); nothing but white space may
    /// follow it.
    pub fn decode_slice(&self, json: &[u8]) -> Result<Value, ConvertError> {
        // One pass over the whole text is cheaper than checking every string apart.
        let text = std::str::from_utf8(json).map_err(|e| ConvertError {
            path: "$".to_owned(),
            message: format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1),
        })?;
        self.decode_str(text)
    }

    /// Decodes one JSON document held in a string; nothing but white space may follow it.
    pub fn decode_str(&self, json: &str) -> Result<Value, ConvertError> {
        let mut state = State::default();
        let mut de = serde_json::Deserializer::from_str(json);
        let result = self
            .seed(self.root, true, &mut state)
            .deserialize(&mut de)
            .and_then(|value| de.end().map(|()| value));
        result.map_err(|error| state.into_error(&error))
    }

    /// Converts a parsed JSON document.
    pub fn decode_value(&self, json: &serde_json::Value) -> Result<Value, ConvertError> {
        let mut state = State::default();
        let result = self.seed(self.root, true, &mut state).deserialize(json);
        result.map_err(|error| state.into_error(&error))
    }

    fn seed<'d, 's>(&'d self, node: NodeId, keep: bool, state: &'s mut State) -> Seed<'d, 's> {
        Seed {
            decoder: self,
            node,
            keep,
            state,
        }
    }

    fn node(&self, id: NodeId) -> &Node {
        // Ids come from the builder, which only hands out ids of pushed nodes.
        self.nodes.get(id).unwrap_or(&Node::Json)
    }

    /// The node under any number of optionals, and whether there was one.
    fn strip(&self, mut id: NodeId) -> (&Node, bool) {
        let mut optional = false;
        loop {
            match self.node(id) {
                Node::Optional(inner) => {
                    optional = true;
                    id = *inner;
                }
                other => return (other, optional),
            }
        }
    }
}

/// A step in a JSON path, recorded only while an error travels up.
enum Seg {
    Field(String),
    Index(usize),
}

/// What decoding learns about an error on its way out.
#[derive(Default)]
struct State {
    /// The message of a type error (serde's own errors carry syntax errors).
    message: Option<String>,
    /// The path to the error, innermost first.
    trail: Vec<Seg>,
}

impl State {
    fn fail<E: de::Error>(&mut self, message: String) -> E {
        let error = E::custom(&message);
        self.message = Some(message);
        error
    }

    fn into_error(self, error: &serde_json::Error) -> ConvertError {
        let mut path = String::from("$");
        for seg in self.trail.iter().rev() {
            match seg {
                Seg::Field(name) => {
                    path.push('.');
                    path.push_str(name);
                }
                Seg::Index(i) => {
                    path.push('[');
                    path.push_str(&i.to_string());
                    path.push(']');
                }
            }
        }
        let message = self.message.unwrap_or_else(|| {
            let text = error.to_string();
            let text = text.split(" at line ").next().unwrap_or_default();
            format!("invalid JSON at column {}: {text}", error.column())
        });
        ConvertError { path, message }
    }
}

/// Decodes one value of a node.
struct Seed<'d, 's> {
    decoder: &'d Decoder,
    node: NodeId,
    /// False for values nobody reads: checked, then dropped.
    keep: bool,
    state: &'s mut State,
}

impl Seed<'_, '_> {
    fn mismatch<E: de::Error>(self, found: &str) -> E {
        let (node, _) = self.decoder.strip(self.node);
        let message = match node {
            Node::Record(_) => format!("expected an object, found {found}"),
            Node::UnknownSchema(name) => format!("unknown schema `{name}`"),
            other => format!("expected {}, found {found}", describe(other)),
        };
        self.state.fail(message)
    }

    fn kept(&self, value: impl FnOnce() -> Value) -> Value {
        if self.keep {
            value()
        } else {
            Value::Null
        }
    }

    fn number<E: de::Error>(self, number: Number) -> Result<Value, E> {
        match self.decoder.strip(self.node).0 {
            Node::Int => match number {
                Number::I64(i) => Ok(Value::Int(i)),
                Number::U64(u) => match i64::try_from(u) {
                    Ok(i) => Ok(Value::Int(i)),
                    Err(_) => Err(self
                        .state
                        .fail(format!("expected a 64-bit whole number, found {u}"))),
                },
                Number::F64(f) => Err(self.state.fail(format!(
                    "expected a 64-bit whole number, found {}",
                    FloatText(f)
                ))),
            },
            Node::Float => Ok(Value::Float(match number {
                Number::I64(i) => i as f64,
                Number::U64(u) => u as f64,
                Number::F64(f) => f,
            })),
            Node::Decimal => match number {
                Number::I64(i) => Ok(self.kept(|| Value::Decimal(i.into()))),
                Number::U64(u) => Ok(self.kept(|| Value::Decimal(u.into()))),
                Number::F64(f) => {
                    // The shortest text that reads back as `f`: what the sender wrote.
                    let text = FloatText(f).to_string();
                    match parse_decimal(&text) {
                        Some(d) => Ok(Value::Decimal(d)),
                        None => Err(self.state.fail(format!("`{text}` is not a decimal number"))),
                    }
                }
            },
            _ => Err(self.mismatch("a number")),
        }
    }

    fn string<E: de::Error>(self, s: &str) -> Result<Value, E> {
        match self.decoder.strip(self.node).0 {
            Node::String => Ok(self.kept(|| Value::String(s.to_owned()))),
            Node::Enum(variants) => {
                if variants.iter().any(|v| v == s) {
                    Ok(self.kept(|| Value::String(s.to_owned())))
                } else {
                    let message = format!("`{s}` is not one of {}", variants.join(", "));
                    Err(self.state.fail(message))
                }
            }
            Node::Date => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => Ok(Value::Date(d)),
                Err(_) => Err(self.state.fail(format!("`{s}` is not a date (YYYY-MM-DD)"))),
            },
            Node::Timestamp => match DateTime::parse_from_rfc3339(s) {
                Ok(t) => Ok(Value::Timestamp(t.with_timezone(&Utc))),
                Err(_) => Err(self
                    .state
                    .fail(format!("`{s}` is not an RFC 3339 timestamp"))),
            },
            Node::Decimal => match parse_decimal(s.trim()) {
                Some(d) => Ok(Value::Decimal(d)),
                None => {
                    let message = format!("`{}` is not a decimal number", s.trim());
                    Err(self.state.fail(message))
                }
            },
            _ => Err(self.mismatch("a string")),
        }
    }
}

/// A JSON number as the parser delivered it.
#[derive(Clone, Copy)]
enum Number {
    I64(i64),
    U64(u64),
    F64(f64),
}

/// A float as JSON writes it.
struct FloatText(f64);

impl fmt::Display for FloatText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::write_float(f, self.0)
    }
}

fn describe(node: &Node) -> &'static str {
    match node {
        Node::Null => "null",
        Node::Json => "any JSON value",
        Node::String | Node::Enum(_) => "a string",
        Node::Int => "a whole number",
        Node::Float | Node::Decimal => "a number",
        Node::Bool => "a boolean",
        Node::Date => "a date string",
        Node::Timestamp => "a timestamp string",
        Node::List(_) => "an array",
        Node::Record(_) | Node::UnknownSchema(_) => "an object",
        Node::Optional(_) => "a value or null",
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match self.decoder.strip(self.node) {
            (Node::Json, optional) if self.keep => {
                let json = serde_json::Value::deserialize(deserializer)?;
                Ok(match json {
                    serde_json::Value::Null if optional => Value::Null,
                    json => Value::Json(json),
                })
            }
            (Node::Json, _) => IgnoredAny::deserialize(deserializer).map(|_| Value::Null),
            _ => deserializer.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(describe(self.decoder.strip(self.node).0))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        match self.decoder.node(self.node) {
            Node::Optional(_) | Node::Null => Ok(Value::Null),
            _ => Err(self.mismatch("null")),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        match self.decoder.strip(self.node).0 {
            Node::Bool => Ok(Value::Bool(b)),
            _ => Err(self.mismatch("a boolean")),
        }
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        self.number(Number::I64(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        self.number(Number::U64(u))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        self.number(Number::F64(f))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        self.string(s)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Node::List(item) = self.decoder.strip(self.node).0 else {
            return Err(self.mismatch("an array"));
        };
        let (decoder, item, keep, state) = (self.decoder, *item, self.keep, self.state);
        let mut items = Vec::new();
        let mut index = 0;
        loop {
            let next = seq.next_element_seed(decoder.seed(item, keep, &mut *state));
            match next {
                Ok(Some(value)) if keep => items.push(value),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(error) => {
                    state.trail.push(Seg::Index(index));
                    return Err(error);
                }
            }
            index += 1;
        }
        Ok(if keep {
            Value::List(items)
        } else {
            Value::Null
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Node::Record(record) = self.decoder.strip(self.node).0 else {
            return Err(self.mismatch("an object"));
        };
        let (decoder, keep, state) = (self.decoder, self.keep, self.state);
        let mut out: Vec<(String, Value)> = if keep {
            let mut out = Vec::with_capacity(record.kept);
            out.extend(
                record
                    .fields
                    .iter()
                    .filter(|f| f.slot.is_some())
                    .map(|f| (f.name.clone(), Value::Null)),
            );
            out
        } else {
            Vec::new()
        };
        let mut seen = Seen::new(record.fields.len());
        while let Some(key) = map.next_key_seed(Key(record))? {
            let Some(index) = key else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let field = &record.fields[index];
            let keep_field = keep && field.slot.is_some();
            let value = map
                .next_value_seed(decoder.seed(field.node, keep_field, &mut *state))
                .inspect_err(|_| state.trail.push(Seg::Field(field.name.clone())))?;
            seen.set(index);
            if let (true, Some(slot)) = (keep_field, field.slot) {
                if let Some(entry) = out.get_mut(slot) {
                    entry.1 = value;
                }
            }
        }
        for (index, field) in record.fields.iter().enumerate() {
            if !field.optional && !seen.get(index) {
                state.trail.push(Seg::Field(field.name.clone()));
                return Err(state.fail("missing required field".to_owned()));
            }
        }
        Ok(if keep {
            Value::Record(out)
        } else {
            Value::Null
        })
    }
}

/// Which fields of a record have been seen.
enum Seen {
    Few(u64),
    Many(Vec<bool>),
}

impl Seen {
    fn new(fields: usize) -> Seen {
        if fields <= 64 {
            Seen::Few(0)
        } else {
            Seen::Many(vec![false; fields])
        }
    }

    fn set(&mut self, index: usize) {
        match self {
            Seen::Few(bits) => *bits |= 1 << index,
            Seen::Many(flags) => {
                if let Some(flag) = flags.get_mut(index) {
                    *flag = true;
                }
            }
        }
    }

    fn get(&self, index: usize) -> bool {
        match self {
            Seen::Few(bits) => bits & (1 << index) != 0,
            Seen::Many(flags) => flags.get(index).copied().unwrap_or(false),
        }
    }
}

/// Decodes an object key into the index of the field it names, without allocating.
struct Key<'r>(&'r Record);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<usize>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.index(key))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ir::Schema;

    fn f(name: &str, ty: Type) -> Field {
        Field {
            name: name.into(),
            ty,
            doc: None,
        }
    }
    fn opt(ty: Type) -> Type {
        Type::Optional {
            inner: Box::new(ty),
        }
    }
    fn list(ty: Type) -> Type {
        Type::List { item: Box::new(ty) }
    }
    fn schema(name: &str) -> Type {
        Type::Schema { name: name.into() }
    }

    /// A customer with orders of lines, and a self-referencing `parent`.
    fn program() -> Program {
        let mut p = Program::default();
        p.schemas.insert(
            "Line".into(),
            Schema {
                doc: None,
                fields: vec![
                    f("qty", Type::Int),
                    f("sku", Type::String),
                    f("unit_price", Type::Float),
                ],
            },
        );
        p.schemas.insert(
            "Order".into(),
            Schema {
                doc: None,
                fields: vec![f("id", Type::String), f("lines", list(schema("Line")))],
            },
        );
        p.schemas.insert(
            "Customer".into(),
            Schema {
                doc: None,
                fields: vec![
                    f("created", Type::Timestamp),
                    f("name", Type::String),
                    f("orders", list(schema("Order"))),
                    f("parent", opt(schema("Customer"))),
                    f("payload", Type::Json),
                    f("revenue", Type::Float),
                    f("sector", opt(Type::String)),
                ],
            },
        );
        p
    }

    const CUSTOMER: &str = r#"{"name":"Ada","sector":null,"revenue":12.5,"extra":[1,{"x":2}],
        "created":"2019-06-04T06:39:34Z","payload":{"k":[1,2]},
        "orders":[{"id":"SO-1","lines":[{"sku":"A","qty":2,"unit_price":1.25}]}],
        "parent":{"name":"Root","revenue":0,"created":"2000-01-01T00:00:00Z","orders":[]}}"#;

    fn fields(entries: Vec<(&str, Demand)>) -> Demand {
        Demand::Fields(entries.into_iter().map(|(n, d)| (n.into(), d)).collect())
    }

    #[test]
    fn text_and_parsed_json_decode_alike() {
        let p = program();
        let decoder = Decoder::new(&schema("Customer"), &p);
        let from_text = decoder.decode_slice(CUSTOMER.as_bytes());
        let parsed: serde_json::Value = serde_json::from_str(CUSTOMER).unwrap_or_default();
        assert_eq!(from_text, decoder.decode_value(&parsed));
        let Ok(Value::Record(fields)) = from_text else {
            panic!("expected a record, got {from_text:?}");
        };
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        // Type order, every declared field, missing optionals as null, extras dropped.
        assert_eq!(
            names,
            ["created", "name", "orders", "parent", "payload", "revenue", "sector"]
        );
        assert_eq!(fields[5].1, Value::Float(12.5));
        assert_eq!(fields[6].1, Value::Null);
        let Value::Record(parent) = &fields[3].1 else {
            panic!("parent is not a record: {:?}", fields[3].1);
        };
        assert_eq!(parent[5], ("revenue".into(), Value::Float(0.0)));
        // A missing `Json` field is null, as a missing optional is.
        assert_eq!(parent[4], ("payload".into(), Value::Null));
    }

    #[test]
    fn only_demanded_fields_are_kept() {
        let p = program();
        let demand = fields(vec![
            ("name", Demand::All),
            (
                "orders",
                fields(vec![("lines", fields(vec![("qty", Demand::All)]))]),
            ),
        ]);
        let decoder = Decoder::with_demand(&schema("Customer"), &p, &demand);
        let got = decoder.decode_slice(CUSTOMER.as_bytes());
        let line = Value::Record(vec![("qty".into(), Value::Int(2))]);
        let order = Value::Record(vec![("lines".into(), Value::List(vec![line]))]);
        assert_eq!(
            got,
            Ok(Value::Record(vec![
                ("name".into(), Value::String("Ada".into())),
                ("orders".into(), Value::List(vec![order])),
            ]))
        );
    }

    #[test]
    fn fields_not_kept_are_still_checked() {
        let p = program();
        let decoder = Decoder::with_demand(
            &schema("Customer"),
            &p,
            &fields(vec![("name", Demand::All)]),
        );
        let bad_line = CUSTOMER.replace(r#""qty":2"#, r#""qty":"2""#);
        assert_eq!(
            decoder
                .decode_slice(bad_line.as_bytes())
                .map_err(|e| e.to_string()),
            Err("$.orders[0].lines[0].qty: expected a whole number, found a string".into())
        );
        let bad_time = CUSTOMER.replace("2019-06-04T06:39:34Z", "yesterday");
        assert_eq!(
            decoder
                .decode_slice(bad_time.as_bytes())
                .map_err(|e| e.to_string()),
            Err("$.created: `yesterday` is not an RFC 3339 timestamp".into())
        );
        let missing = CUSTOMER.replace(r#""sku":"A","#, "");
        assert_eq!(
            decoder
                .decode_slice(missing.as_bytes())
                .map_err(|e| e.to_string()),
            Err("$.orders[0].lines[0].sku: missing required field".into())
        );
    }

    #[test]
    fn floats_take_any_json_number_and_nothing_else() {
        let p = Program::default();
        let decoder = Decoder::new(&Type::Float, &p);
        let decode = |text: &str| {
            decoder
                .decode_slice(text.as_bytes())
                .map_err(|e| e.to_string())
        };
        assert_eq!(decode("5"), Ok(Value::Float(5.0)));
        assert_eq!(decode("-7"), Ok(Value::Float(-7.0)));
        assert_eq!(decode("0.1"), Ok(Value::Float(0.1)));
        assert_eq!(
            decode("44938.97000000001"),
            Ok(Value::Float(44938.97000000001))
        );
        assert_eq!(decode("1.7976931348623157e308"), Ok(Value::Float(f64::MAX)));
        assert_eq!(
            decode("\"1.5\""),
            Err("$: expected a number, found a string".into())
        );
        assert!(decode("1e400").is_err_and(|e| e.contains("invalid JSON")));
    }

    #[test]
    fn syntax_errors_name_the_column_and_the_path_so_far() {
        let p = program();
        let decoder = Decoder::new(&schema("Customer"), &p);
        let broken = r#"{"name":"Ada","orders":[{"id":"SO-1","lines":[{"qty":2,}]}]}"#;
        let err = decoder
            .decode_slice(broken.as_bytes())
            .map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("$.orders[0].lines[0]: invalid JSON at column 56: trailing comma".into())
        );
        let empty = Decoder::new(&Type::Record { fields: vec![] }, &p);
        let trailing = empty.decode_slice(b"{} x");
        assert!(trailing.is_err_and(|e| e.message.contains("trailing characters")));
        let truncated = decoder.decode_slice(br#"{"name":"Ada""#);
        assert!(truncated.is_err_and(|e| e.message.contains("EOF while parsing")));
    }

    #[test]
    fn duplicate_keys_keep_the_last_and_wide_records_find_every_field() {
        let wide: Vec<Field> = (0..40).map(|i| f(&format!("f{i:02}"), Type::Int)).collect();
        let p = Program::default();
        let ty = Type::Record { fields: wide };
        let json: BTreeMap<String, i64> = (0..40).map(|i| (format!("f{i:02}"), i)).collect();
        let text = serde_json::to_string(&json).unwrap_or_default();
        let got = Decoder::new(&ty, &p).decode_slice(text.as_bytes());
        let Ok(Value::Record(fields)) = got else {
            panic!("expected a record, got {got:?}");
        };
        assert_eq!(fields.len(), 40);
        assert_eq!(fields[39], ("f39".into(), Value::Int(39)));
        // Fields out of name order (hand-built types) are found as well.
        let unsorted = Type::Record {
            fields: vec![f("z", Type::Int), f("a", Type::Int), f("m", Type::Int)],
        };
        let got = Decoder::new(&unsorted, &p).decode_slice(br#"{"a":1,"m":2,"z":3}"#);
        assert_eq!(
            got,
            Ok(Value::Record(vec![
                ("z".into(), Value::Int(3)),
                ("a".into(), Value::Int(1)),
                ("m".into(), Value::Int(2)),
            ]))
        );
        // Long names that share length and first eight bytes are told apart.
        let alike = Type::Record {
            fields: vec![f("shipping_a", Type::Int), f("shipping_b", Type::Int)],
        };
        let got = Decoder::new(&alike, &p).decode_slice(br#"{"shipping_b":2,"shipping_a":1}"#);
        assert_eq!(
            got,
            Ok(Value::Record(vec![
                ("shipping_a".into(), Value::Int(1)),
                ("shipping_b".into(), Value::Int(2)),
            ]))
        );
        let twice = Decoder::new(
            &Type::Record {
                fields: vec![f("a", Type::Int)],
            },
            &p,
        )
        .decode_slice(br#"{"a":1,"a":2}"#);
        assert_eq!(twice, Ok(Value::Record(vec![("a".into(), Value::Int(2))])));
    }

    #[test]
    fn unknown_schemas_fail_only_when_a_value_is_there() {
        let p = Program::default();
        let decoder = Decoder::new(&opt(schema("Nope")), &p);
        assert_eq!(decoder.decode_slice(b"null"), Ok(Value::Null));
        assert_eq!(
            decoder.decode_slice(b"{}").map_err(|e| e.to_string()),
            Err("$: unknown schema `Nope`".into())
        );
    }
}
