//! End-to-end tests of `weft diff`: the real binary on project folders, artifacts
//! written by `weft build`, and revisions of a temporary git repository.

mod common;

use common::{commit_all, copy_dir, git, repo, stderr, stdout, weft};

use std::path::{Path, PathBuf};
use std::process::Command;

/// Replaces one occurrence of `from` in a file.
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read: {e}"));
    assert_eq!(
        text.matches(from).count(),
        1,
        "{from:?} in {}",
        path.display()
    );
    std::fs::write(path, text.replace(from, to)).unwrap_or_else(|e| panic!("write: {e}"));
}

const MAP_BEFORE: &str = "upper(trim(c.currency_code))";
const MAP_AFTER: &str = "upper(c.currency_code)";

/// A git repository holding customer-sync in a subfolder, with two commits: the
/// example, then one changed map expression.
fn repository() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let project = dir.path().join("integrations/customer-sync");
    copy_dir(&repo().join("examples/customer-sync"), &project);
    std::fs::write(dir.path().join("README.md"), "integrations\n")
        .unwrap_or_else(|e| panic!("write: {e}"));
    commit_all(dir.path(), "customer sync");
    edit(&project.join("src/maps.weft"), MAP_BEFORE, MAP_AFTER);
    git(dir.path(), &["commit", "--quiet", "-am", "no trim"]);
    (dir, project)
}

#[test]
fn two_git_revisions_of_a_project_in_a_subfolder() {
    let (_repo, project) = repository();
    let output = weft(&["diff", "git:HEAD~1", "git:HEAD"], &project);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("1 change: 0 breaking, 1 behaviour, 0 cosmetic"),
        "{text}"
    );
    assert!(
        text.contains("  ~ map.customer_to_account.field.CurrencyIsoCode"),
        "{text}"
    );
    assert!(
        text.contains(
            "mapping SalesforceAccount.CurrencyIsoCode changed from `upper(trim(c.currency_code))` to `upper(c.currency_code)`"
        ),
        "{text}"
    );
    assert!(
        text.contains("affects: flow.account_full_resync, flow.account_sync"),
        "{text}"
    );
    // From a folder inside the project, too, and as JSON.
    let output = weft(
        &["diff", "git:HEAD~1", "git:HEAD", "--format", "json"],
        &project.join("src"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&output)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json["format"], 1);
    assert_eq!(json["environments_compared"], true);
    assert_eq!(json["changes"][0]["action"], "modified");
    assert_eq!(json["changes"][0]["class"], "behaviour");
    assert_eq!(json["changes"][0]["before"], "upper(trim(c.currency_code))");
    // --exit-code says whether there were changes.
    let output = weft(&["diff", "git:HEAD~1", "git:HEAD", "--exit-code"], &project);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let output = weft(&["diff", "git:HEAD", "git:HEAD", "--exit-code"], &project);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "no changes\n");
    // The repository's index and work tree are untouched.
    let status = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(&project)
        .output()
        .unwrap_or_else(|e| panic!("git status: {e}"));
    assert_eq!(String::from_utf8_lossy(&status.stdout), "");
}

#[test]
fn a_revision_against_the_working_tree() {
    let (_repo, project) = repository();
    edit(
        &project.join("src/flows.weft"),
        "on error retry 5 backoff 30s then dead_letter",
        "on error retry 2 backoff 30s then dead_letter",
    );
    // The new side defaults to the current folder.
    let output = weft(&["diff", "git:HEAD", "--format", "markdown"], &project);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let markdown = stdout(&output);
    assert!(
        markdown.starts_with("### Weft diff: 1 change\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("`flow.account_sync.error_policy`"),
        "{markdown}"
    );
}

#[test]
fn unknown_revisions_and_projects_missing_at_a_revision_are_usage_errors() {
    let (git_repo, project) = repository();
    let output = weft(&["diff", "git:no-such-branch", "git:HEAD"], &project);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("unknown revision no-such-branch"),
        "{}",
        stderr(&output)
    );
    // A project added after the first commit is missing there.
    let other = git_repo.path().join("other");
    copy_dir(&repo().join("examples/customer-sync"), &other);
    commit_all(git_repo.path(), "other");
    let output = weft(&["diff", "git:HEAD~1", "git:HEAD"], &other);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("there is no other/weft.toml at HEAD~1"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_project_against_its_artifact() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let project = dir.path().join("customer-sync");
    copy_dir(&repo().join("examples/customer-sync"), &project);
    let built = weft(&["build", "."], &project);
    assert_eq!(built.status.code(), Some(0), "{}", stderr(&built));
    let artifact = project.join("dist/customer-sync-1.4.0.json");
    assert!(artifact.is_file(), "{}", stdout(&built));
    let artifact_arg = artifact.to_string_lossy().into_owned();

    let output = weft(&["diff", &artifact_arg, "."], &project);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "no changes\n\nenvironments not compared: an artifact carries no environment bindings\n"
    );

    // A change in the project shows; one in an environment cannot be seen.
    edit(&project.join("src/maps.weft"), MAP_BEFORE, MAP_AFTER);
    edit(
        &project.join("src/environments.weft"),
        "\"https://erp.corp.example.com/ords/tca/v1\"",
        "\"https://erp-eu.corp.example.com/ords/tca/v1\"",
    );
    let output = weft(&["diff", &artifact_arg, ".", "--exit-code"], &project);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("map.customer_to_account.field.CurrencyIsoCode"),
        "{text}"
    );
    assert!(!text.contains("environment."), "{text}");
    assert!(text.contains("environments not compared"), "{text}");

    // A tampered artifact is refused.
    edit(&artifact, "\"retries\":5", "\"retries\":50");
    let output = weft(&["diff", &artifact_arg, "."], &project);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("does not match its program"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_side_that_does_not_compile_prints_its_diagnostics() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let old = dir.path().join("old");
    let new = dir.path().join("new");
    copy_dir(&repo().join("examples/customer-sync"), &old);
    copy_dir(&repo().join("examples/customer-sync"), &new);
    edit(
        &new.join("src/maps.weft"),
        MAP_BEFORE,
        "upper(c.no_such_field)",
    );
    let output = weft(&["diff", "old", "new"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert!(errors.contains("no_such_field"), "{errors}");
    assert!(
        errors.contains("weft diff: new: the project has errors"),
        "{errors}"
    );
    assert!(stdout(&output).is_empty());

    let output = weft(&["diff", "old", "missing"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("weft diff: missing: the project could not be loaded"));
}

#[test]
fn colour_is_only_added_when_asked() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let old = dir.path().join("old");
    let new = dir.path().join("new");
    copy_dir(&repo().join("examples/customer-sync"), &old);
    copy_dir(&repo().join("examples/customer-sync"), &new);
    edit(&new.join("src/maps.weft"), MAP_BEFORE, MAP_AFTER);
    let plain = weft(&["diff", "old", "new"], dir.path());
    assert!(!stdout(&plain).contains('\x1b'));
    let coloured = weft(&["diff", "old", "new", "--color", "always"], dir.path());
    assert!(stdout(&coloured)
        .contains("\x1b[33m  ~ map.customer_to_account.field.CurrencyIsoCode\x1b[0m"));
}
