//! The built-in function library: names, typed signatures and docs.
//!
//! Monomorphic functions are described fully by [`Shape::Fixed`]; the generic ones
//! (over lists, numbers or any type) name a [`Generic`] rule the checker applies.

use crate::types::Type;

/// A parameter or result type of a fixed signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// `String`.
    String,
    /// `Int`.
    Int,
    /// `Decimal`.
    Decimal,
    /// `Float`.
    Float,
    /// `Bool`.
    Bool,
    /// `Date`.
    Date,
    /// `Timestamp`.
    Timestamp,
    /// `[String]`.
    StringList,
    /// `Int?`: a checked conversion that may fail.
    OptionalInt,
    /// `Decimal?`.
    OptionalDecimal,
    /// `Float?`.
    OptionalFloat,
    /// `Date?`.
    OptionalDate,
    /// `Timestamp?`.
    OptionalTimestamp,
}

impl Scalar {
    /// The semantic type.
    pub fn ty(self) -> Type {
        match self {
            Scalar::String => Type::String,
            Scalar::Int => Type::Int,
            Scalar::Decimal => Type::Decimal,
            Scalar::Float => Type::Float,
            Scalar::Bool => Type::Bool,
            Scalar::Date => Type::Date,
            Scalar::Timestamp => Type::Timestamp,
            Scalar::StringList => Type::List(Box::new(Type::String)),
            Scalar::OptionalInt => Type::Int.optional(),
            Scalar::OptionalDecimal => Type::Decimal.optional(),
            Scalar::OptionalFloat => Type::Float.optional(),
            Scalar::OptionalDate => Type::Date.optional(),
            Scalar::OptionalTimestamp => Type::Timestamp.optional(),
        }
    }
}

/// Type rules of the generic built-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generic {
    /// `to_string(T) -> String` for any scalar.
    ToString,
    /// `abs(N) -> N` for Int, Decimal or Float.
    Abs,
    /// `round(N, Int) -> N` for Decimal or Float.
    Round,
    /// `floor(N) -> Int`, `ceil(N) -> Int` for Decimal or Float.
    Whole,
    /// `min(T, T) -> T`, `max(T, T) -> T` for ordered scalars.
    MinMax,
    /// `sum([T], x => N) -> N`.
    Sum,
    /// `count([T]) -> Int` or `count([T], x => Bool) -> Int`.
    Count,
    /// `map([T], x => U) -> [U]`.
    Map,
    /// `filter([T], x => Bool) -> [T]`.
    Filter,
    /// `any([T], x => Bool) -> Bool`, `all(...)`.
    AnyAll,
    /// `first([T]) -> T?`.
    First,
    /// `is_empty([T]) -> Bool`, `size([T]) -> Int`.
    ListInfo(Scalar),
    /// `coalesce(T?, ..., T) -> T`.
    Coalesce,
}

/// How a built-in is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Fixed parameter types; `variadic` repeats the last one.
    Fixed {
        /// Parameter types.
        params: &'static [Scalar],
        /// Whether the last parameter repeats.
        variadic: bool,
        /// Result type.
        result: Scalar,
    },
    /// A generic rule.
    Generic(Generic),
}

/// One built-in function.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Name as called.
    pub name: &'static str,
    /// Signature as shown in hover and completion.
    pub signature: &'static str,
    /// What it does.
    pub doc: &'static str,
    /// How it is typed.
    pub shape: Shape,
}

use Scalar as S;

const fn fixed(
    name: &'static str,
    signature: &'static str,
    doc: &'static str,
    params: &'static [Scalar],
    result: Scalar,
) -> Builtin {
    Builtin {
        name,
        signature,
        doc,
        shape: Shape::Fixed {
            params,
            variadic: false,
            result,
        },
    }
}

const fn generic(
    name: &'static str,
    signature: &'static str,
    doc: &'static str,
    rule: Generic,
) -> Builtin {
    Builtin {
        name,
        signature,
        doc,
        shape: Shape::Generic(rule),
    }
}

