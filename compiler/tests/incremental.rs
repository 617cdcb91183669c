//! An analysis brought up to date after edits (`Analysis::update`) equals a fresh
//! analysis of the edited texts: diagnostics, trees, the resolved program, the types
//! and the masked texts. Random edits (tokens, garbage, declarations, braces, doc
//! comments, credentials) on the example projects, and chosen edits that must keep
//! the resolved program.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use weft_compiler::analysis::{check_project_with, Analysis, Redone};
use weft_compiler::resolve::Program;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

/// The program with its tables in a fixed order.
fn program_summary(program: &Program) -> String {
    let mut out = format!("{:?}\n", program.schemas);
    let mut sorted = |entries: Vec<String>| {
        let mut entries = entries;
        entries.sort();
        for entry in entries {
            let _ = writeln!(out, "{entry}");
        }
    };
    sorted(program.types.iter().map(|e| format!("{e:?}")).collect());
    sorted(
        program
            .connections
            .iter()
            .map(|e| format!("{e:?}"))
            .collect(),
    );
    sorted(program.maps.iter().map(|e| format!("{e:?}")).collect());
    sorted(program.flows.iter().map(|e| format!("{e:?}")).collect());
    sorted(
        program
            .environments
            .iter()
            .map(|e| format!("{e:?}"))
            .collect(),
    );
    out
}

/// Everything a front end reads from an analysis, in a comparable form.
fn observed(analysis: &Analysis) -> Vec<String> {
    let texts: Vec<String> = analysis
        .db
        .iter()
        .map(|(id, f)| format!("{id:?} {} {}\n{}", f.name, f.path.display(), f.text))
        .collect();
    vec![
        format!("{:#?}", analysis.diagnostics),
        format!("{:#?}", analysis.files),
        program_summary(&analysis.program),
        analysis.typed_summary(),
        format!("{:?}", {
            let mut p: Vec<String> = analysis
                .typed
                .parameters
                .iter()
                .map(|e| format!("{e:?}"))
                .collect();
            p.sort();
            p
        }),
        texts.join("\n"),
    ]
}

/// One edit: in file `file` (an index, wrapped), at `at` (a fraction of its length),
/// replace `delete` bytes with `insert`.
#[derive(Debug, Clone)]
struct Edit {
    file: usize,
    at: f64,
    delete: usize,
    insert: String,
}

fn insertions() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\n".to_string()),
        Just("}".to_string()),
        Just("{".to_string()),
        Just(" oops".to_string()),
        Just("\"".to_string()),
        Just(" => ".to_string()),
        Just("c.".to_string()),
        Just("// note\n".to_string()),
        Just("/// A doc comment.\n".to_string()),
        Just("\nmap extra(c: ErpCustomer) -> SalesforceAccount {\n  Name = c.x\n".to_string()),
        Just("\nschema Extra { a: Int, b: [Extra2]? }\n".to_string()),
        Just("schema ".to_string()),
        Just("map ".to_string()),
        Just("\nflow f2 {\n  trigger manual\n  read erp.get(\"/x\") as [ErpCustomer]\n".to_string()),
        Just("\nenvironment dev {\n  erp = http(\"https://u:p@h.example.com\", auth: bearer(\"sk_live_1\"))\n}\n".to_string()),
        Just("\ntest \"t\" {\n  run account_sync\n}\n".to_string()),
        Just("((((((".to_string()),
        Just("\r\n".to_string()),
        "[a-z_ .=(){}\\[\\]\n]{0,12}",
        "\\PC{0,3}",
    ]
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(
        (0usize..8, 0.0f64..=1.0, 0usize..40, insertions()).prop_map(
            |(file, at, delete, insert)| Edit {
                file,
                at,
                delete,
                insert,
            },
        ),
        1..6,
    )
}

/// The largest char boundary not after `index`.
fn boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn apply(text: &str, edit: &Edit) -> String {
    let start = boundary(text, (text.len() as f64 * edit.at) as usize);
    let end = boundary(text, start + edit.delete).max(start);
    format!("{}{}{}", &text[..start], edit.insert, &text[end..])
}

