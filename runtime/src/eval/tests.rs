use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::build::{b, bin, call, dec, field, int, lam, list, path, s, var};
use super::*;
use crate::ir::{Assignment, Field, Map};

fn date(y: i32, m: u32, d: u32) -> Value {
    Value::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default())
}
fn d(v: &str) -> Value {
    Value::Decimal(Decimal::from_str(v).unwrap_or_default())
}
fn st(v: &str) -> Value {
    Value::String(v.into())
}

/// The record bound to `c` in every test.
fn input() -> Value {
    Value::Record(vec![
        ("name".into(), st("  Ada  ")),
        ("age".into(), Value::Int(36)),
        ("missing".into(), Value::Null),
        (
            "address".into(),
            Value::Record(vec![("city".into(), st("Zürich"))]),
        ),
        (
            "lines".into(),
            Value::List(vec![
                Value::Record(vec![
                    ("qty".into(), Value::Int(2)),
                    ("price".into(), d("0.10")),
                ]),
                Value::Record(vec![
                    ("qty".into(), Value::Int(3)),
                    ("price".into(), d("0.20")),
                ]),
            ]),
        ),
        ("empty".into(), Value::List(vec![])),
        ("born".into(), date(1990, 12, 10)),
    ])
}

fn run(e: Expr) -> Result<Value> {
    let program = Program::default();
    let v = input();
    eval(&e, &Env::new("c", &v), &program)
}

#[track_caller]
fn check(e: Expr, expected: Value) {
    match run(e) {
        Ok(v) => assert_eq!(v, expected),
        Err(err) => panic!("unexpected error: {err}"),
    }
}

#[track_caller]
fn check_err(e: Expr, fragment: &str) {
    match run(e) {
        Ok(v) => panic!("expected an error containing {fragment:?}, got {v:?}"),
        Err(err) => assert!(
            err.message.contains(fragment),
            "{:?} does not contain {fragment:?}",
            err.message
        ),
    }
}

// --- literals, variables, fields --------------------------------------------------------

#[test]
fn literals() {
    check(int(7), Value::Int(7));
    check(dec("1.50"), d("1.50"));
    check(b(true), Value::Bool(true));
    check(Expr::Null, Value::Null);
    check(s("x"), st("x"));
    check(
        list(vec![int(1), int(2)]),
        Value::List(vec![Value::Int(1), Value::Int(2)]),
    );
    check_err(dec("abc"), "not a decimal");
}

#[test]
fn interpolation_renders_like_to_string() {
    let e = Expr::Str {
        parts: vec![
            StrPart::Text { text: "n=".into() },
            StrPart::Expr { expr: int(3) },
            StrPart::Text { text: " d=".into() },
            StrPart::Expr { expr: dec("2.50") },
            StrPart::Text { text: " b=".into() },
            StrPart::Expr {
                expr: path("c.born"),
            },
            StrPart::Text { text: " ".into() },
            StrPart::Expr {
                expr: path("c.address.city"),
            },
        ],
    };
    check(e, st("n=3 d=2.50 b=1990-12-10 Zürich"));
}

#[test]
fn variables_and_fields() {
    check(path("c.age"), Value::Int(36));
    check(path("c.address.city"), st("Zürich"));
    check_err(var("nope"), "unknown variable");
    check_err(path("c.age.x"), "expected a record");
}

#[test]
fn field_access_on_null_is_null() {
    check(path("c.missing.deeper.still"), Value::Null);
    check(path("c.not_there"), Value::Null);
    check(field(Expr::Null, "x"), Value::Null);
}

#[test]
fn field_of_computed_record_and_json() {
    check(
        field(call("first", vec![path("c.lines")]), "qty"),
        Value::Int(2),
    );
    let program = Program::default();
    let j = Value::Json(serde_json::json!({"a": {"b": 1}, "n": null}));
    let env = Env::new("j", &j);
    let got = eval(&path("j.a.b"), &env, &program);
    assert_eq!(got, Ok(Value::Json(serde_json::json!(1))));
    assert_eq!(eval(&path("j.n.x"), &env, &program), Ok(Value::Null));
}

// --- operators -------------------------------------------------------------------------

#[test]
fn int_arithmetic() {
    check(bin(BinaryOp::Add, int(2), int(3)), Value::Int(5));
    check(bin(BinaryOp::Sub, int(2), int(3)), Value::Int(-1));
    check(bin(BinaryOp::Mul, int(4), int(3)), Value::Int(12));
    check(bin(BinaryOp::Div, int(-7), int(2)), Value::Int(-3));
    check(bin(BinaryOp::Rem, int(-7), int(2)), Value::Int(-1));
}

#[test]
fn int_overflow_is_an_error() {
    check_err(bin(BinaryOp::Add, int(i64::MAX), int(1)), "overflow");
    check_err(bin(BinaryOp::Sub, int(i64::MIN), int(1)), "overflow");
    check_err(bin(BinaryOp::Mul, int(i64::MAX), int(2)), "overflow");
    check_err(bin(BinaryOp::Div, int(i64::MIN), int(-1)), "overflow");
    check_err(
        Expr::Unary {
            operator: UnaryOp::Neg,
            operand: Box::new(int(i64::MIN)),
        },
        "overflow",
    );
}

