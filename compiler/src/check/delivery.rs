//! Delivery policies: the promotion chain and its gates, and rollback thresholds.

use crate::diagnostic::{suggest, Code, Diagnostic};
use crate::source::{FileId, Loc};
use crate::syntax::{GateKind, Ident, PromotionDecl, RollbackDecl};

use super::Checker;

/// What a rollback may do when its threshold is crossed.
pub const ROLLBACK_ACTIONS: &[&str] = &["previous"];

/// Most approvals a gate may require.
pub const MAX_APPROVALS: u64 = 20;

impl Checker<'_> {
    pub(super) fn promotions(&mut self, decls: &[(FileId, &PromotionDecl)]) {
        let Some(((first_file, first), rest)) = decls.split_first() else {
            return;
        };
        for (file, extra) in rest {
            self.report(
                Diagnostic::new(
                    Code::DuplicatePromotion,
                    Loc::new(*file, extra.span),
                    "a project has one promotion block",
                )
                .with_label("second promotion block")
                .with_secondary(Loc::new(*first_file, first.span), "first promotion block")
                .with_note("merge the chains and gates into one block"),
            );
        }
        self.file = *first_file;
        let mut seen: Vec<&Ident> = Vec::new();
        for env in &first.chain {
            self.environment_name(env);
            if let Some(earlier) = seen.iter().find(|e| e.name == env.name) {
                self.report(
                    Diagnostic::new(
                        Code::PromotionNotPath,
                        self.loc(env.span),
                        format!("`{}` appears twice in the promotion chain", env.name),
                    )
                    .with_label("second appearance")
                    .with_secondary(self.loc(earlier.span), "first appearance")
                    .with_note(
                        "the chain is a path: each environment once, e.g. `dev -> staging -> prod`",
                    ),
                );
            } else {
                seen.push(env);
            }
        }
        if first.chain.is_empty() {
            self.report(
                Diagnostic::new(
                    Code::PromotionNotPath,
                    self.loc(first.span),
                    "the promotion block has no environment chain",
                )
                .with_label("no chain")
                .with_note("start the block with the chain, e.g. `dev -> staging -> prod`"),
            );
        }
        for rule in &first.rules {
            if !first.chain.iter().any(|e| e.name == rule.environment.name) {
                self.report(
                    Diagnostic::new(
                        Code::GateOutsideChain,
                        self.loc(rule.environment.span),
                        format!("`{}` is not in the promotion chain", rule.environment.name),
                    )
                    .with_label("gate for an environment outside the chain")
                    .with_note(format!(
                        "the chain is {}; add `{}` to it, or remove this rule",
                        first
                            .chain
                            .iter()
                            .map(|e| e.name.as_str())
                            .collect::<Vec<_>>()
                            .join(" -> "),
                        rule.environment.name
                    )),
                );
            }
            for gate in &rule.gates {
                match &gate.kind {
                    GateKind::Approvals(count, group) => {
                        if count.value == 0 || count.value > MAX_APPROVALS {
                            self.report(
                                Diagnostic::new(
                                    Code::ApprovalCount,
                                    self.loc(count.span),
                                    format!("{} approvals is out of range", count.value),
                                )
                                .with_label(format!("expected 1 to {MAX_APPROVALS}"))
                                .with_note(if count.value == 0 {
                                    "to require no approvals, remove the gate".to_string()
                                } else {
                                    format!("a gate requires at most {MAX_APPROVALS} approvals")
                                }),
                            );
                        }
                        if !self.groups.contains_key(&group.value) {
                            let loc = self.loc(group.span);
                            let mut d = Diagnostic::new(
                                Code::UnknownGroup,
                                loc,
                                format!("unknown approval group \"{}\"", group.value),
                            )
                            .with_label("not declared in weft.toml");
                            if let Some(best) =
                                suggest(&group.value, self.groups.keys().map(String::as_str))
                            {
                                d = d.with_fix(
                                    format!("did you mean \"{best}\"?"),
                                    loc,
                                    format!("\"{best}\""),
                                );
                            } else {
                                d = d.with_note(format!(
                                    "declare it in weft.toml: [groups]\n{} = [\"alice\", \"bob\"]",
                                    group.value
                                ));
                            }
                            self.report(d);
                        }
                    }
                    GateKind::Window(window) => {
                        if let Err(why) = validate_window(&window.value) {
                            self.report(
                                Diagnostic::new(Code::InvalidChangeWindow, self.loc(window.span), format!("invalid change window: {why}"))
                                    .with_label("not a change window")
                                    .with_note("write days and hours, e.g. \"Mon-Fri 09:00-17:00\" or \"daily 22:00-23:30 UTC\""),
                            );
                        }
                    }
                    GateKind::Tests | GateKind::NoSelfApproval | GateKind::Error => {}
                }
            }
        }
    }

    pub(super) fn rollback(&mut self, decl: &RollbackDecl) {
        if !self.program.flows.contains_key(&decl.flow.name) {
            self.unknown_name(
                Code::UnknownFlow,
                "flow",
                &decl.flow.name,
                self.loc(decl.flow.span),
                self.program.flows.keys().map(String::as_str).collect(),
            );
        }
        self.environment_name(&decl.environment);
        if decl.action.name.is_empty() {
            return; // the body did not parse; already reported
        }
        let threshold = decl.threshold.value;
        if !(threshold > 0.0 && threshold <= 100.0) {
            self.report(
                Diagnostic::new(
                    Code::ThresholdRange,
                    self.loc(decl.threshold.span),
                    format!("an error rate of {threshold}% can never be crossed"),
                )
                .with_label("expected more than 0% and at most 100%")
                .with_note(
                    "roll back when a share of runs fails, e.g. `when error_rate > 5% over 1h`",
                ),
            );
        }
        if decl.window.millis == 0 {
            self.report(
                Diagnostic::new(
                    Code::WindowZero,
                    self.loc(decl.window.span),
                    "the window must be longer than zero",
                )
                .with_label("empty window")
                .with_note("watch the error rate over a period such as `over 10m`"),
            );
        }
        if let Some(min) = decl.min_runs.filter(|m| m.value == 0) {
            self.report(
                Diagnostic::new(
                    Code::MinRunsZero,
                    self.loc(min.span),
                    "rollback needs at least 1 run to judge",
                )
                .with_label("zero runs")
                .with_note(
                    "a small sample makes the error rate noisy; 20 runs is a common minimum",
                ),
            );
        }
        if !ROLLBACK_ACTIONS.contains(&decl.action.name.as_str()) {
            let loc = self.loc(decl.action.span);
            self.report(
                Diagnostic::new(
                    Code::UnknownRollbackAction,
                    loc,
                    format!("unknown rollback action `{}`", decl.action.name),
                )
                .with_label("not an action")
                .with_note("`then previous` re-activates the last known-good version")
                .with_fix("use `previous`", loc, "previous"),
            );
        }
    }

    fn environment_name(&mut self, env: &Ident) {
        if !self.program.environments.contains_key(&env.name) {
            self.unknown_name(
                Code::UnknownEnvironment,
                "environment",
                &env.name,
                self.loc(env.span),
                self.program
                    .environments
                    .keys()
                    .map(String::as_str)
                    .collect(),
            );
        }
    }
}

