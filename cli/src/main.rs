//! `weft`: the command line of the Weft toolchain.
//!
//! Exit codes: 0 when clean (warnings allowed), 1 when errors were found, 2 for usage
//! and I/O errors (no `weft.toml`, unreadable files, bad arguments).
#![deny(unsafe_code)]

mod build;
mod check;
mod deadletters;
mod delivery;
mod diff;
mod fmt;
mod graph;
mod lsp;
mod map;
mod run;
mod runs;
mod runtime;
mod serve;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Typed integration flows with CI/CD built in.
#[derive(Parser)]
#[command(name = "weft", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and type-check a project: schemas, maps, flows, environments, tests, policies.
    Check(check::Args),
    /// Check and lower a project into a versioned, content-addressed artifact under dist/.
    Build(build::Args),
    /// Rewrite .weft files in the canonical layout (--check only reports).
    Fmt(fmt::Args),
    /// Draw flows as a graph: Graphviz DOT, Mermaid, or SVG (built-in renderer by default).
    Graph(graph::Args),
    /// Run the project's tests against mocks: flows, expectations, snapshots, properties.
    Test(test::Args),
    /// Compare two versions of a project by meaning: project folders, artifacts or git:REV.
    Diff(diff::Args),
    /// Apply a map, or a flow's where/map steps, to NDJSON records from stdin.
    Map(map::Args),
    /// Run the language server on stdin and stdout (for editors).
    Lsp(lsp::Args),
    /// Run one flow once in an environment, with its real connections and secrets.
    Run(run::Args),
    /// List stored runs with their counts, newest first.
    Runs(runs::Args),
    /// List or replay the records that failed for good.
    Deadletters(deadletters::Args),
    /// Host flows and the delivery control API: schedules, webhooks, watched folders,
    /// crash recovery, deploy, promote, approve, rollback, audit.
    Serve(serve::Args),
    /// Register an artifact and activate it in the first environment of its chain.
    Deploy(delivery::deploy::Args),
    /// Ask to move a flow's version from the previous environment into another.
    Promote(delivery::promote::PromoteArgs),
    /// Approve a pending promotion request.
    Approve(delivery::promote::ApproveArgs),
    /// Reject a pending promotion request.
    Reject(delivery::promote::RejectArgs),
    /// List promotion requests.
    Promotions(delivery::promote::ListArgs),
    /// Return a flow in an environment to a previous known-good version.
    Rollback(delivery::rollback::Args),
    /// Export the audit trail or verify its hash chain.
    Audit(delivery::audit::Args),
    /// DORA metrics from the audit trail.
    Metrics(delivery::metrics::Args),
    /// What version of each flow runs where, and pending requests.
    Status(delivery::metrics::StatusArgs),
    /// Manage users and tokens of the control API (admin).
    Users(delivery::users::Args),
}

/// Output format of diagnostics.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable reports with source excerpts.
    Text,
    /// Versioned JSON, for tools.
    Json,
    /// SARIF 2.1.0, for code-scanning views in CI.
    Sarif,
}

/// When to colour text output.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether reports written to stderr get colour.
    pub fn for_stderr(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::IsTerminal::is_terminal(&std::io::stderr())
                    && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Map(args) => map::run(&args),
        Command::Lsp(args) => lsp::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Runs(args) => runs::run(&args),
        Command::Deadletters(args) => deadletters::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Deploy(args) => delivery::deploy::run(&args),
        Command::Promote(args) => delivery::promote::promote(&args),
        Command::Approve(args) => delivery::promote::approve(&args),
        Command::Reject(args) => delivery::promote::reject(&args),
        Command::Promotions(args) => delivery::promote::list(&args),
        Command::Rollback(args) => delivery::rollback::run(&args),
        Command::Audit(args) => delivery::audit::run(&args),
        Command::Metrics(args) => delivery::metrics::run(&args),
        Command::Status(args) => delivery::metrics::status(&args),
        Command::Users(args) => delivery::users::run(&args),
    }
}
