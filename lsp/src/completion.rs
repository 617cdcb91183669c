//! `textDocument/completion`, kept simple: what fits is decided by the enclosing block
//! (found from the tokens before the cursor) and the words just before the cursor.
//!
//! - after `x.`: the fields of `x` when it is a variable of a known record type, or the
//!   operations of connection `x`;
//! - in a map body at the start of a line: the target fields not assigned yet, the
//!   required ones first; after `=`: variables in scope, built-ins, maps, keywords;
//! - in flows, environments, tests, promotion and rollback blocks: their keywords, and
//!   the names (connections, maps, flows, environments, types) the line asks for;
//! - at the top level: the declaration keywords.
//!
//! Variables and their types come from parsing the text with a marker name put at the
//! cursor, so `c.` (an incomplete expression) still reads as a field access.

use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, Documentation, MarkupContent, MarkupKind, Position,
};
use weft_compiler::analysis::Analysis;
use weft_compiler::builtins::BUILTINS;
use weft_compiler::connectors::{AUTH_SCHEMES, KINDS};
use weft_compiler::parse::{self, ITEM_KEYWORDS};
use weft_compiler::resolve::{self, Program, TypeSymbol, SCALARS};
use weft_compiler::source::{FileId, Span};
use weft_compiler::syntax::token::{lex, Token};
use weft_compiler::syntax::{File, Item, MapDecl};
use weft_compiler::types::Type;

use crate::hover::name_text;
use crate::lookup::{self, Binding, Symbol};
use crate::position::LineIndex;
use crate::world::Snapshot;

/// The name put at the cursor to parse an incomplete expression.
const MARKER: &str = "weft_completion_marker";

/// Keywords of expressions.
const EXPRESSION_KEYWORDS: &[&str] = &[
    "if", "then", "else", "true", "false", "null", "and", "or", "not",
];

/// Completions at `position`.
pub fn completion(
    snapshot: &Snapshot,
    analysis: &Analysis,
    file: FileId,
    position: Position,
) -> Vec<CompletionItem> {
    let text = snapshot.text(analysis, file);
    let offset = LineIndex::new(text).offset(position);
    let Some(before) = text.get(..offset) else {
        return Vec::new();
    };
    let word_start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let context = Context {
        analysis,
        program: &analysis.program,
        file,
        text,
        word_start,
        offset,
    };
    let before_word = &text[..word_start];
    if before_word.ends_with('.') && !before_word.ends_with("..") {
        return context.members();
    }
    context.in_block()
}

struct Context<'a> {
    analysis: &'a Analysis,
    program: &'a Program,
    file: FileId,
    text: &'a str,
    word_start: usize,
    offset: usize,
}

/// The block the cursor is in: the keyword of the enclosing top-level declaration,
/// and whether the cursor is inside its braces.
struct Block<'a> {
    keyword: Option<&'a str>,
    inside: bool,
}

impl<'a> Context<'a> {
    /// The text with the word at the cursor replaced by [`MARKER`], parsed, and the
    /// name found at the marker. Only the declaration around the cursor is parsed:
    /// parsing never crosses from one declaration into the next.
    /// When that does not parse, the brackets left open before the cursor are closed
    /// right after the marker (`count(xs, x => x.` becomes `count(xs, x => x.MARKER)`).
    fn marker_hit(&self) -> Option<lookup::Hit> {
        let chunk = parse::chunk_at(self.text, self.word_start);
        let before = &self.text[..self.word_start];
        let after = self.text.get(self.offset..).unwrap_or("");
        let attempt = |closers: &str| {
            let patched = format!("{before}{MARKER}{closers}{after}");
            let grown = patched.len() as isize - self.text.len() as isize;
            let region = Span::new(chunk.start, chunk.end.saturating_add_signed(grown));
            let items = parse::parse_chunks(&patched, region, self.file)
                .into_iter()
                .flat_map(|c| c.items)
                .collect();
            let tree = File {
                items,
                comments: Vec::new(),
            };
            let hit = lookup::find(self.program, self.file, &tree, self.word_start)?;
            (hit.span.start == self.word_start).then_some(hit)
        };
        attempt("").or_else(|| {
            let closers = open_brackets(&self.text[chunk.start..self.word_start]);
            (!closers.is_empty()).then(|| attempt(&closers)).flatten()
        })
    }

