//! Source-like Weft text for IR values: expressions, types, triggers, steps and
//! policies, as the diff, the approval view and error messages show them.
//!
//! Expressions get the fewest parentheses the operator table of the language reference
//! allows (`??` < `or` < `and` < comparison < `+ -` < `* / %` < unary < postfix), except
//! that an `if` or a lambda inside an operator is always parenthesised: their last branch
//! extends as far right as possible.

use std::fmt::{self, Display, Formatter, Write as _};

use super::{
    BinaryOp, ErrorPolicy, Expr, FinalAction, Gate, Rollback, Step, StrPart, Trigger, Type, UnaryOp,
};

/// Binding strength of an expression: higher binds tighter.
fn precedence(expr: &Expr) -> u8 {
    match expr {
        Expr::If { .. } | Expr::Lambda { .. } => 0,
        Expr::Binary { operator, .. } => binary_level(*operator),
        Expr::Unary { .. } => 7,
        Expr::Int { value } if *value < 0 => 7,
        Expr::Decimal { value } if value.starts_with('-') => 7,
        Expr::Float { value } if value.is_sign_negative() => 7,
        _ => 8,
    }
}

fn binary_level(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Default => 1,
        BinaryOp::Or => 2,
        BinaryOp::And => 3,
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            4
        }
        BinaryOp::Add | BinaryOp::Sub => 5,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 6,
    }
}

fn binary_symbol(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Rem => "%",
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Eq => "==",
        BinaryOp::Ne => "!=",
        BinaryOp::Lt => "<",
        BinaryOp::Le => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::Ge => ">=",
        BinaryOp::And => "and",
        BinaryOp::Or => "or",
        BinaryOp::Default => "??",
    }
}

/// Writes `expr`, in parentheses when it binds looser than `min`.
fn operand(f: &mut Formatter<'_>, expr: &Expr, min: u8) -> fmt::Result {
    if precedence(expr) < min {
        write!(f, "({expr})")
    } else {
        write!(f, "{expr}")
    }
}

/// A field name as written: bare when it is an identifier, else in backticks.
fn name(f: &mut Formatter<'_>, name: &str) -> fmt::Result {
    let mut chars = name.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
        f.write_str(name)
    } else {
        write!(f, "`{name}`")
    }
}

/// Escapes text for a string literal: quotes, backslashes, control characters, and a
/// `$` that would otherwise start an interpolation.
fn escape(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            '$' if chars.peek() == Some(&'{') => f.write_str("\\$")?,
            c if c.is_control() => write!(f, "\\u{{{:X}}}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    Ok(())
}

/// A plain (non-interpolated) string literal.
struct Quoted<'a>(&'a str);

impl Display for Quoted<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        escape(f, self.0)?;
        f.write_char('"')
    }
}

/// A duration as the source writes it, in the largest unit that divides it exactly.
struct Duration(u64);

impl Display for Duration {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 4] = [
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1_000, "s"),
        ];
        for (size, unit) in UNITS {
            if self.0 != 0 && self.0 / size * size == self.0 {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        write!(f, "{}ms", self.0)
    }
}

