//! Converts a JSON Schema (draft-07, 2020-12, or the OpenAPI 3.0/3.1 dialects) into Weft types.
//!
//! Local `$ref`s are inlined; each referenced schema is converted once and shared through the
//! `Rc` inside [`Type::Record`], so a schema that references one definition many times stays
//! linear in time and memory.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::document::{
    escape_segment, list_names, resolve_pointer, Member, Node, NodeKind, PointerError,
};
use super::literal_replacement;
use crate::diagnostic::{suggest, Code, Diagnostic, Severity};
use crate::source::{FileId, Loc, Span};
use crate::types::{EnumType, Field, RecordType, Type};

/// Deepest nesting of schemas, counting each `$ref` followed as one level.
const MAX_SCHEMA_DEPTH: usize = 128;

/// Most types an imported record may expand to once its `$ref`s are inlined; the checker walks
/// expanded types, so a small file whose refs fan out must not become millions of fields.
const MAX_EXPANDED_SIZE: usize = 1_000_000;

/// The JSON Schema type names, for "did you mean".
const TYPE_NAMES: &[&str] = &[
    "string", "integer", "number", "boolean", "array", "object", "null",
];

/// A converted schema.
#[derive(Debug, Clone)]
struct Conv {
    ty: Type,
    /// The object shape, for object schemas (kept so `allOf` can merge them and know which
    /// fields are required).
    shape: Option<Rc<Shape>>,
    /// Number of types in `ty` once every shared record is counted at each use.
    size: usize,
}

impl Conv {
    fn plain(ty: Type) -> Conv {
        Conv {
            ty,
            shape: None,
            size: 1,
        }
    }

    fn error() -> Conv {
        Conv::plain(Type::Error)
    }

    fn nullable_if(self, nullable: bool) -> Conv {
        if nullable {
            Conv {
                ty: self.ty.optional(),
                ..self
            }
        } else {
            self
        }
    }
}

/// The properties of an object schema before required-ness is applied.
#[derive(Debug, Clone, Default)]
struct Shape {
    fields: Vec<ShapeField>,
    /// Every name listed in `required`, including names without a property.
    required: Vec<String>,
    /// Whether the schema lists `properties` (without them it is any object).
    has_properties: bool,
}

#[derive(Debug, Clone)]
struct ShapeField {
    name: String,
    /// The property's type, `Optional` only when the property is nullable.
    ty: Type,
    required: bool,
    doc: Option<String>,
    loc: Loc,
}

impl Shape {
    fn record(&self) -> RecordType {
        let fields = self
            .fields
            .iter()
            .map(|f| Field {
                name: f.name.clone(),
                ty: if f.required {
                    f.ty.clone()
                } else {
                    f.ty.clone().optional()
                },
                doc: f.doc.clone(),
                loc: f.loc,
            })
            .collect();
        RecordType { fields }
    }
}

/// A node's identity: no two distinct nodes of one document share a span.
fn node_key(node: &Node) -> (usize, usize) {
    (node.span.start, node.span.end)
}

/// Converts the schemas of one document.
pub(crate) struct Converter<'a> {
    file: FileId,
    /// The imported file's text, for fix-its.
    text: &'a str,
    /// The imported file's name as written on disk, to recognise `$ref`s to the file itself.
    file_name: &'a str,
    site: Loc,
    root: &'a Node,
    diags: Vec<Diagnostic>,
    /// Converted `$ref` targets, by node.
    cache: HashMap<(usize, usize), Conv>,
    /// The `$ref` targets being converted, outermost first, with the reference as written.
    stack: Vec<((usize, usize), String)>,
    depth: usize,
    reported_depth: bool,
}

impl<'a> Converter<'a> {
    /// A converter for the document `root` of `file`, imported at `site`.
    pub(crate) fn new(
        file: FileId,
        text: &'a str,
        file_name: &'a str,
        site: Loc,
        root: &'a Node,
    ) -> Self {
        Converter {
            file,
            text,
            file_name,
            site,
            root,
            diags: Vec::new(),
            cache: HashMap::new(),
            stack: Vec::new(),
            depth: 0,
            reported_depth: false,
        }
    }

