//! At start: runs of the host's environments left `running` by a process that died are
//! marked `interrupted`, and their unsettled records go through their flow again.

use super::runner::{log_finish, Runner};
use crate::engine::Sleep;
use crate::state::{self, RunContext, Store, StoreError};

/// Resumes every interrupted run of every environment, before the host fires anything.
pub(super) async fn resume_all(runner: &Runner) -> Result<(), StoreError> {
    let runner = runner.clone();
    tokio::task::spawn_blocking(move || resume_blocking(&runner))
        .await
        .map_err(|e| StoreError(format!("resuming interrupted runs: {e}")))?
}

fn resume_blocking(runner: &Runner) -> Result<(), StoreError> {
    let mut store = runner.store()?;
    let logger = runner.logger();
    for environment in runner.catalog().environments() {
        for interrupted in store.take_interrupted(&environment, None)? {
            let Some(active) = runner.active(&environment, &interrupted.flow) else {
                continue;
            };
            logger.event(
                &active.redactor,
                "run.interrupted",
                &[
                    ("env", environment.clone()),
                    ("flow", interrupted.flow.clone()),
                    ("run", interrupted.id.to_string()),
                ],
            );
            let context = RunContext {
                program: &active.program,
                flow: &interrupted.flow,
                environment: &environment,
                digest: &active.digest,
                connections: active.connections.as_ref(),
                pause: &Sleep,
                redactor: &active.redactor,
            };
            if let Some(record) = state::resume(&mut store, &context, &interrupted)? {
                log_finish(&logger, &active.redactor, &record);
            }
        }
    }
    Ok(())
}