fn comma_separated<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Str { parts } => {
                f.write_char('"')?;
                // Adjacent text parts are joined first so that a `$` ending one and a `{`
                // starting the next are escaped like any other `${`.
                let mut text = String::new();
                for part in parts {
                    match part {
                        StrPart::Text { text: t } => text.push_str(t),
                        StrPart::Expr { expr } => {
                            escape(f, &std::mem::take(&mut text))?;
                            write!(f, "${{{expr}}}")?;
                        }
                    }
                }
                escape(f, &text)?;
                f.write_char('"')
            }
            Expr::Int { value } => write!(f, "{value}"),
            Expr::Decimal { value } => f.write_str(value),
            Expr::Float { value } => float_literal(f, *value),
            Expr::Bool { value } => write!(f, "{value}"),
            Expr::Null => f.write_str("null"),
            Expr::Var { name } => f.write_str(name),
            Expr::Field { base, name: field } => {
                operand(f, base, 8)?;
                f.write_char('.')?;
                name(f, field)
            }
            Expr::Call { function, args } => {
                write!(f, "{function}(")?;
                comma_separated(f, args)?;
                f.write_char(')')
            }
            Expr::Apply { map, arg } => write!(f, "{map}({arg})"),
            Expr::Lambda { param, body } => write!(f, "{param} => {body}"),
            Expr::List { items } => {
                f.write_char('[')?;
                comma_separated(f, items)?;
                f.write_char(']')
            }
            Expr::Unary {
                operator,
                operand: inner,
            } => {
                let text = {
                    let mut s = String::new();
                    let _ = write!(s, "{}", Parenthesised(inner, 7));
                    s
                };
                match operator {
                    // `- -x` would read as one token to a careless eye: `-(-x)` is clearer.
                    UnaryOp::Neg if text.starts_with('-') => write!(f, "-({inner})"),
                    UnaryOp::Neg => write!(f, "-{text}"),
                    UnaryOp::Not => write!(f, "not {text}"),
                }
            }
            Expr::Binary { operator, lhs, rhs } => {
                let level = binary_level(*operator);
                let (left_min, right_min) = match operator {
                    BinaryOp::Default => (level + 1, level),
                    BinaryOp::Eq
                    | BinaryOp::Ne
                    | BinaryOp::Lt
                    | BinaryOp::Le
                    | BinaryOp::Gt
                    | BinaryOp::Ge => (level + 1, level + 1),
                    _ => (level, level + 1),
                };
                operand(f, lhs, left_min.max(1))?;
                write!(f, " {} ", binary_symbol(*operator))?;
                operand(f, rhs, right_min.max(1))
            }
            Expr::If {
                condition,
                then,
                otherwise,
            } => {
                f.write_str("if ")?;
                operand(f, condition, 1)?;
                f.write_str(" then ")?;
                operand(f, then, 1)?;
                f.write_str(" else ")?;
                write!(f, "{otherwise}")
            }
        }
    }
}

/// A Float literal as Weft source: plain notation (the language has no exponent), the
/// shortest digits that read back as the same number, and always a `.`.
fn float_literal(f: &mut Formatter<'_>, value: f64) -> fmt::Result {
    let text = value.to_string();
    f.write_str(&text)?;
    if text.contains('.') {
        Ok(())
    } else {
        f.write_str(".0")
    }
}

/// An expression in parentheses when it binds looser than the level given.
struct Parenthesised<'a>(&'a Expr, u8);

impl Display for Parenthesised<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        operand(f, self.0, self.1)
    }
}

impl Display for Type {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("String"),
            Type::Int => f.write_str("Int"),
            Type::Decimal => f.write_str("Decimal"),
            Type::Float => f.write_str("Float"),
            Type::Bool => f.write_str("Bool"),
            Type::Date => f.write_str("Date"),
            Type::Timestamp => f.write_str("Timestamp"),
            Type::Json => f.write_str("Json"),
            Type::Null => f.write_str("null"),
            Type::Schema { name } => f.write_str(name),
            Type::Record { fields } if fields.is_empty() => f.write_str("{}"),
            Type::Record { fields } => {
                f.write_str("{ ")?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    name(f, &field.name)?;
                    write!(f, ": {}", field.ty)?;
                }
                f.write_str(" }")
            }
            Type::List { item } => write!(f, "[{item}]"),
            Type::Optional { inner } => write!(f, "{inner}?"),
            Type::Enum {
                name: Some(name), ..
            } => f.write_str(name),
            Type::Enum {
                name: None,
                variants,
            } => {
                f.write_str("enum { ")?;
                let quoted: Vec<Quoted<'_>> = variants.iter().map(|v| Quoted(v)).collect();
                comma_separated(f, &quoted)?;
                f.write_str(" }")
            }
        }
    }
}

