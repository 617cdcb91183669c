//! The bundled example projects check clean, and their inferred types are snapshots.

use std::path::Path;

use weft_compiler::analysis::check_project;
use weft_compiler::render;

fn check(name: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    let analysis = check_project(&root);
    let rendered = render::text(&analysis.db, &analysis.diagnostics, false);
    assert!(
        analysis.diagnostics.is_empty(),
        "{name} has diagnostics:\n{rendered}"
    );
    insta::assert_snapshot!(name, analysis.typed_summary());
}

#[test]
fn customer_sync() {
    check("customer-sync");
}

#[test]
fn order_to_cash() {
    check("order-to-cash");
}

#[test]
fn hire_to_retire() {
    check("hire-to-retire");
}
