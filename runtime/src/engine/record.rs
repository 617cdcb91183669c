//! The steps of a flow that transform one record without a connection: `where` and
//! `map`. The engine, the test runner and `weft map` apply them through this module.

use crate::eval::{apply_named_at, eval_at, Clock, Demand, Env, EvalError};
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

    /// Applies the step to a record by the system clock.
    pub fn apply(self, record: Value, program: &Program) -> Result<Outcome, EvalError> {
        self.apply_at(record, program, Clock::System)
    }

    /// Applies the step to a record; `now()` and `today()` read `clock`.
    pub fn apply_at(
        self,
        record: Value,
        program: &Program,
        clock: Clock,
    ) -> Result<Outcome, EvalError> {
        match self {
            RecordStep::Where { param, condition } => {
                match eval_at(condition, &Env::new(param, &record), program, clock)? {
                    Value::Bool(true) => Ok(Outcome::Keep(record)),
                    // A condition on a missing optional reads as false, as in SQL.
                    Value::Bool(false) | Value::Null => Ok(Outcome::Dropped),
                    other => Err(EvalError::new(format!(
                        "`where` condition: expected Bool, found {}",
                        other.kind()
                    ))),
                }
            }
            RecordStep::Map(map) => apply_named_at(map, &record, program, clock).map(Outcome::Keep),
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
    leading(flow).collect()
}

fn leading(flow: &Flow) -> impl Iterator<Item = RecordStep<'_>> {
    flow.steps()
        .skip_while(|s| matches!(s, Step::Read { .. }))
        .map_while(RecordStep::of)
}

/// What the leading steps read of a record from the `read` step: what their
/// conditions read, up to and including the first `map` (later steps read its output).
/// Everything when no `map` comes, since the record itself is then the result.
pub fn input_demand(flow: &Flow, program: &Program) -> Demand {
    let mut demand = Demand::none();
    for step in leading(flow) {
        match step {
            RecordStep::Where { param, condition } => {
                demand = demand.union(Demand::of_expr(param, condition, program));
            }
            RecordStep::Map(name) => {
                return match program.maps.get(name) {
                    Some(map) => demand.union(Demand::of_map(map, program)),
                    None => Demand::All,
                };
            }
        }
    }
    Demand::All
}

/// Runs a record through the connection-free steps at the start of a flow (see
/// [`leading_steps`]).
pub fn transform(flow: &Flow, record: Value, program: &Program) -> Result<Outcome, EvalError> {
    let mut current = record;
    for step in leading(flow) {
        match step.apply(current, program)? {
            Outcome::Keep(next) => current = next,
            Outcome::Dropped => return Ok(Outcome::Dropped),
        }
    }
    Ok(Outcome::Keep(current))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use petgraph::graph::DiGraph;

    use super::*;
    use crate::ir::{Assignment, BinaryOp, ErrorPolicy, Map, Type};

    fn path(root: &str, field: &str) -> Expr {
        Expr::Field {
            base: Box::new(Expr::Var { name: root.into() }),
            name: field.into(),
        }
    }

    fn flow(steps: Vec<Step>) -> Flow {
        let mut graph = DiGraph::new();
        let mut previous = None;
        for step in steps {
            let node = graph.add_node(step);
            if let Some(p) = previous {
                graph.add_edge(p, node, ());
            }
            previous = Some(node);
        }
        Flow {
            doc: None,
            triggers: Vec::new(),
            graph,
            error_policy: ErrorPolicy::default(),
        }
    }

    fn read() -> Step {
        Step::Read {
            connection: "src".into(),
            operation: "get".into(),
            args: Vec::new(),
            record: Type::Json,
            many: true,
        }
    }

    fn program() -> Program {
        let mut p = Program::default();
        p.maps.insert(
            "m".into(),
            Map {
                doc: None,
                param: "x".into(),
                source: Type::Json,
                target: Type::Json,
                fields: vec![Assignment {
                    target: vec!["out".into()],
                    value: path("x", "name"),
                }],
            },
        );
        p
    }

    #[test]
    fn the_input_demand_covers_conditions_and_the_first_map() {
        let p = program();
        let keep_positive = Step::Where {
            param: "c".into(),
            condition: Expr::Binary {
                operator: BinaryOp::Gt,
                lhs: Box::new(path("c", "count")),
                rhs: Box::new(Expr::Int { value: 0 }),
            },
        };
        let map = Step::Map { map: "m".into() };
        let later = Step::Where {
            param: "o".into(),
            condition: path("o", "anything"),
        };
        let steps = flow(vec![read(), keep_positive.clone(), map, later]);
        let expected: BTreeMap<String, Demand> = [
            ("count".to_owned(), Demand::All),
            ("name".to_owned(), Demand::All),
        ]
        .into_iter()
        .collect();
        assert_eq!(input_demand(&steps, &p), Demand::Fields(expected));
        // Without a map the record itself is the result: all of it.
        assert_eq!(
            input_demand(&flow(vec![read(), keep_positive]), &p),
            Demand::All
        );
        let unknown = flow(vec![read(), Step::Map { map: "nope".into() }]);
        assert_eq!(input_demand(&unknown, &p), Demand::All);
    }
}
