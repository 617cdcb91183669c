//! The formatter: one canonical layout for `.weft` files, shared by `weft fmt` and the
//! language server.
//!
//! It works on the token stream, comments included, so nothing the author wrote is
//! lost: it keeps every token and every line break the author chose (runs of blank lines
//! become one), and decides only indentation and the spaces inside a line:
//! - two spaces per open `{`, one more level for a line that continues an expression or
//!   sits inside `(...)` / `[...]`;
//! - one space around binary operators, `=`, `->`, `=>` and after `:` and `,`; none
//!   inside `()` and `[]`, before `,` `:` `.` `?`, after `.`, or before a call's `(`;
//! - `{ a: Int }` on one line has a space inside the braces;
//! - a trailing `//` comment is one space after the code;
//! - the `=` of assignments on consecutive lines of one block line up (a blank line, or
//!   a line at another depth, starts a new run), as mappings are read as tables;
//! - declarations at the top level are separated by one blank line;
//! - the file ends with exactly one newline.
//!
//! A file with syntax errors is not formatted: its structure is not known.

use crate::parse::ITEM_KEYWORDS;
use crate::source::{FileId, Span};
use crate::syntax::token::{lex, Token};

/// The formatted text, or `None` when the file has syntax errors.
pub fn format(text: &str) -> Option<String> {
    let (_, diagnostics) = crate::parse::parse(text, FileId(0));
    if diagnostics.iter().any(|d| d.is_error()) {
        return None;
    }
    Some(align_assignments(&layout(text)))
}

/// The indentation and target path of a line that starts an assignment (`a.b = ...`).
fn assignment_target(line: &str) -> Option<(usize, usize)> {
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    let mut end = 0;
    let bytes = rest.as_bytes();
    loop {
        match bytes.get(end) {
            Some(b'`') => end += rest[end + 1..].find('`')? + 2,
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                end += rest[end..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len() - end);
            }
            _ => return None,
        }
        if bytes.get(end) == Some(&b'.') {
            end += 1;
        } else {
            break;
        }
    }
    rest[end..].starts_with(" = ").then_some((indent, end))
}

