//! Builds a spanned [`Node`] tree from YAML, using the event stream of saphyr's parser.
//!
//! saphyr's own `MarkedYaml` tree is built, hashed and dropped recursively, which overflows the
//! stack on deeply nested input (10 000 nested block sequences overflow a 2 MiB test thread).
//! Building our own tree from events lets us stop at [`MAX_DEPTH`], bound alias expansion and
//! convert saphyr's character offsets into byte offsets.

use std::collections::HashMap;

use saphyr::Scalar;
use saphyr_parser::{Event, Parser};

use super::document::{DocError, Member, Node, NodeKind, Parsed, MAX_DEPTH};
use crate::source::Span;

/// Most nodes that anchors and aliases may copy in one file: a guard against "billion laughs".
const MAX_COPIED_NODES: usize = 1_000_000;

/// Parses `text` as one YAML document.
pub(crate) fn parse(text: &str) -> Parsed {
    let mut builder = Builder {
        offsets: Offsets::new(text),
        stack: Vec::new(),
        anchors: HashMap::new(),
        copied: 0,
        root: None,
        documents: 0,
        errors: Vec::new(),
    };
    for event in Parser::new_from_str(text) {
        let result = match event {
            Ok((event, span)) => {
                let span = Span::new(
                    builder.offsets.byte(span.start.index()),
                    builder.offsets.byte(span.end.index()),
                );
                builder.event(event, span)
            }
            Err(error) => {
                let at = builder.offsets.byte(error.marker().index());
                let mut error = DocError::new(
                    builder.offsets.char_span(at),
                    error.info().to_string(),
                    "here",
                );
                // Scan errors inside `[...]` or `{...}` are usually a missing closing bracket.
                let open = builder.stack.iter().rev().map(|f| f.start).find(|&start| {
                    matches!(
                        text.get(start..).and_then(|rest| rest.chars().next()),
                        Some('[' | '{')
                    )
                });
                if let Some(start) = open {
                    error = error.with_related(
                        Span::new(start, start + 1),
                        "inside this collection, opened here",
                    );
                }
                Err(error)
            }
        };
        if let Err(error) = result {
            builder.errors.push(error);
            return Parsed {
                root: None,
                errors: builder.errors,
            };
        }
    }
    if builder.root.is_none() {
        builder.errors.push(DocError::new(
            Span::new(0, 0),
            "the file holds no YAML document",
            "empty file",
        ));
    }
    Parsed {
        root: builder.root,
        errors: builder.errors,
    }
}

/// Converts saphyr's character indices into byte offsets.
struct Offsets<'t> {
    text: &'t str,
    ascii: bool,
    /// Byte offset of every `STEP`-th character.
    checkpoints: Vec<usize>,
}

const STEP: usize = 256;

impl<'t> Offsets<'t> {
    fn new(text: &'t str) -> Self {
        let ascii = text.is_ascii();
        let checkpoints = if ascii {
            Vec::new()
        } else {
            text.char_indices()
                .step_by(STEP)
                .map(|(byte, _)| byte)
                .collect()
        };
        Offsets {
            text,
            ascii,
            checkpoints,
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        let Some(&base) = self.checkpoints.get(char_index / STEP) else {
            return self.text.len();
        };
        self.text
            .get(base..)
            .and_then(|rest| rest.char_indices().nth(char_index % STEP))
            .map_or(self.text.len(), |(i, _)| base + i)
    }

    /// The span of the character at byte `at`.
    fn char_span(&self, at: usize) -> Span {
        let len = self
            .text
            .get(at..)
            .and_then(|rest| rest.chars().next())
            .map_or(0, char::len_utf8);
        Span::new(at, at + len)
    }
}

/// A finished node with what its parent needs to know about it.
struct Built {
    node: Node,
    /// The text of a scalar, used when the node is a mapping key.
    raw: Option<String>,
    /// Number of nodes in it.
    count: usize,
    /// Levels of collections in it (0 for a scalar).
    height: usize,
}

enum FrameKind {
    Sequence(Vec<Node>),
    Mapping {
        members: Vec<Member>,
        index: HashMap<String, usize>,
        key: Option<(String, Span)>,
    },
}

/// A collection being built.
struct Frame {
    kind: FrameKind,
    start: usize,
    anchor: usize,
    count: usize,
    height: usize,
}

struct Builder<'t> {
    offsets: Offsets<'t>,
    stack: Vec<Frame>,
    /// Finished anchored nodes, by anchor id, with their node count and height.
    anchors: HashMap<usize, (Node, usize, usize)>,
    copied: usize,
    root: Option<Node>,
    documents: usize,
    /// Problems that do not stop parsing.
    errors: Vec<DocError>,
}