    /// Converts `target`, which must be an object schema. `display` names it (`#` or
    /// `#/$defs/Order`); `head` is where to point when it is not an object.
    pub(crate) fn import(
        mut self,
        target: &'a Node,
        display: &str,
        head: Span,
    ) -> (Option<RecordType>, Vec<Diagnostic>) {
        self.stack.push((node_key(target), display.to_string()));
        let conv = self.convert(target);
        self.stack.pop();
        let record = match conv.ty.unwrap_optional() {
            Type::Record(_) if conv.size > MAX_EXPANDED_SIZE => {
                let d = self
                    .diag(
                        Code::ImportUnsupported,
                        head,
                        format!(
                            "this schema expands to more than {MAX_EXPANDED_SIZE} types once its `$ref`s are inlined"
                        ),
                        "schema too large",
                    )
                    .with_note("every use of a `$ref` is copied into the Weft type; import the large referenced schemas separately");
                self.diags.push(d);
                None
            }
            Type::Record(record) => Some(RecordType::clone(record)),
            Type::Error => None,
            other => {
                let other = other.clone();
                self.not_object(target, display, head, &other);
                None
            }
        };
        (record, self.diags)
    }

    fn diag(
        &self,
        code: Code,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(code, Loc::new(self.file, span), message)
            .with_label(label)
            .with_secondary(self.site, "imported here")
    }

    fn unsupported(&mut self, span: Span, message: impl Into<String>, label: impl Into<String>) {
        let d = self.diag(Code::ImportUnsupported, span, message, label);
        self.diags.push(d);
    }

    fn not_object(&mut self, target: &Node, display: &str, head: Span, ty: &Type) {
        let what = if display == "#" {
            "the root schema".to_string()
        } else {
            format!("`{display}`")
        };
        let is_collection = target.as_object().is_some_and(|members| {
            !members.is_empty()
                && members
                    .iter()
                    .all(|m| matches!(m.value.kind, NodeKind::Object(_)))
                && !members.iter().any(|m| is_schema_keyword(&m.key))
        });
        let mut d = if is_collection {
            let names = target.keys();
            self.diag(
                Code::ImportNotObject,
                head,
                format!("{what} is a collection of schemas, not a schema"),
                "not a schema",
            )
            .with_note(format!(
                "add `/NAME` to the reference to import one of them: {}",
                list_names(&names)
            ))
        } else if *ty == Type::Json {
            self.diag(
                Code::ImportNotObject,
                head,
                format!("{what} has no `properties`: it accepts any JSON value or any object, and a Weft schema needs named fields"),
                "no `properties`",
            )
        } else {
            self.diag(
                Code::ImportNotObject,
                head,
                format!("{what} describes `{ty}` values, not an object with fields"),
                "not an object schema",
            )
        };
        if display == "#" {
            for pointer in ["$defs", "definitions"] {
                let names = self.root.get(pointer).map(Node::keys).unwrap_or_default();
                if !names.is_empty() {
                    d = d.with_note(format!(
                        "this file defines {}; import one with `{}#/{pointer}/NAME`",
                        list_names(&names),
                        self.file_name
                    ));
                }
            }
        }
        self.diags.push(d);
    }

    fn convert(&mut self, node: &'a Node) -> Conv {
        if self.depth >= MAX_SCHEMA_DEPTH {
            if !self.reported_depth {
                self.reported_depth = true;
                self.unsupported(
                    node.head(),
                    format!("schemas are nested more than {MAX_SCHEMA_DEPTH} levels deep here (counting each `$ref` followed)"),
                    "too deep",
                );
            }
            return Conv::error();
        }
        self.depth += 1;
        let conv = match &node.kind {
            NodeKind::Bool(true) => Conv::plain(Type::Json),
            NodeKind::Bool(false) => {
                self.unsupported(
                    node.span,
                    "the schema `false` accepts no value, so it has no Weft type",
                    "`false` schema",
                );
                Conv::error()
            }
            NodeKind::Object(_) => self.schema(node),
            _ => {
                self.unsupported(
                    node.head(),
                    format!(
                        "expected a schema (an object, or `true`), found {}",
                        node.describe()
                    ),
                    "not a schema",
                );
                Conv::error()
            }
        };
        self.depth -= 1;
        conv
    }

