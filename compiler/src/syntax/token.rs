//! The lexer: turns source text into tokens with byte spans. Comments are tokens too,
//! so the parser can hand them to the tree instead of dropping them.

use std::fmt;

use logos::Logos;

use crate::source::Span;

/// A lexical token. Keywords are contextual, so words are all [`Token::Ident`].
#[derive(Logos, Debug, Clone, PartialEq)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Token<'src> {
    /// A word, such as a name or a keyword.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident(&'src str),
    /// A backtick-quoted name, such as `` `first-name` ``.
    #[regex(r"`[^`\n]*`", |lex| { let s = lex.slice(); &s[1..s.len() - 1] })]
    QuotedIdent(&'src str),
    /// A string literal, raw (quotes and escapes included).
    #[regex(r#""([^"\\\n]|\\.)*""#)]
    Str(&'src str),
    /// A string literal with no closing quote on its line.
    #[regex(r#""([^"\\\n]|\\.)*"#, priority = 1)]
    UnterminatedStr(&'src str),
    /// A whole number.
    #[regex(r"[0-9]+")]
    Int(&'src str),
    /// A number with a fraction.
    #[regex(r"[0-9]+\.[0-9]+")]
    Decimal(&'src str),
    /// A duration such as `15m`.
    #[regex(r"[0-9]+(ms|s|m|h|d)")]
    Duration(&'src str),
    /// A percentage such as `5%`.
    #[regex(r"[0-9]+(\.[0-9]+)?%")]
    Percent(&'src str),
    /// `// ...`.
    #[regex(r"//[^\n]*", allow_greedy = true)]
    Comment(&'src str),
    /// `{`.
    #[token("{")]
    LBrace,
    /// `}`.
    #[token("}")]
    RBrace,
    /// `(`.
    #[token("(")]
    LParen,
    /// `)`.
    #[token(")")]
    RParen,
    /// `[`.
    #[token("[")]
    LBracket,
    /// `]`.
    #[token("]")]
    RBracket,
    /// `:`.
    #[token(":")]
    Colon,
    /// `,`.
    #[token(",")]
    Comma,
    /// `;`.
    #[token(";")]
    Semi,
    /// `.`.
    #[token(".")]
    Dot,
    /// `=`.
    #[token("=")]
    Assign,
    /// `->`.
    #[token("->")]
    Arrow,
    /// `=>`.
    #[token("=>")]
    FatArrow,
    /// `?`.
    #[token("?")]
    Question,
    /// `??`.
    #[token("??")]
    DoubleQuestion,
    /// `==`.
    #[token("==")]
    EqEq,
    /// `!=`.
    #[token("!=")]
    NotEq,
    /// `<`.
    #[token("<")]
    Lt,
    /// `<=`.
    #[token("<=")]
    Le,
    /// `>`.
    #[token(">")]
    Gt,
    /// `>=`.
    #[token(">=")]
    Ge,
    /// `+`.
    #[token("+")]
    Plus,
    /// `-`.
    #[token("-")]
    Minus,
    /// `*`.
    #[token("*")]
    Star,
    /// `/`.
    #[token("/")]
    Slash,
    /// `%`.
    #[token("%")]
    PercentSign,
    /// A character that starts no token; reported by the parser.
    Invalid(&'src str),
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Ident(s) => write!(f, "`{s}`"),
            Token::QuotedIdent(s) => write!(f, "`{s}`"),
            Token::Str(_) | Token::UnterminatedStr(_) => write!(f, "a string"),
            Token::Int(s) | Token::Decimal(s) | Token::Duration(s) | Token::Percent(s) => {
                write!(f, "`{s}`")
            }
            Token::Comment(_) => write!(f, "a comment"),
            Token::Invalid(s) => write!(f, "`{s}`"),
            other => write!(f, "`{}`", other.symbol()),
        }
    }
}

impl Token<'_> {
    /// Whether the token is a binary operator or an assignment-like arrow (`=`, `->`,
    /// `=>`, `??`, comparisons, arithmetic).
    pub fn is_operator(&self) -> bool {
        matches!(
            self,
            Token::Assign
                | Token::Arrow
                | Token::FatArrow
                | Token::DoubleQuestion
                | Token::EqEq
                | Token::NotEq
                | Token::Lt
                | Token::Le
                | Token::Gt
                | Token::Ge
                | Token::Plus
                | Token::Minus
                | Token::Star
                | Token::Slash
                | Token::PercentSign
        )
    }

    fn symbol(&self) -> &'static str {
        match self {
            Token::LBrace => "{",
            Token::RBrace => "}",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::LBracket => "[",
            Token::RBracket => "]",
            Token::Colon => ":",
            Token::Comma => ",",
            Token::Semi => ";",
            Token::Dot => ".",
            Token::Assign => "=",
            Token::Arrow => "->",
            Token::FatArrow => "=>",
            Token::Question => "?",
            Token::DoubleQuestion => "??",
            Token::EqEq => "==",
            Token::NotEq => "!=",
            Token::Lt => "<",
            Token::Le => "<=",
            Token::Gt => ">",
            Token::Ge => ">=",
            Token::Plus => "+",
            Token::Minus => "-",
            Token::Star => "*",
            Token::Slash => "/",
            Token::PercentSign => "%",
            _ => "",
        }
    }
}

/// Splits `text` into tokens with spans. Never fails: unknown characters become
/// [`Token::Invalid`].
pub fn lex(text: &str) -> Vec<(Token<'_>, Span)> {
    let mut lexer = Token::lexer(text);
    let mut tokens = Vec::with_capacity(text.len() / 4);
    while let Some(result) = lexer.next() {
        let span = Span::from(lexer.span());
        let token = result.unwrap_or_else(|()| Token::Invalid(lexer.slice()));
        tokens.push((token, span));
    }
    tokens
}

/// Turns a raw string token (with quotes) into pieces: literal text and the source of
/// each `${...}` with its byte offset. Errors are (message, span) pairs.
pub fn split_string(raw: &str, offset: usize) -> (Vec<RawPart<'_>>, Vec<(String, Span)>) {
    let body_start = 1;
    let body_end = if raw.len() >= 2 && raw.ends_with('"') {
        raw.len() - 1
    } else {
        raw.len()
    };
    let body = raw.get(body_start..body_end).unwrap_or("");
    let base = offset + body_start;
    let mut parts = Vec::new();
    let mut errors = Vec::new();
    let mut text = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, 'n')) => text.push('\n'),
                Some((_, 't')) => text.push('\t'),
                Some((_, 'r')) => text.push('\r'),
                Some((_, '"')) => text.push('"'),
                Some((_, '\\')) => text.push('\\'),
                Some((_, '$')) => text.push('$'),
                Some((_, 'u')) => match unicode_escape(body, i, &mut chars) {
                    Some(ch) => text.push(ch),
                    None => errors.push((
                        "malformed unicode escape; write it as `\\u{1F600}`".to_string(),
                        Span::new(base + i, base + i + 2),
                    )),
                },
                Some((j, other)) => errors.push((
                    format!("unknown escape `\\{other}`; use one of \\n \\t \\r \\\" \\\\ \\$ \\u{{...}}"),
                    Span::new(base + i, base + j + other.len_utf8()),
                )),
                None => errors.push(("a string cannot end with `\\`".to_string(), Span::new(base + i, base + i + 1))),
            },
            '$' if matches!(chars.peek(), Some((_, '{'))) => {
                chars.next();
                let start = i + 2;
                let mut depth = 1usize;
                let mut end = None;
                for (j, c) in chars.by_ref() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = Some(j);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                match end {
                    Some(end) => {
                        if !text.is_empty() {
                            parts.push(RawPart::Text(std::mem::take(&mut text)));
                        }
                        parts.push(RawPart::Interpolation(&body[start..end], base + start));
                    }
                    None => errors.push((
                        "`${` is never closed; close the interpolation with `}`".to_string(),
                        Span::new(base + i, base + body.len()),
                    )),
                }
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() || parts.is_empty() {
        parts.push(RawPart::Text(text));
    }
    (parts, errors)
}

fn unicode_escape(
    body: &str,
    at: usize,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Option<char> {
    if chars.next()?.1 != '{' {
        return None;
    }
    let start = at + 3;
    let mut end = start;
    for (j, c) in chars.by_ref() {
        if c == '}' {
            end = j;
            break;
        }
    }
    let hex = body.get(start..end)?;
    u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
}

/// A piece of a string literal before its interpolations are parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum RawPart<'src> {
    /// Unescaped text.
    Text(String),
    /// The source inside `${...}` and its byte offset in the file.
    Interpolation(&'src str, usize),
}
