//! Promotion gates: whether a version may enter an environment now, must wait for
//! approvals, or is refused. Pure functions over what the store knows.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Serialize};

use super::identity::{in_group, Groups};
use crate::ir::Gate;

/// What the gates are judged against.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The artifact's project (whose `weft.toml` groups apply).
    pub project: &'a str,
    /// Approval groups.
    pub groups: &'a Groups,
    /// Who asked for the promotion.
    pub requester: &'a str,
    /// Who approved it so far.
    pub approvals: &'a [String],
    /// Whether a passing test result is recorded for this exact digest.
    pub tests_passed: bool,
    /// The time to judge change windows at.
    pub now: DateTime<Utc>,
}

/// How one gate was judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateResult {
    /// The gate as written (`tests`, `approvals 2 from "leads"`, ...).
    pub gate: String,
    /// Whether it holds now.
    pub passed: bool,
    /// Why, for people.
    pub detail: String,
}

/// What the gates say overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every gate holds: activate.
    Pass,
    /// Only approvals are missing: wait for them.
    AwaitApproval,
    /// A gate that waiting cannot fix fails (tests, a malformed window): refuse.
    Refuse,
    /// The change window is closed: refuse now, may be retried inside it.
    OutsideWindow,
}

/// Every gate's result and the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Per gate, in declaration order.
    pub gates: Vec<GateResult>,
    /// Overall.
    pub verdict: Verdict,
}

/// Judges `gates` in `context`.
pub fn evaluate(gates: &[Gate], context: &Context<'_>) -> Evaluation {
    let no_self = gates.iter().any(|g| matches!(g, Gate::NoSelfApproval));
    let mut results = Vec::new();
    let (mut refuse, mut window_closed, mut waiting) = (false, false, false);
    for gate in gates {
        let (text, passed, detail) = match gate {
            Gate::Tests => {
                refuse |= !context.tests_passed;
                (
                    "tests".to_string(),
                    context.tests_passed,
                    if context.tests_passed {
                        "a passing test run is recorded for this digest".to_string()
                    } else {
                        "no passing test run is recorded for this digest".to_string()
                    },
                )
            }
            Gate::Approvals { count, group } => {
                let from: Vec<&String> = context
                    .approvals
                    .iter()
                    .filter(|user| !(no_self && *user == context.requester))
                    .filter(|user| in_group(context.groups, context.project, group, user))
                    .collect();
                let have = from.len() as u64;
                waiting |= have < *count;
                let names: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
                (
                    format!("approvals {count} from \"{group}\""),
                    have >= *count,
                    format!(
                        "{have} of {count} approval{} from {group}{}",
                        if *count == 1 { "" } else { "s" },
                        if names.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", names.join(", "))
                        }
                    ),
                )
            }
            Gate::NoSelfApproval => (
                "no self approval".to_string(),
                true,
                format!("{} may not approve their own request", context.requester),
            ),
            Gate::Window { spec } => match Window::parse(spec) {
                Ok(window) => {
                    let open = window.contains(context.now);
                    window_closed |= !open;
                    (
                        format!("window \"{spec}\""),
                        open,
                        format!(
                            "{} is {} the change window (UTC)",
                            context.now.format("%a %H:%M"),
                            if open { "inside" } else { "outside" }
                        ),
                    )
                }
                Err(error) => {
                    refuse = true;
                    (format!("window \"{spec}\""), false, error)
                }
            },
        };
        results.push(GateResult {
            gate: text,
            passed,
            detail,
        });
    }
    let verdict = if refuse {
        Verdict::Refuse
    } else if window_closed {
        Verdict::OutsideWindow
    } else if waiting {
        Verdict::AwaitApproval
    } else {
        Verdict::Pass
    };
    Evaluation {
        gates: results,
        verdict,
    }
}

/// Whether the gates forbid `approver` approving `requester`'s request.
pub fn forbids_self_approval(gates: &[Gate], requester: &str, approver: &str) -> bool {
    requester == approver && gates.iter().any(|g| matches!(g, Gate::NoSelfApproval))
}

/// Whether `gates` ask for any approval.
pub fn needs_approval(gates: &[Gate]) -> bool {
    gates
        .iter()
        .any(|g| matches!(g, Gate::Approvals { count, .. } if *count > 0))
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A weekly change window in UTC: `Mon-Fri 09:00-17:00`, `Mon,Wed,Fri 08:00-12:00`,
/// `Sat 22:00-02:00` (past midnight: belongs to the day it starts on), `09:00-17:00`
/// (every day). The start is inside, the end is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Days it opens on, Monday = 0.
    days: [bool; 7],
    /// Minutes after midnight it opens.
    start: u32,
    /// Minutes after midnight it closes (1440 = midnight).
    end: u32,
}

impl Window {
    /// Parses a window; the error says what is wrong.
    pub fn parse(spec: &str) -> Result<Window, String> {
        let bad = |why: &str| format!("change window \"{spec}\": {why}");
        let words: Vec<&str> = spec
            .split_whitespace()
            .filter(|w| !w.eq_ignore_ascii_case("utc"))
            .collect();
        let (days_text, times) = match words.as_slice() {
            [times] if times.contains(':') => (None, *times),
            [days, times] => (Some(*days), *times),
            _ => return Err(bad(
                "expected DAYS HH:MM-HH:MM (days and a time range), e.g. \"Mon-Fri 09:00-17:00\"",
            )),
        };
        let mut days = [days_text.is_none(); 7];
        if let Some(text) = days_text {
            for item in text.split(',') {
                let day = |name: &str| {
                    DAYS.iter()
                        .position(|d| d.eq_ignore_ascii_case(name))
                        .ok_or_else(|| {
                            bad(&format!(
                                "unknown day `{name}` (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"
                            ))
                        })
                };
                match item.split_once('-') {
                    Some((from, to)) => {
                        let (from, to) = (day(from)?, day(to)?);
                        let mut d = from;
                        loop {
                            days[d] = true;
                            if d == to {
                                break;
                            }
                            d = (d + 1) % 7;
                        }
                    }
                    None => days[day(item)?] = true,
                }
            }
        }
        let (start, end) = times
            .split_once('-')
            .ok_or_else(|| bad("expected a time range HH:MM-HH:MM"))?;
        let minutes = |text: &str| -> Result<u32, String> {
            let (h, m) = text
                .split_once(':')
                .ok_or_else(|| bad(&format!("`{text}` is not HH:MM")))?;
            let (h, m): (u32, u32) = match (h.parse::<u32>(), m.parse::<u32>()) {
                (Ok(hours), Ok(mins)) if h.len() == 2 && m.len() == 2 => (hours, mins),
                _ => return Err(bad(&format!("`{text}` is not HH:MM"))),
            };
            if m >= 60 || h > 24 || (h == 24 && m != 0) {
                return Err(bad(&format!("`{text}` is not a time of day")));
            }
            Ok(h * 60 + m)
        };
        let (start, end) = (minutes(start)?, minutes(end)?);
        if start == end || start == 1440 {
            return Err(bad("the window is empty"));
        }
        Ok(Window { days, start, end })
    }

    /// Whether `now` is inside the window.
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        let day = now.weekday().num_days_from_monday() as usize;
        let minute = now.hour() * 60 + now.minute();
        if self.start < self.end {
            self.days[day] && minute >= self.start && minute < self.end
        } else {
            // Past midnight: open from start on a listed day until end on the next.
            let yesterday = (day + 6) % 7;
            (self.days[day] && minute >= self.start) || (self.days[yesterday] && minute < self.end)
        }
    }
}

#[cfg(test)]
mod tests;
