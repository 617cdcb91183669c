//! The evaluator never panics: random expression trees over random values give `Ok` or
//! `Err`. And what [`Demand`] says an expression reads is all it reads: evaluating over
//! a value pruned to the demand gives the same result as over the whole value.

use proptest::prelude::*;
use weft_runtime::eval::{apply_named, eval, Demand, Env};
use weft_runtime::ir::{Assignment, BinaryOp, Expr, Map, Program, StrPart, Type, UnaryOp};
use weft_runtime::value::Value;

const FUNCTIONS: &[&str] = &[
    "upper",
    "lower",
    "trim",
    "length",
    "substring",
    "replace",
    "contains",
    "starts_with",
    "ends_with",
    "split",
    "join",
    "pad_left",
    "concat",
    "hash",
    "uuid",
    "to_string",
    "to_int",
    "to_decimal",
    "int_to_decimal",
    "to_float",
    "int_to_float",
    "float_to_decimal",
    "decimal_to_float",
    "round",
    "floor",
    "ceil",
    "abs",
    "min",
    "max",
    "parse_date",
    "parse_timestamp",
    "format_date",
    "today",
    "now",
    "add_days",
    "date_of",
    "days_between",
    "sum",
    "count",
    "map",
    "filter",
    "any",
    "all",
    "first",
    "is_empty",
    "size",
    "coalesce",
    "no_such_function",
];

const BINARY: &[BinaryOp] = &[
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Rem,
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Eq,
    BinaryOp::Ne,
    BinaryOp::Lt,
    BinaryOp::Le,
    BinaryOp::Gt,
    BinaryOp::Ge,
    BinaryOp::And,
    BinaryOp::Or,
    BinaryOp::Default,
];

fn name() -> impl Strategy<Value = String> {
    prop_oneof![Just("x"), Just("y"), Just("a"), Just("zz")].prop_map(str::to_owned)
}

fn leaf_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(i64::MAX),
            Just(i64::MIN)
        ]
        .prop_map(Value::Int),
        (any::<i64>(), 0u32..20)
            .prop_map(|(m, s)| Value::Decimal(rust_decimal::Decimal::new(m, s))),
        any::<f64>().prop_map(Value::Float),
        prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(0.1),
            Just(2.5),
            Just(1e308),
            Just(-1e-300)
        ]
        .prop_map(Value::Float),
        ".{0,8}".prop_map(Value::String),
        (-200_000i32..200_000).prop_map(|d| Value::Date(
            chrono::NaiveDate::from_num_days_from_ce_opt(d.rem_euclid(3_000_000))
                .unwrap_or_default()
        )),
        any::<i32>().prop_map(|s| Value::Timestamp(
            chrono::DateTime::from_timestamp(i64::from(s) * 100, 0).unwrap_or_default()
        )),
        Just(Value::Json(
            serde_json::json!({"a": 1, "x": {"y": [1, "two"]}})
        )),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf_value().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
            prop::collection::vec((name(), inner), 0..4).prop_map(Value::Record),
        ]
    })
}

