//! End-to-end examples of the evaluator: hand-built maps applied to JSON input, checked
//! on the JSON output (the runtime cannot call the compiler, so the IR is built here).

use serde_json::json;
use weft_runtime::eval::{apply_map, apply_named};
use weft_runtime::ir::{Assignment, BinaryOp, Expr, Field, Map, Program, Schema, StrPart, Type};
use weft_runtime::value::Value;

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
fn schema(name: &str) -> Type {
    Type::Schema { name: name.into() }
}
fn path(p: &str) -> Expr {
    let mut parts = p.split('.');
    let mut e = Expr::Var {
        name: parts.next().unwrap_or_default().into(),
    };
    for part in parts {
        e = Expr::Field {
            base: Box::new(e),
            name: part.into(),
        };
    }
    e
}
fn s(v: &str) -> Expr {
    Expr::Str {
        parts: vec![StrPart::Text { text: v.into() }],
    }
}
fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Call {
        function: name.into(),
        args,
    }
}
fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
    Expr::Binary {
        operator: op,
        lhs: Box::new(l),
        rhs: Box::new(r),
    }
}
fn assign(target: &str, value: Expr) -> Assignment {
    Assignment {
        target: target.split('.').map(str::to_owned).collect(),
        value,
    }
}

/// The grammar's `customer_to_account` example, lowered by hand.
fn program() -> Program {
    let mut p = Program::default();
    p.schemas.insert(
        "ErpSite".into(),
        Schema {
            doc: None,
            fields: vec![
                f("address1", Type::String),
                f("address2", opt(Type::String)),
                f("city", Type::String),
                f("country", Type::String),
            ],
        },
    );
    p.schemas.insert(
        "ErpContact".into(),
        Schema {
            doc: None,
            fields: vec![f("email", opt(Type::String))],
        },
    );
    p.schemas.insert(
        "ErpCustomer".into(),
        Schema {
            doc: None,
            fields: vec![
                f("bill_to", schema("ErpSite")),
                f(
                    "contacts",
                    Type::List {
                        item: Box::new(schema("ErpContact")),
                    },
                ),
                f("credit_limit", opt(Type::Decimal)),
                f("industry_code", opt(Type::String)),
                f("party_name", Type::String),
                f("ship_to", opt(schema("ErpSite"))),
                f("since", Type::Date),
                f(
                    "status",
                    Type::Enum {
                        name: Some("Status".into()),
                        variants: vec!["A".into(), "I".into()],
                    },
                ),
            ],
        },
    );
    let address = Type::Record {
        fields: vec![
            f("city", Type::String),
            f("countryCode", Type::String),
            f("street", Type::String),
        ],
    };
    p.schemas.insert(
        "Account".into(),
        Schema {
            doc: None,
            fields: vec![
                f("Active__c", Type::String),
                f("BillingAddress", address.clone()),
                f("Contact_Count__c", Type::Int),
                f("Credit_Limit__c", Type::Decimal),
                f("Customer_Since__c", Type::String),
                f("Industry", Type::String),
                f("Name", Type::String),
                f("ShippingAddress", opt(address)),
            ],
        },
    );
    let street = Expr::If {
        condition: Box::new(bin(BinaryOp::Ne, path("s.address2"), Expr::Null)),
        then: Box::new(Expr::Str {
            parts: vec![
                StrPart::Expr {
                    expr: path("s.address1"),
                },
                StrPart::Text { text: ", ".into() },
                StrPart::Expr {
                    expr: path("s.address2"),
                },
            ],
        }),
        otherwise: Box::new(path("s.address1")),
    };
    p.maps.insert(
        "site_to_address".into(),
        Map {
            doc: None,
            param: "s".into(),
            source: schema("ErpSite"),
            target: Type::Record {
                fields: vec![
                    f("city", Type::String),
                    f("countryCode", Type::String),
                    f("street", Type::String),
                ],
            },
            fields: vec![
                assign("city", path("s.city")),
                assign("countryCode", call("upper", vec![path("s.country")])),
                assign("street", street),
            ],
        },
    );
    p.maps.insert(
        "customer_to_account".into(),
        Map {
            doc: None,
            param: "c".into(),
            source: schema("ErpCustomer"),
            target: schema("Account"),
            fields: vec![
                assign(
                    "Active__c",
                    Expr::If {
                        condition: Box::new(bin(BinaryOp::Eq, path("c.status"), s("A"))),
                        then: Box::new(s("Yes")),
                        otherwise: Box::new(s("No")),
                    },
                ),
                assign("BillingAddress.city", path("c.bill_to.city")),
                assign(
                    "BillingAddress.countryCode",
                    call("upper", vec![path("c.bill_to.country")]),
                ),
                assign("BillingAddress.street", path("c.bill_to.address1")),
                assign(
                    "Contact_Count__c",
                    call(
                        "count",
                        vec![
                            path("c.contacts"),
                            Expr::Lambda {
                                param: "p".into(),
                                body: Box::new(bin(BinaryOp::Ne, path("p.email"), Expr::Null)),
                            },
                        ],
                    ),
                ),
                assign(
                    "Credit_Limit__c",
                    bin(
                        BinaryOp::Default,
                        path("c.credit_limit"),
                        Expr::Decimal {
                            value: "0.00".into(),
                        },
                    ),
                ),
                assign(
                    "Customer_Since__c",
                    call("format_date", vec![path("c.since"), s("%d/%m/%Y")]),
                ),
                assign(
                    "Industry",
                    Expr::If {
                        condition: Box::new(bin(BinaryOp::Eq, path("c.industry_code"), Expr::Null)),
                        then: Box::new(s("Other")),
                        otherwise: Box::new(Expr::If {
                            condition: Box::new(bin(
                                BinaryOp::Eq,
                                path("c.industry_code"),
                                s("FIN"),
                            )),
                            then: Box::new(s("Banking")),
                            otherwise: Box::new(s("Other")),
                        }),
                    },
                ),
                assign("Name", call("trim", vec![path("c.party_name")])),
                assign(
                    "ShippingAddress",
                    Expr::If {
                        condition: Box::new(bin(BinaryOp::Ne, path("c.ship_to"), Expr::Null)),
                        then: Box::new(Expr::Apply {
                            map: "site_to_address".into(),
                            arg: Box::new(path("c.ship_to")),
                        }),
                        otherwise: Box::new(Expr::Null),
                    },
                ),
            ],
        },
    );
    p
}

