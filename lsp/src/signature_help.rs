//! `textDocument/signatureHelp`: the signature of the built-in or map being called
//! at the cursor, with the argument the cursor is in.

use tower_lsp_server::ls_types::{
    Documentation, ParameterInformation, ParameterLabel, Position, SignatureHelp,
    SignatureInformation,
};
use weft_compiler::analysis::Analysis;
use weft_compiler::builtins;
use weft_compiler::resolve::Program;
use weft_compiler::source::FileId;
use weft_compiler::syntax::token::{lex, Token};

use crate::position::LineIndex;
use crate::world::Snapshot;

/// The signature help at `position`.
pub fn signature_help(
    snapshot: &Snapshot,
    analysis: &Analysis,
    file: FileId,
    position: Position,
) -> Option<SignatureHelp> {
    let text = snapshot.text(analysis, file);
    let offset = LineIndex::new(text).offset(position);
    help(&analysis.program, text, offset)
}

/// The signature help for the call around `offset` in `text`.
pub fn help(program: &Program, text: &str, offset: usize) -> Option<SignatureHelp> {
    let (name, argument) = call_at(text, offset)?;
    let (label, doc, variadic) = if let Some(map) = program.maps.get(&name) {
        (
            format!("{name}(source: {}) -> {}", map.source, map.target),
            None,
            false,
        )
    } else {
        let builtin = builtins::lookup(&name)?;
        let variadic = matches!(builtin.shape, builtins::Shape::Fixed { variadic: true, .. })
            || builtin.name == "coalesce";
        (builtin.signature.to_string(), Some(builtin.doc), variadic)
    };
    let parameters = parameters(&label);
    let last = parameters.len().saturating_sub(1);
    let active = if variadic {
        argument.min(last)
    } else {
        argument
    };
    Some(SignatureHelp {
        signatures: vec![SignatureInformation {
            label: label.clone(),
            documentation: doc.map(|d| Documentation::String(d.to_string())),
            parameters: Some(
                parameters
                    .into_iter()
                    .map(|p| ParameterInformation {
                        label: ParameterLabel::Simple(p),
                        documentation: None,
                    })
                    .collect(),
            ),
            active_parameter: Some(active as u32),
        }],
        active_signature: Some(0),
        active_parameter: Some(active as u32),
    })
}

/// The parameters of a signature label: the top-level comma-separated parts between
/// its first `(` and the matching `)`.
fn parameters(label: &str) -> Vec<String> {
    let Some(open) = label.find('(') else {
        return Vec::new();
    };
    let mut depth = 0usize;
    let mut parts = Vec::new();
    let mut start = open + 1;
    for (i, c) in label.char_indices().skip_while(|(i, _)| *i <= open) {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' if depth == 0 => {
                let part = label[start..i].trim();
                if !part.is_empty() {
                    parts.push(part.to_string());
                }
                break;
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(label[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts
}

/// The function called by the innermost open call before `offset`, and the index of
/// the argument the cursor is in.
fn call_at(text: &str, offset: usize) -> Option<(String, usize)> {
    // Open brackets: the called name for `(` after a name (not an operation), and the
    // number of commas seen at that level.
    let mut stack: Vec<(Option<String>, usize)> = Vec::new();
    let tokens = lex(text);
    for (i, (token, span)) in tokens.iter().enumerate() {
        if span.start >= offset {
            break;
        }
        match token {
            Token::LParen => {
                let name = match (i.checked_sub(1).map(|j| &tokens[j].0), i.checked_sub(2)) {
                    (Some(Token::Ident(name)), before) => {
                        let after_dot = before.is_some_and(|j| tokens[j].0 == Token::Dot);
                        (!after_dot).then(|| name.to_string())
                    }
                    _ => None,
                };
                stack.push((name, 0));
            }
            Token::LBracket | Token::LBrace => stack.push((None, 0)),
            Token::RParen | Token::RBracket | Token::RBrace => {
                stack.pop();
            }
            Token::Comma => {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
            }
            _ => {}
        }
    }
    // Inside a list or record argument: the enclosing call.
    stack
        .into_iter()
        .rev()
        .find_map(|(name, commas)| name.map(|n| (n, commas)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_compiler::analysis::check_files;

    fn at(source: &str) -> Option<(String, u32)> {
        let offset = source.find("$0").unwrap_or_default();
        let text = source.replace("$0", "");
        let analysis = check_files(&[("t.weft".into(), "t.weft".into(), text.clone())], None);
        let help = help(&analysis.program, &text, offset)?;
        Some((
            help.signatures[0].label.clone(),
            help.active_parameter.unwrap_or(99),
        ))
    }

    #[test]
    fn builtins_and_maps() {
        let schemas = "schema A { s: String }\nmap m(a: A) -> A { s = ";
        assert_eq!(
            at(&format!("{schemas}substring(a.s, 1, $0) }}")),
            Some((
                "substring(s: String, start: Int, length: Int) -> String".into(),
                2
            ))
        );
        assert_eq!(
            at(&format!("{schemas}trim($0) }}")),
            Some(("trim(s: String) -> String".into(), 0))
        );
        assert_eq!(
            at(&format!("{schemas}concat(\"a\", \"b\", \"c\", $0) }}")),
            Some(("concat(parts: String...) -> String".into(), 0))
        );
        assert_eq!(
            at(&format!("{schemas}m(a$0).s }}")),
            Some(("m(source: A) -> A".into(), 0))
        );
        assert_eq!(
            at(&format!("{schemas}trim(upper(a.s), $0) }}")).map(|h| h.1),
            Some(1)
        );
        assert_eq!(at(&format!("{schemas}trim(a.s)$0 }}")), None);
    }

    #[test]
    fn parameter_labels() {
        assert_eq!(
            parameters("sum(items: [T], f: T => N) -> N"),
            ["items: [T]", "f: T => N"]
        );
        assert!(parameters("uuid() -> String").is_empty());
    }
}
