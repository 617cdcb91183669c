//! Flows: triggers, the record type carried from step to step, connection
//! operations, error policies, and the graph of flows triggering each other.

use crate::connectors::Role;
use crate::diagnostic::{suggest, Code, Diagnostic};
use crate::source::Loc;
use crate::syntax::{
    ErrorPolicy, ExprKind, FlowDecl, OpCall, StepKind, StrPart, Trigger, TypeExprKind,
};
use crate::types::Type;

use super::expr::Scope;
use super::{Checker, Link, TypedFlow, TypedStep};

/// What a flow may do with a record that keeps failing.
pub const FINAL_ACTIONS: &[&str] = &["dead_letter", "skip", "fail"];

impl Checker<'_> {
    pub(super) fn flow(&mut self, decl: &FlowDecl) {
        if self.program.flows.get(&decl.name.name) != Some(&self.loc(decl.name.span)) {
            return; // a duplicate, already reported
        }
        let mut current: Option<Type> = None;
        let has_read = decl
            .steps
            .iter()
            .any(|s| matches!(s.kind, StepKind::Read(..)));
        let mut trigger_at: Option<Loc> = None;
        let mut read_at: Option<Loc> = None;
        let mut write_at: Option<Loc> = None;
        let mut data_step_seen = false;
        let mut steps = Vec::new();
        let mut policy_seen = false;
        for step in &decl.steps {
            let loc = self.loc(step.span);
            let needs_source = !matches!(
                step.kind,
                StepKind::Trigger(_) | StepKind::Read(..) | StepKind::OnError(_) | StepKind::Error
            );
            if needs_source && current.is_none() {
                // Without any read the flow is reported once as incomplete, below.
                if has_read {
                    self.report(
                        Diagnostic::new(
                            Code::StepOrder,
                            loc,
                            "this step comes before the flow reads any records",
                        )
                        .with_label("no records yet")
                        .with_note("move the `read` step before it: a flow is `trigger`, `read`, then `where`/`map`/`call` steps, then `write`"),
                    );
                }
                current = Some(Type::Error);
            }
            let after_write = needs_source && !matches!(step.kind, StepKind::Write(..));
            if let (Some(write), true) = (write_at, after_write) {
                self.report(
                    Diagnostic::new(Code::StepOrder, loc, "this step comes after the flow's `write`")
                        .with_label("after the write")
                        .with_secondary(write, "the flow writes here")
                        .with_note("the `write` is the last step; to send records on, use a `call` step instead, or a second flow triggered `after` this one"),
                );
            }
            let record = current.clone().unwrap_or(Type::Error);
            if !matches!(
                step.kind,
                StepKind::Trigger(_) | StepKind::OnError(_) | StepKind::Error
            ) {
                data_step_seen = true;
            }
            match &step.kind {
                StepKind::Trigger(trigger) => {
                    if let Some(first) = trigger_at {
                        self.report(
                            Diagnostic::new(Code::StepOrder, loc, "a flow has one trigger")
                                .with_label("second trigger")
                                .with_secondary(first, "first trigger")
                                .with_note(
                                    "to start the same steps in two ways, declare a second flow",
                                ),
                        );
                    } else if data_step_seen {
                        self.report(
                            Diagnostic::new(
                                Code::StepOrder,
                                loc,
                                "the trigger is the first step of a flow",
                            )
                            .with_label("trigger after other steps")
                            .with_note("move it to the top of the flow"),
                        );
                    }
                    trigger_at.get_or_insert(loc);
                    self.trigger(decl, trigger);
                }
                StepKind::Read(call, ty) => {
                    if let Some(first) = read_at {
                        self.report(
                            Diagnostic::new(Code::StepOrder, loc, "a flow reads from one source")
                                .with_label("second read")
                                .with_secondary(first, "the flow reads here first")
                                .with_note("to combine sources, use a `call` step, or a second flow triggered `after` this one"),
                        );
                    }
                    read_at.get_or_insert(loc);
                    self.op_call(decl, call, Role::Source, "read");
                    let resolved = self.resolve_type(ty);
                    let element = match (&ty.kind, resolved) {
                        (TypeExprKind::List(_), Type::List(inner)) => *inner,
                        (_, other) => other,
                    };
                    if !element.is_error()
                        && self.program.record(&element).is_none()
                        && element != Type::Json
                    {
                        self.report(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                self.loc(ty.span),
                                format!("a flow reads records, not `{element}`"),
                            )
                            .with_label("not a record type")
                            .with_note("read as a schema, `[Schema]`, or `Json`"),
                        );
                    }
                    current = Some(element.clone());
                    steps.push(TypedStep {
                        text: format!("read {}.{}", call.connection.name, call.operation.name),
                        record: element,
                        loc,
                    });
                }
                StepKind::Where(param, cond) => {
                    let at = self.loc(param.span);
                    self.found.parameters.push((at, record.clone()));
                    let ty = self.expr(
                        cond,
                        Some(&Type::Bool),
                        &Scope::with(&param.name, record.clone()),
                    );
                    self.condition(cond, &ty);
                    steps.push(TypedStep {
                        text: format!("where {} => ...", param.name),
                        record,
                        loc,
                    });
                }
                StepKind::Map(name) => {
                    let next = match self.program.maps.get(&name.name).cloned() {
                        Some(map) => {
                            if let Err(why) = super::assignable(self.program, &record, &map.source)
                            {
                                let mut d = Diagnostic::new(
                                    Code::StepTypeMismatch,
                                    self.loc(name.span),
                                    format!(
                                        "map `{}` takes `{}`, but the records here are `{record}`",
                                        name.name, map.source
                                    ),
                                )
                                .with_label(format!("expects `{}`", map.source))
                                .with_secondary(map.loc, "map declared here");
                                if let super::Mismatch::Other(Some(why)) = why {
                                    d = d.with_note(why);
                                }
                                self.report(d);
                            }
                            map.target
                        }
                        None => {
                            self.unknown_name(
                                Code::UnknownMap,
                                "map",
                                &name.name,
                                self.loc(name.span),
                                self.program.maps.keys().map(String::as_str).collect(),
                            );
                            Type::Error
                        }
                    };
                    current = Some(next.clone());
                    steps.push(TypedStep {
                        text: format!("map {}", name.name),
                        record: next,
                        loc,
                    });
                }
                StepKind::Call(call, ty) => {
                    self.op_call(decl, call, Role::Any, "call");
                    let next = ty.as_ref().map_or(Type::Json, |t| self.resolve_type(t));
                    current = Some(next.clone());
                    steps.push(TypedStep {
                        text: format!("call {}.{}", call.connection.name, call.operation.name),
                        record: next,
                        loc,
                    });
                }
                StepKind::Write(call, ty) => {
                    if let Some(first) = write_at {
                        self.report(
                            Diagnostic::new(Code::StepOrder, loc, "a flow has at most one `write`")
                                .with_label("second write")
                                .with_secondary(first, "the flow writes here first")
                                .with_note("to send records to two systems, use a `call` step for the first, or a second flow triggered `after` this one"),
                        );
                    }
                    write_at.get_or_insert(loc);
                    self.op_call(decl, call, Role::Target, "write");
                    if let Some(written) = ty {
                        let want = self.resolve_type(written);
                        if let Err(why) = super::assignable(self.program, &record, &want) {
                            let mut d = Diagnostic::new(
                                Code::StepTypeMismatch,
                                self.loc(written.span),
                                format!("this write expects `{want}`, but the records here are `{record}`"),
                            )
                            .with_label(format!("expects `{want}`"))
                            .with_note("add or fix the `map` step before this write");
                            if let super::Mismatch::Other(Some(why)) = why {
                                d = d.with_note(why);
                            }
                            self.report(d);
                        }
                    }
                    steps.push(TypedStep {
                        text: format!("write {}.{}", call.connection.name, call.operation.name),
                        record,
                        loc,
                    });
                }
                StepKind::OnError(policy) => {
                    if policy_seen {
                        self.report(
                            Diagnostic::new(
                                Code::InvalidErrorPolicy,
                                loc,
                                "a flow has one error policy",
                            )
                            .with_label("second `on error`"),
                        );
                    }
                    policy_seen = true;
                    self.error_policy(policy);
                }
                StepKind::Error => {}
            }
        }
        // A trigger or read line that did not parse is reported already as a syntax error.
        let broken = |word: &str| {
            decl.steps.iter().any(|s| matches!(s.kind, StepKind::Error))
                || self.has_line_starting(decl.span, word, &[' ', '\t'])
        };
        let has_trigger = trigger_at.is_some() || broken("trigger");
        let has_read = has_read || broken("read");
        if !has_trigger || !has_read {
            let (missing, note) = match (has_trigger, has_read) {
                (false, false) => ("neither a trigger nor a read step", "start it with `trigger every 15m` (or cron, webhook, manual, after), then `read conn.op(...) as Type`"),
                (false, true) => ("no trigger", "start it with `trigger every 15m`, `cron \"...\"`, `webhook \"/path\"`, `manual` or `after other_flow`"),
                _ => ("no read step", "add `read conn.op(...) as Type` after the trigger: it fetches the records the other steps work on"),
            };
            self.report(
                Diagnostic::new(
                    Code::FlowWithoutSource,
                    self.loc(decl.name.span),
                    format!("flow `{}` has {missing}", decl.name.name),
                )
                .with_label("incomplete flow")
                .with_note(note),
            );
        }
        self.found.flow = Some(std::rc::Rc::new(TypedFlow {
            name: decl.name.name.clone(),
            steps,
        }));
    }

    fn resolve_type(&mut self, ty: &crate::syntax::TypeExpr) -> Type {
        crate::resolve::type_of(self.program, ty, self.file, &mut self.found.diagnostics)
    }

    fn trigger(&mut self, decl: &FlowDecl, trigger: &Trigger) {
        match trigger {
            Trigger::Every(duration) if duration.millis < 1000 => self.report(
                Diagnostic::new(
                    Code::InvalidTrigger,
                    self.loc(duration.span),
                    "a schedule must be at least one second apart",
                )
                .with_label("too frequent")
                .with_note("use `every 1s` or more, or a webhook trigger for event-driven flows"),
            ),
            Trigger::Cron(expr) => {
                if let Err(why) = validate_cron(&expr.value) {
                    self.report(
                        Diagnostic::new(Code::InvalidCron, self.loc(expr.span), format!("invalid cron expression: {why}"))
                            .with_label("not a cron expression")
                            .with_note("five fields: minute hour day-of-month month day-of-week, e.g. \"*/15 * * * *\""),
                    );
                }
            }
            Trigger::Webhook(path) if !path.value.starts_with('/') => self.report(
                Diagnostic::new(
                    Code::InvalidTrigger,
                    self.loc(path.span),
                    "a webhook path starts with `/`",
                )
                .with_label("not a path")
                .with_fix(
                    "add the leading `/`",
                    self.loc(path.span),
                    format!("\"/{}\"", path.value),
                ),
            ),
            Trigger::After(other) => {
                if self.program.flows.contains_key(&other.name) {
                    self.found.flow_triggers.push((
                        decl.name.name.clone(),
                        other.name.clone(),
                        self.loc(other.span),
                    ));
                } else {
                    self.unknown_name(
                        Code::UnknownFlow,
                        "flow",
                        &other.name,
                        self.loc(other.span),
                        self.program.flows.keys().map(String::as_str).collect(),
                    );
                }
            }
            _ => {}
        }
    }

    fn error_policy(&mut self, policy: &ErrorPolicy) {
        if let Some(retries) = policy.retries {
            if retries.value > 100 {
                self.report(
                    Diagnostic::new(
                        Code::InvalidErrorPolicy,
                        self.loc(retries.span),
                        format!("{} retries is more than the limit of 100", retries.value),
                    )
                    .with_label("too many retries")
                    .with_note("retry a few times with backoff, then dead-letter the record"),
                );
            }
        }
        if let Some(backoff) = policy.backoff {
            if backoff.millis == 0 {
                self.report(
                    Diagnostic::new(
                        Code::InvalidErrorPolicy,
                        self.loc(backoff.span),
                        "backoff must be longer than zero",
                    )
                    .with_label("zero backoff")
                    .with_note("wait before retrying, e.g. `backoff 30s`; the wait doubles after each retry"),
                );
            }
        }
        if let Some(then) = &policy.then {
            if !FINAL_ACTIONS.contains(&then.name.as_str()) {
                let loc = self.loc(then.span);
                let mut d = Diagnostic::new(
                    Code::InvalidErrorPolicy,
                    loc,
                    format!("unknown final action `{}`", then.name),
                )
                .with_label("not an action")
                .with_note("after the retries: `then dead_letter`, `then skip` or `then fail`");
                if let Some(best) = suggest(&then.name, FINAL_ACTIONS.iter().copied()) {
                    d = d.with_fix(format!("did you mean `{best}`?"), loc, best);
                }
                self.report(d);
            }
        }
    }

    /// Checks `conn.op(args)` against the connection's kind; records the use.
    pub(super) fn op_call(&mut self, decl: &FlowDecl, call: &OpCall, role: Role, step: &str) {
        for arg in &call.args {
            if self.interpolated_argument(arg) {
                continue;
            }
            let ty = self.expr(arg, Some(&Type::String), &Scope::default());
            self.expect_type(arg, &ty, &Type::String, "operation arguments are strings");
        }
        let Some(connection) = self.connection(&call.connection) else {
            return;
        };
        self.found.used_connections.push((
            call.connection.name.clone(),
            decl.name.name.clone(),
            self.loc(call.connection.span),
        ));
        self.operation(call, &connection, Some((role, step)));
    }

    /// Reports `${...}` in an operation argument, which is plain text with run-time
    /// placeholders such as `{last_run}`; true when it did.
    fn interpolated_argument(&mut self, arg: &crate::syntax::Expr) -> bool {
        let ExprKind::Str(parts) = &arg.kind else {
            return false;
        };
        let text = &self.db.get(self.file).text;
        let mut found = false;
        for part in parts {
            let StrPart::Interpolation(inner) = part else {
                continue;
            };
            found = true;
            let start = text
                .get(..inner.span.start)
                .and_then(|t| t.rfind("${"))
                .unwrap_or(inner.span.start);
            let end = text
                .get(inner.span.end..)
                .and_then(|t| t.find('}'))
                .map_or(inner.span.end, |i| inner.span.end + i + 1);
            let at = self.loc(crate::source::Span::new(start, end));
            let placeholder = text.get(start + 1..end).unwrap_or("{...}").to_string();
            self.report(
                Diagnostic::new(
                    Code::InvalidInterpolation,
                    at,
                    "operation arguments are plain text, so `${...}` is not allowed here",
                )
                .with_label("interpolation in an operation argument")
                .with_note("paths may hold run-time placeholders without `$`: `{last_run}`, or `{field}` of the record being sent")
                .with_fix(format!("write the placeholder `{placeholder}`"), at, placeholder),
            );
        }
        found
    }

    /// Checks the operation and its argument count (and its role in a flow, when given).
    pub(super) fn operation(
        &mut self,
        call: &OpCall,
        connection: &crate::resolve::Connection,
        role: Option<(Role, &str)>,
    ) {
        let Some(kind) = connection.kind else { return };
        let loc = self.loc(call.operation.span);
        let Some(op) = kind.operation(&call.operation.name) else {
            let names: Vec<&str> = kind.operations.iter().map(|o| o.name).collect();
            let mut d = Diagnostic::new(
                Code::UnknownOperation,
                loc,
                format!(
                    "`{}` is {} connection, which has no operation `{}`",
                    call.connection.name,
                    a_kind(kind.name),
                    call.operation.name
                ),
            )
            .with_label("unknown operation")
            .with_secondary(connection.loc, format!("declared as `{}` here", kind.name))
            .with_note(format!(
                "`{}` connections have: {}",
                kind.name,
                names.join(", ")
            ));
            if let Some(best) = suggest(&call.operation.name, names.iter().copied()) {
                d = d.with_fix(format!("did you mean `{best}`?"), loc, best);
            }
            self.report(d);
            return;
        };
        if let Some((role, step)) = role {
            let fits = match (role, op.role) {
                (Role::Any, _) | (_, Role::Any) => true,
                (want, have) => want == have,
            };
            if !fits {
                self.report(
                    Diagnostic::new(Code::UnknownOperation, loc, format!("`{}.{}` cannot be used in a `{step}` step", kind.name, op.name))
                        .with_label(op.doc)
                        .with_note(match role {
                            Role::Source => "read with an operation that produces records, such as http get, file read or postgres query",
                            _ => "write with an operation that consumes records, such as http post, file write or postgres insert",
                        }),
                );
            }
        }
        if call.args.len() != op.params.len() {
            self.report(
                Diagnostic::new(
                    Code::OperationArguments,
                    self.loc(call.span),
                    format!(
                        "`{}.{}` takes {} argument{} ({}), not {}",
                        kind.name,
                        op.name,
                        op.params.len(),
                        if op.params.len() == 1 { "" } else { "s" },
                        op.params.join(", "),
                        call.args.len()
                    ),
                )
                .with_label("wrong number of arguments")
                .with_note(format!(
                    "write it as `{}.{}({})`",
                    call.connection.name,
                    op.name,
                    op.params
                        .iter()
                        .map(|p| format!("\"{p}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
    }

    /// The declared connection `name` refers to; reports it when there is none.
    pub(super) fn connection(
        &mut self,
        name: &crate::syntax::Ident,
    ) -> Option<crate::resolve::Connection> {
        let found = self.program.connections.get(&name.name).cloned();
        if found.is_none() {
            let declared = self
                .program
                .connections
                .keys()
                .map(String::as_str)
                .collect();
            self.unknown_name(
                Code::UnknownConnection,
                "connection",
                &name.name,
                self.loc(name.span),
                declared,
            );
        }
        found
    }

    /// Reports an unknown name with a did-you-mean fix.
    pub(super) fn unknown_name(
        &mut self,
        code: Code,
        what: &str,
        name: &str,
        loc: Loc,
        candidates: Vec<&str>,
    ) {
        let mut d = Diagnostic::new(code, loc, format!("unknown {what} `{name}`"))
            .with_label(format!("no {what} has this name"));
        if let Some(best) = suggest(name, candidates.iter().copied()) {
            d = d.with_fix(format!("did you mean `{best}`?"), loc, best);
        } else if candidates.is_empty() {
            d = d.with_note(format!("the project declares no {what}"));
        } else {
            let mut sorted = candidates;
            sorted.sort_unstable();
            d = d.with_note(format!("declared: {}", sorted.join(", ")));
        }
        self.report(d);
    }

    /// Reports flows that trigger each other in a cycle through `after`.
    pub(super) fn flow_cycles(&mut self, triggers: &[&Link]) {
        let edges = triggers
            .iter()
            .map(|(flow, after, loc)| (after.as_str(), flow.as_str(), *loc));
        for (cycle, loc) in super::cycles(edges) {
            self.report(
                Diagnostic::new(Code::FlowCycle, loc, format!("flows trigger each other in a cycle: {cycle}"))
                    .with_label("this trigger closes the cycle")
                    .with_note("the flow graph must be acyclic; trigger one of them by schedule or manually instead"),
            );
        }
    }
}

/// "an `http`", "a `file`": a connector kind with its article, for messages.
pub(super) fn a_kind(kind: &str) -> String {
    let article = if kind.starts_with(['a', 'e', 'h', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} `{kind}`")
}

/// Checks a five-field cron expression with the runtime's own parser, so what compiles
/// is exactly what the host schedules.
pub fn validate_cron(expr: &str) -> Result<(), String> {
    weft_runtime::cron::Schedule::parse(expr).map(|_| ())
}