fn leaf_expr() -> impl Strategy<Value = Expr> {
    prop_oneof![
        any::<i64>().prop_map(|value| Expr::Int { value }),
        (-3i64..40).prop_map(|value| Expr::Int { value }),
        prop_oneof![
            Just("0.1"),
            Just("0"),
            Just("-2.5"),
            Just("1e30"),
            Just("x"),
            Just("79228162514264337593543950335")
        ]
        .prop_map(|v| Expr::Decimal { value: v.into() }),
        prop_oneof![
            any::<f64>(),
            Just(0.0),
            Just(2.675),
            Just(-1.5),
            Just(1e300)
        ]
        .prop_map(|value| Expr::Float { value }),
        any::<bool>().prop_map(|value| Expr::Bool { value }),
        Just(Expr::Null),
        name().prop_map(|name| Expr::Var { name }),
        prop_oneof![
            Just("%Y-%m-%d"),
            Just("%Q"),
            Just(""),
            Just("2024-01-01"),
            Just("ä,b"),
            Just(",")
        ]
        .prop_map(|t| Expr::Str {
            parts: vec![StrPart::Text { text: t.into() }]
        }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf_expr().prop_recursive(5, 48, 4, |inner| {
        let boxed = || inner.clone().prop_map(Box::new);
        prop_oneof![
            (boxed(), name()).prop_map(|(base, name)| Expr::Field { base, name }),
            (
                prop::sample::select(FUNCTIONS),
                prop::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(f, args)| Expr::Call {
                    function: f.into(),
                    args
                }),
            (
                prop::sample::select(FUNCTIONS),
                inner.clone(),
                name(),
                inner.clone()
            )
                .prop_map(|(f, list, param, body)| Expr::Call {
                    function: f.into(),
                    args: vec![
                        list,
                        Expr::Lambda {
                            param,
                            body: Box::new(body)
                        }
                    ],
                }),
            (prop_oneof![Just("m"), Just("loop"), Just("none")], boxed())
                .prop_map(|(m, arg)| Expr::Apply { map: m.into(), arg }),
            (name(), boxed()).prop_map(|(param, body)| Expr::Lambda { param, body }),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| Expr::List { items }),
            (prop_oneof![Just(UnaryOp::Neg), Just(UnaryOp::Not)], boxed())
                .prop_map(|(operator, operand)| Expr::Unary { operator, operand }),
            (prop::sample::select(BINARY), boxed(), boxed())
                .prop_map(|(operator, lhs, rhs)| Expr::Binary { operator, lhs, rhs }),
            (boxed(), boxed(), boxed()).prop_map(|(condition, then, otherwise)| Expr::If {
                condition,
                then,
                otherwise
            }),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|es| Expr::Str {
                parts: es.into_iter().map(|expr| StrPart::Expr { expr }).collect()
            }),
        ]
    })
}

fn program(body: Expr) -> Program {
    let mut p = Program::default();
    let map = |value: Expr, target: &str| Map {
        doc: None,
        param: "x".into(),
        source: Type::Json,
        target: Type::Json,
        fields: vec![
            Assignment {
                target: vec![target.into(), "deep".into()],
                value: value.clone(),
            },
            Assignment {
                target: vec![target.into()],
                value,
            },
        ],
    };
    p.maps.insert("m".into(), map(body, "out"));
    p.maps.insert(
        "loop".into(),
        map(
            Expr::Apply {
                map: "loop".into(),
                arg: Box::new(Expr::Var { name: "x".into() }),
            },
            "r",
        ),
    );
    p
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn eval_never_panics(e in expr(), body in expr(), x in value(), y in value()) {
        let p = program(body);
        let outer = Env::new("x", &x);
        let env = outer.bind("y", &y);
        let _ = eval(&e, &env, &p);
        let _ = apply_named("m", &x, &p);
    }
}

/// The value as a decoder keeps it under `demand`: only the demanded fields of records
/// (of every record in a list), JSON whole.
fn prune(value: &Value, demand: &Demand) -> Value {
    let Demand::Fields(fields) = demand else {
        return value.clone();
    };
    match value {
        Value::Record(entries) => Value::Record(
            entries
                .iter()
                .filter_map(|(name, v)| fields.get(name).map(|d| (name.clone(), prune(v, d))))
                .collect(),
        ),
        Value::List(items) => Value::List(items.iter().map(|v| prune(v, demand)).collect()),
        other => other.clone(),
    }
}

/// Whether evaluating `e` may give a different value each time.
fn nondeterministic(e: &Expr) -> bool {
    let text = format!("{e:?}");
    ["\"uuid\"", "\"now\"", "\"today\""]
        .iter()
        .any(|f| text.contains(f))
}

/// Expressions rich in input paths and list functions over them, where a wrong demand
/// would show.
fn path_expr() -> impl Strategy<Value = Expr> {
    let root = prop_oneof![3 => Just("x".to_owned()), 1 => name()];
    (root, prop::collection::vec(name(), 0..3)).prop_map(|(root, fields)| {
        fields
            .into_iter()
            .fold(Expr::Var { name: root }, |base, name| Expr::Field {
                base: Box::new(base),
                name,
            })
    })
}

