//! `textDocument/semanticTokens/full`: every token of a file classified. Strings,
//! numbers, comments and operators come from the lexer; names are classified by the
//! walk over the syntax tree ([`references::occurrences`]); the other words are
//! keywords.

use std::collections::HashMap;

use tower_lsp_server::ls_types::{
    SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokens, SemanticTokensLegend,
};
use weft_compiler::analysis::Analysis;
use weft_compiler::parse::{ITEM_KEYWORDS, RESERVED};
use weft_compiler::resolve::SCALARS;
use weft_compiler::source::{FileId, Span};
use weft_compiler::syntax::token::{lex, Token};

use crate::position::LineIndex;
use crate::references::{self, Class};
use crate::world::Snapshot;

/// The contextual keywords of flows, tests, environments, promotion and rollback.
pub const KEYWORDS: &[&str] = &[
    "after",
    "alert",
    "and",
    "approval",
    "approvals",
    "as",
    "backoff",
    "call",
    "called",
    "clock",
    "connection",
    "cron",
    "dead_letter",
    "dead_letters",
    "else",
    "enum",
    "environment",
    "error",
    "error_rate",
    "every",
    "expect",
    "fail",
    "fails",
    "failure",
    "false",
    "file",
    "flow",
    "from",
    "if",
    "in",
    "manual",
    "map",
    "min",
    "mock",
    "no",
    "not",
    "null",
    "on",
    "or",
    "out",
    "output",
    "over",
    "previous",
    "promotion",
    "property",
    "read",
    "require",
    "retry",
    "returns",
    "rollback",
    "run",
    "runs",
    "schema",
    "secret",
    "self",
    "skip",
    "snapshot",
    "status",
    "test",
    "tests",
    "then",
    "times",
    "trigger",
    "true",
    "webhook",
    "when",
    "where",
    "window",
    "with",
    "write",
];

/// Token types, in legend order.
pub const TOKEN_TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,
    SemanticTokenType::TYPE,
    SemanticTokenType::ENUM_MEMBER,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::METHOD,
    SemanticTokenType::NAMESPACE,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::PARAMETER,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::COMMENT,
    SemanticTokenType::OPERATOR,
];

/// Token modifiers, in legend order (bit `1 << i`).
pub const TOKEN_MODIFIERS: &[SemanticTokenModifier] = &[
    SemanticTokenModifier::DECLARATION,
    SemanticTokenModifier::DEFAULT_LIBRARY,
    SemanticTokenModifier::DOCUMENTATION,
];

const KEYWORD: u32 = 0;
const TYPE: u32 = 1;
const ENUM_MEMBER: u32 = 2;
const FUNCTION: u32 = 3;
const METHOD: u32 = 4;
const NAMESPACE: u32 = 5;
const PARAMETER: u32 = 7;
const PROPERTY: u32 = 8;
const STRING: u32 = 9;
const NUMBER: u32 = 10;
const COMMENT: u32 = 11;
const OPERATOR: u32 = 12;

const DECLARATION: u32 = 1;
const DEFAULT_LIBRARY: u32 = 2;
const DOCUMENTATION: u32 = 4;

/// The legend advertised in `initialize`.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TOKEN_TYPES.to_vec(),
        token_modifiers: TOKEN_MODIFIERS.to_vec(),
    }
}

/// The semantic tokens of a file.
pub fn full(snapshot: &Snapshot, analysis: &Analysis, file: FileId) -> SemanticTokens {
    let text = snapshot.text(analysis, file);
    let names = analysis
        .files
        .iter()
        .find(|(id, _)| *id == file)
        .map(|(_, tree)| references::occurrences(&analysis.program, file, tree))
        .unwrap_or_default();
    SemanticTokens {
        result_id: None,
        data: encode(text, &classify(text, &names)),
    }
}

