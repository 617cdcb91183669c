//! The intermediate representation an artifact carries: schemas, maps as expression
//! trees, flows as petgraph graphs, and delivery policies. No endpoints, no secrets.
//!
//! Canonical by construction: every collection is sorted by name (or path), so the same
//! program serialises to the same bytes whatever the order of its declarations.

mod display;

use std::collections::BTreeMap;

use petgraph::graph::DiGraph;
use serde::{Deserialize, Serialize};

/// A whole program: what `weft build` lowers a checked project to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Program {
    /// Record types by name.
    pub schemas: BTreeMap<String, Schema>,
    /// Declared connections by name: kind only, never an address.
    pub connections: BTreeMap<String, Connection>,
    /// Maps by name.
    pub maps: BTreeMap<String, Map>,
    /// Flows by name.
    pub flows: BTreeMap<String, Flow>,
    /// The environment chain and its gates, if declared.
    pub promotion: Option<Promotion>,
    /// Rollback policies, sorted by flow then environment.
    pub rollbacks: Vec<Rollback>,
}

/// A named record type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// Doc comment or imported description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Fields sorted by name.
    pub fields: Vec<Field>,
}

/// A field of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Name.
    pub name: String,
    /// Type; `Optional` when the field may be missing.
    #[serde(rename = "type")]
    pub ty: Type,
    /// Doc comment or imported description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

/// A type in the IR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Type {
    /// Text.
    String,
    /// 64-bit whole number.
    Int,
    /// Exact decimal.
    Decimal,
    /// IEEE-754 binary64 floating-point number.
    Float,
    /// Boolean.
    Bool,
    /// Calendar date.
    Date,
    /// Instant.
    Timestamp,
    /// Any JSON value.
    Json,
    /// The type of `null`.
    Null,
    /// A named schema.
    Schema {
        /// Its name in [`Program::schemas`].
        name: String,
    },
    /// An anonymous record, fields sorted by name.
    Record {
        /// Fields.
        fields: Vec<Field>,
    },
    /// `[T]`.
    List {
        /// Item type.
        item: Box<Type>,
    },
    /// `T?`.
    Optional {
        /// The type when present.
        inner: Box<Type>,
    },
    /// A fixed set of string values.
    Enum {
        /// The declared name, for named enums.
        name: Option<String>,
        /// Allowed values in declaration order.
        variants: Vec<String>,
    },
}

/// A declared connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// `http`, `file`, `postgres`.
    pub kind: String,
}

/// A typed mapping from one record to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Map {
    /// Doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Name the source record is bound to in the expressions.
    pub param: String,
    /// Source type.
    pub source: Type,
    /// Target type.
    pub target: Type,
    /// Assignments sorted by target path.
    pub fields: Vec<Assignment>,
}

/// `Target.path = expr`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Target field path.
    pub target: Vec<String>,
    /// The value.
    pub value: Expr,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnaryOp {
    /// `-x`.
    Neg,
    /// `not x`.
    Not,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// A piece of an interpolated string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "part", rename_all = "snake_case")]
pub enum StrPart {
    /// Literal text.
    Text {
        /// The text.
        text: String,
    },
    /// `${expr}`.
    Expr {
        /// The interpolated value.
        expr: Expr,
    },
}

/// An expression tree. Literals are already typed: an integer literal where a Decimal
/// is expected is lowered as a Decimal, a number literal where a Float is expected as a
/// Float.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Expr {
    /// A string, possibly interpolated.
    Str {
        /// Its pieces.
        parts: Vec<StrPart>,
    },
    /// A whole number.
    Int {
        /// The value.
        value: i64,
    },
    /// A decimal, as written (exact).
    Decimal {
        /// The digits.
        value: String,
    },
    /// A binary64 number (always finite).
    Float {
        /// The value.
        value: f64,
    },
    /// `true` / `false`.
    Bool {
        /// The value.
        value: bool,
    },
    /// `null`.
    Null,
    /// A map parameter or lambda parameter.
    Var {
        /// Its name.
        name: String,
    },
    /// `base.name`; `null` when `base` is null.
    Field {
        /// The record.
        base: Box<Expr>,
        /// The field.
        name: String,
    },
    /// A built-in function call.
    Call {
        /// The built-in's name.
        function: String,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// A map applied to a record.
    Apply {
        /// The map's name in [`Program::maps`].
        map: String,
        /// The record.
        arg: Box<Expr>,
    },
    /// `param => body`, only as an argument of a list function.
    Lambda {
        /// Parameter name.
        param: String,
        /// Body.
        body: Box<Expr>,
    },
    /// `[a, b]`.
    List {
        /// Items.
        items: Vec<Expr>,
    },
    /// `-x`, `not x`.
    Unary {
        /// Operator.
        operator: UnaryOp,
        /// Operand.
        operand: Box<Expr>,
    },
    /// `a op b`.
    Binary {
        /// Operator.
        operator: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `if cond then a else b`.
    If {
        /// Condition.
        condition: Box<Expr>,
        /// Value when true.
        then: Box<Expr>,
        /// Value when false.
        otherwise: Box<Expr>,
    },
}

/// A flow: triggers, a graph of steps, and an error policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flow {
    /// Doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// What starts it, in declaration order.
    pub triggers: Vec<Trigger>,
    /// Steps as nodes, record hand-over as edges (a chain today; node order is step order).
    pub graph: DiGraph<Step, ()>,
    /// What happens to a record that keeps failing.
    pub error_policy: ErrorPolicy,
}

impl PartialEq for Flow {
    fn eq(&self, other: &Self) -> bool {
        self.doc == other.doc
            && self.triggers == other.triggers
            && self.error_policy == other.error_policy
            && self.graph.node_weights().eq(other.graph.node_weights())
            && self
                .graph
                .raw_edges()
                .iter()
                .map(|e| (e.source(), e.target()))
                .eq(other
                    .graph
                    .raw_edges()
                    .iter()
                    .map(|e| (e.source(), e.target())))
    }
}

impl Flow {
    /// The steps in order.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.graph.node_weights()
    }
}

