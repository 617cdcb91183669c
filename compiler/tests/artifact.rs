//! Artifacts: reproducible, content-addressed, and free of environment endpoints and
//! secrets.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use weft_compiler::analysis::{check_files, check_project, Analysis};
use weft_compiler::parse::parse;
use weft_compiler::source::FileId;
use weft_compiler::{emit, lower};
use weft_runtime::artifact::{Artifact, BuildInfo};

const EXAMPLES: [&str; 3] = ["customer-sync", "order-to-cash", "hire-to-retire"];

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

fn build(analysis: &Analysis) -> (Artifact, lower::Lowered) {
    let lowered = lower::lower(analysis)
        .unwrap_or_else(|| panic!("does not lower: {:?}", analysis.diagnostics));
    let manifest = analysis
        .project
        .as_ref()
        .map(|p| p.manifest.clone())
        .unwrap_or_else(|| panic!("no project"));
    (
        emit::artifact(
            lowered.clone(),
            &manifest,
            emit::source_digest(analysis),
            BuildInfo::default(),
        ),
        lowered,
    )
}

#[test]
fn example_artifacts() {
    for name in EXAMPLES {
        let (artifact, _) = build(&check_project(&example(name)));
        assert!(artifact.verify().is_ok());
        insta::assert_snapshot!(
            name,
            serde_json::to_string_pretty(&artifact).unwrap_or_default()
        );
    }
}

#[test]
fn artifacts_hold_no_endpoint_and_no_secret_name() {
    for name in EXAMPLES {
        let (artifact, lowered) = build(&check_project(&example(name)));
        let json = emit::to_json(&artifact);
        let mut needles = Vec::new();
        for environment in lowered.environments.values() {
            for binding in environment.bindings.values() {
                needles.extend(binding.endpoint.iter().cloned());
                needles.extend(binding.secrets.values().cloned());
            }
        }
        assert!(
            needles.len() > 10,
            "{name}: the example binds too little to prove anything"
        );
        for needle in needles {
            assert!(
                !json.contains(&needle),
                "{name}: the artifact contains `{needle}`"
            );
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::create_dir_all(to);
    for entry in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            let _ = std::fs::copy(entry.path(), target);
        }
    }
}

#[test]
fn the_same_source_gives_the_same_bytes_wherever_it_lies() {
    let base = std::env::temp_dir().join(format!("weft-artifact-{}", std::process::id()));
    let (a, b) = (base.join("one"), base.join("somewhere/else/two"));
    copy_dir(&example("order-to-cash"), &a);
    copy_dir(&example("order-to-cash"), &b);
    let first = emit::to_json(&build(&check_project(&a)).0);
    let second = emit::to_json(&build(&check_project(&b)).0);
    let _ = std::fs::remove_dir_all(&base);
    assert_eq!(first, second);
}

#[test]
fn a_tampered_artifact_fails_verification() {
    let (mut artifact, _) = build(&check_project(&example("customer-sync")));
    if let Some(map) = artifact.program.maps.values_mut().next() {
        map.param.push('x');
    }
    assert!(artifact.verify().is_err());
}

/// The declarations of every source file of an example, as text, with their file's path.
fn declarations(name: &str) -> Vec<(PathBuf, String)> {
    let analysis = check_project(&example(name));
    let mut out = Vec::new();
    for (id, _) in &analysis.files {
        let file = analysis.db.get(*id);
        let (tree, _) = parse(&file.text, FileId(0));
        for item in &tree.items {
            let span = item.span();
            out.push((
                file.path.clone(),
                file.text[span.start..span.end].to_string(),
            ));
        }
    }
    out
}

/// Files made of the given declarations, each declaration in the file `slot % files`,
/// separated by `gap`. Paths keep the example's folder so imports resolve.
fn assemble(
    decls: &[(PathBuf, String)],
    order: &[usize],
    files: usize,
    gap: &str,
) -> Vec<(String, PathBuf, String)> {
    let dir = decls
        .first()
        .and_then(|(p, _)| p.parent())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut out: Vec<(String, PathBuf, String)> = (0..files)
        .map(|i| {
            (
                format!("part{i}.weft"),
                dir.join(format!("part{i}.weft")),
                String::new(),
            )
        })
        .collect();
    for (slot, &index) in order.iter().enumerate() {
        let text = &mut out[slot % files].2;
        text.push_str(&decls[index].1);
        text.push_str(gap);
    }
    out
}

fn manifest() -> weft_compiler::project::Manifest {
    check_project(&example("order-to-cash"))
        .project
        .map(|p| p.manifest)
        .unwrap_or_else(|| panic!("no manifest"))
}

fn digest(files: &[(String, PathBuf, String)]) -> String {
    let analysis = check_files(files, Some(&manifest()));
    let lowered = lower::lower(&analysis)
        .unwrap_or_else(|| panic!("does not lower: {:?}", analysis.diagnostics.first()));
    weft_runtime::artifact::program_digest(&lowered.program)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_digest_ignores_declaration_order_files_and_whitespace(
        seed in any::<u64>(),
        files in 1usize..5,
        gap in prop::sample::select(vec!["\n", "\n\n\n", "\n// a comment\n", "  \n\t\n"]),
    ) {
        let decls = declarations("order-to-cash");
        let original: Vec<usize> = (0..decls.len()).collect();
        let mut shuffled = original.clone();
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        let reference = digest(&assemble(&decls, &original, 1, "\n"));
        prop_assert_eq!(reference, digest(&assemble(&decls, &shuffled, files, gap)));
    }

    #[test]
    fn the_digest_changes_with_any_literal(pick in any::<prop::sample::Index>()) {
        let decls = declarations("order-to-cash");
        let order: Vec<usize> = (0..decls.len()).collect();
        let files = assemble(&decls, &order, 1, "\n");
        let text = &files[0].2;
        // Change one digit of a number or a character of a quoted string in a map or flow.
        let candidates: Vec<usize> = text.char_indices().filter(|(i, c)| {
            c.is_ascii_digit() && text[..*i].rfind("map ").is_some_and(|m| text[..*i].rfind("schema ").is_none_or(|s| s < m))
        }).map(|(i, _)| i).collect();
        prop_assume!(!candidates.is_empty());
        let at = candidates[pick.index(candidates.len())];
        let mut changed = files.clone();
        let digit = changed[0].2.as_bytes()[at];
        let replacement = if digit == b'9' { "8" } else { "9" };
        changed[0].2.replace_range(at..at + 1, replacement);
        let analysis = check_files(&changed, Some(&manifest()));
        prop_assume!(analysis.error_count() == 0);
        prop_assert_ne!(digest(&files), digest(&changed));
    }
}