#[test]
fn division_by_zero_is_an_error() {
    check_err(bin(BinaryOp::Div, int(1), int(0)), "division by zero");
    check_err(bin(BinaryOp::Rem, int(1), int(0)), "division by zero");
    check_err(
        bin(BinaryOp::Div, dec("1.0"), dec("0.00")),
        "division by zero",
    );
    check_err(bin(BinaryOp::Rem, dec("1.0"), dec("0")), "division by zero");
}

#[test]
fn decimal_arithmetic_is_exact() {
    check(
        bin(
            BinaryOp::Eq,
            bin(BinaryOp::Add, dec("0.1"), dec("0.2")),
            dec("0.3"),
        ),
        Value::Bool(true),
    );
    check(bin(BinaryOp::Add, dec("0.1"), dec("0.2")), d("0.3"));
    check(bin(BinaryOp::Mul, dec("1.10"), dec("3")), d("3.30"));
    check(bin(BinaryOp::Div, dec("1"), dec("4")), d("0.25"));
    check(bin(BinaryOp::Rem, dec("7.5"), dec("2")), d("1.5"));
    check(bin(BinaryOp::Sub, dec("0"), dec("0.01")), d("-0.01"));
    check(bin(BinaryOp::Add, int(1), dec("0.5")), d("1.5"));
    check_err(
        bin(
            BinaryOp::Mul,
            dec("79228162514264337593543950335"),
            dec("2"),
        ),
        "overflow",
    );
}

#[test]
fn arithmetic_type_errors() {
    check_err(bin(BinaryOp::Add, s("a"), int(1)), "expected two numbers");
    check_err(
        bin(BinaryOp::Add, Expr::Null, int(1)),
        "expected two numbers",
    );
}

#[test]
fn unary() {
    let neg = |e| Expr::Unary {
        operator: UnaryOp::Neg,
        operand: Box::new(e),
    };
    let not = |e| Expr::Unary {
        operator: UnaryOp::Not,
        operand: Box::new(e),
    };
    check(neg(int(5)), Value::Int(-5));
    check(neg(dec("1.5")), d("-1.5"));
    check(not(b(true)), Value::Bool(false));
    check_err(not(int(1)), "expected Bool");
    check_err(neg(s("x")), "expected Int, Decimal or Float");
}

#[test]
fn comparisons() {
    check(bin(BinaryOp::Lt, int(1), int(2)), Value::Bool(true));
    check(bin(BinaryOp::Le, int(2), int(2)), Value::Bool(true));
    check(
        bin(BinaryOp::Gt, dec("1.5"), dec("1.49")),
        Value::Bool(true),
    );
    check(bin(BinaryOp::Ge, s("a"), s("b")), Value::Bool(false));
    check(
        bin(BinaryOp::Lt, path("c.born"), call("today", vec![])),
        Value::Bool(true),
    );
    check(bin(BinaryOp::Lt, int(1), dec("1.5")), Value::Bool(true));
    check_err(bin(BinaryOp::Lt, s("a"), int(1)), "cannot compare");
    check_err(bin(BinaryOp::Lt, Expr::Null, int(1)), "cannot compare");
}

#[test]
fn equality() {
    check(bin(BinaryOp::Eq, int(1), int(1)), Value::Bool(true));
    check(bin(BinaryOp::Ne, int(1), int(2)), Value::Bool(true));
    check(
        bin(BinaryOp::Eq, dec("1.0"), dec("1.00")),
        Value::Bool(true),
    );
    check(bin(BinaryOp::Eq, int(1), dec("1.0")), Value::Bool(true));
    check(
        bin(BinaryOp::Eq, path("c.missing"), Expr::Null),
        Value::Bool(true),
    );
    check(
        bin(BinaryOp::Ne, path("c.age"), Expr::Null),
        Value::Bool(true),
    );
    check(bin(BinaryOp::Eq, s("a"), s("a")), Value::Bool(true));
    check(
        bin(BinaryOp::Eq, list(vec![int(1)]), list(vec![int(1)])),
        Value::Bool(true),
    );
    check(
        bin(BinaryOp::Eq, path("c.address"), path("c.address")),
        Value::Bool(true),
    );
}

#[test]
fn and_or_short_circuit() {
    let boom = bin(BinaryOp::Div, int(1), int(0));
    let boom_bool = bin(BinaryOp::Eq, boom.clone(), int(0));
    check(
        bin(BinaryOp::And, b(false), boom_bool.clone()),
        Value::Bool(false),
    );
    check(
        bin(BinaryOp::Or, b(true), boom_bool.clone()),
        Value::Bool(true),
    );
    check(bin(BinaryOp::And, b(true), b(false)), Value::Bool(false));
    check(bin(BinaryOp::Or, b(false), b(true)), Value::Bool(true));
    check_err(bin(BinaryOp::And, b(true), boom_bool), "division by zero");
    check_err(bin(BinaryOp::Or, int(1), b(true)), "expected Bool");
}

#[test]
fn default_operator() {
    let boom = bin(BinaryOp::Div, int(1), int(0));
    check(bin(BinaryOp::Default, path("c.missing"), s("x")), st("x"));
    check(bin(BinaryOp::Default, path("c.age"), boom), Value::Int(36));
    check(
        bin(
            BinaryOp::Default,
            path("c.missing"),
            bin(BinaryOp::Default, Expr::Null, int(3)),
        ),
        Value::Int(3),
    );
}