    fn schema(&mut self, node: &'a Node) -> Conv {
        let Some(types) = self.type_names(node) else {
            return Conv::error();
        };
        let nullable = matches!(
            node.get("nullable").map(|n| &n.kind),
            Some(NodeKind::Bool(true))
        ) || types.iter().any(|(name, _)| *name == "null");
        let alternatives = ["anyOf", "oneOf"]
            .into_iter()
            .filter_map(|key| node.member(key))
            .find(|m| !only_constraints(&m.value));
        let conv = if let Some(m) = alternatives {
            self.alternatives(m)
        } else if node.member("$ref").is_some() || node.member("allOf").is_some() {
            self.composite(node)
        } else if let Some(m) = node.member("enum") {
            self.enumeration(node, &types, m)
        } else if let Some(m) = node.member("const") {
            self.enumeration(node, &types, m)
        } else {
            self.typed(node, &types)
        };
        conv.nullable_if(nullable)
    }

    /// The names in `type`, with their spans; `None` when `type` is malformed (reported).
    fn type_names(&mut self, node: &'a Node) -> Option<Vec<(&'a str, Span)>> {
        let Some(ty) = node.get("type") else {
            return Some(Vec::new());
        };
        let names = match &ty.kind {
            NodeKind::String(name) => vec![(name.as_str(), ty.span)],
            NodeKind::Array(items) => {
                let names: Option<Vec<_>> = items
                    .iter()
                    .map(|i| i.as_str().map(|s| (s, i.span)))
                    .collect();
                match names {
                    Some(names) => names,
                    None => {
                        self.unsupported(
                            ty.span,
                            "`type` must be a type name or a list of type names",
                            "malformed `type`",
                        );
                        return None;
                    }
                }
            }
            _ => {
                self.unsupported(
                    ty.head(),
                    format!(
                        "`type` must be a type name or a list of type names, found {}",
                        ty.describe()
                    ),
                    "malformed `type`",
                );
                return None;
            }
        };
        for (name, span) in &names {
            if !TYPE_NAMES.contains(name) {
                let mut d = self.diag(
                    Code::ImportUnsupported,
                    *span,
                    format!("unknown type `{name}`"),
                    "unknown type",
                );
                if let Some(better) = suggest(name, TYPE_NAMES.iter().copied()) {
                    d = d.with_note(format!("did you mean `{better}`?"));
                    if let Some(new) = self
                        .text
                        .get(span.start..span.end)
                        .and_then(|old| literal_replacement(old, name, better))
                    {
                        d = d.with_fix(format!("use `{better}`"), Loc::new(self.file, *span), new);
                    }
                }
                d = d.with_note(format!("JSON Schema types are {}", list_names(TYPE_NAMES)));
                self.diags.push(d);
                return None;
            }
        }
        Some(names)
    }

    /// `anyOf` / `oneOf`: an optional when one alternative is `null`, an enum when all are
    /// string constants.
    fn alternatives(&mut self, m: &'a Member) -> Conv {
        let Some(items) = m.value.as_array() else {
            self.unsupported(
                m.value.head(),
                format!("`{}` must be an array of schemas", m.key),
                "not an array",
            );
            return Conv::error();
        };
        let (nulls, others): (Vec<&Node>, Vec<&Node>) =
            items.iter().partition(|n| is_null_schema(n));
        match others.as_slice() {
            [] if nulls.is_empty() => {
                self.unsupported(
                    m.key_span,
                    format!("`{}` is empty: no value is allowed", m.key),
                    "empty",
                );
                Conv::error()
            }
            [] => Conv::plain(Type::Null),
            [one] => self.convert(one).nullable_if(!nulls.is_empty()),
            many => {
                if let Some(variants) = string_constants(many) {
                    let ty = Type::Enum(Rc::new(EnumType {
                        name: None,
                        variants,
                    }));
                    return Conv::plain(ty).nullable_if(!nulls.is_empty());
                }
                let shown: Vec<String> = many.iter().map(|n| describe_schema(n)).collect();
                let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
                let d = self
                    .diag(
                        Code::ImportUnsupported,
                        m.key_span,
                        format!(
                            "`{}` with {} alternatives ({}) is not supported: a Weft field has one type",
                            m.key,
                            many.len(),
                            list_names(&shown)
                        ),
                        "several alternatives",
                    )
                    .with_note(format!(
                        "Weft imports `{}` only as `[X, {{\"type\": \"null\"}}]` (an optional X) or as alternatives that are all string constants (an enum)",
                        m.key
                    ))
                    .with_note("to keep this schema, declare it in Weft and give this field the type `Json`");
                self.diags.push(d);
                Conv::error()
            }
        }
    }

