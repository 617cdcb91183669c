//! End-to-end tests: the real `weft` binary on real project folders.

mod common;

use common::{copy_dir, project, repo, stderr, stdout, weft, MANIFEST};

#[test]
fn the_examples_check_clean() {
    for example in ["customer-sync", "order-to-cash", "hire-to-retire"] {
        let output = weft(&["check", &format!("examples/{example}")], &repo());
        assert_eq!(
            output.status.code(),
            Some(0),
            "{example}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("0 errors, 0 warnings"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn a_new_required_target_field_breaks_every_map_into_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    copy_dir(&repo().join("examples/customer-sync"), dir.path());
    let schema_path = dir.path().join("schemas/salesforce-account.json");
    let text = std::fs::read_to_string(&schema_path).unwrap_or_default();
    let mut schema: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    schema["properties"]["Tier__c"] =
        serde_json::json!({ "type": "string", "description": "Customer tier" });
    schema["required"]
        .as_array_mut()
        .unwrap_or_else(|| panic!("no required list"))
        .push("Tier__c".into());
    std::fs::write(
        &schema_path,
        serde_json::to_string_pretty(&schema).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));

    let output = weft(&["check", ".", "--format", "json"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&output)).unwrap_or_else(|e| panic!("{e}"));
    let missing: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["code"] == "W0400")
        .collect();
    assert!(!missing.is_empty(), "{report:#}");
    for d in &missing {
        let message = d["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("Tier__c") && message.contains("map `"),
            "{message}"
        );
        assert_eq!(
            d["related"][0]["location"]["file"],
            "schemas/salesforce-account.json"
        );
    }
}

#[test]
fn broken_project_reports_text_json_and_sarif() {
    let source = b"schema A { id: Int, name: String? }\nschema B { Id: Int, Name: String }\nmap a_to_b(a: A) -> B {\n  Id = a.idd\n  Name = a.name\n}\n";
    let dir = project(&[("weft.toml", MANIFEST), ("src/main.weft", source)]);

    let text = weft(&["check"], dir.path());
    assert_eq!(text.status.code(), Some(1));
    insta::assert_snapshot!("broken_text", stderr(&text));

    let json = weft(&["check", "--format", "json"], dir.path());
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&json)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["version"], 1);
    assert_eq!(report["summary"]["errors"], 2);
    assert_eq!(
        report["diagnostics"][0]["fixes"][0]["edits"][0]["replacement"],
        "id"
    );
    insta::assert_json_snapshot!("broken_json", report);

    let sarif = weft(&["check", "--format", "sarif"], dir.path());
    assert_eq!(sarif.status.code(), Some(1));
    let log: serde_json::Value =
        serde_json::from_str(&stdout(&sarif)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rules: Vec<&str> = results
        .iter()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    assert_eq!(rules, ["W0403", "W0405"]);
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
}

#[test]
fn missing_manifest_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let output = weft(&["check"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("W0100") && stderr(&output).contains("create one"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn malformed_manifest_points_at_the_line() {
    let dir = project(&[("weft.toml", b"[project]\nname = \"t\"\nversion = 1\n")]);
    let output = weft(&["check"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("W0101") && stderr(&output).contains("weft.toml:3:"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn missing_source_folder_is_reported() {
    let dir = project(&[("weft.toml", MANIFEST)]);
    let output = weft(&["check"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("W0102"), "{}", stderr(&output));
}

#[test]
fn empty_project_and_empty_files_are_fine() {
    let dir = project(&[("weft.toml", MANIFEST), ("src/empty.weft", b"")]);
    let output = weft(&["check"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let none = project(&[("weft.toml", MANIFEST), ("src/readme.txt", b"")]);
    let output = weft(&["check"], none.path());
    assert_eq!(output.status.code(), Some(0));
    assert!(stderr(&output).contains("W0103"), "{}", stderr(&output));
}

#[test]
fn non_utf8_file_is_reported_and_the_others_still_checked() {
    let dir = project(&[
        ("weft.toml", MANIFEST),
        ("src/bad.weft", b"schema A { name: String }\n// caf\xe9\n"),
        ("src/good.weft", b"schema B { x: Strin }\n"),
    ]);
    let output = weft(&["check"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("W0005") && err.contains("offset 32"), "{err}");
    assert!(
        err.contains("W0201") && err.contains("did you mean `String`?"),
        "{err}"
    );
}

#[test]
fn broken_and_cyclic_imports_point_into_the_schema_file() {
    let dir = project(&[
        ("weft.toml", MANIFEST),
        ("src/main.weft", b"schema A from \"../schemas/a.json\"\nschema B from \"../schemas/cycle.json\"\nschema C from \"../schemas/missing.json\"\n"),
        ("schemas/a.json", b"{\n  \"type\": \"object\",\n  \"properties\": { \"x\": { \"type\": \"string\" }, }\n}\n"),
        (
            "schemas/cycle.json",
            b"{ \"type\": \"object\", \"properties\": { \"n\": { \"$ref\": \"#/$defs/Node\" } },\n  \"required\": [\"n\"],\n  \"$defs\": { \"Node\": { \"type\": \"object\", \"properties\": { \"next\": { \"$ref\": \"#/$defs/Node\" } }, \"required\": [\"next\"] } } }\n",
        ),
    ]);
    let output = weft(&["check"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("W0301") && err.contains("a.json:3:"), "{err}");
    assert!(err.contains("W0304"), "{err}");
    assert!(
        err.contains("W0300") && err.contains("missing.json"),
        "{err}"
    );
}

#[test]
fn huge_lines_and_deep_nesting_are_diagnosed_not_fatal() {
    let mut long = b"schema A { name: String }\n// ".to_vec();
    long.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    long.extend(b"\nmap m(a: A) -> A { name = \"");
    long.extend(std::iter::repeat_n(b'y', 10 * 1024 * 1024));
    long.extend(b"\" }\n");
    let mut deep = b"schema D { x: Int }\nmap d(a: D) -> D { x = ".to_vec();
    deep.extend(std::iter::repeat_n(b'(', 1_000_000));
    deep.extend(b"1");
    deep.extend(std::iter::repeat_n(b')', 1_000_000));
    deep.extend(b" }\n");
    let mut soup = Vec::new();
    for _ in 0..500_000 {
        soup.extend(b"x ");
    }
    let dir = project(&[
        ("weft.toml", MANIFEST),
        ("src/long.weft", &long),
        ("src/deep.weft", &deep),
        ("src/soup.weft", &soup),
    ]);
    let output = weft(&["check", "--format", "json"], dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&output)).unwrap_or_else(|e| panic!("{e}"));
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"W0006"), "{codes:?}");
    assert!(codes.contains(&"W0001"), "{codes:?}");
}

#[test]
fn literal_secrets_never_reach_any_output() {
    let secret = "sk_live_51Hx9QeLmZpT";
    let source = format!(
        "connection crm: http\nenvironment prod {{\n  crm = http(\"https://crm.example.com\", auth: bearer(\"{secret}\"))\n}}\nenvironment dev {{\n  crm = http(\"https://admin:{secret}@crm.example.com\")\n}}\n"
    );
    let dir = project(&[("weft.toml", MANIFEST), ("src/env.weft", source.as_bytes())]);
    for format in ["text", "json", "sarif"] {
        let output = weft(&["check", "--format", format], dir.path());
        assert_eq!(output.status.code(), Some(1));
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            all.contains("W0601") && all.contains("W0604"),
            "{format}: {all}"
        );
        assert!(
            !all.contains(secret) && !all.contains("sk_live"),
            "{format} output leaks the secret:\n{all}"
        );
    }
}

#[test]
fn bad_arguments_are_usage_errors() {
    let output = weft(&["check", "--format", "xml"], &repo());
    assert_eq!(output.status.code(), Some(2));
    let output = weft(&["frobnicate"], &repo());
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn show_types_lists_map_fields_and_flow_steps() {
    let output = weft(
        &["check", "examples/customer-sync", "--show-types"],
        &repo(),
    );
    assert_eq!(output.status.code(), Some(0));
    let out = stdout(&output);
    assert!(out.contains("map ") && out.contains("flow "), "{out}");
}

#[test]
fn the_readme_tour_checks_clean() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap_or_default();
    let tour = readme
        .split("```weft\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_else(|| panic!("README has no weft block"));
    let manifest = b"[project]\nname = \"tour\"\nversion = \"0.1.0\"\n\n[groups]\nintegration-leads = [\"alice\", \"bob\"]\n";
    let dir = project(&[
        ("weft.toml", manifest),
        ("src/tour.weft", tour.as_bytes()),
        ("fixtures/customers.json", b"[]"),
    ]);
    let output = weft(&["check"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn build_writes_a_verifiable_artifact_and_refuses_broken_projects() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    copy_dir(&repo().join("examples/order-to-cash"), dir.path());
    let output = weft(&["build"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let path = dir.path().join("dist/order-to-cash-2.1.3.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let artifact: weft_runtime::artifact::Artifact =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(artifact.verify().is_ok());
    assert!(stdout(&output).contains(&artifact.digest));
    assert_eq!(
        artifact.build.git_commit, None,
        "a temporary folder is no git checkout"
    );

    let broken = project(&[
        ("weft.toml", MANIFEST),
        ("src/a.weft", b"schema A { x: Strin }\n"),
    ]);
    let output = weft(&["build"], broken.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("nothing was built"));
    assert!(!broken.path().join("dist").exists());
}