    /// The names before the `.` at the cursor: `c.bill_to.` gives `["c", "bill_to"]`.
    fn receiver(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut end = self.word_start.saturating_sub(1); // the dot
        loop {
            let head = &self.text[..end];
            let (start, name) = if let Some(quoted) = head.strip_suffix('`') {
                let Some(open) = quoted.rfind('`') else { break };
                (open, quoted[open + 1..].to_string())
            } else {
                let start = head
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map_or(0, |i| i + 1);
                (start, head[start..].to_string())
            };
            if name.is_empty() {
                break;
            }
            names.push(name);
            if start > 0 && self.text.as_bytes().get(start - 1) == Some(&b'.') {
                end = start - 1;
            } else {
                break;
            }
        }
        names.reverse();
        names
    }

    /// Completions after `x.`.
    fn members(&self) -> Vec<CompletionItem> {
        if let Some(hit) = self.marker_hit() {
            if let Symbol::Field { owner, .. } = &hit.symbol {
                if let Some(items) = self.fields_of(owner, None) {
                    return items;
                }
            }
        }
        let receiver = self.receiver();
        if let [connection] = receiver.as_slice() {
            if let Some(kind) = self
                .program
                .connections
                .get(connection)
                .and_then(|c| c.kind)
            {
                return kind
                    .operations
                    .iter()
                    .map(|op| {
                        item(op.name, CompletionItemKind::METHOD)
                            .detail(format!("{}({})", op.name, op.params.join(", ")))
                            .doc(op.doc)
                            .build()
                    })
                    .collect();
            }
        }
        // The text around did not parse: fall back to the enclosing map's parameter.
        if let (Some(root), Some(map)) = (receiver.first(), self.enclosing_map()) {
            if map.param.name == *root {
                let mut ty = self.resolve(&map.source);
                for name in &receiver[1..] {
                    ty = lookup::field_type(self.program, &ty, name);
                }
                return self.fields_of(&ty, None).unwrap_or_default();
            }
        }
        Vec::new()
    }