    /// `$ref` and `allOf`, with any `properties` beside them: the parts are merged.
    fn composite(&mut self, node: &'a Node) -> Conv {
        let mut parts: Vec<(Conv, Span)> = Vec::new();
        if let Some(m) = node.member("$ref") {
            parts.push((self.reference(m), m.value.span));
        }
        let mut at = node.head();
        if let Some(m) = node.member("allOf") {
            at = m.key_span;
            let Some(items) = m.value.as_array() else {
                self.unsupported(
                    m.value.head(),
                    "`allOf` must be an array of schemas",
                    "not an array",
                );
                return Conv::error();
            };
            for item in items {
                parts.push((self.convert(item), item.head()));
            }
        }
        if node.member("properties").is_some() || node.member("required").is_some() {
            parts.push((self.object(node), node.head()));
        }
        if parts.len() == 1 {
            if let Some((conv, _)) = parts.pop() {
                return conv;
            }
        }
        self.merge(parts, at)
    }

    /// Merges `allOf` parts: object schemas field by field, other schemas when they agree.
    fn merge(&mut self, parts: Vec<(Conv, Span)>, at: Span) -> Conv {
        let mut shapes: Vec<Rc<Shape>> = Vec::new();
        let mut others: Vec<Type> = Vec::new();
        let mut size: usize = 1;
        for (conv, _) in parts {
            size = size.saturating_add(conv.size);
            if conv.ty.is_error() {
                return Conv::error();
            }
            match conv.shape {
                Some(shape) => shapes.push(shape),
                // Parts that only constrain values (`{"minLength": 1}`) add nothing to the type.
                None if conv.ty == Type::Json => {}
                None => others.push(conv.ty),
            }
        }
        if let Some(first) = others.first() {
            let base = first.unwrap_optional();
            let agree = others.iter().all(|t| t.unwrap_optional() == base);
            if shapes.is_empty() && agree {
                let ty = if others.iter().all(Type::is_optional) {
                    first.clone()
                } else {
                    base.clone()
                };
                return Conv {
                    ty,
                    shape: None,
                    size,
                };
            }
            let kinds: Vec<String> = others.iter().map(ToString::to_string).collect();
            let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
            let what = if shapes.is_empty() {
                "schemas of different types"
            } else {
                "object schemas with"
            };
            let d = self
                .diag(
                    Code::ImportUnsupported,
                    at,
                    format!(
                        "`allOf` combines {what} {}; Weft can only merge object schemas",
                        list_names(&kinds)
                    ),
                    "cannot merge",
                )
                .with_note("declare this schema in Weft instead");
            self.diags.push(d);
            return Conv::error();
        }
        if shapes.is_empty() {
            return Conv {
                ty: Type::Json,
                shape: None,
                size,
            };
        }
        let mut merged = Shape::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut required: HashSet<String> = HashSet::new();
        for shape in &shapes {
            merged.has_properties |= shape.has_properties;
            for field in &shape.fields {
                match index
                    .get(&field.name)
                    .and_then(|&i| merged.fields.get_mut(i))
                {
                    Some(existing) => {
                        existing.required |= field.required;
                        if existing.doc.is_none() {
                            existing.doc.clone_from(&field.doc);
                        }
                        match merge_types(&existing.ty, &field.ty) {
                            Some(ty) => existing.ty = ty,
                            None => {
                                let d = Diagnostic::new(
                                    Code::ImportUnsupported,
                                    field.loc,
                                    format!(
                                        "property `{}` is `{}` here but `{}` in another `allOf` schema",
                                        field.name,
                                        field.ty.unwrap_optional(),
                                        existing.ty.unwrap_optional()
                                    ),
                                    )
                                .with_label("conflicting type")
                                .with_secondary(existing.loc, "declared here too")
                                .with_secondary(self.site, "imported here");
                                self.diags.push(d);
                                existing.ty = Type::Error;
                            }
                        }
                    }
                    None => {
                        index.insert(field.name.clone(), merged.fields.len());
                        merged.fields.push(field.clone());
                    }
                }
            }
            for name in &shape.required {
                if required.insert(name.clone()) {
                    merged.required.push(name.clone());
                }
            }
        }
        for field in &mut merged.fields {
            field.required |= required.contains(&field.name);
        }
        let ty = if merged.has_properties {
            Type::Record(Rc::new(merged.record()))
        } else {
            Type::Json
        };
        Conv {
            ty,
            shape: Some(Rc::new(merged)),
            size,
        }
    }

