//! Schemas, connections and maps: the declarations that define data.

use std::collections::{BTreeMap, BTreeSet};

use weft_runtime::ir::{Field, Map, Program, Type};

use super::expr::{compare, literal_type_change, same_type, same_variants, Sameness};
use super::{changed_from_to, Action, Class, Cx, Origin};

/// Where a type sits, for ids and summaries.
struct Site<'a> {
    /// Id of the type itself (`schema.S`, `map.M.source`).
    id: String,
    /// How summaries name a field in it: `S` gives `field S.a`.
    label: String,
    /// How summaries name the type itself, when it changes whole.
    whole: String,
    origin: Origin<'a>,
}

impl Site<'_> {
    fn id(&self, path: &[String]) -> String {
        if path.is_empty() {
            self.id.clone()
        } else {
            format!("{}.field.{}", self.id, path.join("."))
        }
    }

    fn describe(&self, path: &[String]) -> String {
        if path.is_empty() {
            self.whole.clone()
        } else {
            format!("field {}.{}", self.label, path.join("."))
        }
    }
}

/// An enum with its variants, named or not: `enum Tier { "GOLD", "SILVER" }`.
fn variants_text(ty: &Type) -> String {
    match ty {
        Type::Enum { name, variants } => {
            let anonymous = Type::Enum {
                name: None,
                variants: variants.clone(),
            };
            match name {
                Some(name) => format!("{}", anonymous).replacen("enum", &format!("enum {name}"), 1),
                None => anonymous.to_string(),
            }
        }
        other => other.to_string(),
    }
}

fn optional(ty: &Type) -> bool {
    matches!(ty, Type::Optional { .. })
}

/// Whether two types are worth comparing part by part rather than reporting whole.
fn descendable(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Record { .. }, Type::Record { .. }) => true,
        (Type::Enum { name: x, .. }, Type::Enum { name: y, .. }) => x == y,
        (Type::List { item: x }, Type::List { item: y })
        | (Type::Optional { inner: x }, Type::Optional { inner: y }) => descendable(x, y),
        _ => false,
    }
}

/// Compares the types at one place: field by field for records, variant by variant
/// for enums, whole otherwise.
fn compare_type(cx: &mut Cx<'_>, site: &Site<'_>, path: &[String], old: &Type, new: &Type) {
    if same_type(old, new) {
        return;
    }
    match (old, new) {
        (Type::Optional { inner: a }, Type::Optional { inner: b })
        | (Type::List { item: a }, Type::List { item: b })
            if descendable(a, b) =>
        {
            compare_type(cx, site, path, a, b);
        }
        (Type::Optional { inner }, _) if same_type(inner, new) => cx.push(
            site.id(path),
            Action::Modified,
            Class::Breaking,
            format!("{} is now required", site.describe(path)),
            Some(old.to_string()),
            Some(new.to_string()),
            site.origin,
        ),
        (_, Type::Optional { inner }) if same_type(old, inner) => cx.push(
            site.id(path),
            Action::Modified,
            Class::Behaviour,
            format!("{} is now optional", site.describe(path)),
            Some(old.to_string()),
            Some(new.to_string()),
            site.origin,
        ),
        (Type::Record { fields: a }, Type::Record { fields: b }) => {
            compare_fields(cx, site, path, a, b);
        }
        (Type::Enum { variants: a, .. }, Type::Enum { variants: b, .. })
            if descendable(old, new) && !same_variants(a, b) =>
        {
            let (before, after) = (variants_text(old), variants_text(new));
            let a: BTreeSet<&String> = a.iter().collect();
            let b: BTreeSet<&String> = b.iter().collect();
            let id = site.id(path);
            for gone in a.difference(&b) {
                cx.push(
                    format!("{id}.variant.{gone}"),
                    Action::Removed,
                    Class::Breaking,
                    format!("variant \"{gone}\" removed from {}", site.describe(path)),
                    Some(before.clone()),
                    Some(after.clone()),
                    site.origin,
                );
            }
            for added in b.difference(&a) {
                cx.push(
                    format!("{id}.variant.{added}"),
                    Action::Added,
                    Class::Behaviour,
                    format!("variant \"{added}\" added to {}", site.describe(path)),
                    Some(before.clone()),
                    Some(after.clone()),
                    site.origin,
                );
            }
        }
        _ => {
            let (before, after) = (old.to_string(), new.to_string());
            let what = if path.is_empty() {
                site.whole.clone()
            } else {
                format!("type of {}", site.describe(path))
            };
            let summary = if before == after {
                // Same spelling, different meaning (a named enum changed inside a list,
                // say): the values show the difference.
                format!("{what} changed")
            } else {
                format!("{what} {}", changed_from_to(&before, &after))
            };
            cx.push(
                site.id(path),
                Action::Modified,
                Class::Breaking,
                summary,
                Some(before),
                Some(after),
                site.origin,
            );
        }
    }
}

