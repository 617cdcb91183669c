//! The steps of a flow that transform one record without a connection: `where` and
//! `map`. The engine, the test runner and `weft map` apply them through this module.

use crate::eval::{apply_named, eval, Env, EvalError};
use crate::ir::{Expr, Flow, Program, Step};
use crate::value::Value;

/// A step that needs no connection.
#[derive(Debug, Clone, Copy)]
pub enum RecordStep<'a> {
    /// `where param => condition`.
    Where {
        /// The name the record is bound to.
        param: &'a str,
        /// The condition.
        condition: &'a Expr,
    },
    /// `map name`.
    Map(&'a str),
}

impl<'a> RecordStep<'a> {
    /// The step as a record step; `None` for `read`, `call` and `write`.
    pub fn of(step: &'a Step) -> Option<Self> {
        match step {
            Step::Where { param, condition } => Some(RecordStep::Where { param, condition }),
            Step::Map { map } => Some(RecordStep::Map(map)),
            Step::Read { .. } | Step::Call { .. } | Step::Write { .. } => None,
        }
    }

    /// Applies the step to a record.
    pub fn apply(self, record: Value, program: &Program) -> Result<Outcome, EvalError> {
        match self {
            RecordStep::Where { param, condition } => {
                match eval(condition, &Env::new(param, &record), program)? {
                    Value::Bool(true) => Ok(Outcome::Keep(record)),
                    // A condition on a missing optional reads as false, as in SQL.
                    Value::Bool(false) | Value::Null => Ok(Outcome::Dropped),
                    other => Err(EvalError::new(format!(
                        "`where` condition: expected Bool, found {}",
                        other.kind()
                    ))),
                }
            }
            RecordStep::Map(map) => apply_named(map, &record, program).map(Outcome::Keep),
        }
    }
}

/// What one record becomes after a step.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The record goes on to the next step.
    Keep(Value),
    /// A `where` condition dropped it.
    Dropped,
}

/// The leading `where`/`map` steps of a flow after its `read`: what a record goes
/// through before the first `call` or `write`.
pub fn leading_steps(flow: &Flow) -> Vec<RecordStep<'_>> {
    flow.steps()
        .skip_while(|s| matches!(s, Step::Read { .. }))
        .map_while(RecordStep::of)
        .collect()
}

/// Runs a record through the connection-free steps at the start of a flow (see
/// [`leading_steps`]).
pub fn transform(flow: &Flow, record: Value, program: &Program) -> Result<Outcome, EvalError> {
    let mut current = record;
    for step in leading_steps(flow) {
        match step.apply(current, program)? {
            Outcome::Keep(next) => current = next,
            Outcome::Dropped => return Ok(Outcome::Dropped),
        }
    }
    Ok(Outcome::Keep(current))
}