/// Applies the edits one by one to an up-to-date analysis and compares it with a fresh
/// one after each.
fn check_edits(project: &str, edits: &[Edit]) -> Result<(), TestCaseError> {
    let root = example(project);
    let mut analysis = check_project_with(&root, &HashMap::new());
    let sources: Vec<_> = analysis.files.iter().map(|(id, _)| *id).collect();
    let mut buffers: HashMap<PathBuf, String> = HashMap::new();
    for edit in edits {
        let id = sources[edit.file % sources.len()];
        let path = analysis.db.get(id).path.clone();
        let current = buffers.get(&path).cloned().unwrap_or_else(|| {
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read: {e}"))
        });
        let text = apply(&current, edit);
        buffers.insert(path, text.clone());
        prop_assert!(analysis.update(id, text).is_some());
        let fresh = check_project_with(&root, &buffers);
        let (got, want) = (observed(&analysis), observed(&fresh));
        for (got, want) in got.iter().zip(&want) {
            prop_assert_eq!(got, want, "after {:?}", edit);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_edits_give_the_fresh_analysis(
        project in prop::sample::select(vec!["customer-sync", "order-to-cash", "hire-to-retire"]),
        edits in edits(),
    ) {
        check_edits(project, &edits)?;
    }
}

/// Customer-sync with `from` replaced by `to` in one file: an analysis brought up to
/// date, checked against a fresh one, and whether the update checked only some
/// declarations again (not the whole project).
fn edited(file: &str, from: &str, to: &str) -> (Analysis, bool) {
    let root = example("customer-sync");
    let mut analysis = check_project_with(&root, &HashMap::new());
    let (id, path) = analysis
        .files
        .iter()
        .map(|(id, _)| (*id, analysis.db.get(*id).path.clone()))
        .find(|(_, p)| p.ends_with(file))
        .unwrap_or_else(|| panic!("no {file}"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read: {e}"));
    assert_eq!(text.matches(from).count(), 1, "{from}");
    let text = text.replacen(from, to, 1);
    let redone = analysis.update(id, text.clone());
    let fresh = check_project_with(&root, &HashMap::from([(path, text)]));
    assert_eq!(observed(&analysis), observed(&fresh));
    let partly = matches!(redone, Some(Redone::Declarations(_)));
    assert!(partly || redone == Some(Redone::Project), "{redone:?}");
    (analysis, partly)
}

#[test]
fn edits_inside_bodies_keep_the_resolved_program() {
    let (analysis, kept) = edited(
        "maps.weft",
        "Name               = trim(c.party_name)",
        "Name               = trim(c.party_nme) oops",
    );
    assert!(kept);
    let codes: Vec<&str> = analysis
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(codes, ["W0403", "W0001"]);
    assert!(edited("flows.weft", "retry 5 backoff 30s", "retry 5 backoff 3s").1);
    assert!(
        edited(
            "tests.weft",
            "key account mapping",
            "key account mapping is"
        )
        .1
    );
    assert!(edited("flows.weft", "// Connections and flows", "// Flows").1);
    // Everything in the schema file moves, also where other files' types point into it.
    assert!(
        edited(
            "schemas.weft",
            "// Record types of the ERP -> Salesforce customer sync.\n",
            "// Record types of the ERP -> Salesforce customer sync,\n// on two lines.\n",
        )
        .1
    );
}

#[test]
fn edits_of_interfaces_resolve_again() {
    // A field renamed in a schema breaks the maps that read it, in other files.
    let (analysis, kept) = edited("schemas.weft", "  party_name: String", "  party: String");
    assert!(!kept);
    assert!(analysis
        .diagnostics
        .iter()
        .any(|d| d.code.as_str() == "W0403"));
    // A renamed map, a new declaration, a new doc comment.
    assert!(!edited("maps.weft", "map site_to_address", "map site_address").1);
    assert!(
        !edited(
            "flows.weft",
            "/// Salesforce REST API.\n",
            "/// Salesforce.\nconnection crm2: http\n"
        )
        .1
    );
    assert!(
        !edited(
            "schemas.weft",
            "schema ErpCustomer {",
            "/// Doc.\nschema ErpCustomer {"
        )
        .1
    );
}
