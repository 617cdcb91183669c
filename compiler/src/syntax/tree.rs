//! The untyped syntax tree produced by the parser.
//!
//! Every node carries its span. Nodes that can be broken have an `Error` form so that
//! later passes keep going after a syntax error.

use crate::source::Span;

/// A parsed `.weft` file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    /// Top-level declarations in source order.
    pub items: Vec<Item>,
    /// Every comment in the file, doc comments included, in source order.
    pub comments: Vec<Comment>,
}

/// A `//` or `///` comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// The text after the slashes.
    pub text: String,
    /// The whole comment.
    pub span: Span,
    /// True for `///` doc comments.
    pub doc: bool,
}

/// A name with its location.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The name, without backticks.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A plain string literal (no interpolation), such as a file path or a group name.
#[derive(Debug, Clone, PartialEq)]
pub struct StrLit {
    /// The unescaped value.
    pub value: String,
    /// The literal including quotes.
    pub span: Span,
}

/// A whole number with its location.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntLit {
    /// The value.
    pub value: u64,
    /// Where it is written.
    pub span: Span,
}

/// A duration such as `15m`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Duration {
    /// Length in milliseconds.
    pub millis: u64,
    /// Where it is written.
    pub span: Span,
}

/// A top-level declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `schema Name { ... }` or `schema Name from "file"`.
    Schema(SchemaDecl),
    /// `enum Name { A, B }`.
    Enum(EnumDecl),
    /// `connection name: kind`.
    Connection(ConnectionDecl),
    /// `map name(p: Source) -> Target { ... }`.
    Map(MapDecl),
    /// `flow name { ... }`.
    Flow(FlowDecl),
    /// `environment name { ... }`.
    Environment(EnvironmentDecl),
    /// `test "name" { ... }`.
    Test(TestDecl),
    /// `promotion { ... }`.
    Promotion(PromotionDecl),
    /// `rollback flow in env { ... }`.
    Rollback(RollbackDecl),
    /// Text that could not be parsed as a declaration.
    Error(BrokenItem),
}

/// A declaration that did not parse, with as much of its header as could be read, so
/// that its name still resolves and its uses do not each report an unknown name.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenItem {
    /// The declaration keyword, when the text starts with one.
    pub keyword: Option<String>,
    /// The declared name, when one follows the keyword.
    pub name: Option<Ident>,
    /// All the skipped text.
    pub span: Span,
}

impl Item {
    /// The span of the whole declaration.
    pub fn span(&self) -> Span {
        match self {
            Item::Schema(d) => d.span,
            Item::Enum(d) => d.span,
            Item::Connection(d) => d.span,
            Item::Map(d) => d.span,
            Item::Flow(d) => d.span,
            Item::Environment(d) => d.span,
            Item::Test(d) => d.span,
            Item::Promotion(d) => d.span,
            Item::Rollback(d) => d.span,
            Item::Error(broken) => broken.span,
        }
    }
}

/// A record type declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaDecl {
    /// Text of the `///` comments above it.
    pub doc: Option<String>,
    /// Schema name.
    pub name: Ident,
    /// Inline fields or an import.
    pub body: SchemaBody,
    /// The whole declaration.
    pub span: Span,
}

/// Where a schema's fields come from.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaBody {
    /// Fields written in Weft.
    Fields(Vec<FieldDecl>),
    /// `from "path.json"` or `from "openapi.yaml#/components/schemas/Name"`.
    Import(StrLit),
}

/// `name: Type` inside a record.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    /// Text of the `///` comments above it.
    pub doc: Option<String>,
    /// Field name.
    pub name: Ident,
    /// Field type.
    pub ty: TypeExpr,
    /// The whole field.
    pub span: Span,
}

/// A type as written.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    /// What kind of type.
    pub kind: TypeExprKind,
    /// Where it is written.
    pub span: Span,
}

/// The forms of a written type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeExprKind {
    /// A built-in scalar (`String`, `Int`, ...) or a schema or enum name.
    Named(Ident),
    /// `{ a: T, b: U }`.
    Record(Vec<FieldDecl>),
    /// `[T]`.
    List(Box<TypeExpr>),
    /// `T?`.
    Optional(Box<TypeExpr>),
    /// `enum { a, "b c" }`.
    Enum(Vec<Variant>),
    /// Could not be parsed.
    Error,
}

/// An enum variant: an identifier or a string.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The value the variant stands for.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A named enum type.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumDecl {
    /// Text of the `///` comments above it.
    pub doc: Option<String>,
    /// Enum name.
    pub name: Ident,
    /// The allowed values.
    pub variants: Vec<Variant>,
    /// The whole declaration.
    pub span: Span,
}

/// An external system: its name and kind, never its address or secret.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionDecl {
    /// Text of the `///` comments above it.
    pub doc: Option<String>,
    /// Connection name.
    pub name: Ident,
    /// `http`, `file`, `postgres`.
    pub kind: Ident,
    /// The whole declaration.
    pub span: Span,
}