/// Compares two field lists (sorted by name) of records at `path`.
fn compare_fields(cx: &mut Cx<'_>, site: &Site<'_>, path: &[String], old: &[Field], new: &[Field]) {
    let old: BTreeMap<&str, &Field> = old.iter().map(|f| (f.name.as_str(), f)).collect();
    let new: BTreeMap<&str, &Field> = new.iter().map(|f| (f.name.as_str(), f)).collect();
    let names: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    for name in names {
        let mut here = path.to_vec();
        here.push(name.to_string());
        match (old.get(name), new.get(name)) {
            (Some(a), None) => cx.push(
                site.id(&here),
                Action::Removed,
                Class::Breaking,
                format!("{} removed", site.describe(&here)),
                Some(a.ty.to_string()),
                None,
                site.origin,
            ),
            (None, Some(b)) => {
                let (class, kind) = if optional(&b.ty) {
                    (Class::Behaviour, "optional")
                } else {
                    (Class::Breaking, "required")
                };
                cx.push(
                    site.id(&here),
                    Action::Added,
                    class,
                    format!("{kind} {} added", site.describe(&here)),
                    None,
                    Some(b.ty.to_string()),
                    site.origin,
                );
            }
            (Some(a), Some(b)) => {
                if a.doc != b.doc {
                    doc_change(
                        cx,
                        format!("{}.doc", site.id(&here)),
                        &format!("doc of {}", site.describe(&here)),
                        a.doc.as_deref(),
                        b.doc.as_deref(),
                        site.origin,
                    );
                }
                compare_type(cx, site, &here, &a.ty, &b.ty);
            }
            (None, None) => {}
        }
    }
}

/// A doc comment added, removed or changed: always cosmetic.
pub(super) fn doc_change(
    cx: &mut Cx<'_>,
    id: String,
    what: &str,
    old: Option<&str>,
    new: Option<&str>,
    origin: Origin<'_>,
) {
    let (action, verb) = match (old, new) {
        (None, Some(_)) => (Action::Added, "added"),
        (Some(_), None) => (Action::Removed, "removed"),
        _ => (Action::Modified, "changed"),
    };
    cx.push(
        id,
        action,
        Class::Cosmetic,
        format!("{what} {verb}"),
        old.map(str::to_string),
        new.map(str::to_string),
        origin,
    );
}