fn run(input: serde_json::Value) -> Result<serde_json::Value, String> {
    let p = program();
    let value = Value::from_json(&input, &schema("ErpCustomer"), &p).map_err(|e| e.to_string())?;
    apply_named("customer_to_account", &value, &p)
        .map(|v| v.to_json())
        .map_err(|e| e.to_string())
}

#[test]
fn customer_to_account_full_record() {
    let out = run(json!({
        "party_name": "  Acme AG ",
        "industry_code": "FIN",
        "status": "A",
        "credit_limit": 1250.5,
        "since": "2019-04-01",
        "bill_to": {"address1": "Main 1", "city": "Bern", "country": "ch"},
        "ship_to": {"address1": "Dock 3", "address2": "Gate B", "city": "Basel", "country": "ch"},
        "contacts": [{"email": "a@acme.ch"}, {"email": null}, {}],
        "ignored": true
    }));
    assert_eq!(
        out,
        Ok(json!({
            "Active__c": "Yes",
            "BillingAddress": {"city": "Bern", "countryCode": "CH", "street": "Main 1"},
            "Contact_Count__c": 1,
            "Credit_Limit__c": 1250.5,
            "Customer_Since__c": "01/04/2019",
            "Industry": "Banking",
            "Name": "Acme AG",
            "ShippingAddress": {"city": "Basel", "countryCode": "CH", "street": "Dock 3, Gate B"}
        }))
    );
}

#[test]
fn customer_to_account_defaults_and_nulls() {
    let out = run(json!({
        "party_name": "Solo",
        "status": "I",
        "since": "2020-02-29",
        "bill_to": {"address1": "A", "city": "B", "country": "de"},
        "contacts": []
    }));
    assert_eq!(
        out,
        Ok(json!({
            "Active__c": "No",
            "BillingAddress": {"city": "B", "countryCode": "DE", "street": "A"},
            "Contact_Count__c": 0,
            "Credit_Limit__c": 0,
            "Customer_Since__c": "29/02/2020",
            "Industry": "Other",
            "Name": "Solo",
            "ShippingAddress": null
        }))
    );
}

