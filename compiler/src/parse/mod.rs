//! Parsing: source text to a syntax tree plus diagnostics. Parsing never fails; a file
//! with errors still yields a tree, with `Error` nodes where text could not be read.

mod docs;
mod grammar;
#[cfg(test)]
mod tests;

use chumsky::{input::Input as _, inspector::SimpleState, prelude::*};

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Loc, Span};
use crate::syntax::token::{lex, Token};
use crate::syntax::{Comment, Expr, ExprKind, File};

pub use grammar::{parse_duration, ITEM_KEYWORDS, RESERVED};

/// Brackets nested deeper than this are refused before parsing, so that no input can
/// exhaust the stack or the parser's time.
pub const MAX_NESTING: usize = 128;

/// Syntax errors reported per file before the rest are summarised in one note.
const MAX_SYNTAX_ERRORS: usize = 100;

/// Parses one file. Returns the tree (possibly partial) and every syntax problem found.
pub fn parse(text: &str, file: FileId) -> (File, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut comments = Vec::new();
    let mut tokens = Vec::new();
    let mut state = grammar::State::default();
    let mut previous_end = 0;
    for (token, span) in lex(text) {
        if previous_end == 0
            || text
                .get(previous_end..span.start)
                .is_some_and(|gap| gap.contains('\n'))
        {
            state.line_starts.push(span.start);
            let column_zero =
                span.start == 0 || text.as_bytes().get(span.start - 1) == Some(&b'\n');
            if column_zero && matches!(token, Token::Ident(word) if ITEM_KEYWORDS.contains(&word)) {
                state.declaration_starts.push(span.start);
            }
        }
        previous_end = span.end;
        match token {
            Token::Comment(body) => comments.push(comment(body, span)),
            Token::Invalid(chars) => diagnostics.push(
                Diagnostic::new(
                    Code::InvalidCharacter,
                    Loc::new(file, span),
                    format!("`{}` is not allowed here", chars.escape_debug()),
                )
                .with_label("remove this character")
                .with_note(
                    "outside strings and comments Weft uses ASCII names, numbers and punctuation",
                ),
            ),
            Token::UnterminatedStr(raw) => {
                diagnostics.push(
                    Diagnostic::new(
                        Code::UnterminatedString,
                        Loc::new(file, span),
                        "string is not closed on this line",
                    )
                    .with_label("add a closing `\"`")
                    .with_fix(
                        "close the string",
                        Loc::new(file, Span::new(span.end, span.end)),
                        "\"",
                    ),
                );
                tokens.push((Token::Str(raw), SimpleSpan::from(span.start..span.end)));
            }
            other => tokens.push((other, SimpleSpan::from(span.start..span.end))),
        }
    }
    if let Some(at) = too_deep(&tokens) {
        diagnostics.push(
            Diagnostic::new(Code::TooDeep, Loc::new(file, at), format!("brackets are nested more than {MAX_NESTING} levels deep"))
                .with_label("nesting limit reached here")
                .with_note("split the expression or type into named schemas or maps; the file was not parsed further"),
        );
        return (
            File {
                items: Vec::new(),
                comments,
            },
            diagnostics,
        );
    }

    let eoi = SimpleSpan::from(text.len()..text.len());
    let mut state = SimpleState(state);
    let (items, errors) = grammar::file()
        .parse_with_state(tokens.as_slice().split_token_span(eoi), &mut state)
        .into_output_errors();

    let mut syntax: Vec<Diagnostic> = errors.iter().map(|e| syntax_error(e, file)).collect();
    syntax.extend(state.0.side.into_iter().map(|(code, span, message)| {
        Diagnostic::new(code, Loc::new(file, span), message).with_label(side_label(code))
    }));
    syntax.sort_by_key(|d| (d.primary.loc.span.start, d.code));
    syntax.dedup_by(|a, b| a.primary.loc == b.primary.loc && a.code == b.code);
    if syntax.len() > MAX_SYNTAX_ERRORS {
        let hidden = syntax.len() - MAX_SYNTAX_ERRORS;
        syntax.truncate(MAX_SYNTAX_ERRORS);
        if let Some(last) = syntax.last_mut() {
            last.notes.push(format!(
                "{hidden} more syntax errors in this file are not shown; fix these first"
            ));
        }
    }
    diagnostics.extend(syntax);

    let mut tree = File {
        items: items.unwrap_or_default(),
        comments,
    };
    docs::attach(&mut tree, text);
    (tree, diagnostics)
}

