//! Parser tests: recovery keeps every independent error, doc comments attach, and no
//! input makes the parser panic.

use proptest::prelude::*;

use super::parse;
use crate::source::FileId;
use crate::syntax::{Item, SchemaBody, TestStmtKind};

fn codes(source: &str) -> Vec<(String, usize)> {
    parse(source, FileId(0))
        .1
        .iter()
        .map(|d| (d.code.as_str().to_string(), d.primary.loc.span.start))
        .collect()
}

/// Declaration keywords are ordinary names: written at column 0 as a field or an
/// assignment target, they do not start a declaration.
#[test]
fn keyword_field_names_at_column_zero_are_fields() {
    let source = "schema A {\nflow: String\nmap : Int\ntest: Bool\n}\nmap f(a: A) -> A {\nflow = a.flow\nmap = a.map\ntest = a.test\n}\nflow x {\n}\n";
    assert_eq!(codes(source), []);
    let (tree, _) = parse(source, FileId(0));
    assert_eq!(tree.items.len(), 3);
    assert_eq!(super::chunk_starts(source), [0, 47, 108]);
}

#[test]
fn every_broken_line_is_reported_once_and_the_rest_is_kept() {
    let source =
        "schema A {\n  x: Int\n  y String\n  z: Int\n}\nconnection erp http\nschema B { a: Int }\n";
    let (tree, diagnostics) = parse(source, FileId(0));
    assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
    let Some(Item::Schema(a)) = tree.items.first() else {
        panic!("schema A lost: {tree:?}")
    };
    let SchemaBody::Fields(fields) = &a.body else {
        panic!("schema A has no fields")
    };
    let names: Vec<&str> = fields.iter().map(|f| f.name.name.as_str()).collect();
    assert_eq!(names, ["x", "z"]);
    assert!(matches!(tree.items.last(), Some(Item::Schema(b)) if b.name.name == "B"));
}

#[test]
fn an_operator_at_the_end_of_a_line_does_not_swallow_the_next_assignment() {
    let source = "map m(c: A) -> B {\n  Name = c.first +\n  Email = c.email\n}\n";
    let (tree, diagnostics) = parse(source, FileId(0));
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0].primary.loc.span.start, 40);
    let Some(Item::Map(map)) = tree.items.first() else {
        panic!("map lost")
    };
    let targets: Vec<&str> = map
        .assignments
        .iter()
        .map(|a| a.target[0].name.as_str())
        .collect();
    assert_eq!(targets, ["Name", "Email"]);
}

#[test]
fn doc_comments_attach_to_the_next_declaration_or_field() {
    let source = "/// A customer.\n/// From the ERP.\nschema C {\n  // not a doc\n  /// The id.\n  id: Int\n  name: String\n}\n";
    let (tree, diagnostics) = parse(source, FileId(0));
    assert!(diagnostics.is_empty());
    let Some(Item::Schema(c)) = tree.items.first() else {
        panic!("no schema")
    };
    assert_eq!(c.doc.as_deref(), Some("A customer.\nFrom the ERP."));
    let SchemaBody::Fields(fields) = &c.body else {
        panic!("no fields")
    };
    assert_eq!(fields[0].doc.as_deref(), Some("The id."));
    assert_eq!(fields[1].doc, None);
    assert_eq!(tree.comments.len(), 4);
}

#[test]
fn deep_nesting_is_refused_without_recursion() {
    let source = format!(
        "map m(c: A) -> B {{ x = {}1{} }}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let found = codes(&source);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "W0006");
    assert!(found[0].1 > 23 && found[0].1 < 23 + 2 * super::MAX_NESTING);
}

#[test]
fn interpolation_errors_point_inside_the_string() {
    let source = "map m(c: A) -> B { x = \"a ${c.} b\" }";
    let found = codes(source);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "W0008");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_arbitrary_text(source in "\\PC{0,400}") {
        let _ = parse(&source, FileId(0));
    }

    #[test]
    fn never_panics_on_token_soup(words in prop::collection::vec(prop::sample::select(vec![
        "schema", "map", "flow", "{", "}", "(", ")", "[", "]", ":", "=", "->", "=>", "?", "??", ".", ",",
        "\"s ${x}\"", "\"", "1", "2.5", "15m", "5%", "if", "then", "else", "x", "Int", "// c\n", "\n", "enum",
        "environment", "secret", "test", "promotion", "rollback", "when", "error_rate", ">", "$", "`q`",
        "clock", "mock", "run",
    ]), 0..120)) {
        let source = words.join(" ");
        let _ = parse(&source, FileId(0));
    }
}

#[test]
fn an_unclosed_block_ends_at_the_next_declaration() {
    let source = "schema A {\n  x: Int\n\nschema B { x: Int }\nflow f {\n  trigger manual\nconnection erp: http\n";
    let (tree, diagnostics) = parse(source, FileId(0));
    let names: Vec<String> = tree
        .items
        .iter()
        .map(|item| match item {
            Item::Schema(d) => d.name.name.clone(),
            Item::Flow(d) => d.name.name.clone(),
            Item::Connection(d) => d.name.name.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["A", "B", "f", "erp"]);
    let messages: Vec<(usize, &str)> = diagnostics
        .iter()
        .map(|d| (d.primary.loc.span.start, d.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        [
            (
                21,
                "a `{` above is never closed; add `}` before this declaration"
            ),
            (
                67,
                "a `{` above is never closed; add `}` before this declaration"
            )
        ]
    );
}

#[test]
fn the_chunk_at_an_offset_is_the_one_chunk_starts_give() {
    use super::{chunk_at, chunk_starts};
    use crate::source::Span;
    for text in [
        "",
        "schema A { a: Int }",
        "// intro\n\nschema A {\n  a: Int\n}\nmap m(a: A) -> A {\n  a = a.a\n}\n",
        "schema A {\r\n  a: Int\r\n}\r\nmapping x\r\nmap m\r\n  schema indented\nflow",
        "connection erp:\nmap\n\nenum E { a }\ntest \"t\" {}\n",
    ] {
        let mut starts = chunk_starts(text);
        starts.push(text.len());
        for offset in 0..=text.len() {
            let i = starts[1..]
                .partition_point(|&s| s <= offset)
                .min(starts.len() - 2);
            let want = Span::new(starts[i], starts[i + 1]);
            assert_eq!(chunk_at(text, offset), want, "{text:?} at {offset}");
        }
    }
}

/// `clock` is a test line with a string; elsewhere it is an ordinary name.
#[test]
fn clock_is_a_test_line_and_still_a_field_name() {
    let source = "schema A { clock: String }\ntest \"t\" {\n  clock \"2025-06-01T09:30:00Z\"\n  clock \"not a date\"\n  property m\n}\n";
    assert_eq!(codes(source), []);
    let (tree, _) = parse(source, FileId(0));
    let Some(Item::Test(test)) = tree.items.get(1) else {
        panic!("expected a test, got {:?}", tree.items);
    };
    let pinned: Vec<&str> = test
        .statements
        .iter()
        .filter_map(|s| match &s.kind {
            TestStmtKind::Clock(at) => Some(at.value.as_str()),
            _ => None,
        })
        .collect();
    // The parser takes any string; the checker judges it (W0704).
    assert_eq!(pinned, ["2025-06-01T09:30:00Z", "not a date"]);
    assert_eq!(codes("test \"t\" {\n  clock 2025\n}\n").len(), 1);
}
