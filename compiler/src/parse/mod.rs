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
use crate::syntax::{Comment, Expr, ExprKind, File, Item};

pub use grammar::{parse_duration, ITEM_KEYWORDS, RESERVED};

/// Brackets nested deeper than this are refused before parsing, so that no input can
/// exhaust the stack or the parser's time.
pub const MAX_NESTING: usize = 128;

/// Syntax errors reported per file before the rest are summarised in one note.
const MAX_SYNTAX_ERRORS: usize = 100;

/// Parses one file. Returns the tree (possibly partial) and every syntax problem found.
///
/// A file is parsed declaration by declaration: each line that starts (at column 0) with
/// a declaration keyword begins a new chunk ([`chunk_starts`]), and no chunk's parse
/// looks past its end. So a broken declaration never swallows the next one, and an
/// editor can reparse only the chunks an edit touched ([`parse_chunks`]) and get the
/// same tree.
pub fn parse(text: &str, file: FileId) -> (File, Vec<Diagnostic>) {
    let chunks = parse_chunks(text, Span::new(0, text.len()), file);
    let diagnostics = file_diagnostics(
        chunks
            .iter()
            .map(|c| (c.lexical.as_slice(), c.syntax.as_slice())),
    );
    (join(text, chunks), diagnostics)
}

/// The tree of a file from all its chunks, in order, doc comments attached.
pub fn join(text: &str, chunks: impl IntoIterator<Item = Chunk>) -> File {
    let mut tree = File::default();
    for chunk in chunks {
        tree.items.extend(chunk.items);
        tree.comments.extend(chunk.comments);
    }
    attach_docs(&mut tree.items, &tree.comments, text);
    tree
}

/// What parsing one chunk of a file found, with offsets in the whole file.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// The chunk's text.
    pub span: Span,
    /// Its declarations, doc comments not attached yet ([`attach_docs`]).
    pub items: Vec<Item>,
    /// Its comments.
    pub comments: Vec<Comment>,
    /// Problems of single tokens: characters Weft does not use, strings not closed,
    /// brackets nested too deeply.
    pub lexical: Vec<Diagnostic>,
    /// Syntax errors, before [`file_diagnostics`] sorts and limits those of a file.
    pub syntax: Vec<Diagnostic>,
}

/// Where the chunks of a file start: offset 0, and every line that starts with a
/// declaration keyword at column 0. Tokens never span lines, so this is a plain scan.
pub fn chunk_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            text.match_indices('\n')
                .map(|(i, _)| i + 1)
                .filter(|&start| declaration_keyword(text, start).is_some()),
        )
        .collect()
}

/// The chunk that holds `offset`: from the last chunk start at or before it to the
/// next one (or the end of the text). Found by looking at the lines around `offset`
/// only.
pub fn chunk_at(text: &str, offset: usize) -> Span {
    let offset = crate::source::floor_char_boundary(text, offset.min(text.len()));
    let is_start = |at: usize| {
        at == 0
            || (text.as_bytes().get(at - 1) == Some(&b'\n')
                && declaration_keyword(text, at).is_some())
    };
    let mut start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    while !is_start(start) {
        start = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
    }
    let mut end = offset;
    loop {
        match text[end..].find('\n') {
            Some(i) if is_start(end + i + 1) => break end += i + 1,
            Some(i) => end += i + 1,
            None => break end = text.len(),
        }
    }
    Span::new(start, end)
}

/// The declaration keyword at `offset`, when a whole word is one there and it is not a
/// field name: a keyword followed by `:`, `=` or `.` names a field or path (`flow:
/// String` in a schema, `map = ...` in a map body, written at column 0).
pub fn declaration_keyword(text: &str, offset: usize) -> Option<&'static str> {
    let rest = text.get(offset..)?;
    ITEM_KEYWORDS.iter().copied().find(|keyword| {
        rest.strip_prefix(keyword).is_some_and(|after| {
            let whole_word = !after
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
            let next = after.trim_start_matches([' ', '\t']).bytes().next();
            whole_word && !matches!(next, Some(b':' | b'=' | b'.'))
        })
    })
}