    /// Follows a `$ref`.
    fn reference(&mut self, m: &'a Member) -> Conv {
        let Some(text) = m.value.as_str() else {
            self.unsupported(
                m.value.head(),
                format!("`$ref` must be a string, found {}", m.value.describe()),
                "not a string",
            );
            return Conv::error();
        };
        let (document, fragment) = text.split_once('#').unwrap_or((text, ""));
        if !document.is_empty() && !self.is_this_document(document) {
            let d = self
                .diag(
                    Code::ImportUnsupported,
                    m.value.span,
                    format!("`$ref` to another file (`{document}`) is not supported: only references within the same file, starting with `#`, are"),
                    "reference to another file",
                )
                .with_note(format!(
                    "import that schema separately (`schema Name from \"{text}\"`, with the path relative to the .weft file) and declare this schema in Weft using it, or copy the definition into this file's `$defs`"
                ));
            self.diags.push(d);
            return Conv::error();
        }
        if !fragment.is_empty() && !fragment.starts_with('/') {
            let d = self
                .diag(
                    Code::ImportUnsupported,
                    m.value.span,
                    format!("`$ref` to the anchor `#{fragment}` is not supported"),
                    "anchor reference",
                )
                .with_note("use a JSON pointer such as `#/$defs/Name` instead");
            self.diags.push(d);
            return Conv::error();
        }
        match resolve_pointer(self.root, fragment) {
            Ok(resolved) => self.target(resolved.node, text, m.value.span),
            Err(PointerError::NotAPointer) => Conv::error(),
            Err(PointerError::Missing {
                parent,
                parent_path,
                segment,
                parent_key_span,
            }) => {
                self.bad_ref(
                    m,
                    text,
                    document,
                    fragment,
                    parent,
                    &parent_path,
                    &segment,
                    parent_key_span,
                );
                Conv::error()
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn bad_ref(
        &mut self,
        m: &Member,
        text: &str,
        document: &str,
        fragment: &str,
        parent: &Node,
        parent_path: &str,
        segment: &str,
        parent_key_span: Option<Span>,
    ) {
        let names = parent.keys();
        let message = match &parent.kind {
            NodeKind::Object(_) | NodeKind::Array(_) => {
                format!("`$ref` `{text}` does not resolve: `{parent_path}` has no `{segment}`")
            }
            _ => format!(
                "`$ref` `{text}` does not resolve: `{parent_path}` is {}",
                parent.describe()
            ),
        };
        let mut d = self.diag(
            Code::ImportBadRef,
            m.value.span,
            message,
            "unresolved reference",
        );
        if let Some(better) = suggest(segment, names.iter().copied()) {
            d = d.with_note(format!("did you mean `{better}`?"));
            let corrected = corrected_pointer(fragment, parent_path, better);
            let corrected = format!("{document}#{corrected}");
            if let Some(new) = self
                .text
                .get(m.value.span.start..m.value.span.end)
                .and_then(|old| literal_replacement(old, text, &corrected))
            {
                d = d.with_fix(
                    format!("use `{corrected}`"),
                    Loc::new(self.file, m.value.span),
                    new,
                );
            }
        }
        if !names.is_empty() {
            d = d.with_note(format!("`{parent_path}` has {}", list_names(&names)));
        }
        if let Some(span) = parent_key_span {
            d = d.with_secondary(
                Loc::new(self.file, span),
                format!("`{parent_path}` is here"),
            );
        }
        self.diags.push(d);
    }

    /// Whether the file part of a `$ref` names the imported file itself.
    fn is_this_document(&self, document: &str) -> bool {
        let base = std::path::Path::new(self.file_name)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        document.trim_start_matches("./") == base
            || self.root.get("$id").and_then(Node::as_str) == Some(document)
    }

    /// Converts the target of a `$ref`, once, catching cycles.
    fn target(&mut self, node: &'a Node, text: &str, ref_span: Span) -> Conv {
        let key = node_key(node);
        if let Some(start) = self.stack.iter().position(|(k, _)| *k == key) {
            let mut chain: Vec<String> = self
                .stack
                .iter()
                .skip(start)
                .map(|(_, name)| format!("`{name}`"))
                .collect();
            chain.push(format!("`{text}`"));
            let d = self
                .diag(
                    Code::ImportCycle,
                    ref_span,
                    format!("recursive schema: {}", chain.join(" → ")),
                    "refers back to a schema that contains it",
                )
                .with_note("an imported schema is inlined into one Weft type, so it cannot contain itself")
                .with_note("declare this schema in Weft, where a schema may contain itself through a list or an optional");
            self.diags.push(d);
            return Conv::error();
        }
        if let Some(conv) = self.cache.get(&key) {
            return conv.clone();
        }
        self.stack.push((key, text.to_string()));
        let conv = self.convert(node);
        self.stack.pop();
        self.cache.insert(key, conv.clone());
        conv
    }

    /// `enum` or `const` of the schema `node`: strings make an enum; other values keep
    /// their base type, with a warning.
    fn enumeration(&mut self, node: &'a Node, types: &[(&str, Span)], m: &'a Member) -> Conv {
        let values: &[Node] = if m.key == "const" {
            std::slice::from_ref(&m.value)
        } else if let Some(values) = m.value.as_array() {
            values
        } else {
            self.unsupported(
                m.value.head(),
                format!("`enum` must be an array, found {}", m.value.describe()),
                "not an array",
            );
            return Conv::error();
        };
        let mut variants: Vec<String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut null = false;
        let mut other: Option<&Node> = None;
        for value in values {
            match &value.kind {
                NodeKind::String(s) => {
                    if seen.insert(s) {
                        variants.push(s.clone());
                    }
                }
                NodeKind::Null => null = true,
                _ => {
                    other.get_or_insert(value);
                }
            }
        }
        if let Some(bad) = other {
            let base = enum_base_type(types, values, number_type(node));
            let mut d = self
                .diag(
                    Code::ImportUnsupported,
                    bad.head(),
                    format!(
                        "`{}` value {} is not a string; Weft enums hold strings only, so this is imported as `{base}` and its allowed values are not checked",
                        m.key,
                        match &bad.kind {
                            NodeKind::Number(n) => format!("`{n}`"),
                            _ => bad.describe(),
                        }
                    ),
                    "not a string",
                );
            d.severity = Severity::Warning;
            self.diags.push(d);
            return Conv::plain(base).nullable_if(null);
        }
        if variants.is_empty() {
            if null {
                return Conv::plain(Type::Null);
            }
            self.unsupported(
                m.value.head(),
                "`enum` is empty: no value is allowed",
                "empty enum",
            );
            return Conv::error();
        }
        Conv::plain(Type::Enum(Rc::new(EnumType {
            name: None,
            variants,
        })))
        .nullable_if(null)
    }

    /// A schema without combinators, by its `type`.
    fn typed(&mut self, node: &'a Node, types: &[(&'a str, Span)]) -> Conv {
        let non_null: Vec<(&str, Span)> = types
            .iter()
            .copied()
            .filter(|(name, _)| *name != "null")
            .collect();
        match non_null.as_slice() {
            [] if !types.is_empty() => Conv::plain(Type::Null),
            [] => {
                if node.member("properties").is_some() || node.member("required").is_some() {
                    self.object(node)
                } else if node.member("items").is_some() || node.member("prefixItems").is_some() {
                    self.array(node)
                } else {
                    Conv::plain(Type::Json)
                }
            }
            [(name, _)] => match *name {
                "string" => Conv::plain(match node.get("format").and_then(Node::as_str) {
                    Some("date") => Type::Date,
                    Some("date-time") => Type::Timestamp,
                    _ => Type::String,
                }),
                "integer" => Conv::plain(Type::Int),
                "number" => Conv::plain(number_type(node)),
                "boolean" => Conv::plain(Type::Bool),
                "array" => self.array(node),
                _ => self.object(node),
            },
            many => {
                let names: Vec<&str> = many.iter().map(|(n, _)| *n).collect();
                let span = node.member("type").map_or(node.head(), |m| m.value.span);
                let d = self
                    .diag(
                        Code::ImportUnsupported,
                        span,
                        format!("a value of several types ({}) has no Weft type", list_names(&names)),
                        "several types",
                    )
                    .with_note("Weft imports `\"type\": [T, \"null\"]` as an optional T; for anything else declare the schema in Weft and use `Json` here");
                self.diags.push(d);
                Conv::error()
            }
        }
    }

    fn array(&mut self, node: &'a Node) -> Conv {
        let tuple = node.member("prefixItems").or_else(|| {
            node.member("items")
                .filter(|m| m.value.as_array().is_some())
        });
        if let Some(m) = tuple {
            let d = self
                .diag(
                    Code::ImportUnsupported,
                    m.key_span,
                    "tuple arrays (a schema per position) are not supported: a Weft list has one item type",
                    "tuple",
                )
                .with_note("use `\"items\": {...}` with one schema for every item");
            self.diags.push(d);
            return Conv::error();
        }
        match node.get("items") {
            None => Conv {
                ty: Type::List(Box::new(Type::Json)),
                shape: None,
                size: 2,
            },
            Some(items) => {
                let item = self.convert(items);
                if item.ty.is_error() {
                    return Conv::error();
                }
                Conv {
                    ty: Type::List(Box::new(item.ty)),
                    shape: None,
                    size: item.size.saturating_add(1),
                }
            }
        }
    }

    /// An object schema: a record when it lists `properties`, any JSON value otherwise.
    fn object(&mut self, node: &'a Node) -> Conv {
        let mut required: Vec<String> = Vec::new();
        if let Some(list) = node.get("required").and_then(Node::as_array) {
            let mut seen = HashSet::new();
            for name in list.iter().filter_map(Node::as_str) {
                if seen.insert(name) {
                    required.push(name.to_string());
                }
            }
        }
        let Some(properties) = node.member("properties") else {
            let shape = Shape {
                fields: Vec::new(),
                required,
                has_properties: false,
            };
            return Conv {
                ty: Type::Json,
                shape: Some(Rc::new(shape)),
                size: 1,
            };
        };
        let Some(members) = properties.value.as_object() else {
            self.unsupported(
                properties.value.head(),
                format!(
                    "`properties` must be an object, found {}",
                    properties.value.describe()
                ),
                "not an object",
            );
            return Conv::error();
        };
        let required_set: HashSet<&str> = required.iter().map(String::as_str).collect();
        let mut size: usize = 1;
        let mut fields = Vec::with_capacity(members.len());
        for member in members {
            let conv = self.convert(&member.value);
            size = size.saturating_add(conv.size);
            fields.push(ShapeField {
                name: member.key.clone(),
                ty: conv.ty,
                required: required_set.contains(member.key.as_str()),
                doc: self.doc(&member.value),
                loc: Loc::new(self.file, member.key_span),
            });
        }
        let shape = Shape {
            fields,
            required,
            has_properties: true,
        };
        Conv {
            ty: Type::Record(Rc::new(shape.record())),
            shape: Some(Rc::new(shape)),
            size,
        }
    }

    /// The description of a property: its own, or that of the schema it refers to.
    fn doc(&self, node: &Node) -> Option<String> {
        let own = |n: &Node| {
            n.get("description")
                .or_else(|| n.get("title"))
                .and_then(Node::as_str)
                .map(str::to_string)
        };
        own(node).or_else(|| {
            let fragment = node.get("$ref")?.as_str()?.strip_prefix('#')?;
            own(resolve_pointer(self.root, fragment).ok()?.node)
        })
    }
}

/// Whether a key is a JSON Schema keyword that makes an object a schema.
fn is_schema_keyword(key: &str) -> bool {
    matches!(
        key,
        "type"
            | "properties"
            | "$ref"
            | "allOf"
            | "anyOf"
            | "oneOf"
            | "enum"
            | "const"
            | "items"
            | "required"
            | "$defs"
            | "definitions"
            | "$schema"
            | "$id"
    )
}

/// Keywords that say what type a value has, as opposed to constraining values of a type.
const TYPE_KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "$ref",
    "allOf",
    "anyOf",
    "oneOf",
    "enum",
    "const",
    "items",
    "prefixItems",
    "nullable",
];

