//! Weft source text for the pieces of the IR a graph shows. Expressions and types use the
//! IR's own `Display` (the same text as `weft diff` and the approval view); triggers and
//! steps are written here because a node shows them differently: a step without its
//! `as T` (the type is the node's second line), a webhook path without quotes.

use std::fmt::Write as _;

use weft_runtime::ir::{ErrorPolicy, Expr, FinalAction, Trigger};

/// A trigger as written after `trigger`, without quotes around webhook paths.
pub(crate) fn trigger(t: &Trigger) -> String {
    match t {
        Trigger::Every { millis } => format!("every {}", duration(*millis)),
        Trigger::Cron { expression } => format!("cron {}", plain_string(expression)),
        Trigger::Webhook { path } => format!("webhook {}", printable(path)),
        Trigger::Manual => "manual".to_string(),
        Trigger::After { flow } => format!("after {}", name(flow)),
    }
}

/// `connection.operation("arg", ...)`.
pub(crate) fn op_call(connection: &str, operation: &str, args: &[Expr]) -> String {
    let mut out = format!("{}.{}(", name(connection), name(operation));
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{arg}");
    }
    out.push(')');
    out
}

/// The retry part of `on error`: `retry 5 backoff 30s`, or `no retry`.
pub(crate) fn retries(policy: &ErrorPolicy) -> String {
    if policy.retries == 0 {
        "no retry".to_string()
    } else {
        format!(
            "retry {} backoff {}",
            policy.retries,
            duration(policy.backoff_millis)
        )
    }
}

/// What the error node says: where a record ends up after its last retry.
pub(crate) fn final_action(action: FinalAction) -> &'static str {
    match action {
        FinalAction::DeadLetter => "dead letter",
        FinalAction::Skip => "skip record",
        FinalAction::Fail => "fail run",
    }
}

/// A duration in the largest unit that divides it exactly: `15m`, `90s`, `1500ms`.
pub(crate) fn duration(millis: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
    ];
    for (size, unit) in UNITS {
        if millis >= size && millis / size * size == millis {
            return format!("{}{unit}", millis / size);
        }
    }
    format!("{millis}ms")
}

/// A plain-text Weft string (a cron expression): quoted, with the literal's escapes.
fn plain_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:X}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A name in a position that accepts reserved words (fields, types, flows, connections):
/// backticks only when it is not a plain word.
pub(crate) fn name(n: &str) -> String {
    if is_word(n) {
        n.to_string()
    } else {
        format!("`{}`", printable(n))
    }
}

fn is_word(n: &str) -> bool {
    let mut chars = n.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Text with control characters written as `\u{..}`, so every renderer gets one line
/// of printable characters.
pub(crate) fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "\\u{{{:X}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits a label into lines of about `width` characters, breaking after a space or a
/// URL separator when one is near, so paths and conditions stay readable.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let chars: Vec<char> = text.chars().collect();
    let mut lines = Vec::new();
    // A last line of a few characters reads worse than a slightly long one.
    let slack = width / 6;
    let mut start = 0;
    while chars.len() - start > width + slack {
        let window = &chars[start..start + width];
        // Break after the last separator in the window, unless that leaves a stub line.
        let cut = window
            .iter()
            .rposition(|c| matches!(c, ' ' | '/' | '?' | '&' | ','))
            .map(|i| i + 1)
            .filter(|&i| i > width / 3)
            .unwrap_or(width);
        let line: String = chars[start..start + cut].iter().collect();
        lines.push(line.trim_end().to_string());
        start += cut;
        while start < chars.len() && chars[start] == ' ' {
            start += 1;
        }
    }
    if start < chars.len() || lines.is_empty() {
        lines.push(chars[start..].iter().collect());
    }
    lines
}