/// Pads the targets of consecutive assignments at one depth so their `=` line up.
/// Lines indented deeper (continuations, comments inside) do not break a run.
fn align_assignments(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut widths = vec![0usize; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let Some((indent, _)) = assignment_target(lines[i]) else {
            i += 1;
            continue;
        };
        let mut run = Vec::new();
        let mut j = i;
        while j < lines.len() {
            let line = lines[j];
            let depth = line.len() - line.trim_start().len();
            match assignment_target(line) {
                Some((d, width)) if d == indent => run.push((j, width)),
                _ if !line.trim().is_empty() && depth > indent => {}
                _ => break,
            }
            j += 1;
        }
        let widest = run.iter().map(|(_, w)| *w).max().unwrap_or(0);
        for (line, width) in run {
            widths[line] = widest - width;
        }
        i = j.max(i + 1);
    }
    let mut out = String::with_capacity(text.len());
    for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        match assignment_target(line) {
            Some((indent, width)) if widths[index] > 0 => {
                out.push_str(&line[..indent + width]);
                out.push_str(&" ".repeat(widths[index]));
                out.push_str(&line[indent + width..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// Words after which a `-` is a sign, not a subtraction.
const PREFIX_WORDS: &[&str] = &["if", "then", "else", "and", "or", "not"];

/// Words that continue an expression when they start a line.
const CONTINUATION_WORDS: &[&str] = &["then", "else", "and", "or"];

/// Whether a line whose previous line ends with `last` and which starts with `first`
/// continues the expression of the line before.
fn continues(last: Option<&Token<'_>>, first: &Token<'_>) -> bool {
    let after_open_end = last.is_some_and(|t| {
        t.is_operator()
            || matches!(t, Token::Ident(w) if CONTINUATION_WORDS.contains(w) || *w == "if")
    });
    let opens_with_operator = (first.is_operator() && !matches!(first, Token::Minus))
        || matches!(
            first,
            Token::Dot | Token::Ident("then" | "else" | "and" | "or")
        );
    after_open_end || opens_with_operator
}

fn layout(text: &str) -> String {
    let tokens = lex(text);
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut braces = 0usize;
    let mut groups = 0usize;
    let mut previous: Option<(Token<'_>, Span)> = None;
    let mut last_code: Option<Token<'_>> = None;
    // The unary/binary reading of the previous token, for the space after a `-`.
    let mut previous_was_sign = false;
    for (token, span) in &tokens {
        let newlines = match &previous {
            None => 0,
            Some((_, before)) => text
                .get(before.end..span.start)
                .map_or(0, |gap| gap.matches('\n').count()),
        };
        let closing = matches!(token, Token::RBrace);
        if closing {
            braces = braces.saturating_sub(1);
        }
        if matches!(token, Token::RParen | Token::RBracket) {
            groups = groups.saturating_sub(1);
        }
        let top_level_item = braces == 0
            && groups == 0
            && matches!(token, Token::Ident(w) if ITEM_KEYWORDS.contains(w));
        if previous.is_none() {
            // First token: no leading blank lines.
        } else if newlines > 0 {
            let blank = newlines > 1
                || (top_level_item && !matches!(previous, Some((Token::Comment(_), _))));
            out.push('\n');
            if blank {
                out.push('\n');
            }
            let continuation = !closing
                && !matches!(token, Token::RParen | Token::RBracket)
                && (groups > 0 || continues(last_code.as_ref(), token))
                && !matches!(token, Token::Comment(_));
            let depth = braces + groups + usize::from(continuation && groups == 0);
            out.push_str(&"  ".repeat(depth));
        } else if let Some((before, _)) = &previous {
            if space_between(before, token, previous_was_sign) {
                out.push(' ');
            }
        }
        let sign =
            matches!(token, Token::Minus) && is_sign_position(previous.as_ref().map(|(t, _)| t));
        match token {
            Token::Comment(body) => out.push_str(body.trim_end()),
            _ => out.push_str(&text[span.start..span.end]),
        }
        match token {
            Token::LBrace => braces += 1,
            Token::LParen | Token::LBracket => groups += 1,
            _ => {}
        }
        if !matches!(token, Token::Comment(_)) {
            last_code = Some(token.clone());
        }
        previous_was_sign = sign;
        previous = Some((token.clone(), *span));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Whether a `-` after `before` is a sign (`-5`, `x * -y`) rather than a subtraction.
fn is_sign_position(before: Option<&Token<'_>>) -> bool {
    match before {
        None => true,
        Some(t) if t.is_operator() => true,
        Some(Token::LParen | Token::LBracket | Token::Comma | Token::Colon | Token::LBrace) => true,
        Some(Token::Ident(w)) => PREFIX_WORDS.contains(w),
        _ => false,
    }
}

/// Whether one space separates two tokens on the same line.
fn space_between(before: &Token<'_>, after: &Token<'_>, before_is_sign: bool) -> bool {
    use Token::*;
    if matches!(after, Comment(_)) {
        return true;
    }
    if before_is_sign {
        return false;
    }
    match (before, after) {
        (Dot, _) | (_, Dot) => false,
        (LParen | LBracket, _) | (_, RParen | RBracket) => false,
        (_, Comma | Semi | Colon | Question) => false,
        // A call or a binding: `upper(x)`, `http(...)`, `erp.get(...)`.
        (Ident(w), LParen) => RESERVED_BEFORE_PAREN.contains(w),
        (QuotedIdent(_), LParen) => false,
        (LBrace, RBrace) => false,
        (Minus, _) => true,
        _ => true,
    }
}

/// Words followed by a space before `(`: they are keywords, not function names.
const RESERVED_BEFORE_PAREN: &[&str] = &["if", "then", "else", "and", "or", "not"];

#[cfg(test)]
mod tests;
