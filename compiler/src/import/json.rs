//! A strict JSON parser (RFC 8259) that keeps byte spans and explains mistakes people make
//! when writing JSON by hand: comments, trailing commas, single quotes, unquoted keys.

use std::collections::HashMap;

use super::document::{DocError, Member, Node, NodeKind, Parsed, MAX_DEPTH};
use crate::source::Span;

/// Parses `text` as one JSON value.
pub(crate) fn parse(text: &str) -> Parsed {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        errors: Vec::new(),
    };
    if text.starts_with('\u{feff}') {
        parser.pos = '\u{feff}'.len_utf8();
    }
    let root = match parser.document() {
        Ok(root) => Some(root),
        Err(error) => {
            parser.errors.push(error);
            None
        }
    };
    parser.errors.sort_by_key(|e| e.span.start);
    Parsed {
        root,
        errors: parser.errors,
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Problems that do not stop parsing, such as duplicate keys.
    errors: Vec<DocError>,
}

type Result<T> = std::result::Result<T, DocError>;

impl Parser<'_> {
    fn document(&mut self) -> Result<Node> {
        self.skip_ws()?;
        if self.pos >= self.bytes.len() {
            return Err(DocError::new(
                Span::new(self.pos, self.pos),
                "the file is empty: expected a JSON object",
                "no content",
            ));
        }
        let root = self.value(0)?;
        self.skip_ws()?;
        if self.pos < self.bytes.len() {
            return Err(DocError::new(
                self.char_span(),
                format!(
                    "unexpected {} after the end of the JSON value",
                    self.found()
                ),
                "the JSON value already ended",
            )
            .with_related(root.span, "this is the whole JSON value"));
        }
        Ok(root)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The span of the character at the current position (empty at the end of the file).
    fn char_span(&self) -> Span {
        let len = self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
            .map_or(0, char::len_utf8);
        Span::new(self.pos, self.pos + len)
    }

    /// The character at the current position, for messages.
    fn found(&self) -> String {
        match self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            None => "end of file".to_string(),
            Some(c) if c.is_control() || c.is_whitespace() => format!("character {c:?}"),
            Some(c) => format!("`{c}`"),
        }
    }

    fn error_here(&self, message: impl Into<String>, label: impl Into<String>) -> DocError {
        DocError::new(self.char_span(), message, label)
    }

    /// Skips whitespace, rejecting comments with a clear message.
    fn skip_ws(&mut self) -> Result<()> {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'/' if matches!(self.bytes.get(self.pos + 1), Some(b'/' | b'*')) => {
                    return Err(DocError::new(
                        Span::new(self.pos, self.pos + 2),
                        "comments are not allowed in JSON",
                        "comment",
                    ));
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Node> {
        self.skip_ws()?;
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => {
                let (value, span) = self.string()?;
                Ok(Node {
                    kind: NodeKind::String(value),
                    span,
                })
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'\'') => {
                Err(self.error_here("JSON strings must use double quotes `\"`", "single quote"))
            }
            Some(b'}' | b']' | b',' | b':') | None => Err(self.error_here(
                format!("expected a JSON value, found {}", self.found()),
                "expected a value",
            )),
            Some(_) => self.word(),
        }
    }

    /// `true`, `false`, `null`, or a bare word that is not JSON.
    fn word(&mut self) -> Result<Node> {
        let start = self.pos;
        let rest = self.text.get(start..).unwrap_or("");
        let len = rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '$'))
            .map_or(rest.len(), |(i, _)| i);
        let word = rest.get(..len).unwrap_or("");
        let kind = match word {
            "true" => NodeKind::Bool(true),
            "false" => NodeKind::Bool(false),
            "null" => NodeKind::Null,
            _ => {
                let span = if len == 0 {
                    self.char_span()
                } else {
                    Span::new(start, start + len)
                };
                let hint = match word {
                    "True" | "TRUE" => " (write `true`)",
                    "False" | "FALSE" => " (write `false`)",
                    "None" | "NULL" | "Null" | "nil" | "undefined" => " (write `null`)",
                    "NaN" | "Infinity" => " (JSON has no such number)",
                    _ if len > 0 => " (strings must be in double quotes)",
                    _ => "",
                };
                let shown = if len == 0 {
                    self.found()
                } else {
                    format!("`{word}`")
                };
                return Err(DocError::new(
                    span,
                    format!("expected a JSON value, found {shown}{hint}"),
                    "not JSON",
                ));
            }
        };
        self.pos = start + len;
        Ok(Node {
            kind,
            span: Span::new(start, self.pos),
        })
    }

    fn too_deep(&self) -> DocError {
        DocError::new(
            self.char_span(),
            format!("the document is nested more than {MAX_DEPTH} levels deep"),
            "too deep",
        )
    }

    fn object(&mut self, depth: usize) -> Result<Node> {
        let start = self.pos;
        if depth >= MAX_DEPTH {
            return Err(self.too_deep());
        }
        self.pos += 1;
        let mut members: Vec<Member> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut last_comma: Option<usize> = None;
        loop {
            self.skip_ws()?;
            match self.peek() {
                Some(b'}') => {
                    if let Some(comma) = last_comma {
                        return Err(DocError::new(
                            Span::new(comma, comma + 1),
                            "trailing comma: JSON does not allow a comma before `}`",
                            "remove this comma",
                        ));
                    }
                    self.pos += 1;
                    break;
                }
                Some(b'"') => {}
                None => return Err(self.unclosed(start, '{')),
                Some(b'\'') => {
                    return Err(self
                        .error_here("object keys must be in double quotes `\"`", "single quote"));
                }
                Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b'$' => {
                    return Err(
                        self.error_here("object keys must be in double quotes", "unquoted key")
                    );
                }
                Some(_) => {
                    return Err(self.error_here(
                        format!(
                            "expected a key in double quotes or `}}`, found {}",
                            self.found()
                        ),
                        "expected a key",
                    ));
                }
            }
            let (key, key_span) = self.string()?;
            self.skip_ws()?;
            if self.peek() != Some(b':') {
                return Err(self.error_here(
                    format!("expected `:` after the key {key:?}, found {}", self.found()),
                    "expected `:`",
                ));
            }
            self.pos += 1;
            let value = self.value(depth + 1)?;
            let member = Member {
                key,
                key_span,
                value,
            };
            match index.get(&member.key).and_then(|&i| members.get_mut(i)) {
                Some(first) => {
                    // Like most JSON readers, the last value wins; the duplicate is still an error.
                    self.errors.push(
                        DocError::new(
                            key_span,
                            format!("the key {:?} appears twice in this object", member.key),
                            "duplicate key",
                        )
                        .with_related(first.key_span, "first defined here"),
                    );
                    *first = member;
                }
                None => {
                    index.insert(member.key.clone(), members.len());
                    members.push(member);
                }
            }
            self.skip_ws()?;
            match self.peek() {
                Some(b',') => {
                    last_comma = Some(self.pos);
                    self.pos += 1;
                }
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.unclosed(start, '{')),
                Some(b'"') => {
                    return Err(self.error_here(
                        "expected `,` between object members",
                        "missing `,` before this",
                    ));
                }
                Some(_) => {
                    return Err(self.error_here(
                        format!(
                            "expected `,` or `}}` after an object member, found {}",
                            self.found()
                        ),
                        "expected `,` or `}`",
                    ));
                }
            }
        }
        Ok(Node {
            kind: NodeKind::Object(members),
            span: Span::new(start, self.pos),
        })
    }

    fn array(&mut self, depth: usize) -> Result<Node> {
        let start = self.pos;
        if depth >= MAX_DEPTH {
            return Err(self.too_deep());
        }
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws()?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Node {
                kind: NodeKind::Array(items),
                span: Span::new(start, self.pos),
            });
        }
        let mut last_comma = start;
        loop {
            self.skip_ws()?;
            match self.peek() {
                Some(b']') => {
                    // Only reachable after a comma: `[1, ]`.
                    return Err(DocError::new(
                        Span::new(last_comma, last_comma + 1),
                        "trailing comma: JSON does not allow a comma before `]`",
                        "remove this comma",
                    ));
                }
                None => return Err(self.unclosed(start, '[')),
                _ => {}
            }
            items.push(self.value(depth + 1)?);
            self.skip_ws()?;
            match self.peek() {
                Some(b',') => {
                    last_comma = self.pos;
                    self.pos += 1;
                }
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.unclosed(start, '[')),
                Some(_) => {
                    return Err(self.error_here(
                        format!(
                            "expected `,` or `]` after an array item, found {}",
                            self.found()
                        ),
                        "expected `,` or `]`",
                    ));
                }
            }
        }
        Ok(Node {
            kind: NodeKind::Array(items),
            span: Span::new(start, self.pos),
        })
    }

    fn unclosed(&self, open: usize, delimiter: char) -> DocError {
        let close = if delimiter == '{' { '}' } else { ']' };
        DocError::new(
            Span::new(self.pos, self.pos),
            format!("unexpected end of file: `{delimiter}` is never closed with `{close}`"),
            format!("expected `{close}`"),
        )
        .with_related(Span::new(open, open + 1), "opened here")
    }

    /// A string starting at the current `"`; returns its value and span (quotes included).
    fn string(&mut self) -> Result<(String, Span)> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy the run of plain characters in one go.
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(self.text.get(run_start..self.pos).unwrap_or(""));
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok((out, Span::new(start, self.pos)));
                }
                Some(b'\\') => self.escape(&mut out)?,
                Some(b'\n' | b'\r') => {
                    return Err(DocError::new(
                        self.char_span(),
                        "line break inside a string: JSON strings end on the line they start (missing `\"`?)",
                        "string not closed before this line break",
                    )
                    .with_related(Span::new(start, start + 1), "string starts here"));
                }
                Some(_) => {
                    return Err(self.error_here(
                        format!("{} inside a string must be escaped", self.found()),
                        "control character",
                    ));
                }
                None => {
                    return Err(DocError::new(
                        Span::new(start, start + 1),
                        "this string is never closed",
                        "string starts here",
                    ));
                }
            }
        }
    }

    /// One escape sequence starting at the current `\`.
    fn escape(&mut self, out: &mut String) -> Result<()> {
        let start = self.pos;
        self.pos += 1;
        let Some(b) = self.peek() else {
            return Err(DocError::new(
                Span::new(start, start + 1),
                "this string is never closed",
                "escape at end of file",
            ));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4(start)?;
                let c = if (0xD800..0xDC00).contains(&high)
                    && self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u")
                {
                    let save = self.pos;
                    self.pos += 2;
                    let low = self.hex4(save)?;
                    if (0xDC00..0xE000).contains(&low) {
                        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                    } else {
                        self.pos = save;
                        None
                    }
                } else {
                    char::from_u32(high)
                };
                // A lone surrogate cannot be held in a Rust string; it only matters inside descriptions.
                c.unwrap_or('\u{fffd}')
            }
            _ => {
                self.pos = start;
                let len = self
                    .text
                    .get(start + 1..)
                    .and_then(|r| r.chars().next())
                    .map_or(0, char::len_utf8);
                return Err(DocError::new(
                    Span::new(start, start + 1 + len),
                    format!(
                        "invalid escape `{}` in a string",
                        self.text.get(start..start + 1 + len).unwrap_or("\\")
                    ),
                    "invalid escape",
                )
                .with_related(
                    Span::new(start, start + 1),
                    "JSON knows \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
                ));
            }
        };
        out.push(c);
        Ok(())
    }

    /// Four hex digits after `\u`; `escape_start` is the position of the backslash.
    fn hex4(&mut self, escape_start: usize) -> Result<u32> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        match digits.and_then(|d| u32::from_str_radix(d, 16).ok()) {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => Err(DocError::new(
                Span::new(escape_start, self.pos),
                "`\\u` must be followed by four hex digits",
                "invalid unicode escape",
            )),
        }
    }

    fn number(&mut self) -> Result<Node> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self
                        .error_here("numbers in JSON cannot have leading zeros", "leading zero"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => {
                return Err(self.error_here(
                    format!("expected a digit, found {}", self.found()),
                    "expected a digit",
                ))
            }
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error_here(
                    format!("expected a digit after `.`, found {}", self.found()),
                    "expected a digit",
                ));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error_here(
                    format!("expected a digit in the exponent, found {}", self.found()),
                    "expected a digit",
                ));
            }
            self.digits();
        }
        let raw = self.text.get(start..self.pos).unwrap_or("").to_string();
        Ok(Node {
            kind: NodeKind::Number(raw),
            span: Span::new(start, self.pos),
        })
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }
}
