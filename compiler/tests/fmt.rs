//! The formatter over real projects: idempotent, keeps every comment, and never changes
//! the checked program (its IR digest), also after random whitespace changes.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use weft_compiler::analysis::{check_files, check_project};
use weft_compiler::fmt::format;
use weft_compiler::lower;
use weft_compiler::project::Manifest;
use weft_compiler::syntax::token::{lex, Token};

const EXAMPLES: [&str; 3] = ["customer-sync", "order-to-cash", "hire-to-retire"];

/// The example's source files `(name, path, text)` and its manifest.
fn example(name: &str) -> (Vec<(String, PathBuf, String)>, Manifest) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    let analysis = check_project(&root);
    let files = analysis.files.iter().map(|(id, _)| {
        let f = analysis.db.get(*id);
        (f.name.clone(), f.path.clone(), f.text.clone())
    });
    let manifest = analysis
        .project
        .as_ref()
        .map(|p| p.manifest.clone())
        .unwrap_or_else(|| panic!("no manifest"));
    (files.collect(), manifest)
}

fn digest(files: &[(String, PathBuf, String)], manifest: &Manifest) -> String {
    let analysis = check_files(files, Some(manifest));
    let lowered = lower::lower(&analysis)
        .unwrap_or_else(|| panic!("does not check: {:?}", analysis.diagnostics.first()));
    weft_runtime::artifact::program_digest(&lowered.program)
}

fn comments(text: &str) -> Vec<String> {
    lex(text)
        .into_iter()
        .filter_map(|(t, _)| {
            if let Token::Comment(c) = t {
                Some(c.trim_end().to_string())
            } else {
                None
            }
        })
        .collect()
}

fn format_all(files: &[(String, PathBuf, String)]) -> Vec<(String, PathBuf, String)> {
    files
        .iter()
        .map(|(name, path, text)| {
            (
                name.clone(),
                path.clone(),
                format(text).unwrap_or_else(|| panic!("{name} does not format")),
            )
        })
        .collect()
}

#[test]
fn formatting_the_examples_is_idempotent_keeps_comments_and_the_program() {
    for name in EXAMPLES {
        let (files, manifest) = example(name);
        let formatted = format_all(&files);
        for ((file, _, before), (_, _, after)) in files.iter().zip(&formatted) {
            assert_eq!(
                format(after).as_deref(),
                Some(after.as_str()),
                "{name}/{file}: not idempotent"
            );
            assert_eq!(
                comments(before),
                comments(after),
                "{name}/{file}: comments changed"
            );
        }
        assert_eq!(
            digest(&files, &manifest),
            digest(&formatted, &manifest),
            "{name}: formatting changed the program"
        );
    }
}

#[test]
fn the_examples_are_formatted() {
    for name in EXAMPLES {
        let (files, _) = example(name);
        for (file, _, text) in &files {
            assert_eq!(
                format(text).as_deref(),
                Some(text.as_str()),
                "{name}/{file} is not in canonical layout: run `weft fmt examples/{name}`"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn whitespace_changes_never_change_the_program(
        example_index in 0usize..3,
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec![" ", "   ", "\n  ", "\n\n    ", "\t"])), 1..40),
    ) {
        let (files, manifest) = example(EXAMPLES[example_index]);
        let mut perturbed = files.clone();
        for (index, gap) in &edits {
            let slot = index.index(perturbed.len());
            let text = &perturbed[slot].2;
            // Insert only between two tokens, so no token changes.
            let boundaries: Vec<usize> = lex(text).windows(2).map(|w| w[0].1.end).collect();
            prop_assume!(!boundaries.is_empty());
            let at = boundaries[index.index(boundaries.len())];
            perturbed[slot].2.insert_str(at, gap);
        }
        let formatted = format_all(&perturbed);
        for (_, _, text) in &formatted {
            let again = format(text);
            prop_assert_eq!(again.as_deref(), Some(text.as_str()));
        }
        prop_assert_eq!(digest(&files, &manifest), digest(&formatted, &manifest));
    }
}
