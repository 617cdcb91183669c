//! The whole pipeline (parse, resolve, check, render) never panics: not on random
//! mutations of the example programs, not on arbitrary bytes.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use weft_compiler::analysis::check_files;
use weft_compiler::render;

/// Every `.weft` file of every example, with its path (so imports still resolve).
fn example_files() -> Vec<(String, PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut files = Vec::new();
    for project in ["customer-sync", "order-to-cash", "hire-to-retire"] {
        let src = root.join(project).join("src");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&src)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            files.push((
                format!(
                    "{project}/{}",
                    path.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ),
                path,
                text,
            ));
        }
    }
    files
}

/// An edit: replace `len` bytes at a relative position with `insert`.
#[derive(Debug, Clone)]
struct Mutation {
    file: usize,
    at: f64,
    len: usize,
    insert: String,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let fragment = prop_oneof![
        Just(String::new()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("?".to_string()),
        Just("??".to_string()),
        Just("\"".to_string()),
        Just("${".to_string()),
        Just("=>".to_string()),
        Just("null".to_string()),
        Just("schema".to_string()),
        Just(" map ".to_string()),
        Just("[".to_string()),
        Just("(".to_string()),
        "\\PC{0,8}",
    ];
    (0usize..18, 0.0f64..1.0, 0usize..40, fragment).prop_map(|(file, at, len, insert)| Mutation {
        file,
        at,
        len,
        insert,
    })
}

fn apply(files: &mut [(String, PathBuf, String)], m: &Mutation) {
    let count = files.len();
    let Some((_, _, text)) = files.get_mut(m.file % count) else {
        return;
    };
    let mut start = (text.len() as f64 * m.at) as usize;
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + m.len).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    text.replace_range(start..end, &m.insert);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn mutated_examples_never_panic(mutations in prop::collection::vec(mutation(), 1..6)) {
        let mut files = example_files();
        for m in &mutations {
            apply(&mut files, m);
        }
        let analysis = check_files(&files, None);
        let _ = render::text(&analysis.db, &analysis.diagnostics, false);
        let _ = render::json(&analysis.db, &analysis.diagnostics);
        for d in &analysis.diagnostics {
            let text = &analysis.db.get(d.primary.loc.file).text;
            prop_assert!(d.primary.loc.span.start <= d.primary.loc.span.end && d.primary.loc.span.end <= text.len(), "span out of range: {d:?}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let analysis = check_files(&[("fuzz.weft".into(), PathBuf::from("fuzz.weft"), text)], None);
        let _ = render::text(&analysis.db, &analysis.diagnostics, false);
    }
}