/// Schemas: added, removed, doc, fields.
pub(super) fn schemas(cx: &mut Cx<'_>, old: &Program, new: &Program) {
    let names: BTreeSet<&String> = old.schemas.keys().chain(new.schemas.keys()).collect();
    for name in names {
        let origin = Origin::Schema(name);
        let id = format!("schema.{name}");
        // One field per line: imported contracts can have dozens.
        let record = |fields: &[Field]| {
            fields
                .iter()
                .map(|f| {
                    let one = Type::Record {
                        fields: vec![f.clone()],
                    }
                    .to_string();
                    one.strip_prefix("{ ")
                        .and_then(|o| o.strip_suffix(" }"))
                        .unwrap_or(&one)
                        .to_string()
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        if let Some((a, b)) = cx.presence(
            id.clone(),
            &format!("schema {name}"),
            (old.schemas.get(name), new.schemas.get(name)),
            (Class::Breaking, Class::Behaviour),
            |a| record(&a.fields),
            origin,
        ) {
            if a.doc != b.doc {
                doc_change(
                    cx,
                    format!("{id}.doc"),
                    &format!("doc of schema {name}"),
                    a.doc.as_deref(),
                    b.doc.as_deref(),
                    origin,
                );
            }
            let site = Site {
                id,
                label: name.clone(),
                whole: format!("schema {name}"),
                origin,
            };
            compare_fields(cx, &site, &[], &a.fields, &b.fields);
        }
    }
}

/// Connections: added, removed, kind.
pub(super) fn connections(cx: &mut Cx<'_>, old: &Program, new: &Program) {
    let names: BTreeSet<&String> = old
        .connections
        .keys()
        .chain(new.connections.keys())
        .collect();
    for name in names {
        let origin = Origin::Connection(name);
        let id = format!("connection.{name}");
        match (old.connections.get(name), new.connections.get(name)) {
            (Some(a), None) => cx.push(
                id,
                Action::Removed,
                Class::Breaking,
                format!("connection {name} removed"),
                Some(format!("connection {name}: {}", a.kind)),
                None,
                origin,
            ),
            (None, Some(b)) => cx.push(
                id,
                Action::Added,
                Class::Behaviour,
                format!("connection {name} added"),
                None,
                Some(format!("connection {name}: {}", b.kind)),
                origin,
            ),
            (Some(a), Some(b)) if a.kind != b.kind => cx.push(
                id,
                Action::Modified,
                Class::Breaking,
                format!(
                    "connection {name} is now {} (was {}): every binding must change",
                    b.kind, a.kind
                ),
                Some(format!("connection {name}: {}", a.kind)),
                Some(format!("connection {name}: {}", b.kind)),
                origin,
            ),
            _ => {}
        }
    }
}

fn signature(name: &str, map: &Map) -> String {
    format!(
        "map {name}({}: {}) -> {}",
        map.param, map.source, map.target
    )
}

/// How summaries name a map's target fields: the target schema, or the map.
fn target_label(name: &str, map: &Map) -> String {
    match &map.target {
        Type::Schema { name } => name.clone(),
        _ => name.to_string(),
    }
}

/// Maps: added, removed, doc, parameter, signature, assignments.
pub(super) fn maps(cx: &mut Cx<'_>, old: &Program, new: &Program) {
    let names: BTreeSet<&String> = old.maps.keys().chain(new.maps.keys()).collect();
    for name in names {
        let origin = Origin::Map(name);
        let id = format!("map.{name}");
        if let Some((a, b)) = cx.presence(
            id,
            &format!("map {name}"),
            (old.maps.get(name), new.maps.get(name)),
            (Class::Behaviour, Class::Behaviour),
            |a| signature(name, a),
            origin,
        ) {
            compare_maps(cx, name, a, b);
        }
    }
}

fn compare_maps(cx: &mut Cx<'_>, name: &str, old: &Map, new: &Map) {
    let origin = Origin::Map(name);
    if old.doc != new.doc {
        doc_change(
            cx,
            format!("map.{name}.doc"),
            &format!("doc of map {name}"),
            old.doc.as_deref(),
            new.doc.as_deref(),
            origin,
        );
    }
    if old.param != new.param {
        cx.push(
            format!("map.{name}.param"),
            Action::Modified,
            Class::Cosmetic,
            format!(
                "parameter of map {name} renamed from {} to {}",
                old.param, new.param
            ),
            Some(old.param.clone()),
            Some(new.param.clone()),
            origin,
        );
    }
    for (part, a, b) in [
        ("source", &old.source, &new.source),
        ("target", &old.target, &new.target),
    ] {
        let site = Site {
            id: format!("map.{name}.{part}"),
            label: format!("{name}({part})"),
            whole: format!("{part} type of map {name}"),
            origin,
        };
        compare_type(cx, &site, &[], a, b);
    }
    let label = target_label(name, new);
    let old_fields: BTreeMap<String, _> = old
        .fields
        .iter()
        .map(|f| (f.target.join("."), &f.value))
        .collect();
    let new_fields: BTreeMap<String, _> = new
        .fields
        .iter()
        .map(|f| (f.target.join("."), &f.value))
        .collect();
    let paths: BTreeSet<&String> = old_fields.keys().chain(new_fields.keys()).collect();
    for path in paths {
        let id = format!("map.{name}.field.{path}");
        if let Some((a, b)) = cx.presence(
            id.clone(),
            &format!("mapping {label}.{path}"),
            (old_fields.get(path), new_fields.get(path)),
            (Class::Behaviour, Class::Behaviour),
            |a| a.to_string(),
            origin,
        ) {
            let mut bound = vec![(old.param.clone(), new.param.clone())];
            let (before, after) = (a.to_string(), b.to_string());
            match compare(a, b, &mut bound) {
                Sameness::Same => {}
                Sameness::Renamed => cx.push(
                    id,
                    Action::Modified,
                    Class::Cosmetic,
                    format!("mapping {label}.{path}: a lambda parameter was renamed"),
                    Some(before),
                    Some(after),
                    origin,
                ),
                Sameness::Different => cx.push(
                    id,
                    Action::Modified,
                    Class::Behaviour,
                    match literal_type_change(a, b).filter(|_| before == after) {
                        // Same text, other meaning: say what changed.
                        Some(why) => format!("mapping {label}.{path}: {why}"),
                        None => format!(
                            "mapping {label}.{path} {}",
                            changed_from_to(&before, &after)
                        ),
                    },
                    Some(before),
                    Some(after),
                    origin,
                ),
            }
        }
    }
}