    /// The fields of a record type; `skip` leaves out fields already assigned, and
    /// then sorts the required ones first.
    fn fields_of(&self, ty: &Type, skip: Option<&[String]>) -> Option<Vec<CompletionItem>> {
        let record = self.program.record(ty)?;
        let items = record
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| skip.is_none_or(|skip| !skip.contains(&f.name)))
            .map(|(i, f)| {
                let rank = match skip {
                    Some(_) if !f.ty.is_optional() => 0,
                    Some(_) => 1,
                    None => 0,
                };
                let mut builder = item(&name_text(&f.name), CompletionItemKind::FIELD)
                    .detail(f.ty.to_string())
                    .sort(format!("{rank}_{i:04}"));
                if let Some(doc) = &f.doc {
                    builder = builder.doc(doc);
                }
                builder.build()
            })
            .collect();
        Some(items)
    }

    fn resolve(&self, ty: &weft_compiler::syntax::TypeExpr) -> Type {
        resolve::type_of(self.program, ty, self.file, &mut Vec::new())
    }

    /// The map declaration around the cursor, in the analysed tree.
    fn enclosing_map(&self) -> Option<&'a MapDecl> {
        let (_, tree) = self
            .analysis
            .files
            .iter()
            .find(|(id, _)| *id == self.file)?;
        match lookup::item_at(tree, self.offset)? {
            Item::Map(map) => Some(map),
            _ => None,
        }
    }

    /// The block of the cursor, from the start of its declaration: parsing never
    /// continues a block past a line that starts a declaration.
    fn block(&self) -> Block<'a> {
        let text: &'a str = self.text;
        let mut depth = 0usize;
        let mut keyword = None;
        let mut block = None;
        let start = parse::chunk_at(text, self.word_start).start;
        for (token, span) in lex(&text[start..self.word_start]) {
            let span = span.shift(start);
            match token {
                Token::Ident(word) if depth == 0 && ITEM_KEYWORDS.contains(&word) => {
                    let column_zero =
                        span.start == 0 || text.as_bytes().get(span.start - 1) == Some(&b'\n');
                    if column_zero {
                        keyword = text.get(span.start..span.end);
                    }
                }
                Token::LBrace => {
                    if depth == 0 {
                        block = keyword;
                    }
                    depth += 1;
                }
                Token::RBrace => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        block = None;
                        keyword = None;
                    }
                }
                _ => {}
            }
        }
        if depth > 0 {
            Block {
                keyword: block,
                inside: true,
            }
        } else {
            Block {
                keyword,
                inside: false,
            }
        }
    }

    /// The text of the current line before the word at the cursor.
    fn line_prefix(&self) -> &'a str {
        let text: &'a str = self.text;
        let line_start = text[..self.word_start].rfind('\n').map_or(0, |i| i + 1);
        text[line_start..self.word_start].trim()
    }

    /// The last non-blank line before the current one.
    fn previous_line(&self) -> &'a str {
        let text: &'a str = self.text;
        let line_start = text[..self.word_start].rfind('\n').map_or(0, |i| i + 1);
        text[..line_start]
            .lines()
            .rev()
            .map(|l| l.split("//").next().unwrap_or("").trim())
            .find(|l| !l.is_empty())
            .unwrap_or("")
    }

    fn in_block(&self) -> Vec<CompletionItem> {
        let block = self.block();
        let prefix = self.line_prefix();
        let last = prefix.split_whitespace().last().unwrap_or("");
        if !block.inside {
            return match block.keyword {
                _ if prefix.is_empty() => keywords(ITEM_KEYWORDS),
                Some("connection") if prefix.contains(':') => self.connector_kinds(),
                Some("map") if last.ends_with(':') || last == "->" => self.types(),
                Some("rollback") if last == "rollback" => self.flows(),
                Some("rollback") if last == "in" => self.environments(),
                _ => Vec::new(),
            };
        }
        match block.keyword.unwrap_or("") {
            "schema" if prefix.contains(':') => {
                let mut items = self.types();
                items.extend(keywords(&["enum"]));
                items
            }
            "map" => {
                if prefix.contains('=') || (prefix.is_empty() && continues(self.previous_line())) {
                    self.expression()
                } else if prefix.is_empty() {
                    self.missing_targets()
                } else {
                    Vec::new()
                }
            }
            "flow" => match last {
                _ if prefix.starts_with("where") && prefix.contains("=>") => self.expression(),
                "" => keywords(&[
                    "trigger", "read", "where", "map", "call", "write", "on error",
                ]),
                "read" | "call" | "write" => self.connections(),
                "map" => self.maps(),
                "trigger" => keywords(&["every", "cron", "webhook", "manual", "after"]),
                "after" => self.flows(),
                "as" => self.types(),
                "on" => keywords(&["error"]),
                "then" => keywords(&["dead_letter", "skip", "fail"]),
                _ => Vec::new(),
            },
            "environment" => match last {
                "" => self.connections(),
                "=" => self.connector_kinds(),
                _ => {
                    let mut names: Vec<&str> = KINDS
                        .iter()
                        .flat_map(|k| k.options.iter().copied())
                        .collect();
                    names.extend(AUTH_SCHEMES.iter().map(|(name, _)| *name));
                    names.push("secret");
                    names.sort_unstable();
                    names.dedup();
                    keywords(&names)
                }
            },
            "test" => match last {
                "" => keywords(&["mock", "run", "expect", "snapshot", "property", "clock"]),
                "mock" => self.connections(),
                "expect" => {
                    let mut items = self.connections();
                    items.extend(keywords(&["output", "dead_letters", "failure"]));
                    items
                }
                "run" => self.flows(),
                "snapshot" | "property" => self.maps(),
                "returns" | "with" => keywords(&["file"]),
                _ => Vec::new(),
            },
            "promotion" => match last {
                "" | "->" => self.environments(),
                _ if last.ends_with(':') => keywords(&["require"]),
                _ if prefix.contains("require") => {
                    keywords(&["tests", "approvals", "no self approval", "window"])
                }
                _ => Vec::new(),
            },
            "rollback" => keywords(&[
                "when",
                "error_rate",
                "over",
                "min",
                "runs",
                "then",
                "previous",
                "alert",
            ]),
            _ => Vec::new(),
        }
    }

    /// Target fields of the enclosing map not assigned yet, required ones first.
    fn missing_targets(&self) -> Vec<CompletionItem> {
        let Some(map) = self.enclosing_map() else {
            return Vec::new();
        };
        let target = self.resolve(&map.target);
        let assigned: Vec<String> = map
            .assignments
            .iter()
            .filter(|a| !(a.span.start <= self.offset && self.offset <= a.span.end))
            .filter_map(|a| a.target.first().map(|t| t.name.clone()))
            .collect();
        self.fields_of(&target, Some(&assigned)).unwrap_or_default()
    }

    /// Variables in scope, built-in functions, maps and expression keywords.
    fn expression(&self) -> Vec<CompletionItem> {
        let mut items = Vec::new();
        let scope: Vec<Binding> = match self.marker_hit() {
            Some(lookup::Hit { scope, .. }) => scope,
            None => self
                .enclosing_map()
                .map(|m| vec![(m.param.name.clone(), self.resolve(&m.source), m.param.span)])
                .unwrap_or_default(),
        };
        let mut seen = Vec::new();
        for (name, ty, _) in scope.iter().rev() {
            if name == MARKER || seen.contains(name) {
                continue;
            }
            seen.push(name.clone());
            let mut builder = item(name, CompletionItemKind::VARIABLE).sort(format!("0_{name}"));
            if !ty.is_error() {
                builder = builder.detail(ty.to_string());
            }
            items.push(builder.build());
        }
        for builtin in BUILTINS {
            items.push(
                item(builtin.name, CompletionItemKind::FUNCTION)
                    .detail(builtin.signature)
                    .doc(builtin.doc)
                    .sort(format!("1_{}", builtin.name))
                    .build(),
            );
        }
        let mut maps = self.maps();
        for map in &mut maps {
            map.sort_text = Some(format!("1_{}", map.label));
        }
        items.extend(maps);
        for keyword in EXPRESSION_KEYWORDS {
            items.push(
                item(keyword, CompletionItemKind::KEYWORD)
                    .sort(format!("2_{keyword}"))
                    .build(),
            );
        }
        items
    }

    fn types(&self) -> Vec<CompletionItem> {
        let mut items: Vec<CompletionItem> = SCALARS
            .iter()
            .map(|s| {
                item(s, CompletionItemKind::TYPE_PARAMETER)
                    .detail("built-in type")
                    .sort(format!("1_{s}"))
                    .build()
            })
            .collect();
        let mut names: Vec<(&String, &TypeSymbol)> = self.program.types.iter().collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        for (name, symbol) in names {
            let (kind, detail) = match symbol {
                TypeSymbol::Enum(..) => (CompletionItemKind::ENUM, "enum"),
                _ => (CompletionItemKind::STRUCT, "schema"),
            };
            items.push(
                item(name, kind)
                    .detail(detail)
                    .sort(format!("0_{name}"))
                    .build(),
            );
        }
        items
    }

    fn connections(&self) -> Vec<CompletionItem> {
        sorted(self.program.connections.iter().map(|(name, c)| {
            item(name, CompletionItemKind::MODULE)
                .detail(format!(
                    "connection {name}: {}",
                    c.kind.map_or("?", |k| k.name)
                ))
                .build()
        }))
    }

    fn connector_kinds(&self) -> Vec<CompletionItem> {
        KINDS
            .iter()
            .map(|k| {
                let ops: Vec<&str> = k.operations.iter().map(|o| o.name).collect();
                item(k.name, CompletionItemKind::ENUM_MEMBER)
                    .detail(format!("operations: {}", ops.join(", ")))
                    .build()
            })
            .collect()
    }

    fn maps(&self) -> Vec<CompletionItem> {
        sorted(self.program.maps.iter().map(|(name, m)| {
            item(name, CompletionItemKind::FUNCTION)
                .detail(format!("map ({}) -> {}", m.source, m.target))
                .build()
        }))
    }

    fn flows(&self) -> Vec<CompletionItem> {
        sorted(
            self.program
                .flows
                .keys()
                .map(|name| item(name, CompletionItemKind::EVENT).detail("flow").build()),
        )
    }

    fn environments(&self) -> Vec<CompletionItem> {
        sorted(self.program.environments.keys().map(|name| {
            item(name, CompletionItemKind::MODULE)
                .detail("environment")
                .build()
        }))
    }
}