/// Parses the source of one `${...}` interpolation found at `offset` in the file.
fn parse_interpolation(source: &str, offset: usize, side: &mut grammar::Side) -> Expr {
    let whole = Span::new(offset, offset + source.len());
    let mut tokens = Vec::new();
    for (token, span) in lex(source) {
        let span = span.shift(offset);
        match token {
            Token::Comment(_) | Token::Invalid(_) | Token::UnterminatedStr(_) | Token::Str(_) => {
                side.push((Code::InvalidInterpolation, span, "an interpolation holds a plain expression: no strings, comments or unusual characters inside `${...}`".into()));
                return Expr {
                    kind: ExprKind::Error,
                    span: whole,
                };
            }
            other => tokens.push((other, SimpleSpan::from(span.start..span.end))),
        }
    }
    if tokens.is_empty() {
        side.push((
            Code::InvalidInterpolation,
            whole,
            "empty interpolation `${}`; put an expression inside or remove it".into(),
        ));
        return Expr {
            kind: ExprKind::Error,
            span: whole,
        };
    }
    if too_deep(&tokens).is_some() {
        side.push((
            Code::TooDeep,
            whole,
            format!("interpolation nested more than {MAX_NESTING} levels deep"),
        ));
        return Expr {
            kind: ExprKind::Error,
            span: whole,
        };
    }
    let eoi = SimpleSpan::from(whole.end..whole.end);
    let mut inner = SimpleState(grammar::State::default());
    let (expr, errors) = grammar::expr()
        .then_ignore(end())
        .parse_with_state(tokens.as_slice().split_token_span(eoi), &mut inner)
        .into_output_errors();
    side.extend(inner.0.side);
    for error in &errors {
        side.push((
            Code::InvalidInterpolation,
            Span::new(error.span().start, error.span().end),
            error_message(error).replace("the file ends here", "the interpolation ends here"),
        ));
    }
    expr.unwrap_or(Expr {
        kind: ExprKind::Error,
        span: whole,
    })
}

/// The label under a side diagnostic of the parser.
fn side_label(code: Code) -> &'static str {
    match code {
        Code::InvalidNumber => "out of range",
        Code::InvalidEscape => "not an escape Weft knows",
        Code::InvalidInterpolation => "in this interpolation",
        Code::TooDeep => "nested too deeply",
        _ => "here",
    }
}

fn comment(body: &str, span: Span) -> Comment {
    let doc = body.starts_with("///") && !body.starts_with("////");
    let text = body
        .trim_start_matches('/')
        .strip_prefix(' ')
        .unwrap_or(body.trim_start_matches('/'));
    Comment {
        text: text.trim_end().to_string(),
        span,
        doc,
    }
}

/// The span of the first bracket that goes past [`MAX_NESTING`].
fn too_deep(tokens: &[(Token<'_>, SimpleSpan)]) -> Option<Span> {
    let mut depth = 0usize;
    for (token, span) in tokens {
        match token {
            Token::LBrace | Token::LParen | Token::LBracket => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(Span::new(span.start, span.end));
                }
            }
            Token::RBrace | Token::RParen | Token::RBracket => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn syntax_error(error: &Rich<'_, Token<'_>>, file: FileId) -> Diagnostic {
    let span = Span::new(error.span().start, error.span().end);
    let label = match (error.reason(), error.found()) {
        (chumsky::error::RichReason::Custom(_), _) => "here".to_string(),
        (_, Some(found)) => format!("found {found}"),
        (_, None) => "the file ends here".to_string(),
    };
    let mut diagnostic = Diagnostic::new(
        Code::SyntaxError,
        Loc::new(file, span),
        error_message(error),
    )
    .with_label(label);
    if let Some((context, at)) = error.contexts().next() {
        diagnostic = diagnostic.with_secondary(
            Loc::new(file, Span::new(at.start, at.end)),
            format!("while reading {context}"),
        );
    }
    diagnostic
}

fn error_message(error: &Rich<'_, Token<'_>>) -> String {
    match error.reason() {
        chumsky::error::RichReason::Custom(message) => message.clone(),
        chumsky::error::RichReason::ExpectedFound { expected, found } => {
            let mut wanted: Vec<String> = expected.iter().map(pattern).collect();
            wanted.sort();
            wanted.dedup();
            // A long list of operators says less than "an operator".
            let operators = wanted
                .iter()
                .filter(|w| OPERATORS.contains(&w.as_str()))
                .count();
            if operators > 3 {
                wanted.retain(|w| !OPERATORS.contains(&w.as_str()));
                wanted.push("an operator".to_string());
            }
            let wanted = match wanted.len() {
                0 => "something else".to_string(),
                1 => wanted.remove(0),
                _ => {
                    let last = wanted.pop().unwrap_or_default();
                    format!("{} or {last}", wanted.join(", "))
                }
            };
            match found {
                Some(found) => format!("expected {wanted}, found {}", **found),
                None => format!("expected {wanted}, but the file ends here"),
            }
        }
    }
}

/// Tokens collapsed into "an operator" in error messages.
const OPERATORS: &[&str] = &[
    "`!=`", "`%`", "`*`", "`+`", "`-`", "`/`", "`<=`", "`<`", "`==`", "`>=`", "`>`", "`??`",
    "`and`", "`or`", "`.`", "`(`",
];

fn pattern(pattern: &chumsky::error::RichPattern<'_, Token<'_>>) -> String {
    use chumsky::error::RichPattern;
    match pattern {
        RichPattern::Token(token) => token.to_string(),
        RichPattern::Label(label)
            if label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            format!("`{label}`")
        }
        RichPattern::Label(label) => label.to_string(),
        RichPattern::Identifier(word) => format!("`{word}`"),
        RichPattern::EndOfInput => "the end of the file".to_string(),
        _ => "something else".to_string(),
    }
}