#[test]
fn if_expression() {
    let e = |c| Expr::If {
        condition: Box::new(c),
        then: Box::new(s("yes")),
        otherwise: Box::new(bin(BinaryOp::Div, int(1), int(0))),
    };
    check(e(b(true)), st("yes"));
    check_err(e(b(false)), "division by zero");
    check_err(e(Expr::Null), "`if` condition");
}

#[test]
fn lambda_outside_a_call_is_an_error() {
    check_err(lam("x", var("x")), "lambda");
}

// --- string built-ins ------------------------------------------------------------------

#[test]
fn upper_lower_unicode() {
    check(call("upper", vec![s("straße é")]), st("STRASSE É"));
    check(call("lower", vec![s("ÀÉÎ İ")]), st("àéî i̇"));
    check(call("upper", vec![s("")]), st(""));
    check_err(call("upper", vec![int(1)]), "expected String");
    check_err(call("upper", vec![]), "takes 1 argument");
}

#[test]
fn trim_and_length() {
    check(call("trim", vec![path("c.name")]), st("Ada"));
    check(call("trim", vec![s("\u{3000}x\t\n")]), st("x"));
    check(call("length", vec![s("Zürich")]), Value::Int(6));
    check(call("length", vec![s("")]), Value::Int(0));
}

#[test]
fn substring() {
    check(
        call("substring", vec![s("héllo"), int(1), int(3)]),
        st("éll"),
    );
    check(call("substring", vec![s("abc"), int(1), int(10)]), st("bc"));
    check(call("substring", vec![s("abc"), int(3), int(1)]), st(""));
    check_err(
        call("substring", vec![s("abc"), int(4), int(1)]),
        "past the end",
    );
    check_err(
        call("substring", vec![s("abc"), int(-1), int(1)]),
        "negative",
    );
}

#[test]
fn replace_contains_starts_ends() {
    check(
        call("replace", vec![s("a-b-c"), s("-"), s("+")]),
        st("a+b+c"),
    );
    check(call("replace", vec![s("abc"), s(""), s("+")]), st("abc"));
    check(call("contains", vec![s("abc"), s("bc")]), Value::Bool(true));
    check(call("contains", vec![s("abc"), s("")]), Value::Bool(true));
    check(
        call("starts_with", vec![s("abc"), s("ab")]),
        Value::Bool(true),
    );
    check(
        call("starts_with", vec![s("abc"), s("b")]),
        Value::Bool(false),
    );
    check(
        call("ends_with", vec![s("abc"), s("bc")]),
        Value::Bool(true),
    );
    check(
        call("ends_with", vec![s("abc"), s("a")]),
        Value::Bool(false),
    );
}

#[test]
fn split_and_join() {
    check(
        call("split", vec![s("a,b,,c"), s(",")]),
        Value::List(vec![st("a"), st("b"), st(""), st("c")]),
    );
    check(
        call("split", vec![s(""), s(",")]),
        Value::List(vec![st("")]),
    );
    check(
        call("split", vec![s("äb"), s("")]),
        Value::List(vec![st("ä"), st("b")]),
    );
    check(
        call("join", vec![list(vec![s("a"), s("b")]), s(", ")]),
        st("a, b"),
    );
    check(call("join", vec![list(vec![]), s(",")]), st(""));
    check_err(
        call("join", vec![list(vec![int(1)]), s(",")]),
        "expected String",
    );
}

#[test]
fn pad_left_and_concat() {
    check(
        call("pad_left", vec![s("42"), int(6), s("0")]),
        st("000042"),
    );
    check(
        call("pad_left", vec![s("12345"), int(3), s("0")]),
        st("12345"),
    );
    check(call("pad_left", vec![s("x"), int(4), s("ab")]), st("abax"));
    check(call("pad_left", vec![s("x"), int(-4), s("0")]), st("x"));
    check_err(
        call("pad_left", vec![s("x"), int(i64::MAX), s("0")]),
        "larger",
    );
    check(call("concat", vec![s("a"), s("b"), s("c")]), st("abc"));
    check(call("concat", vec![s("a")]), st("a"));
    check_err(call("concat", vec![]), "at least one");
}