/// Checks a change window such as "Mon-Fri 09:00-17:00" or "daily 22:00-23:30 UTC".
pub fn validate_window(window: &str) -> Result<(), String> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let parts: Vec<&str> = window.split_whitespace().collect();
    let (days, hours) = match parts.as_slice() {
        [days, hours] | [days, hours, _] => (*days, *hours),
        _ => return Err("expected days, hours and an optional time zone".into()),
    };
    if days != "daily" {
        for item in days.split(',') {
            for day in item.split('-') {
                if !DAYS.contains(&day) {
                    return Err(format!(
                        "`{day}` is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun or daily)"
                    ));
                }
            }
        }
    }
    let (from, to) = hours
        .split_once('-')
        .ok_or("hours are written `09:00-17:00`")?;
    let minutes = |t: &str| -> Result<u32, String> {
        let (h, m) = t
            .split_once(':')
            .ok_or(format!("`{t}` is not a time like 09:00"))?;
        let (h, m) = (
            h.parse::<u32>()
                .map_err(|_| format!("`{t}` is not a time"))?,
            m.parse::<u32>()
                .map_err(|_| format!("`{t}` is not a time"))?,
        );
        if h > 24 || m > 59 || (h == 24 && m > 0) {
            return Err(format!("`{t}` is not a time of day"));
        }
        Ok(h * 60 + m)
    };
    if minutes(from)? >= minutes(to)? {
        return Err(format!(
            "the window closes at {to}, before it opens at {from}"
        ));
    }
    Ok(())
}