impl Display for Trigger {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Every { millis } => write!(f, "every {}", Duration(*millis)),
            Trigger::Cron { expression } => write!(f, "cron {}", Quoted(expression)),
            Trigger::Webhook { path } => write!(f, "webhook {}", Quoted(path)),
            Trigger::Manual => f.write_str("manual"),
            Trigger::After { flow } => write!(f, "after {flow}"),
        }
    }
}

fn operation(
    f: &mut Formatter<'_>,
    connection: &str,
    operation: &str,
    args: &[Expr],
) -> fmt::Result {
    write!(f, "{connection}.{operation}(")?;
    comma_separated(f, args)?;
    f.write_char(')')
}

impl Display for Step {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Step::Read {
                connection,
                operation: op,
                args,
                record,
                many,
            } => {
                f.write_str("read ")?;
                operation(f, connection, op, args)?;
                if *many {
                    write!(f, " as [{record}]")
                } else {
                    write!(f, " as {record}")
                }
            }
            Step::Where { param, condition } => write!(f, "where {param} => {condition}"),
            Step::Map { map } => write!(f, "map {map}"),
            Step::Call {
                connection,
                operation: op,
                args,
                record,
            } => {
                f.write_str("call ")?;
                operation(f, connection, op, args)?;
                // An undeclared response type is lowered as Json.
                if *record != Type::Json {
                    write!(f, " as {record}")?;
                }
                Ok(())
            }
            Step::Write {
                connection,
                operation: op,
                args,
                record,
            } => {
                f.write_str("write ")?;
                operation(f, connection, op, args)?;
                if let Some(record) = record {
                    write!(f, " as {record}")?;
                }
                Ok(())
            }
        }
    }
}

impl Display for FinalAction {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FinalAction::DeadLetter => "dead_letter",
            FinalAction::Skip => "skip",
            FinalAction::Fail => "fail",
        })
    }
}

impl Display for ErrorPolicy {
    /// The full form, defaults included: `on error retry 0 backoff 1s then fail`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "on error retry {} backoff {} then {}",
            self.retries,
            Duration(self.backoff_millis),
            self.then
        )
    }
}

impl Display for Gate {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Gate::Tests => f.write_str("tests"),
            Gate::Approvals { count, group } => {
                write!(f, "approvals {count} from {}", Quoted(group))
            }
            Gate::NoSelfApproval => f.write_str("no self approval"),
            Gate::Window { spec } => write!(f, "window {}", Quoted(spec)),
        }
    }
}

