//! A JSON/YAML document tree whose every node knows its byte span, and JSON pointers into it.

use crate::source::Span;

/// Deepest nesting of arrays and objects a document may have. Real schemas stay far below;
/// the limit keeps recursive passes over the tree within the stack.
pub(crate) const MAX_DEPTH: usize = 128;

/// One value of a parsed document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// What the value is.
    pub kind: NodeKind,
    /// Where it is, in bytes of the file text.
    pub span: Span,
}

/// The kinds of document values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    /// `null` (or an empty YAML value).
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array, in order.
    Array(Vec<Node>),
    /// An object, members in order, keys unique.
    Object(Vec<Member>),
}

/// One `key: value` member of an object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member {
    /// The key, unescaped.
    pub key: String,
    /// Where the key is written.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

/// A problem found while parsing a document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DocError {
    /// What is wrong.
    pub message: String,
    /// The offending text.
    pub span: Span,
    /// The text shown under the span.
    pub label: String,
    /// Related places in the same file.
    pub related: Vec<(Span, String)>,
}

impl DocError {
    /// An error at `span`.
    pub fn new(span: Span, message: impl Into<String>, label: impl Into<String>) -> Self {
        DocError {
            message: message.into(),
            span,
            label: label.into(),
            related: Vec::new(),
        }
    }

    /// Adds a related place.
    pub fn with_related(mut self, span: Span, message: impl Into<String>) -> Self {
        self.related.push((span, message.into()));
        self
    }
}

/// The result of parsing: the tree when the file could be read, and every problem found.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// The root value; `None` when the file is malformed.
    pub root: Option<Node>,
    /// Problems, in file order.
    pub errors: Vec<DocError>,
}

impl Node {
    /// The member with this key, when this is an object.
    pub fn member(&self, key: &str) -> Option<&Member> {
        match &self.kind {
            NodeKind::Object(members) => members.iter().find(|m| m.key == key),
            _ => None,
        }
    }

    /// The value of the member with this key, when this is an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.member(key).map(|m| &m.value)
    }

    /// The string, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The members, when this is an object.
    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.kind {
            NodeKind::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The items, when this is an array.
    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The keys, when this is an object; empty otherwise.
    pub fn keys(&self) -> Vec<&str> {
        self.as_object()
            .map(|ms| ms.iter().map(|m| m.key.as_str()).collect())
            .unwrap_or_default()
    }

    /// What kind of value this is, for messages: "an object", "a string", ...
    pub fn describe(&self) -> String {
        match &self.kind {
            NodeKind::Null => "`null`".to_string(),
            NodeKind::Bool(b) => format!("`{b}`"),
            NodeKind::Number(n) => format!("the number `{n}`"),
            NodeKind::String(s) => format!("the string {}", quote_short(s)),
            NodeKind::Array(_) => "an array".to_string(),
            NodeKind::Object(_) => "an object".to_string(),
        }
    }

    /// A short span at the start of the node, for labels that should not cover a whole object.
    pub fn head(&self) -> Span {
        match &self.kind {
            NodeKind::Array(_) | NodeKind::Object(_) => {
                Span::new(self.span.start, (self.span.start + 1).min(self.span.end))
            }
            _ => self.span,
        }
    }
}

/// A string for a message, quoted and shortened.
pub(crate) fn quote_short(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        format!("{s:?}")
    } else {
        let short: String = s.chars().take(MAX).collect();
        format!("{short:?}…")
    }
}

/// A node found by a JSON pointer.
#[derive(Debug)]
pub(crate) struct Resolved<'a> {
    /// The node.
    pub node: &'a Node,
    /// The span of the last key or index on the way, if any.
    pub key_span: Option<Span>,
}

/// Why a JSON pointer does not resolve.
#[derive(Debug)]
pub(crate) enum PointerError<'a> {
    /// The fragment is not a JSON pointer (it should be empty or start with `/`).
    NotAPointer,
    /// A step names a key or index that is not there.
    Missing {
        /// The node the step looked into.
        parent: &'a Node,
        /// The pointer to `parent`, such as `#/components/schemas`.
        parent_path: String,
        /// The key that is missing.
        segment: String,
        /// The span of the key that led to `parent`, if any.
        parent_key_span: Option<Span>,
    },
}

/// Follows a URI fragment that holds a JSON pointer (`/components/schemas/Order`, or empty for
/// the root), percent-decoding it and unescaping `~0` and `~1` as RFC 6901 says.
pub(crate) fn resolve_pointer<'a>(
    root: &'a Node,
    fragment: &str,
) -> Result<Resolved<'a>, PointerError<'a>> {
    let decoded = percent_decode(fragment);
    if decoded.is_empty() {
        return Ok(Resolved {
            node: root,
            key_span: None,
        });
    }
    let Some(rest) = decoded.strip_prefix('/') else {
        return Err(PointerError::NotAPointer);
    };
    let mut node = root;
    let mut key_span = None;
    let mut path = String::from("#");
    for raw in rest.split('/') {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        let next = match &node.kind {
            NodeKind::Object(members) => members
                .iter()
                .find(|m| m.key == segment)
                .map(|m| (&m.value, m.key_span)),
            NodeKind::Array(items) => parse_index(&segment)
                .and_then(|i| items.get(i))
                .map(|item| (item, item.head())),
            _ => None,
        };
        match next {
            Some((child, span)) => {
                node = child;
                key_span = Some(span);
                path.push('/');
                path.push_str(raw);
            }
            None => {
                return Err(PointerError::Missing {
                    parent: node,
                    parent_path: path,
                    segment,
                    parent_key_span: key_span,
                })
            }
        }
    }
    Ok(Resolved { node, key_span })
}

/// An array index as RFC 6901 writes it: digits, no leading zeros.
fn parse_index(segment: &str) -> Option<usize> {
    let ok = !segment.is_empty()
        && segment.bytes().all(|b| b.is_ascii_digit())
        && (segment == "0" || !segment.starts_with('0'));
    if ok {
        segment.parse().ok()
    } else {
        None
    }
}

/// Decodes `%XX` escapes; malformed escapes are kept as written.
fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(value) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(value);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes a key for use as one JSON pointer segment.
pub(crate) fn escape_segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Keys of an object for a note: backquoted, comma-separated, at most 20.
pub(crate) fn list_names(names: &[&str]) -> String {
    const MAX: usize = 20;
    let mut out = names
        .iter()
        .take(MAX)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > MAX {
        out.push_str(&format!(" and {} more", names.len() - MAX));
    }
    out
}