/// A typed mapping from one record to another.
#[derive(Debug, Clone, PartialEq)]
pub struct MapDecl {
    /// Text of the `///` comments above it.
    pub doc: Option<String>,
    /// Map name.
    pub name: Ident,
    /// Name the source record is bound to.
    pub param: Ident,
    /// Source type.
    pub source: TypeExpr,
    /// Target type.
    pub target: TypeExpr,
    /// `Field = expr` lines.
    pub assignments: Vec<Assignment>,
    /// The whole declaration.
    pub span: Span,
}

/// `Target.path = expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// Target field path, one element for a top-level field.
    pub target: Vec<Ident>,
    /// The value.
    pub value: Expr,
    /// The whole line.
    pub span: Span,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`.
    Neg,
    /// `not x`.
    Not,
}

/// Binary operators, loosest binding last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Rem,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `and`.
    And,
    /// `or`.
    Or,
    /// `??`.
    Default,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
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
}

/// A piece of a string literal.
#[derive(Debug, Clone, PartialEq)]
pub enum StrPart {
    /// Literal text, unescaped.
    Text(String),
    /// `${expr}`.
    Interpolation(Expr),
}

/// The forms of an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A string, possibly with `${...}` interpolations.
    Str(Vec<StrPart>),
    /// A whole number.
    Int(i64),
    /// A decimal number, kept as written to lose no precision.
    Decimal(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`: the missing value of an optional.
    Null,
    /// A variable: a map parameter or lambda parameter.
    Var(Ident),
    /// `base.field`.
    Field(Box<Expr>, Ident),
    /// `func(args)`: a built-in function or a map.
    Call(Ident, Vec<Expr>),
    /// `x => body`, only as a function argument.
    Lambda(Ident, Box<Expr>),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `-x`, `not x`.
    Unary(UnaryOp, Box<Expr>),
    /// `a + b` and friends.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `if c then a else b`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// Could not be parsed.
    Error,
}

/// A flow: trigger, source, transformations, target, error policy.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowDecl {
    /// Text of the `///` comments above it.
    pub doc: Option<String>,
    /// Flow name.
    pub name: Ident,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// The whole declaration.
    pub span: Span,
}

/// One line of a flow.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What the step does.
    pub kind: StepKind,
    /// The whole line.
    pub span: Span,
}

/// `conn.op(args)`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpCall {
    /// The connection.
    pub connection: Ident,
    /// The operation, such as `get` or `insert`.
    pub operation: Ident,
    /// Arguments such as the path.
    pub args: Vec<Expr>,
    /// The whole call.
    pub span: Span,
}

/// What starts a flow.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// `every 15m`.
    Every(Duration),
    /// `cron "0 * * * *"`.
    Cron(StrLit),
    /// `webhook "/path"`.
    Webhook(StrLit),
    /// `manual`.
    Manual,
    /// `after other_flow`: runs when another flow has finished.
    After(Ident),
}

/// What happens to a record that keeps failing.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorPolicy {
    /// `retry N`.
    pub retries: Option<IntLit>,
    /// `backoff 2s`.
    pub backoff: Option<Duration>,
    /// `then dead_letter | skip | fail`.
    pub then: Option<Ident>,
}

/// The kinds of flow steps.
#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// `trigger ...`.
    Trigger(Trigger),
    /// `read conn.op(...) as Type`.
    Read(OpCall, TypeExpr),
    /// `where x => condition`.
    Where(Ident, Expr),
    /// `map name`.
    Map(Ident),
    /// `call conn.op(...) as Type`: sends the record, continues with the response.
    Call(OpCall, Option<TypeExpr>),
    /// `write conn.op(...)`, optionally `as Type` to pin the contract.
    Write(OpCall, Option<TypeExpr>),
    /// `on error ...`.
    OnError(ErrorPolicy),
    /// Could not be parsed.
    Error,
}

/// A named environment: bindings of connections to endpoints and secrets.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentDecl {
    /// Text of the `///` comments above it.
    pub doc: Option<String>,
    /// Environment name.
    pub name: Ident,
    /// `conn = kind(args)` lines.
    pub bindings: Vec<Binding>,
    /// The whole declaration.
    pub span: Span,
}

/// `erp = http("https://...", auth: bearer(secret "TOKEN"))`.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The connection bound.
    pub connection: Ident,
    /// The connector kind, which must match the connection's.
    pub kind: Ident,
    /// Endpoint and options.
    pub args: Vec<ConfigArg>,
    /// The whole line.
    pub span: Span,
}

/// A positional or named argument of a binding.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigArg {
    /// `name:` for named options.
    pub name: Option<Ident>,
    /// The value.
    pub value: ConfigValue,
}

/// A value in an environment binding.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigValue {
    /// What kind of value.
    pub kind: ConfigValueKind,
    /// Where it is written.
    pub span: Span,
}