/// The closing brackets for the `(` and `[` left open since the last `{`, innermost first.
fn open_brackets(text: &str) -> String {
    let mut stack = Vec::new();
    for (token, _) in lex(text) {
        match token {
            Token::LParen => stack.push(')'),
            Token::LBracket => stack.push(']'),
            Token::LBrace => stack.clear(),
            Token::RParen | Token::RBracket => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.iter().rev().collect()
}

/// Whether a line leaves its expression open, so the next line continues it.
fn continues(line: &str) -> bool {
    let ends_with_symbol =
        line.ends_with(['=', '(', ',', '+', '-', '*', '/', '%', '<', '>', '?', '[']);
    let last_word = line.split_whitespace().last().unwrap_or("");
    ends_with_symbol || ["and", "or", "not", "if", "then", "else"].contains(&last_word)
}

fn sorted(items: impl Iterator<Item = CompletionItem>) -> Vec<CompletionItem> {
    let mut items: Vec<CompletionItem> = items.collect();
    items.sort_by(|a, b| a.label.cmp(&b.label));
    items
}

fn keywords(words: &[&str]) -> Vec<CompletionItem> {
    words
        .iter()
        .map(|w| item(w, CompletionItemKind::KEYWORD).build())
        .collect()
}

/// A small builder over [`CompletionItem`].
struct ItemBuilder(CompletionItem);

fn item(label: &str, kind: CompletionItemKind) -> ItemBuilder {
    ItemBuilder(CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        ..CompletionItem::default()
    })
}

impl ItemBuilder {
    fn detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    fn doc(mut self, doc: &str) -> Self {
        self.0.documentation = Some(Documentation::MarkupContent(MarkupContent {
            kind: MarkupKind::Markdown,
            value: doc.to_string(),
        }));
        self
    }

    fn sort(mut self, key: String) -> Self {
        self.0.sort_text = Some(key);
        self
    }

    fn build(self) -> CompletionItem {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::world::{ProjectKey, Snapshot};
    use weft_compiler::analysis::check_files;

    /// Labels offered at the `$0` marker of `source`, in sort order, joined by spaces.
    fn check(source: &str, expect: &str) {
        let offset = source.find("$0").unwrap_or_default();
        let text = source.replace("$0", "");
        let analysis = check_files(&[("t.weft".into(), "t.weft".into(), text.clone())], None);
        let position = LineIndex::new(&text).position(offset);
        let snapshot = Snapshot {
            key: ProjectKey::Single("t.weft".into()),
            generation: 0,
            outcome: Err(String::new()),
            buffers: HashMap::new(),
        };
        let mut items = completion(&snapshot, &analysis, FileId(0), position);
        items.sort_by_key(|i| i.sort_text.clone().unwrap_or_default());
        let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).take(9).collect();
        assert_eq!(labels.join(" "), expect);
    }

    const SCHEMAS: &str = "schema A { name: String, sub: { city: String }, items: [B] }\nschema B { qty: Int, note: String? }\nschema T { out: String, n: Int, opt: String?, extra: Int }\nconnection src: http\n";

    #[test]
    fn fields_after_a_dot() {
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{\n  out = a.$0\n}}"),
            "name sub items",
        );
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{\n  out = a.sub.c$0\n}}"),
            "city",
        );
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{\n  n = sum(a.items, i => i.$0)\n}}"),
            "qty note",
        );
        check(
            &format!("{SCHEMAS}flow f {{\n  read src.$0\n}}"),
            "get post put patch delete",
        );
    }

    #[test]
    fn missing_targets_first() {
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{\n  n = 1\n  $0\n}}"),
            "out extra opt",
        );
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{\n  n = 1\n  o$0\n}}"),
            "out extra opt",
        );
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{\n  n = 1\n  o$0\n  out = a.name\n}}"),
            "extra opt",
        );
    }

    #[test]
    fn incomplete_text() {
        // No closing brace, and text after the cursor that does not parse.
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{\n  out = a.$0"),
            "name sub items",
        );
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{\n  out = a.$0 +\n  n = 1\n}}"),
            "name sub items",
        );
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{\n  out = if a.$0\n}}"),
            "name sub items",
        );
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{\n  out = a.`sub`.$0\n}}"),
            "city",
        );
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{\n  n = count(a.items, i => i.$0\n}}"),
            "qty note",
        );
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{\n  n = 1 +\n  $0\n}}"),
            "a abs add_days all any ceil coalesce concat contains",
        );
    }

    #[test]
    fn expressions_and_blocks() {
        check(
            &format!("{SCHEMAS}map m(a: A) -> T {{\n  out = $0\n}}"),
            "a abs add_days all any ceil coalesce concat contains",
        );
        check(
            "$0",
            "schema enum connection map flow environment test promotion rollback",
        );
        check(&format!("{SCHEMAS}flow f {{\n  read $0\n}}"), "src");
    }

    #[test]
    fn test_statements() {
        check(
            "test \"t\" {\n  $0\n}",
            "mock run expect snapshot property clock",
        );
    }
}