type Result<T> = std::result::Result<T, DocError>;

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<()> {
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(DocError::new(
                        self.offsets.char_span(span.start),
                        "the file holds more than one YAML document; a schema file must hold exactly one",
                        "second document starts here",
                    ));
                }
                Ok(())
            }
            Event::Scalar(value, style, anchor, tag) => {
                let kind =
                    match Scalar::parse_from_cow_and_metadata(value.clone(), style, tag.as_ref()) {
                        Some(Scalar::Null) => NodeKind::Null,
                        Some(Scalar::Boolean(b)) => NodeKind::Bool(b),
                        Some(Scalar::Integer(_) | Scalar::FloatingPoint(_)) => {
                            NodeKind::Number(value.to_string())
                        }
                        Some(Scalar::String(s)) => NodeKind::String(s.into_owned()),
                        None => {
                            let tag = tag
                                .map(|t| format!("{}{}", t.handle, t.suffix))
                                .unwrap_or_default();
                            return Err(DocError::new(
                                span,
                                format!("the value `{value}` does not match its tag `{tag}`"),
                                "bad tagged value",
                            ));
                        }
                    };
                let built = Built {
                    node: Node { kind, span },
                    raw: Some(value.into_owned()),
                    count: 1,
                    height: 0,
                };
                self.complete(built, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                self.open(FrameKind::Sequence(Vec::new()), span, anchor)
            }
            Event::MappingStart(anchor, _) => self.open(
                FrameKind::Mapping {
                    members: Vec::new(),
                    index: HashMap::new(),
                    key: None,
                },
                span,
                anchor,
            ),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err(DocError::new(span, "unbalanced collection", "here"));
                };
                let kind = match frame.kind {
                    FrameKind::Sequence(items) => NodeKind::Array(items),
                    FrameKind::Mapping { members, .. } => NodeKind::Object(members),
                };
                let node = Node {
                    kind,
                    span: Span::new(frame.start, span.end.max(frame.start)),
                };
                let built = Built {
                    node,
                    raw: None,
                    count: frame.count + 1,
                    height: frame.height + 1,
                };
                self.complete(built, frame.anchor)
            }
            Event::Alias(id) => {
                let Some((node, count, height)) = self.anchors.get(&id) else {
                    return Err(DocError::new(
                        span,
                        "alias to an unknown anchor",
                        "unknown alias",
                    ));
                };
                if self.stack.len() + height > MAX_DEPTH {
                    return Err(self.too_deep(span));
                }
                let built = Built {
                    node: node.clone(),
                    raw: scalar_text(node),
                    count: *count,
                    height: *height,
                };
                self.charge(built.count, span)?;
                self.complete(built, 0)
            }
        }
    }

    fn open(&mut self, kind: FrameKind, span: Span, anchor: usize) -> Result<()> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.too_deep(span));
        }
        self.stack.push(Frame {
            kind,
            start: span.start,
            anchor,
            count: 0,
            height: 0,
        });
        Ok(())
    }

    fn too_deep(&self, span: Span) -> DocError {
        DocError::new(
            self.offsets.char_span(span.start),
            format!("the document is nested more than {MAX_DEPTH} levels deep"),
            "too deep",
        )
    }

    /// Counts copied nodes against [`MAX_COPIED_NODES`].
    fn charge(&mut self, count: usize, span: Span) -> Result<()> {
        self.copied = self.copied.saturating_add(count);
        if self.copied > MAX_COPIED_NODES {
            return Err(DocError::new(
                span,
                format!("anchors and aliases expand to more than {MAX_COPIED_NODES} values"),
                "too many aliases",
            ));
        }
        Ok(())
    }

    /// Hands a finished node to its parent.
    fn complete(&mut self, built: Built, anchor: usize) -> Result<()> {
        if anchor > 0 {
            self.charge(built.count, built.node.span)?;
            self.anchors
                .insert(anchor, (built.node.clone(), built.count, built.height));
        }
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(built.node);
            return Ok(());
        };
        frame.count += built.count;
        frame.height = frame.height.max(built.height);
        match &mut frame.kind {
            FrameKind::Sequence(items) => items.push(built.node),
            FrameKind::Mapping {
                members,
                index,
                key,
            } => match key.take() {
                None => {
                    let Some(text) = built.raw else {
                        return Err(DocError::new(
                            built.node.head(),
                            "mapping keys must be plain strings, not collections",
                            "complex key",
                        ));
                    };
                    *key = Some((text, built.node.span));
                }
                Some((key, key_span)) => {
                    let member = Member {
                        key,
                        key_span,
                        value: built.node,
                    };
                    match index.get(&member.key).and_then(|&i| members.get_mut(i)) {
                        Some(first) => {
                            self.errors.push(
                                DocError::new(
                                    key_span,
                                    format!(
                                        "the key {:?} appears twice in this mapping",
                                        member.key
                                    ),
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
                }
            },
        }
        Ok(())
    }
}

/// The text of a scalar node, for use as a key.
fn scalar_text(node: &Node) -> Option<String> {
    match &node.kind {
        NodeKind::Null => Some(String::new()),
        NodeKind::Bool(b) => Some(b.to_string()),
        NodeKind::Number(n) => Some(n.clone()),
        NodeKind::String(s) => Some(s.clone()),
        NodeKind::Array(_) | NodeKind::Object(_) => None,
    }
}