/// The forms of a binding value.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValueKind {
    /// A literal string.
    Str(String),
    /// A whole number.
    Int(u64),
    /// A duration.
    Duration(u64),
    /// `true` or `false`.
    Bool(bool),
    /// `secret "NAME"`: resolved at run time, never stored.
    Secret(StrLit),
    /// `bearer(...)`, `basic(...)`, `api_key(...)`, `oauth2(...)`.
    Call(Ident, Vec<ConfigArg>),
    /// Could not be parsed.
    Error,
}

/// A test of flows and maps against mock endpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct TestDecl {
    /// Text of the `///` comments above it.
    pub doc: Option<String>,
    /// The test's name.
    pub name: StrLit,
    /// Statements in order.
    pub statements: Vec<TestStmt>,
    /// The whole declaration.
    pub span: Span,
}

/// One line of a test.
#[derive(Debug, Clone, PartialEq)]
pub struct TestStmt {
    /// What the line does.
    pub kind: TestStmtKind,
    /// The whole line.
    pub span: Span,
}

/// Records given inline or from a fixture file.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// A literal value.
    Inline(Value),
    /// `file "fixtures/x.json"`, relative to the `.weft` file.
    File(StrLit),
}

/// What a mocked operation does.
#[derive(Debug, Clone, PartialEq)]
pub enum MockResponse {
    /// `returns <data>`.
    Returns(DataSource),
    /// `fails with status 500`.
    FailsWithStatus(IntLit),
    /// `times out`.
    TimesOut,
}

/// The kinds of test lines.
#[derive(Debug, Clone, PartialEq)]
pub enum TestStmtKind {
    /// `mock conn.op(args) returns ... [times N]`.
    Mock {
        /// The mocked operation.
        call: OpCall,
        /// Its answer.
        response: MockResponse,
        /// How many calls get this answer before the next `mock` of the same operation applies.
        times: Option<IntLit>,
    },
    /// `run flow [with <data>]`.
    Run(Ident, Option<DataSource>),
    /// `expect conn.op(args) called N times [with <data>]`.
    ExpectCalled {
        /// The operation.
        call: OpCall,
        /// The exact number of calls.
        times: IntLit,
        /// The body every matching call must contain.
        body: Option<DataSource>,
    },
    /// `expect output <data>`.
    ExpectOutput(DataSource),
    /// `expect dead_letters N`.
    ExpectDeadLetters(IntLit),
    /// `expect failure "message"`.
    ExpectFailure(Option<StrLit>),
    /// `snapshot map [with <data>]`.
    Snapshot(Ident, Option<DataSource>),
    /// `property map [runs N]`.
    Property(Ident, Option<IntLit>),
    /// `clock "2025-06-01T09:30:00Z"`: pins `now()` and `today()` for the lines after it.
    Clock(StrLit),
    /// Could not be parsed.
    Error,
}

/// A JSON-like literal in a test.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// What kind of value.
    pub kind: ValueKind,
    /// Where it is written.
    pub span: Span,
}

/// The forms of a test literal.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number as written.
    Number(String),
    /// A string.
    Str(String),
    /// `[ ... ]`.
    List(Vec<Value>),
    /// `{ key: value, ... }`.
    Object(Vec<(Ident, Value)>),
    /// Could not be parsed.
    Error,
}

/// The environment chain and the gates before each step.
#[derive(Debug, Clone, PartialEq)]
pub struct PromotionDecl {
    /// `dev -> staging -> prod`.
    pub chain: Vec<Ident>,
    /// `env: require ...` lines.
    pub rules: Vec<GateRule>,
    /// The whole declaration.
    pub span: Span,
}

/// The gates to enter one environment.
#[derive(Debug, Clone, PartialEq)]
pub struct GateRule {
    /// The environment entered.
    pub environment: Ident,
    /// The gates, all required.
    pub gates: Vec<Gate>,
    /// The whole line.
    pub span: Span,
}

/// One gate.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// What the gate checks.
    pub kind: GateKind,
    /// Where it is written.
    pub span: Span,
}

/// The kinds of promotion gates.
#[derive(Debug, Clone, PartialEq)]
pub enum GateKind {
    /// `tests`: the artifact's tests passed for this exact digest.
    Tests,
    /// `approvals N from "group"`.
    Approvals(IntLit, StrLit),
    /// `no self approval`.
    NoSelfApproval,
    /// `window "Mon-Fri 09:00-17:00"`.
    Window(StrLit),
    /// Could not be parsed.
    Error,
}

/// Automatic rollback policy for one flow in one environment.
#[derive(Debug, Clone, PartialEq)]
pub struct RollbackDecl {
    /// The flow watched.
    pub flow: Ident,
    /// The environment.
    pub environment: Ident,
    /// `error_rate > N%`, in percent.
    pub threshold: Percent,
    /// `over 10m`.
    pub window: Duration,
    /// `min N runs`.
    pub min_runs: Option<IntLit>,
    /// `then previous`.
    pub action: Ident,
    /// `alert "channel"`.
    pub alerts: Vec<StrLit>,
    /// The whole declaration.
    pub span: Span,
}

/// A percentage such as `5%` or `0.5%`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percent {
    /// The number before `%`.
    pub value: f64,
    /// Where it is written.
    pub span: Span,
}