/// Classified spans `(span, type, modifiers)` in source order, none overlapping.
pub fn classify(text: &str, names: &[references::Occurrence]) -> Vec<(Span, u32, u32)> {
    let by_start: HashMap<usize, (u32, u32)> = names
        .iter()
        .map(|occ| {
            let (ty, mut modifiers) = match occ.class {
                Class::Type => (TYPE, 0),
                Class::Scalar => (TYPE, DEFAULT_LIBRARY),
                Class::EnumMember => (ENUM_MEMBER, 0),
                Class::Map | Class::Flow => (FUNCTION, 0),
                Class::Builtin => (FUNCTION, DEFAULT_LIBRARY),
                Class::Namespace => (NAMESPACE, 0),
                Class::Operation => (METHOD, 0),
                Class::Parameter => (PARAMETER, 0),
                Class::Property => (PROPERTY, 0),
            };
            if occ.decl {
                modifiers |= DECLARATION;
            }
            (occ.span.start, (ty, modifiers))
        })
        .collect();
    let mut inner: Vec<&references::Occurrence> = names.iter().collect();
    inner.sort_by_key(|occ| occ.span.start);
    let mut out = Vec::new();
    for (token, span) in lex(text) {
        let class = match token {
            Token::Ident(word) => by_start.get(&span.start).copied().or_else(|| {
                if SCALARS.contains(&word) {
                    Some((TYPE, DEFAULT_LIBRARY))
                } else if KEYWORDS.contains(&word)
                    || ITEM_KEYWORDS.contains(&word)
                    || RESERVED.contains(&word)
                {
                    Some((KEYWORD, 0))
                } else {
                    None
                }
            }),
            Token::QuotedIdent(_) => by_start.get(&span.start).copied(),
            Token::Str(_) | Token::UnterminatedStr(_) => {
                // Names inside `${...}` split the string.
                let mut at = span.start;
                for occ in inner
                    .iter()
                    .filter(|o| o.span.start > span.start && o.span.end < span.end)
                {
                    if occ.span.start < at {
                        continue;
                    }
                    if occ.span.start > at {
                        out.push((Span::new(at, occ.span.start), STRING, 0));
                    }
                    if let Some(&(ty, modifiers)) = by_start.get(&occ.span.start) {
                        out.push((occ.span, ty, modifiers));
                    }
                    at = occ.span.end;
                }
                if span.end > at {
                    out.push((Span::new(at, span.end), STRING, 0));
                }
                None
            }
            Token::Int(_) | Token::Decimal(_) | Token::Duration(_) | Token::Percent(_) => {
                Some((NUMBER, 0))
            }
            Token::Comment(body) => Some((
                COMMENT,
                if body.starts_with("///") {
                    DOCUMENTATION
                } else {
                    0
                },
            )),
            operator if operator.is_operator() || matches!(operator, Token::Question) => {
                Some((OPERATOR, 0))
            }
            _ => None,
        };
        if let Some((ty, modifiers)) = class {
            out.push((span, ty, modifiers));
        }
    }
    out
}

/// The relative encoding of the protocol, positions in UTF-16 units.
fn encode(text: &str, tokens: &[(Span, u32, u32)]) -> Vec<SemanticToken> {
    let index = LineIndex::new(text);
    let mut data = Vec::with_capacity(tokens.len());
    let (mut line, mut character) = (0u32, 0u32);
    for &(span, ty, modifiers) in tokens {
        let start = index.position(span.start);
        let length: usize = text
            .get(span.start..span.end)
            .unwrap_or("")
            .chars()
            .map(char::len_utf16)
            .sum();
        let delta_line = start.line - line;
        let delta_start = if delta_line == 0 {
            start.character - character
        } else {
            start.character
        };
        data.push(SemanticToken {
            delta_line,
            delta_start,
            length: length as u32,
            token_type: ty,
            token_modifiers_bitset: modifiers,
        });
        line = start.line;
        character = start.character;
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_compiler::analysis::check_files;

    fn render(source: &str) -> Vec<String> {
        let analysis = check_files(
            &[("t.weft".into(), "t.weft".into(), source.to_string())],
            None,
        );
        let (file, tree) = &analysis.files[0];
        let names = references::occurrences(&analysis.program, *file, tree);
        classify(source, &names)
            .into_iter()
            .map(|(span, ty, m)| {
                format!(
                    "{} {}{}",
                    &source[span.start..span.end],
                    TOKEN_TYPES[ty as usize].as_str(),
                    if m == 0 {
                        String::new()
                    } else {
                        format!("/{m}")
                    }
                )
            })
            .collect()
    }

    #[test]
    fn classes() {
        let tokens = render(
            "// c\nschema A { name: String }\nmap m(a: A) -> A { name = \"x${trim(a.name)}\" + 1 }\n",
        );
        let expected = [
            "// c comment",
            "schema keyword",
            "A type/1",
            "name property/1",
            "String type/2",
            "map keyword",
            "m function/1",
            "a parameter/1",
            "A type",
            "-> operator",
            "A type",
            "name property",
            "= operator",
            "\"x${ string",
            "trim function/2",
            "( string",
            "a parameter",
            ". string",
            "name property",
            ")}\" string",
            "+ operator",
            "1 number",
        ];
        assert_eq!(tokens, expected);
    }

    #[test]
    fn encoding_is_relative() {
        let data = encode(
            "ab cd\n  ef",
            &[
                (Span::new(0, 2), 0, 0),
                (Span::new(3, 5), 1, 0),
                (Span::new(8, 10), 2, 0),
            ],
        );
        let rows: Vec<(u32, u32, u32)> = data
            .iter()
            .map(|t| (t.delta_line, t.delta_start, t.length))
            .collect();
        assert_eq!(rows, [(0, 0, 2), (0, 3, 2), (1, 2, 2)]);
    }
}