impl Display for Rollback {
    /// The body of the block on one line: `when error_rate > 5% over 1h, min 4 runs; then
    /// previous; alert "oncall"`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "when error_rate > {}% over {}, min {} runs; then {}",
            self.threshold_percent,
            Duration(self.window_millis),
            self.min_runs,
            self.action
        )?;
        for alert in &self.alerts {
            write!(f, "; alert {}", Quoted(alert))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Field, Step};
    use super::*;

    fn var(name: &str) -> Expr {
        Expr::Var { name: name.into() }
    }

    fn field(base: Expr, name: &str) -> Expr {
        Expr::Field {
            base: Box::new(base),
            name: name.into(),
        }
    }

    fn c(name: &str) -> Expr {
        field(var("c"), name)
    }

    fn bin(operator: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
        Expr::Binary {
            operator,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        }
    }

    fn int(value: i64) -> Expr {
        Expr::Int { value }
    }

    fn text(text: &str) -> Expr {
        Expr::Str {
            parts: vec![StrPart::Text { text: text.into() }],
        }
    }

    fn call(function: &str, args: Vec<Expr>) -> Expr {
        Expr::Call {
            function: function.into(),
            args,
        }
    }

    fn if_(condition: Expr, then: Expr, otherwise: Expr) -> Expr {
        Expr::If {
            condition: Box::new(condition),
            then: Box::new(then),
            otherwise: Box::new(otherwise),
        }
    }

    fn not(e: Expr) -> Expr {
        Expr::Unary {
            operator: UnaryOp::Not,
            operand: Box::new(e),
        }
    }

    fn neg(e: Expr) -> Expr {
        Expr::Unary {
            operator: UnaryOp::Neg,
            operand: Box::new(e),
        }
    }

    #[test]
    fn calls_fields_and_defaults() {
        assert_eq!(
            call("upper", vec![c("sector")]).to_string(),
            "upper(c.sector)"
        );
        assert_eq!(
            bin(BinaryOp::Default, c("a"), text("x")).to_string(),
            r#"c.a ?? "x""#
        );
        assert_eq!(
            field(var("c"), "tax-registration-number").to_string(),
            "c.`tax-registration-number`"
        );
        assert_eq!(
            Expr::Apply {
                map: "site_to_address".into(),
                arg: Box::new(c("ship_to"))
            }
            .to_string(),
            "site_to_address(c.ship_to)"
        );
    }

    #[test]
    fn if_and_lambda() {
        let e = if_(bin(BinaryOp::Gt, c("x"), int(1)), text("a"), text("b"));
        assert_eq!(e.to_string(), r#"if c.x > 1 then "a" else "b""#);
        let lambda = Expr::Lambda {
            param: "l".into(),
            body: Box::new(bin(
                BinaryOp::Mul,
                field(var("l"), "qty"),
                field(var("l"), "price"),
            )),
        };
        assert_eq!(lambda.to_string(), "l => l.qty * l.price");
        assert_eq!(
            call("sum", vec![c("lines"), lambda]).to_string(),
            "sum(c.lines, l => l.qty * l.price)"
        );
        // else-if chains need no parentheses; an if inside an operator does.
        let chain = if_(
            bin(BinaryOp::Eq, c("a"), Expr::Null),
            text("x"),
            if_(Expr::Bool { value: true }, text("y"), text("z")),
        );
        assert_eq!(
            chain.to_string(),
            r#"if c.a == null then "x" else if true then "y" else "z""#
        );
        let sum = bin(BinaryOp::Add, if_(var("b"), int(1), int(2)), int(3));
        assert_eq!(sum.to_string(), "(if b then 1 else 2) + 3");
        let nested = if_(var("a"), if_(var("b"), int(1), int(2)), int(3));
        assert_eq!(nested.to_string(), "if a then (if b then 1 else 2) else 3");
    }

    #[test]
    fn interpolation_and_escapes() {
        let e = Expr::Str {
            parts: vec![
                StrPart::Expr { expr: c("street") },
                StrPart::Text { text: ", ".into() },
                StrPart::Expr { expr: c("city") },
            ],
        };
        assert_eq!(e.to_string(), r#""${c.street}, ${c.city}""#);
        assert_eq!(
            text("say \"hi\"\\\n${x} $5").to_string(),
            r#""say \"hi\"\\\n\${x} $5""#
        );
        let split = Expr::Str {
            parts: vec![
                StrPart::Text { text: "$".into() },
                StrPart::Text { text: "{".into() },
            ],
        };
        assert_eq!(split.to_string(), r#""\${""#);
        let dollar_then_interpolation = Expr::Str {
            parts: vec![
                StrPart::Text { text: "$".into() },
                StrPart::Expr { expr: var("x") },
            ],
        };
        assert_eq!(dollar_then_interpolation.to_string(), r#""$${x}""#);
    }

    #[test]
    fn minimal_parentheses() {
        let a = || var("a");
        let b = || var("b");
        let d = || var("d");
        // Left associativity: (a - b) - d needs none, a - (b - d) needs them.
        assert_eq!(
            bin(BinaryOp::Sub, bin(BinaryOp::Sub, a(), b()), d()).to_string(),
            "a - b - d"
        );
        assert_eq!(
            bin(BinaryOp::Sub, a(), bin(BinaryOp::Sub, b(), d())).to_string(),
            "a - (b - d)"
        );
        // ?? is right associative.
        assert_eq!(
            bin(BinaryOp::Default, a(), bin(BinaryOp::Default, b(), d())).to_string(),
            "a ?? b ?? d"
        );
        assert_eq!(
            bin(BinaryOp::Default, bin(BinaryOp::Default, a(), b()), d()).to_string(),
            "(a ?? b) ?? d"
        );
        // Precedence.
        assert_eq!(
            bin(BinaryOp::Add, a(), bin(BinaryOp::Mul, b(), d())).to_string(),
            "a + b * d"
        );
        assert_eq!(
            bin(BinaryOp::Mul, bin(BinaryOp::Add, a(), b()), d()).to_string(),
            "(a + b) * d"
        );
        assert_eq!(
            bin(BinaryOp::Or, a(), bin(BinaryOp::And, b(), d())).to_string(),
            "a or b and d"
        );
        assert_eq!(
            bin(BinaryOp::And, bin(BinaryOp::Or, a(), b()), d()).to_string(),
            "(a or b) and d"
        );
        // Comparisons do not chain.
        assert_eq!(
            bin(BinaryOp::Eq, bin(BinaryOp::Lt, a(), b()), d()).to_string(),
            "(a < b) == d"
        );
        assert_eq!(
            bin(BinaryOp::Default, bin(BinaryOp::Or, a(), b()), d()).to_string(),
            "a or b ?? d"
        );
        // Unary and postfix.
        assert_eq!(
            not(bin(BinaryOp::And, a(), b())).to_string(),
            "not (a and b)"
        );
        assert_eq!(bin(BinaryOp::And, not(a()), b()).to_string(), "not a and b");
        assert_eq!(neg(bin(BinaryOp::Add, a(), b())).to_string(), "-(a + b)");
        assert_eq!(neg(neg(a())).to_string(), "-(-a)");
        assert_eq!(neg(int(-3)).to_string(), "-(-3)");
        assert_eq!(bin(BinaryOp::Mul, int(-3), a()).to_string(), "-3 * a");
        assert_eq!(
            field(bin(BinaryOp::Default, a(), b()), "x").to_string(),
            "(a ?? b).x"
        );
        assert_eq!(
            Expr::List {
                items: vec![
                    int(1),
                    Expr::Decimal {
                        value: "2.50".into()
                    }
                ]
            }
            .to_string(),
            "[1, 2.50]"
        );
        // Float literals: plain notation, shortest digits, always with a point.
        let float = |value: f64| Expr::Float { value };
        assert_eq!(float(5.0).to_string(), "5.0");
        assert_eq!(float(0.1).to_string(), "0.1");
        assert_eq!(float(1e20).to_string(), "100000000000000000000.0");
        assert_eq!(float(1.5e-7).to_string(), "0.00000015");
        assert_eq!(bin(BinaryOp::Mul, float(-2.5), a()).to_string(), "-2.5 * a");
        assert_eq!(neg(float(-2.5)).to_string(), "-(-2.5)");
    }

    #[test]
    fn types() {
        let opt = |t: Type| Type::Optional { inner: Box::new(t) };
        assert_eq!(opt(Type::String).to_string(), "String?");
        assert_eq!(
            Type::List {
                item: Box::new(Type::Schema {
                    name: "Order".into()
                })
            }
            .to_string(),
            "[Order]"
        );
        let record = Type::Record {
            fields: vec![
                Field {
                    name: "a".into(),
                    ty: Type::Int,
                    doc: None,
                },
                Field {
                    name: "first-name".into(),
                    ty: opt(Type::String),
                    doc: None,
                },
            ],
        };
        assert_eq!(record.to_string(), "{ a: Int, `first-name`: String? }");
        assert_eq!(Type::Record { fields: vec![] }.to_string(), "{}");
        let anonymous = Type::Enum {
            name: None,
            variants: vec!["A".into(), "Closed Won".into()],
        };
        assert_eq!(anonymous.to_string(), r#"enum { "A", "Closed Won" }"#);
        assert_eq!(opt(anonymous).to_string(), r#"enum { "A", "Closed Won" }?"#);
        let named = Type::Enum {
            name: Some("Stage".into()),
            variants: vec!["A".into()],
        };
        assert_eq!(named.to_string(), "Stage");
    }

    #[test]
    fn triggers() {
        assert_eq!(Trigger::Every { millis: 900_000 }.to_string(), "every 15m");
        assert_eq!(Trigger::Every { millis: 1_500 }.to_string(), "every 1500ms");
        assert_eq!(
            Trigger::Every { millis: 86_400_000 }.to_string(),
            "every 1d"
        );
        assert_eq!(
            Trigger::Cron {
                expression: "30 1 * * *".into()
            }
            .to_string(),
            r#"cron "30 1 * * *""#
        );
        assert_eq!(
            Trigger::Webhook {
                path: "/hooks/x".into()
            }
            .to_string(),
            r#"webhook "/hooks/x""#
        );
        assert_eq!(Trigger::Manual.to_string(), "manual");
        assert_eq!(
            Trigger::After {
                flow: "account_sync".into()
            }
            .to_string(),
            "after account_sync"
        );
    }

    #[test]
    fn steps() {
        let read = Step::Read {
            connection: "erp".into(),
            operation: "get".into(),
            args: vec![text("/x")],
            record: Type::Schema { name: "T".into() },
            many: true,
        };
        assert_eq!(read.to_string(), r#"read erp.get("/x") as [T]"#);
        let single = Step::Read {
            connection: "erp".into(),
            operation: "get".into(),
            args: vec![text("/x")],
            record: Type::Schema { name: "T".into() },
            many: false,
        };
        assert_eq!(single.to_string(), r#"read erp.get("/x") as T"#);
        let filter = Step::Where {
            param: "c".into(),
            condition: not(call("starts_with", vec![c("n"), text("TEST-")])),
        };
        assert_eq!(
            filter.to_string(),
            r#"where c => not starts_with(c.n, "TEST-")"#
        );
        assert_eq!(Step::Map { map: "m".into() }.to_string(), "map m");
        let call_json = Step::Call {
            connection: "crm".into(),
            operation: "post".into(),
            args: vec![text("/a")],
            record: Type::Json,
        };
        assert_eq!(call_json.to_string(), r#"call crm.post("/a")"#);
        let write = Step::Write {
            connection: "db".into(),
            operation: "upsert".into(),
            args: vec![text("t"), text("id")],
            record: Some(Type::Schema { name: "Row".into() }),
        };
        assert_eq!(write.to_string(), r#"write db.upsert("t", "id") as Row"#);
    }

    #[test]
    fn policies() {
        let policy = ErrorPolicy {
            retries: 5,
            backoff_millis: 30_000,
            then: FinalAction::DeadLetter,
        };
        assert_eq!(
            policy.to_string(),
            "on error retry 5 backoff 30s then dead_letter"
        );
        assert_eq!(
            ErrorPolicy::default().to_string(),
            "on error retry 0 backoff 1s then fail"
        );
        assert_eq!(
            Gate::Approvals {
                count: 2,
                group: "leads".into()
            }
            .to_string(),
            r#"approvals 2 from "leads""#
        );
        assert_eq!(Gate::NoSelfApproval.to_string(), "no self approval");
        let rollback = Rollback {
            flow: "f".into(),
            environment: "prod".into(),
            threshold_percent: 5.0,
            window_millis: 3_600_000,
            min_runs: 4,
            action: "previous".into(),
            alerts: vec!["oncall".into()],
        };
        assert_eq!(
            rollback.to_string(),
            r#"when error_rate > 5% over 1h, min 4 runs; then previous; alert "oncall""#
        );
    }
}