#[test]
fn hash_and_uuid() {
    check(
        call("hash", vec![s("abc")]),
        st("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    );
    let a = run(call("uuid", vec![]));
    let b2 = run(call("uuid", vec![]));
    let (Ok(Value::String(a)), Ok(Value::String(b2))) = (a, b2) else {
        panic!("uuid did not return strings");
    };
    assert_ne!(a, b2);
    assert_eq!(a.len(), 36);
    assert_eq!(&a[14..15], "4");
    assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    assert_eq!(a.matches('-').count(), 4);
}

// --- conversions -----------------------------------------------------------------------

#[test]
fn to_string_of_scalars() {
    check(call("to_string", vec![int(-5)]), st("-5"));
    check(call("to_string", vec![dec("1.50")]), st("1.50"));
    check(call("to_string", vec![dec("1e3")]), st("1000"));
    check(call("to_string", vec![b(true)]), st("true"));
    check(call("to_string", vec![path("c.born")]), st("1990-12-10"));
    check(call("to_string", vec![s("x")]), st("x"));
    check(
        call(
            "to_string",
            vec![call(
                "parse_timestamp",
                vec![s("2024-01-02T03:04:05+01:00")],
            )],
        ),
        st("2024-01-02T02:04:05Z"),
    );
}

#[test]
fn to_int_and_to_decimal() {
    check(call("to_int", vec![s("42")]), Value::Int(42));
    check(call("to_int", vec![s(" -7 ")]), Value::Int(-7));
    check(call("to_int", vec![s("4.2")]), Value::Null);
    check(call("to_int", vec![s("")]), Value::Null);
    check(call("to_int", vec![s("99999999999999999999")]), Value::Null);
    check(call("to_decimal", vec![s("4.20")]), d("4.20"));
    check(call("to_decimal", vec![s("1e2")]), d("100"));
    check(call("to_decimal", vec![s("abc")]), Value::Null);
    check(call("to_decimal", vec![s("NaN")]), Value::Null);
    check(call("int_to_decimal", vec![int(3)]), d("3"));
}

#[test]
fn rounding() {
    check(call("round", vec![dec("2.345"), int(2)]), d("2.35"));
    check(call("round", vec![dec("-2.345"), int(2)]), d("-2.35"));
    check(call("round", vec![dec("2.5"), int(0)]), d("3"));
    check(call("round", vec![dec("1.2"), int(5)]), d("1.2"));
    check(call("round", vec![dec("1.2"), int(1000)]), d("1.2"));
    check_err(call("round", vec![dec("1.2"), int(-1)]), "negative");
    check(call("floor", vec![dec("-1.5")]), Value::Int(-2));
    check(call("floor", vec![dec("1.5")]), Value::Int(1));
    check(call("ceil", vec![dec("1.1")]), Value::Int(2));
    check(call("ceil", vec![dec("-1.1")]), Value::Int(-1));
    check_err(call("floor", vec![dec("1e20")]), "does not fit");
}

#[test]
fn abs_min_max() {
    check(call("abs", vec![int(-3)]), Value::Int(3));
    check(call("abs", vec![dec("-3.5")]), d("3.5"));
    check_err(call("abs", vec![int(i64::MIN)]), "overflow");
    check_err(call("abs", vec![s("x")]), "Int, Decimal or Float");
    check(call("min", vec![int(3), int(2)]), Value::Int(2));
    check(call("max", vec![int(3), int(2)]), Value::Int(3));
    check(call("min", vec![s("b"), s("a")]), st("a"));
    check(call("max", vec![dec("1.5"), dec("1.25")]), d("1.5"));
    check_err(call("max", vec![int(1), s("a")]), "cannot compare");
}

// --- dates -----------------------------------------------------------------------------

#[test]
fn parse_and_format_dates() {
    check(
        call("parse_date", vec![s("10/12/1990"), s("%d/%m/%Y")]),
        date(1990, 12, 10),
    );
    check(
        call("parse_date", vec![s("31/02/1990"), s("%d/%m/%Y")]),
        Value::Null,
    );
    check(call("parse_date", vec![s("x"), s("%d/%m/%Y")]), Value::Null);
    check(call("parse_date", vec![s("1990"), s("%Q")]), Value::Null);
    check(
        call("format_date", vec![path("c.born"), s("%Y%m%d")]),
        st("19901210"),
    );
    check(
        call("format_date", vec![path("c.born"), s("%d.%m.%y")]),
        st("10.12.90"),
    );
    check_err(
        call("format_date", vec![path("c.born"), s("%Q")]),
        "invalid format",
    );
}

#[test]
fn timestamps() {
    check(
        call(
            "date_of",
            vec![call(
                "parse_timestamp",
                vec![s("2024-03-01T23:30:00-02:00")],
            )],
        ),
        date(2024, 3, 2),
    );
    check(call("parse_timestamp", vec![s("2024-03-01")]), Value::Null);
    let now = run(call("now", vec![]));
    assert!(matches!(now, Ok(Value::Timestamp(_))));
    let today = run(call("today", vec![]));
    let from_now = run(call("date_of", vec![call("now", vec![])]));
    // Equal unless the test straddles midnight UTC.
    assert!(matches!(today, Ok(Value::Date(_))));
    assert!(matches!(from_now, Ok(Value::Date(_))));
}

#[test]
fn date_arithmetic() {
    check(
        call("add_days", vec![path("c.born"), int(30)]),
        date(1991, 1, 9),
    );
    check(
        call("add_days", vec![path("c.born"), int(-10)]),
        date(1990, 11, 30),
    );
    check(
        call("add_days", vec![path("c.born"), int(0)]),
        date(1990, 12, 10),
    );
    check_err(
        call("add_days", vec![path("c.born"), int(i64::MAX)]),
        "out of range",
    );
    check_err(
        call("add_days", vec![path("c.born"), int(i64::MIN)]),
        "out of range",
    );
    check(
        call(
            "days_between",
            vec![
                path("c.born"),
                call("add_days", vec![path("c.born"), int(365)]),
            ],
        ),
        Value::Int(365),
    );
    check(
        call(
            "days_between",
            vec![
                call("add_days", vec![path("c.born"), int(2)]),
                path("c.born"),
            ],
        ),
        Value::Int(-2),
    );
}

// --- lists -----------------------------------------------------------------------------

fn line_total() -> Expr {
    lam(
        "l",
        bin(
            BinaryOp::Mul,
            call("int_to_decimal", vec![path("l.qty")]),
            path("l.price"),
        ),
    )
}

#[test]
fn sum() {
    check(call("sum", vec![path("c.lines"), line_total()]), d("0.80"));
    check(
        call("sum", vec![path("c.lines"), lam("l", path("l.qty"))]),
        Value::Int(5),
    );
    check(
        call("sum", vec![path("c.empty"), lam("l", path("l.qty"))]),
        Value::Int(0),
    );
    check_err(
        call(
            "sum",
            vec![list(vec![int(i64::MAX), int(1)]), lam("x", var("x"))],
        ),
        "overflow",
    );
    check_err(
        call("sum", vec![path("c.lines"), int(1)]),
        "must be a lambda",
    );
}

#[test]
fn count_and_size() {
    check(call("count", vec![path("c.lines")]), Value::Int(2));
    check(
        call(
            "count",
            vec![
                path("c.lines"),
                lam("l", bin(BinaryOp::Gt, path("l.qty"), int(2))),
            ],
        ),
        Value::Int(1),
    );
    check(call("count", vec![path("c.empty")]), Value::Int(0));
    check(call("size", vec![path("c.lines")]), Value::Int(2));
    check(call("size", vec![path("c.empty")]), Value::Int(0));
    check_err(
        call("count", vec![path("c.lines"), lam("l", int(1))]),
        "expected Bool",
    );
    check_err(call("count", vec![int(1)]), "a list");
}

#[test]
fn map_filter_and_lambda_scope() {
    check(
        call("map", vec![path("c.lines"), lam("l", path("l.qty"))]),
        Value::List(vec![Value::Int(2), Value::Int(3)]),
    );
    check(
        call("map", vec![path("c.empty"), lam("l", path("l.qty"))]),
        Value::List(vec![]),
    );
    // Lambdas see enclosing parameters and nest.
    check(
        call(
            "map",
            vec![
                list(vec![int(1), int(2)]),
                lam(
                    "x",
                    call(
                        "sum",
                        vec![
                            path("c.lines"),
                            lam("l", bin(BinaryOp::Mul, path("l.qty"), var("x"))),
                        ],
                    ),
                ),
            ],
        ),
        Value::List(vec![Value::Int(5), Value::Int(10)]),
    );
    // An inner parameter shadows an outer one.
    check(
        call(
            "map",
            vec![
                list(vec![int(1)]),
                lam("c", bin(BinaryOp::Add, var("c"), int(1))),
            ],
        ),
        Value::List(vec![Value::Int(2)]),
    );
    check(
        call(
            "filter",
            vec![
                list(vec![int(1), int(5), int(3)]),
                lam("x", bin(BinaryOp::Gt, var("x"), int(2))),
            ],
        ),
        Value::List(vec![Value::Int(5), Value::Int(3)]),
    );
    check(
        call("filter", vec![path("c.empty"), lam("x", b(true))]),
        Value::List(vec![]),
    );
}

#[test]
fn any_all() {
    let big = || lam("l", bin(BinaryOp::Gt, path("l.qty"), int(2)));
    check(call("any", vec![path("c.lines"), big()]), Value::Bool(true));
    check(
        call("all", vec![path("c.lines"), big()]),
        Value::Bool(false),
    );
    check(
        call("any", vec![path("c.empty"), big()]),
        Value::Bool(false),
    );
    check(call("all", vec![path("c.empty"), big()]), Value::Bool(true));
    // `any` stops at the first match: the division by zero is never reached.
    check(
        call(
            "any",
            vec![
                list(vec![int(1), int(0)]),
                lam(
                    "x",
                    bin(BinaryOp::Eq, bin(BinaryOp::Div, int(1), var("x")), int(1)),
                ),
            ],
        ),
        Value::Bool(true),
    );
}

#[test]
fn first_and_is_empty() {
    check(
        call("first", vec![list(vec![int(4), int(5)])]),
        Value::Int(4),
    );
    check(call("first", vec![path("c.empty")]), Value::Null);
    check(
        field(call("first", vec![path("c.empty")]), "qty"),
        Value::Null,
    );
    check(call("is_empty", vec![path("c.empty")]), Value::Bool(true));
    check(call("is_empty", vec![path("c.lines")]), Value::Bool(false));
}

#[test]
fn coalesce() {
    check(
        call("coalesce", vec![path("c.missing"), Expr::Null, int(3)]),
        Value::Int(3),
    );
    check(
        call(
            "coalesce",
            vec![path("c.age"), bin(BinaryOp::Div, int(1), int(0))],
        ),
        Value::Int(36),
    );
    check(call("coalesce", vec![Expr::Null]), Value::Null);
    check_err(call("coalesce", vec![]), "at least one");
}

#[test]
fn unknown_function() {
    check_err(call("nope", vec![]), "unknown function");
}

// --- maps ------------------------------------------------------------------------------

fn f(name: &str, ty: Type) -> Field {
    Field {
        name: name.into(),
        ty,
        doc: None,
    }
}

fn assign(target: &str, value: Expr) -> Assignment {
    Assignment {
        target: target.split('.').map(str::to_owned).collect(),
        value,
    }
}

fn test_program() -> Program {
    let mut program = Program::default();
    program.maps.insert(
        "city_of".into(),
        Map {
            doc: None,
            param: "a".into(),
            source: Type::Json,
            target: Type::Record {
                fields: vec![f("city", Type::String), f("upper", Type::String)],
            },
            fields: vec![
                assign("city", path("a.city")),
                assign("upper", call("upper", vec![path("a.city")])),
            ],
        },
    );
    program.maps.insert(
        "main".into(),
        Map {
            doc: None,
            param: "c".into(),
            source: Type::Json,
            target: Type::Record {
                fields: vec![
                    f(
                        "Address",
                        Type::Record {
                            fields: vec![f("City", Type::String), f("Zip", Type::String.clone())],
                        },
                    ),
                    f("Age", Type::Int),
                    f(
                        "Applied",
                        Type::Optional {
                            inner: Box::new(Type::Json),
                        },
                    ),
                    f("Total", Type::Decimal),
                ],
            },
            fields: vec![
                assign("Address.Zip", s("8000")),
                assign("Address.City", path("c.address.city")),
                assign("Age", path("c.age")),
                assign(
                    "Applied",
                    Expr::Apply {
                        map: "city_of".into(),
                        arg: Box::new(path("c.address")),
                    },
                ),
                assign(
                    "Total",
                    call("sum", vec![path("c.empty"), lam("l", path("l.price"))]),
                ),
            ],
        },
    );
    program.maps.insert(
        "broken".into(),
        Map {
            doc: None,
            param: "c".into(),
            source: Type::Json,
            target: Type::Record {
                fields: vec![f("x", Type::Int)],
            },
            fields: vec![assign(
                "x",
                Expr::Apply {
                    map: "inner".into(),
                    arg: Box::new(var("c")),
                },
            )],
        },
    );
    program.maps.insert(
        "inner".into(),
        Map {
            doc: None,
            param: "c".into(),
            source: Type::Json,
            target: Type::Record {
                fields: vec![f("y", Type::Int)],
            },
            fields: vec![assign("y", bin(BinaryOp::Div, path("c.age"), int(0)))],
        },
    );
    program.maps.insert(
        "selfish".into(),
        Map {
            doc: None,
            param: "c".into(),
            source: Type::Json,
            target: Type::Record {
                fields: vec![f("x", Type::Int)],
            },
            fields: vec![assign(
                "x",
                Expr::Apply {
                    map: "selfish".into(),
                    arg: Box::new(var("c")),
                },
            )],
        },
    );
    program
}

#[test]
fn apply_map_builds_nested_records_in_type_order() {
    let program = test_program();
    let out = apply_named("main", &input(), &program);
    let expected = Value::Record(vec![
        (
            "Address".into(),
            Value::Record(vec![
                ("City".into(), st("Zürich")),
                ("Zip".into(), st("8000")),
            ]),
        ),
        ("Age".into(), Value::Int(36)),
        (
            "Applied".into(),
            Value::Record(vec![
                ("city".into(), st("Zürich")),
                ("upper".into(), st("ZÜRICH")),
            ]),
        ),
        ("Total".into(), d("0")),
    ]);
    assert_eq!(out, Ok(expected));
    let by_ref = program
        .maps
        .get("main")
        .map(|m| apply_map(m, &input(), &program));
    assert_eq!(by_ref.map(|r| r.is_ok()), Some(true));
}

#[test]
fn map_errors_name_the_field_and_the_applying_maps() {
    let program = test_program();
    let err = match apply_named("broken", &input(), &program) {
        Err(e) => e,
        Ok(v) => panic!("expected an error, got {v:?}"),
    };
    assert!(err.message.contains("division by zero"));
    assert_eq!(err.source_id().as_deref(), Some("map.inner.field.y"));
    assert_eq!(err.frames.len(), 2);
    assert_eq!(err.frames[1].source_id(), "map.broken.field.x");
    assert!(err.to_string().contains("in map `inner`, field `y`"));
    let by_ref = program
        .maps
        .get("broken")
        .map(|m| apply_map(m, &input(), &program));
    assert!(matches!(by_ref, Some(Err(e)) if e.frames[1].map == "broken"));
}

#[test]
fn self_application_is_cut_off() {
    let program = test_program();
    let err = apply_named("selfish", &input(), &program);
    assert!(matches!(err, Err(e) if e.message.contains("nested deeper")));
    assert!(apply_named("nope", &input(), &program).is_err());
}

#[test]
fn apply_to_null_is_null() {
    let program = test_program();
    let v = input();
    let e = Expr::Apply {
        map: "city_of".into(),
        arg: Box::new(path("c.missing")),
    };
    assert_eq!(eval(&e, &Env::new("c", &v), &program), Ok(Value::Null));
    let unknown = Expr::Apply {
        map: "zzz".into(),
        arg: Box::new(var("c")),
    };
    assert!(eval(&unknown, &Env::new("c", &v), &program).is_err());
}

// --- Float ------------------------------------------------------------------------------

fn fl(v: f64) -> Expr {
    Expr::Float { value: v }
}

fn run_with(e: Expr, name: &str, value: &Value) -> Result<Value> {
    eval(&e, &Env::new(name, value), &Program::default())
}

#[test]
fn float_arithmetic_is_binary64() {
    check(
        bin(BinaryOp::Add, fl(0.1), fl(0.2)),
        Value::Float(0.1 + 0.2),
    );
    check(
        bin(BinaryOp::Mul, fl(753.29), fl(21.0)),
        Value::Float(753.29 * 21.0),
    );
    check(bin(BinaryOp::Sub, fl(1.0), fl(0.75)), Value::Float(0.25));
    check(bin(BinaryOp::Div, fl(1.0), fl(4.0)), Value::Float(0.25));
    check(bin(BinaryOp::Rem, fl(7.5), fl(2.0)), Value::Float(1.5));
    check(neg(fl(2.5)), Value::Float(-2.5));
    // An Int meets a Float only through `sum` of an empty list; it is widened exactly.
    check(bin(BinaryOp::Add, int(0), fl(2.5)), Value::Float(2.5));
}

fn neg(e: Expr) -> Expr {
    Expr::Unary {
        operator: UnaryOp::Neg,
        operand: Box::new(e),
    }
}

#[test]
fn non_finite_float_results_are_errors() {
    check_err(bin(BinaryOp::Div, fl(1.0), fl(0.0)), "division by zero");
    check_err(bin(BinaryOp::Rem, fl(1.0), fl(-0.0)), "division by zero");
    check_err(
        bin(BinaryOp::Mul, fl(1e308), fl(10.0)),
        "not a finite Float",
    );
    check_err(
        bin(BinaryOp::Sub, fl(-1e308), fl(1e308)),
        "not a finite Float",
    );
    check_err(fl(f64::NAN), "not a finite Float");
    check_err(fl(f64::INFINITY), "not a finite Float");
}

#[test]
fn float_and_decimal_do_not_mix_at_run_time() {
    check_err(
        bin(BinaryOp::Add, fl(1.0), dec("1")),
        "cannot mix Float and Decimal",
    );
    check_err(
        bin(BinaryOp::Lt, fl(1.0), dec("1")),
        "cannot compare Float with Decimal",
    );
}

#[test]
fn float_comparisons_and_equality() {
    check(bin(BinaryOp::Lt, fl(0.1), fl(0.2)), Value::Bool(true));
    check(bin(BinaryOp::Ge, fl(-0.0), fl(0.0)), Value::Bool(true));
    check(bin(BinaryOp::Eq, fl(-0.0), fl(0.0)), Value::Bool(true));
    check(
        bin(BinaryOp::Eq, bin(BinaryOp::Add, fl(0.1), fl(0.2)), fl(0.3)),
        Value::Bool(false),
    );
    // Int against Float compares the exact values, not a rounded Int.
    check(bin(BinaryOp::Eq, int(3), fl(3.0)), Value::Bool(true));
    check(bin(BinaryOp::Lt, int(2), fl(2.5)), Value::Bool(true));
    check(bin(BinaryOp::Gt, int(-2), fl(-2.5)), Value::Bool(true));
    check(
        bin(
            BinaryOp::Eq,
            int(9_007_199_254_740_993),
            fl(9_007_199_254_740_992.0),
        ),
        Value::Bool(false),
    );
    check(
        bin(BinaryOp::Lt, int(i64::MAX), fl(1e19)),
        Value::Bool(true),
    );
    check(
        bin(BinaryOp::Gt, int(i64::MIN), fl(-1e19)),
        Value::Bool(true),
    );
    check(call("min", vec![fl(2.5), fl(-1.0)]), Value::Float(-1.0));
    check(call("max", vec![fl(2.5), fl(-1.0)]), Value::Float(2.5));
    check(call("abs", vec![fl(-2.5)]), Value::Float(2.5));
}

#[test]
fn float_conversions() {
    check(call("int_to_float", vec![int(21)]), Value::Float(21.0));
    check(
        call("int_to_float", vec![int(9_007_199_254_740_993)]),
        Value::Float(9_007_199_254_740_992.0),
    );
    check(call("to_float", vec![s(" 1.5e3 ")]), Value::Float(1500.0));
    check(call("to_float", vec![s("-0.25")]), Value::Float(-0.25));
    for bad in ["abc", "", "NaN", "inf", "-infinity", "1e400"] {
        check(call("to_float", vec![s(bad)]), Value::Null);
    }
    // A Float becomes the decimal it prints as.
    check(call("float_to_decimal", vec![fl(0.1)]), d("0.1"));
    check(call("float_to_decimal", vec![fl(-2.5)]), d("-2.5"));
    check(call("float_to_decimal", vec![fl(1e-30)]), d("0"));
    check_err(
        call("float_to_decimal", vec![fl(1e30)]),
        "outside the range of a Decimal",
    );
    check(
        call("decimal_to_float", vec![dec("0.1")]),
        Value::Float(0.1),
    );
    check(
        call(
            "decimal_to_float",
            vec![dec("79228162514264337593543950335")],
        ),
        Value::Float(7.922_816_251_426_434e28),
    );
    check_err(call("int_to_float", vec![fl(1.0)]), "expected Int");
    check_err(call("float_to_decimal", vec![dec("1")]), "expected Float");
}

#[test]
fn float_rounding_floor_and_ceil() {
    let round = |x: f64, places: i64| call("round", vec![fl(x), int(places)]);
    // Half away from zero, on the decimal the Float prints as.
    check(round(2.675, 2), Value::Float(2.68));
    check(round(-2.675, 2), Value::Float(-2.68));
    check(round(2.5, 0), Value::Float(3.0));
    check(round(0.125, 2), Value::Float(0.13));
    check(round(9.995, 2), Value::Float(10.0));
    check(round(99.5, 0), Value::Float(100.0));
    check(round(1.25, 5), Value::Float(1.25));
    check(round(1e300, 2), Value::Float(1e300));
    check(round(1e-300, 2), Value::Float(0.0));
    check(round(0.1 + 0.2, 2), Value::Float(0.3));
    check_err(round(1.5, -1), "must not be negative");
    check(call("floor", vec![fl(-2.5)]), Value::Int(-3));
    check(call("ceil", vec![fl(-2.5)]), Value::Int(-2));
    check(call("ceil", vec![fl(2.000_1)]), Value::Int(3));
    check_err(call("floor", vec![fl(1e19)]), "does not fit in an Int");
    check_err(call("ceil", vec![fl(-1e19)]), "does not fit in an Int");
}

#[test]
fn float_text_is_the_shortest_round_trip_form() {
    check(call("to_string", vec![fl(5.0)]), st("5.0"));
    check(call("to_string", vec![fl(0.1)]), st("0.1"));
    check(
        call("to_string", vec![bin(BinaryOp::Add, fl(0.1), fl(0.2))]),
        st("0.30000000000000004"),
    );
    let e = Expr::Str {
        parts: vec![
            StrPart::Text { text: "x=".into() },
            StrPart::Expr { expr: fl(-2.5) },
        ],
    };
    check(e, st("x=-2.5"));
}

#[test]
fn float_sums_fold_left_from_zero() {
    // sum(orders, o => sum(o.lines, l => int_to_float(l.qty) * l.unit_price)), as the
    // benchmark kit defines it: bit for bit the same as the explicit left fold.
    let line = |qty: i64, price: f64| {
        Value::Record(vec![
            ("qty".into(), Value::Int(qty)),
            ("unit_price".into(), Value::Float(price)),
        ])
    };
    let orders = vec![
        vec![line(21, 753.29), line(29, 177.6)],
        vec![line(40, 508.7)],
        vec![line(3, 0.1), line(7, 0.2), line(11, 0.3)],
    ];
    let record = Value::Record(vec![(
        "orders".into(),
        Value::List(
            orders
                .iter()
                .map(|lines| Value::Record(vec![("lines".into(), Value::List(lines.clone()))]))
                .collect(),
        ),
    )]);
    let mut expected = 0.0_f64;
    for lines in &orders {
        let mut subtotal = 0.0_f64;
        for l in lines {
            if let (Some(Value::Int(q)), Some(Value::Float(p))) =
                (l.field("qty"), l.field("unit_price"))
            {
                subtotal += *q as f64 * p;
            }
        }
        expected += subtotal;
    }
    let total = call(
        "sum",
        vec![
            path("c.orders"),
            lam(
                "o",
                call(
                    "sum",
                    vec![
                        path("o.lines"),
                        lam(
                            "l",
                            bin(
                                BinaryOp::Mul,
                                call("int_to_float", vec![path("l.qty")]),
                                path("l.unit_price"),
                            ),
                        ),
                    ],
                ),
            ),
        ],
    );
    let got = run_with(total, "c", &record);
    assert_eq!(got.map(|v| v.to_string()), Ok(expected.to_string()));
    // An empty sum is the Int 0, widened to 0.0 where a Float field takes it.
    let empty = Value::Record(vec![("orders".into(), Value::List(vec![]))]);
    let nothing = call("sum", vec![path("c.orders"), lam("o", fl(1.0))]);
    assert_eq!(run_with(nothing, "c", &empty), Ok(Value::Int(0)));
}

#[test]
fn float_fields_take_an_empty_sum_as_zero_point_zero() {
    let mut program = Program::default();
    program.maps.insert(
        "total".into(),
        Map {
            doc: None,
            param: "c".into(),
            source: Type::Json,
            target: Type::Record {
                fields: vec![f("Total", Type::Float)],
            },
            fields: vec![assign(
                "Total",
                call("sum", vec![path("c.orders"), lam("o", fl(1.0))]),
            )],
        },
    );
    let empty = Value::Record(vec![("orders".into(), Value::List(vec![]))]);
    let out = apply_named("total", &empty, &program);
    assert_eq!(
        out,
        Ok(Value::Record(vec![("Total".into(), Value::Float(0.0))]))
    );
}

/// A pinned clock reaches a map applied inside another map.
#[test]
fn a_pinned_clock_reaches_maps_applied_inside_maps() {
    let mut program = Program::default();
    let record = |fields| Type::Record { fields };
    program.maps.insert(
        "stamp".into(),
        Map {
            doc: None,
            param: "a".into(),
            source: Type::Json,
            target: record(vec![f("on", Type::Date)]),
            fields: vec![assign("on", call("today", vec![]))],
        },
    );
    program.maps.insert(
        "outer".into(),
        Map {
            doc: None,
            param: "c".into(),
            source: Type::Json,
            target: record(vec![f("Stamped", Type::Json)]),
            fields: vec![assign(
                "Stamped",
                Expr::Apply {
                    map: "stamp".into(),
                    arg: Box::new(var("c")),
                },
            )],
        },
    );
    let pinned = Clock::Pinned(
        chrono::DateTime::parse_from_rfc3339("2025-06-01T09:30:00Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let out = apply_named_at("outer", &input(), &program, pinned).unwrap_or_else(|e| panic!("{e}"));
    let Value::Record(outer) = out else {
        panic!("not a record: {out:?}")
    };
    let stamped = outer
        .iter()
        .find(|(k, _)| k == "Stamped")
        .map(|(_, v)| v.clone());
    let Some(Value::Record(inner)) = stamped else {
        panic!("no Stamped record: {outer:?}")
    };
    assert_eq!(inner.first().map(|(_, v)| v), Some(&date(2025, 6, 1)));
}