/// Every built-in function.
pub const BUILTINS: &[Builtin] = &[
    fixed("upper", "upper(s: String) -> String", "Upper-cases every letter.", &[S::String], S::String),
    fixed("lower", "lower(s: String) -> String", "Lower-cases every letter.", &[S::String], S::String),
    fixed("trim", "trim(s: String) -> String", "Removes white space at both ends.", &[S::String], S::String),
    fixed("length", "length(s: String) -> Int", "Number of characters.", &[S::String], S::Int),
    fixed("substring", "substring(s: String, start: Int, length: Int) -> String", "Characters from `start` (0-based), at most `length` of them.", &[S::String, S::Int, S::Int], S::String),
    fixed("replace", "replace(s: String, from: String, to: String) -> String", "Replaces every occurrence of `from`.", &[S::String, S::String, S::String], S::String),
    fixed("contains", "contains(s: String, part: String) -> Bool", "Whether `part` occurs in `s`.", &[S::String, S::String], S::Bool),
    fixed("starts_with", "starts_with(s: String, prefix: String) -> Bool", "Whether `s` starts with `prefix`.", &[S::String, S::String], S::Bool),
    fixed("ends_with", "ends_with(s: String, suffix: String) -> Bool", "Whether `s` ends with `suffix`.", &[S::String, S::String], S::Bool),
    fixed("split", "split(s: String, separator: String) -> [String]", "Splits at every separator.", &[S::String, S::String], S::StringList),
    fixed("join", "join(parts: [String], separator: String) -> String", "Joins with the separator between parts.", &[S::StringList, S::String], S::String),
    fixed("pad_left", "pad_left(s: String, width: Int, fill: String) -> String", "Pads on the left with `fill` up to `width` characters.", &[S::String, S::Int, S::String], S::String),
    Builtin {
        name: "concat",
        signature: "concat(parts: String...) -> String",
        doc: "Joins strings end to end.",
        shape: Shape::Fixed { params: &[S::String], variadic: true, result: S::String },
    },
    fixed("hash", "hash(s: String) -> String", "Hex SHA-256 of the text, for stable keys.", &[S::String], S::String),
    fixed("uuid", "uuid() -> String", "A new random UUID.", &[], S::String),
    generic("to_string", "to_string(value: T) -> String", "Text form of a scalar: numbers in plain notation, dates as ISO 8601.", Generic::ToString),
    fixed("to_int", "to_int(s: String) -> Int?", "Parses a whole number; `null` when the text is not one.", &[S::String], S::OptionalInt),
    fixed("to_decimal", "to_decimal(s: String) -> Decimal?", "Parses a decimal number; `null` when the text is not one.", &[S::String], S::OptionalDecimal),
    fixed("int_to_decimal", "int_to_decimal(n: Int) -> Decimal", "The same number as a Decimal.", &[S::Int], S::Decimal),
    fixed("to_float", "to_float(s: String) -> Float?", "Parses a number as a Float; `null` when the text is not a finite number.", &[S::String], S::OptionalFloat),
    fixed("int_to_float", "int_to_float(n: Int) -> Float", "The nearest Float (exact up to 2^53).", &[S::Int], S::Float),
    fixed("float_to_decimal", "float_to_decimal(x: Float) -> Decimal", "The decimal the Float prints as (0.1 stays 0.1); an error beyond the Decimal range.", &[S::Float], S::Decimal),
    fixed("decimal_to_float", "decimal_to_float(d: Decimal) -> Float", "The nearest Float.", &[S::Decimal], S::Float),
    generic("round", "round(n: N, places: Int) -> N", "Rounds a Decimal or Float half away from zero to `places` decimals (a Float as the decimal it prints as).", Generic::Round),
    generic("floor", "floor(n: N) -> Int", "Largest whole number not above a Decimal or Float `n`.", Generic::Whole),
    generic("ceil", "ceil(n: N) -> Int", "Smallest whole number not below a Decimal or Float `n`.", Generic::Whole),
    generic("abs", "abs(n: N) -> N", "Absolute value of an Int, Decimal or Float.", Generic::Abs),
    generic("min", "min(a: T, b: T) -> T", "The smaller of two numbers, strings, dates or timestamps.", Generic::MinMax),
    generic("max", "max(a: T, b: T) -> T", "The larger of two numbers, strings, dates or timestamps.", Generic::MinMax),
    fixed("parse_date", "parse_date(s: String, format: String) -> Date?", "Parses a date with a strftime-style format such as \"%d/%m/%Y\"; `null` when it does not match.", &[S::String, S::String], S::OptionalDate),
    fixed("parse_timestamp", "parse_timestamp(s: String) -> Timestamp?", "Parses an RFC 3339 timestamp; `null` when it is not one.", &[S::String], S::OptionalTimestamp),
    fixed("format_date", "format_date(d: Date, format: String) -> String", "Formats a date with a strftime-style format.", &[S::Date, S::String], S::String),
    fixed("today", "today() -> Date", "The current date (UTC) when the flow runs.", &[], S::Date),
    fixed("now", "now() -> Timestamp", "The current instant when the flow runs.", &[], S::Timestamp),
    fixed("add_days", "add_days(d: Date, days: Int) -> Date", "The date `days` later (earlier when negative).", &[S::Date, S::Int], S::Date),
    fixed("date_of", "date_of(t: Timestamp) -> Date", "The UTC calendar date of an instant.", &[S::Timestamp], S::Date),
    fixed("days_between", "days_between(from: Date, to: Date) -> Int", "Whole days from `from` to `to`.", &[S::Date, S::Date], S::Int),
    generic("sum", "sum(items: [T], f: T => N) -> N", "Adds up `f` over the list; 0 for an empty list.", Generic::Sum),
    generic("count", "count(items: [T], f?: T => Bool) -> Int", "Number of items, or of items for which `f` is true.", Generic::Count),
    generic("map", "map(items: [T], f: T => U) -> [U]", "Applies `f` to every item.", Generic::Map),
    generic("filter", "filter(items: [T], f: T => Bool) -> [T]", "The items for which `f` is true.", Generic::Filter),
    generic("any", "any(items: [T], f: T => Bool) -> Bool", "Whether `f` is true for at least one item.", Generic::AnyAll),
    generic("all", "all(items: [T], f: T => Bool) -> Bool", "Whether `f` is true for every item (true for an empty list).", Generic::AnyAll),
    generic("first", "first(items: [T]) -> T?", "The first item; `null` for an empty list.", Generic::First),
    generic("is_empty", "is_empty(items: [T]) -> Bool", "Whether the list has no items.", Generic::ListInfo(S::Bool)),
    generic("size", "size(items: [T]) -> Int", "Number of items.", Generic::ListInfo(S::Int)),
    generic("coalesce", "coalesce(a: T?, ..., last: T) -> T", "The first argument that is not null.", Generic::Coalesce),
];

/// The built-in with this name.
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}
