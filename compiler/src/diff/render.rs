//! A diff for people: plain text (the CLI colours it by line kind) and Markdown for a
//! pull-request comment. JSON is the serde form of [`Diff`].

use std::fmt::Write as _;

use super::{Action, Change, Class, Diff};

/// What a line of the text rendering shows, so a front end can style it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// The count of changes.
    Heading,
    /// A class heading: `Breaking (2)`.
    Class(Class),
    /// The address of a change, with its action sign.
    Change(Action),
    /// Summary, before, after, affects.
    Detail,
    /// A closing remark (environments not compared).
    Note,
    /// An empty separator line.
    Blank,
}

/// One line of the text rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// How to style it.
    pub kind: LineKind,
    /// The text, without a newline.
    pub text: String,
}

const CLASSES: [Class; 3] = [Class::Breaking, Class::Behaviour, Class::Cosmetic];

fn sign(action: Action) -> char {
    match action {
        Action::Added => '+',
        Action::Removed => '-',
        Action::Modified => '~',
        Action::Reordered => '^',
    }
}

fn class_title(class: Class) -> &'static str {
    match class {
        Class::Breaking => "Breaking",
        Class::Behaviour => "Behaviour",
        Class::Cosmetic => "Cosmetic",
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn counts(diff: &Diff) -> String {
    CLASSES
        .iter()
        .map(|&c| format!("{} {}", diff.count(c), c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

const NOT_COMPARED: &str = "environments not compared: an artifact carries no environment bindings";

/// Whether the summary already quotes both values, so repeating them adds nothing.
fn quoted_in_summary(change: &Change) -> bool {
    let quoted = |v: &Option<String>| {
        v.as_ref()
            .is_none_or(|v| change.summary.contains(&format!("`{v}`")))
    };
    quoted(&change.before) && quoted(&change.after)
}

/// The text rendering as styled lines: changes grouped by class, by id within a class.
pub fn text_lines(diff: &Diff) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut push = |kind: LineKind, text: String| lines.push(Line { kind, text });
    if diff.is_empty() {
        push(LineKind::Heading, "no changes".to_string());
    } else {
        push(
            LineKind::Heading,
            format!("{}: {}", plural(diff.changes.len(), "change"), counts(diff)),
        );
    }
    for class in CLASSES {
        let changes: Vec<&Change> = diff.changes.iter().filter(|c| c.class == class).collect();
        if changes.is_empty() {
            continue;
        }
        push(LineKind::Blank, String::new());
        push(
            LineKind::Class(class),
            format!("{} ({})", class_title(class), changes.len()),
        );
        for change in changes {
            push(
                LineKind::Change(change.action),
                format!("  {} {}", sign(change.action), change.id),
            );
            push(LineKind::Detail, format!("      {}", change.summary));
            if !quoted_in_summary(change) {
                for (label, value) in [("before: ", &change.before), ("after:  ", &change.after)] {
                    if let Some(value) = value {
                        let mut rows = value.lines();
                        let first = rows.next().unwrap_or_default();
                        push(LineKind::Detail, format!("      {label}{first}"));
                        for row in rows {
                            push(LineKind::Detail, format!("              {row}"));
                        }
                    }
                }
            }
            if !change.affects.is_empty() {
                push(
                    LineKind::Detail,
                    format!("      affects: {}", change.affects.join(", ")),
                );
            }
        }
    }
    if !diff.environments_compared {
        push(LineKind::Blank, String::new());
        push(LineKind::Note, NOT_COMPARED.to_string());
    }
    lines
}

/// Plain text, one change per block, grouped by class.
pub fn render_text(diff: &Diff) -> String {
    let mut out = String::new();
    for line in text_lines(diff) {
        out.push_str(line.text.trim_end());
        out.push('\n');
    }
    out
}

/// A Markdown code span that survives any backticks in `text`, with table pipes escaped.
fn code(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", text.replace('|', "\\|"))
}

/// A value for a table cell: each line a code span, lines joined by `<br>`.
fn cell(value: Option<&String>) -> String {
    value.map_or(String::new(), |v| {
        v.lines().map(code).collect::<Vec<_>>().join("<br>")
    })
}

/// Prose for a table cell: pipes escaped, `<` kept from starting HTML.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '|' => out.push_str("\\|"),
            '<' if !in_code => out.push_str("&lt;"),
            c => out.push(c),
        }
    }
    out
}

/// A pull-request comment: a heading, the counts, one table per class.
pub fn render_markdown(diff: &Diff) -> String {
    let mut out = String::new();
    if diff.is_empty() {
        out.push_str("### Weft diff: no changes\n");
    } else {
        let _ = writeln!(
            out,
            "### Weft diff: {}\n\n{}",
            plural(diff.changes.len(), "change"),
            CLASSES
                .iter()
                .map(|&c| {
                    let n = diff.count(c);
                    if c == Class::Breaking && n > 0 {
                        format!("**{n} {}**", c.as_str())
                    } else {
                        format!("{n} {}", c.as_str())
                    }
                })
                .collect::<Vec<_>>()
                .join(" · ")
        );
    }
    for class in CLASSES {
        let changes: Vec<&Change> = diff.changes.iter().filter(|c| c.class == class).collect();
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n#### {} ({})\n", class_title(class), changes.len());
        out.push_str("| | Change | Before | After | Affects |\n");
        out.push_str("| --- | --- | --- | --- | --- |\n");
        for change in changes {
            let affects = change
                .affects
                .iter()
                .map(|f| code(f.strip_prefix("flow.").unwrap_or(f)))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                out,
                "| {} | {}<br>{} | {} | {} | {} |",
                change.action.as_str(),
                prose(&change.summary),
                code(&change.id),
                cell(change.before.as_ref()),
                cell(change.after.as_ref()),
                affects
            );
        }
    }
    if !diff.environments_compared {
        let _ = writeln!(out, "\n> {}", {
            let mut note = NOT_COMPARED.to_string();
            if let Some(first) = note.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            note
        });
    }
    out
}