/// Parses the chunks of `text` inside `region`, which runs from a chunk start to
/// another chunk start or to the end of the text.
pub fn parse_chunks(text: &str, region: Span, file: FileId) -> Vec<Chunk> {
    let source = text.get(region.start..region.end).unwrap_or("");
    let mut starts: Vec<usize> = chunk_starts(source)
        .into_iter()
        .map(|s| s + region.start)
        .collect();
    starts.push(region.end);
    let mut chunks: Vec<Chunk> = starts
        .windows(2)
        .map(|w| Chunk {
            span: Span::new(w[0], w[1]),
            items: Vec::new(),
            comments: Vec::new(),
            lexical: Vec::new(),
            syntax: Vec::new(),
        })
        .collect();
    // Tokens of every chunk, with the line structure recovery needs.
    let mut tokens: Vec<Vec<(Token<'_>, SimpleSpan)>> = vec![Vec::new(); chunks.len()];
    let mut state = grammar::State::default();
    let mut previous_end: Option<usize> = None;
    let mut index = 0;
    for (token, span) in lex(source) {
        let span = span.shift(region.start);
        while chunks
            .get(index)
            .is_some_and(|c| span.start >= c.span.end && index + 1 < chunks.len())
        {
            index += 1;
        }
        let Some(chunk) = chunks.get_mut(index) else {
            continue;
        };
        // The region starts a line, so its first token starts one too.
        let first_on_line = previous_end.is_none_or(|end| {
            text.get(end..span.start)
                .is_some_and(|gap| gap.contains('\n'))
        });
        if first_on_line {
            state.line_starts.push(span.start);
            let column_zero =
                span.start == 0 || text.as_bytes().get(span.start - 1) == Some(&b'\n');
            if column_zero
                && matches!(token, Token::Ident(word) if ITEM_KEYWORDS.contains(&word))
                && declaration_keyword(text, span.start).is_some()
            {
                state.declaration_starts.push(span.start);
            }
        }
        previous_end = Some(span.end);
        match token {
            Token::Comment(body) => chunk.comments.push(comment(body, span)),
            Token::Invalid(chars) => chunk.lexical.push(
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
                chunk.lexical.push(
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
                tokens[index].push((Token::Str(raw), SimpleSpan::from(span.start..span.end)));
            }
            other => tokens[index].push((other, SimpleSpan::from(span.start..span.end))),
        }
    }
    let grammar = grammar::file();
    let mut state = SimpleState(state);
    for (chunk, tokens) in chunks.iter_mut().zip(&tokens) {
        if let Some(at) = too_deep(tokens) {
            chunk.lexical.push(
                Diagnostic::new(Code::TooDeep, Loc::new(file, at), format!("brackets are nested more than {MAX_NESTING} levels deep"))
                    .with_label("nesting limit reached here")
                    .with_note("split the expression or type into named schemas or maps; this declaration was not parsed further"),
            );
            continue;
        }
        // Past its end comes the next declaration's keyword, or the end of the file.
        let end = chunk.span.end;
        let next = declaration_keyword(text, end).filter(|_| end < text.len());
        let eoi = SimpleSpan::from(end..end);
        let (items, errors) = grammar
            .parse_with_state(tokens.as_slice().split_token_span(eoi), &mut state)
            .into_output_errors();
        chunk.items = items.unwrap_or_default();
        chunk.syntax = errors.iter().map(|e| syntax_error(e, file, next)).collect();
        chunk
            .syntax
            .extend(state.0.side.drain(..).map(|(code, span, message)| {
                Diagnostic::new(code, Loc::new(file, span), message).with_label(side_label(code))
            }));
        // An error at the end of the chunk is at the next declaration: it marks the keyword.
        if let Some(keyword) = next {
            for d in &mut chunk.syntax {
                if d.primary.loc.span == Span::new(end, end) {
                    d.primary.loc.span = Span::new(end, end + keyword.len());
                }
            }
        }
    }
    chunks
}

/// The diagnostics of a file from those of all its chunks, in order: token problems,
/// then syntax errors by position, each reported once, at most [`MAX_SYNTAX_ERRORS`].
/// `chunks` gives the `lexical` and `syntax` diagnostics of each chunk, in order.
pub fn file_diagnostics<'c>(
    chunks: impl IntoIterator<Item = (&'c [Diagnostic], &'c [Diagnostic])>,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut syntax = Vec::new();
    for (lexical, errors) in chunks {
        diagnostics.extend(lexical.iter().cloned());
        syntax.extend(errors.iter().cloned());
    }
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
    diagnostics
}

/// Fills the `doc` of declarations and fields from the `///` comments right above
/// them; `comments` are all the comments of the file, in order.
pub fn attach_docs(items: &mut [Item], comments: &[Comment], text: &str) {
    docs::attach(items, comments, text);
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
            error_message(error, None).replace("the file ends here", "the interpolation ends here"),
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

/// A syntax error; `next` is the declaration keyword after the chunk, which the
/// parser saw as the end of its input.
fn syntax_error(error: &Rich<'_, Token<'_>>, file: FileId, next: Option<&str>) -> Diagnostic {
    let span = Span::new(error.span().start, error.span().end);
    let label = match (error.reason(), error.found(), next) {
        (chumsky::error::RichReason::Custom(_), _, _) => "here".to_string(),
        (_, Some(found), _) => format!("found {found}"),
        (_, None, Some(next)) => format!("found `{next}`"),
        (_, None, None) => "the file ends here".to_string(),
    };
    let mut diagnostic = Diagnostic::new(
        Code::SyntaxError,
        Loc::new(file, span),
        error_message(error, next),
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

fn error_message(error: &Rich<'_, Token<'_>>, next: Option<&str>) -> String {
    match error.reason() {
        chumsky::error::RichReason::Custom(message) => message.clone(),
        chumsky::error::RichReason::ExpectedFound { expected, found } => {
            let mut wanted: Vec<String> = expected.iter().map(|p| pattern(p, next)).collect();
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
            match (found, next) {
                (Some(found), _) => format!("expected {wanted}, found {}", **found),
                (None, Some(next)) => format!("expected {wanted}, found `{next}`"),
                (None, None) => format!("expected {wanted}, but the file ends here"),
            }
        }
    }
}

/// Tokens collapsed into "an operator" in error messages.
const OPERATORS: &[&str] = &[
    "`!=`", "`%`", "`*`", "`+`", "`-`", "`/`", "`<=`", "`<`", "`==`", "`>=`", "`>`", "`??`",
    "`and`", "`or`", "`.`", "`(`",
];

fn pattern(pattern: &chumsky::error::RichPattern<'_, Token<'_>>, next: Option<&str>) -> String {
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
        RichPattern::EndOfInput if next.is_some() => "the next declaration".to_string(),
        RichPattern::EndOfInput => "the end of the file".to_string(),
        _ => "something else".to_string(),
    }
}