/// Whether `anyOf`/`oneOf` alternatives only constrain values, as in
/// `"anyOf": [{"required": ["email"]}, {"required": ["phone"]}]`: they add nothing to the type.
fn only_constraints(alternatives: &Node) -> bool {
    alternatives.as_array().is_some_and(|items| {
        !items.is_empty()
            && items.iter().all(|item| {
                item.as_object().is_some_and(|members| {
                    !members
                        .iter()
                        .any(|m| TYPE_KEYWORDS.contains(&m.key.as_str()))
                })
            })
    })
}

/// `{"type": "null"}`, `{"enum": [null]}` or `{"const": null}`.
fn is_null_schema(node: &Node) -> bool {
    let only_null = |n: Option<&Node>| match n.map(|n| &n.kind) {
        Some(NodeKind::String(s)) => s == "null",
        Some(NodeKind::Array(items)) => {
            items.len() == 1 && items.iter().all(|i| i.as_str() == Some("null"))
        }
        _ => false,
    };
    only_null(node.get("type"))
        || matches!(
            node.get("enum").and_then(Node::as_array),
            Some([Node {
                kind: NodeKind::Null,
                ..
            }])
        )
        || matches!(node.get("const").map(|n| &n.kind), Some(NodeKind::Null))
}

/// The strings of alternatives that are all `{"const": "x"}` or `{"enum": ["x", ...]}`.
fn string_constants(alternatives: &[&Node]) -> Option<Vec<String>> {
    let mut variants = Vec::new();
    let mut seen = HashSet::new();
    for alternative in alternatives {
        let values: Vec<&str> = if let Some(c) = alternative.get("const") {
            vec![c.as_str()?]
        } else {
            alternative
                .get("enum")?
                .as_array()?
                .iter()
                .map(Node::as_str)
                .collect::<Option<_>>()?
        };
        for value in values {
            if seen.insert(value) {
                variants.push(value.to_string());
            }
        }
    }
    Some(variants)
}