#[test]
fn output_field_order_follows_the_target_type() {
    let p = program();
    let input = json!({
        "party_name": "X", "status": "A", "since": "2020-01-01",
        "bill_to": {"address1": "A", "city": "B", "country": "de"}, "contacts": []
    });
    let value = Value::from_json(&input, &schema("ErpCustomer"), &p);
    let out = value.map_err(|e| e.to_string()).and_then(|v| {
        let map = p.maps.get("customer_to_account").ok_or("no map")?;
        apply_map(map, &v, &p).map_err(|e| e.to_string())
    });
    let Ok(Value::Record(fields)) = out else {
        panic!("expected a record, got {out:?}");
    };
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Active__c",
            "BillingAddress",
            "Contact_Count__c",
            "Credit_Limit__c",
            "Customer_Since__c",
            "Industry",
            "Name",
            "ShippingAddress"
        ]
    );
}

#[test]
fn input_errors_name_the_path() {
    let bad_enum = run(json!({
        "party_name": "X", "status": "Z", "since": "2020-01-01",
        "bill_to": {"address1": "A", "city": "B", "country": "de"}, "contacts": []
    }));
    assert_eq!(bad_enum, Err("$.status: `Z` is not one of A, I".into()));
    let missing = run(json!({
        "party_name": "X", "status": "A", "since": "2020-01-01",
        "bill_to": {"address1": "A", "country": "de"}, "contacts": []
    }));
    assert_eq!(
        missing,
        Err("$.bill_to.city: missing required field".into())
    );
    let bad_item = run(json!({
        "party_name": "X", "status": "A", "since": "2020-01-01",
        "bill_to": {"address1": "A", "city": "B", "country": "de"}, "contacts": [{}, {"email": 3}]
    }));
    assert_eq!(
        bad_item,
        Err("$.contacts[1].email: expected a string, found a number".into())
    );
    let bad_date = run(json!({
        "party_name": "X", "status": "A", "since": "2020-13-01",
        "bill_to": {"address1": "A", "city": "B", "country": "de"}, "contacts": []
    }));
    assert_eq!(
        bad_date,
        Err("$.since: `2020-13-01` is not a date (YYYY-MM-DD)".into())
    );
}

#[test]
fn from_json_scalars() {
    let p = Program::default();
    let conv = |j: serde_json::Value, t: Type| Value::from_json(&j, &t, &p);
    assert_eq!(conv(json!(5), Type::Int), Ok(Value::Int(5)));
    assert!(conv(json!(5.5), Type::Int).is_err());
    assert!(conv(json!("5"), Type::Int).is_err());
    let dec = |s: &str| Value::Decimal(s.parse().unwrap_or_default());
    assert_eq!(conv(json!(0.1), Type::Decimal), Ok(dec("0.1")));
    assert_eq!(conv(json!(7), Type::Decimal), Ok(dec("7")));
    assert_eq!(conv(json!("12.340"), Type::Decimal), Ok(dec("12.340")));
    assert_eq!(conv(json!(1e-7), Type::Decimal), Ok(dec("0.0000001")));
    assert!(conv(json!("abc"), Type::Decimal).is_err());
    assert_eq!(conv(json!(true), Type::Bool), Ok(Value::Bool(true)));
    assert_eq!(conv(json!(null), opt(Type::Int)), Ok(Value::Null));
    assert!(conv(json!(null), Type::Int).is_err());
    assert_eq!(
        conv(json!("2024-01-02T03:04:05.5+02:00"), Type::Timestamp).map(|v| v.to_json()),
        Ok(json!("2024-01-02T01:04:05.500Z"))
    );
    assert!(conv(json!("yesterday"), Type::Timestamp).is_err());
    assert_eq!(
        conv(json!({"any": [1]}), Type::Json),
        Ok(Value::Json(json!({"any": [1]})))
    );
    assert!(conv(json!(1), schema("Nope")).is_err());
    assert!(conv(json!([1]), Type::Record { fields: vec![] }).is_err());
}

#[test]
fn to_json_decimals() {
    let dec = |s: &str| Value::Decimal(s.parse().unwrap_or_default()).to_json();
    assert_eq!(dec("0.3"), json!(0.3));
    assert_eq!(dec("12.50"), json!(12.5));
    assert_eq!(dec("100.00"), json!(100));
    assert_eq!(dec("-7"), json!(-7));
    // More digits than an f64 holds: kept exact as a string.
    assert_eq!(dec("0.1234567890123456789"), json!("0.1234567890123456789"));
    assert_eq!(
        dec("79228162514264337593543950335"),
        json!("79228162514264337593543950335")
    );
}