const LIST_FUNCTIONS: &[&str] = &[
    "sum",
    "count",
    "map",
    "filter",
    "any",
    "all",
    "first",
    "size",
    "is_empty",
    "to_string",
    "coalesce",
    "upper",
];

/// `maps` are the maps it may apply (a map's own body must not apply it, or evaluation
/// grows exponentially).
fn reading_expr(maps: &'static [&'static str]) -> impl Strategy<Value = Expr> {
    prop_oneof![4 => path_expr(), 1 => leaf_expr()].prop_recursive(4, 32, 3, move |inner| {
        let boxed = || inner.clone().prop_map(Box::new);
        prop_oneof![
            3 => (
                prop::sample::select(LIST_FUNCTIONS),
                inner.clone(),
                name(),
                inner.clone()
            )
                .prop_map(|(f, list, param, body)| Expr::Call {
                    function: f.into(),
                    args: vec![list, Expr::Lambda { param, body: Box::new(body) }],
                }),
            3 => (prop::sample::select(LIST_FUNCTIONS), boxed())
                .prop_map(|(f, arg)| Expr::Call { function: f.into(), args: vec![*arg] }),
            1 => (prop::sample::select(LIST_FUNCTIONS), prop::collection::vec(inner.clone(), 2..4))
                .prop_map(|(f, args)| Expr::Call { function: f.into(), args }),
            2 => (prop::sample::select(maps), boxed())
                .prop_map(|(m, arg)| Expr::Apply { map: m.into(), arg }),
            1 => (boxed(), name()).prop_map(|(base, name)| Expr::Field { base, name }),
            1 => (prop::sample::select(BINARY), boxed(), boxed())
                .prop_map(|(operator, lhs, rhs)| Expr::Binary { operator, lhs, rhs }),
            1 => (boxed(), boxed(), boxed()).prop_map(|(condition, then, otherwise)| Expr::If {
                condition,
                then,
                otherwise
            }),
            1 => prop::collection::vec(inner.clone(), 1..3).prop_map(|es| Expr::Str {
                parts: es.into_iter().map(|expr| StrPart::Expr { expr }).collect()
            }),
            1 => prop::collection::vec(inner, 0..3).prop_map(|items| Expr::List { items }),
        ]
    })
}

/// Records of records and lists of records, over the same few field names.
fn record_value() -> impl Strategy<Value = Value> {
    leaf_value().prop_recursive(4, 48, 4, |inner| {
        let record =
            || prop::collection::vec((name(), inner.clone()), 1..5).prop_map(Value::Record);
        prop_oneof![
            1 => prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
            2 => prop::collection::vec(record(), 1..4).prop_map(Value::List),
            3 => record(),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6000, ..ProptestConfig::default() })]

    #[test]
    fn evaluation_reads_only_what_the_demand_says(
        e in reading_expr(&["m", "loop", "none"]),
        body in reading_expr(&["loop", "none"]),
        x in record_value(),
        y in record_value(),
    ) {
        prop_assume!(!nondeterministic(&e) && !nondeterministic(&body));
        let p = program(body);
        let demand = Demand::of_expr("x", &e, &p);
        let pruned = prune(&x, &demand);
        // `y` stands for a variable bound outside the analysed input.
        let run = |x: &Value| {
            let outer = Env::new("y", &y);
            format!("{:?}", eval(&e, &outer.bind("x", x), &p))
        };
        // Compared as text: a NaN read from the input equals itself there.
        prop_assert_eq!(run(&x), run(&pruned), "demand {:?}, pruned {:?}", demand, pruned);
        if let Some(map) = p.maps.get("m") {
            let demand = Demand::of_map(map, &p);
            let pruned = prune(&x, &demand);
            prop_assert_eq!(
                format!("{:?}", apply_named("m", &x, &p)),
                format!("{:?}", apply_named("m", &pruned, &p))
            );
        }
    }
}