/// A short name for an alternative in a message: the `$ref`'s last segment or the type.
fn describe_schema(node: &Node) -> String {
    if let Some(r) = node.get("$ref").and_then(Node::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    match node.get("type").map(|t| &t.kind) {
        Some(NodeKind::String(t)) => t.clone(),
        _ if node.get("properties").is_some() => "object".to_string(),
        _ => "schema".to_string(),
    }
}

/// `"type": "number"`: an exact Decimal, unless the OpenAPI `format` says the number is
/// a binary floating-point one (`double`, `float`).
fn number_type(node: &Node) -> Type {
    match node.get("format").and_then(Node::as_str) {
        Some("double" | "float") => Type::Float,
        _ => Type::Decimal,
    }
}

/// The type of an enum or const whose values are not all strings; `number` is what a
/// declared `"type": "number"` means here.
fn enum_base_type(types: &[(&str, Span)], values: &[Node], number: Type) -> Type {
    let declared: Vec<&str> = types
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| *n != "null")
        .collect();
    match declared.as_slice() {
        ["integer"] => return Type::Int,
        ["number"] => return number,
        ["boolean"] => return Type::Bool,
        ["string"] => return Type::String,
        _ => {}
    }
    let non_null: Vec<&Node> = values
        .iter()
        .filter(|v| !matches!(v.kind, NodeKind::Null))
        .collect();
    let numbers: Option<Vec<&str>> = non_null
        .iter()
        .map(|v| match &v.kind {
            NodeKind::Number(n) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    if let Some(numbers) = numbers {
        let integral = numbers.iter().all(|n| !n.contains(['.', 'e', 'E']));
        return if integral { Type::Int } else { Type::Decimal };
    }
    if non_null.iter().all(|v| matches!(v.kind, NodeKind::Bool(_))) {
        return Type::Bool;
    }
    Type::Json
}

/// The type of a property declared in two `allOf` parts, if they agree.
fn merge_types(a: &Type, b: &Type) -> Option<Type> {
    let (inner_a, inner_b) = (a.unwrap_optional(), b.unwrap_optional());
    let base = if *inner_a == Type::Json {
        inner_b.clone()
    } else if *inner_b == Type::Json || inner_a == inner_b {
        inner_a.clone()
    } else {
        return None;
    };
    // `allOf` intersects: the property may be null only if every part allows it.
    Some(if a.is_optional() && b.is_optional() {
        base.optional()
    } else {
        base
    })
}

/// `fragment` with the segment after `parent_path` replaced by `better`.
pub(super) fn corrected_pointer(fragment: &str, parent_path: &str, better: &str) -> String {
    let index = parent_path.matches('/').count();
    let segments: Vec<String> = fragment
        .split('/')
        .skip(1)
        .enumerate()
        .map(|(i, s)| {
            if i == index {
                escape_segment(better)
            } else {
                s.to_string()
            }
        })
        .collect();
    format!("/{}", segments.join("/"))
}