/// What starts a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// On a fixed interval.
    Every {
        /// Interval in milliseconds.
        millis: u64,
    },
    /// On a cron schedule (five fields).
    Cron {
        /// The expression.
        expression: String,
    },
    /// On an HTTP call to the runtime.
    Webhook {
        /// Path under the environment's webhook root.
        path: String,
    },
    /// Only when started by hand.
    Manual,
    /// When another flow has finished.
    After {
        /// That flow.
        flow: String,
    },
}

/// One step of a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// Produce records from a connection.
    Read {
        /// Connection name.
        connection: String,
        /// Operation, such as `get`.
        operation: String,
        /// Arguments (paths, SQL).
        args: Vec<Expr>,
        /// Type of each record.
        record: Type,
        /// True for `as [T]`: the response is a list of records.
        many: bool,
    },
    /// Keep records for which the condition holds.
    Where {
        /// Name the record is bound to.
        param: String,
        /// The condition.
        condition: Expr,
    },
    /// Apply a map.
    Map {
        /// The map's name.
        map: String,
    },
    /// Send each record and continue with the response.
    Call {
        /// Connection name.
        connection: String,
        /// Operation.
        operation: String,
        /// Arguments.
        args: Vec<Expr>,
        /// Type of the response (`Json` when not declared).
        record: Type,
    },
    /// Deliver each record.
    Write {
        /// Connection name.
        connection: String,
        /// Operation.
        operation: String,
        /// Arguments.
        args: Vec<Expr>,
        /// The contract pinned with `as T`, if any.
        record: Option<Type>,
    },
}

impl Step {
    /// The connection a read, call or write step uses.
    pub fn connection(&self) -> Option<&str> {
        match self {
            Step::Read { connection, .. }
            | Step::Call { connection, .. }
            | Step::Write { connection, .. } => Some(connection),
            Step::Where { .. } | Step::Map { .. } => None,
        }
    }
}

/// What happens after a record fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalAction {
    /// Keep it in the dead-letter store for replay.
    DeadLetter,
    /// Drop it and go on.
    Skip,
    /// Fail the run.
    Fail,
}

/// Retries and the final action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff in milliseconds, doubled on each retry.
    pub backoff_millis: u64,
    /// After the last retry.
    pub then: FinalAction,
}

impl Default for ErrorPolicy {
    /// No retries, 1 s backoff, fail the run: the policy of a flow without `on error`.
    fn default() -> Self {
        ErrorPolicy {
            retries: 0,
            backoff_millis: 1000,
            then: FinalAction::Fail,
        }
    }
}

/// The environment chain and the gates to enter each environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    /// Environments in promotion order.
    pub chain: Vec<String>,
    /// Gates by environment entered.
    pub gates: BTreeMap<String, Vec<Gate>>,
}

/// A promotion gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gate {
    /// The artifact's tests passed for this digest.
    Tests,
    /// Approvals from a group.
    Approvals {
        /// How many.
        count: u64,
        /// From which group.
        group: String,
    },
    /// The requester may not approve.
    NoSelfApproval,
    /// Only inside a change window, e.g. "Mon-Fri 09:00-17:00".
    Window {
        /// The window.
        spec: String,
    },
}

/// Automatic rollback for one flow in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollback {
    /// The flow.
    pub flow: String,
    /// The environment.
    pub environment: String,
    /// Error rate in percent that triggers it.
    pub threshold_percent: f64,
    /// Sliding window in milliseconds.
    pub window_millis: u64,
    /// Runs needed in the window before judging.
    pub min_runs: u64,
    /// `previous`.
    pub action: String,
    /// Alert channels.
    pub alerts: Vec<String>,
}
