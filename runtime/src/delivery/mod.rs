//! Delivery: artifacts deployed into the first environment of their promotion chain,
//! promoted through gates (tests for the exact digest, approvals from groups, no self
//! approval, change windows), rolled back automatically when a flow's error rate
//! breaches its policy, and every event kept in a hash-chained audit trail from which
//! the DORA metrics are computed.
//!
//! The pieces, one concept per module: [`store`] (the [`store::DeliveryStore`] trait)
//! and [`sqlite`], [`identity`], [`audit`], [`gates`], [`rollback`], [`metrics`],
//! [`service`] (the operations) and [`api`] (the HTTP control API).
//!
//! # For a runtime host
//! - Activation lookups: [`service::Delivery::active`] (environment, flow) gives the
//!   version to run; [`service::Delivery::artifact`] its program (cached, verified);
//!   [`service::Delivery::subscribe`] streams every change of an active version.
//! - Run feed: call [`service::Delivery::observe_run`] with each finished
//!   [`crate::state::RunRecord`]; when it returns an [`service::AutoRollback`], post
//!   its alert with [`service::Delivery::send_alert`] (off the async threads).
//!   Without a host, [`watch_runs`] polls a run-state store instead.
//! - HTTP: merge [`api::router`] into the host's `axum::Router`.

pub mod api;
pub mod audit;
pub mod gates;
pub mod identity;
pub mod metrics;
pub mod rollback;
pub mod service;
pub mod sqlite;
pub mod store;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

pub use service::{ActivationChange, Delivery, Differ, Error, Options};

use crate::state::{Filter, RunStatus, Store};

/// Serves the control API on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    delivery: Arc<Delivery>,
) -> std::io::Result<()> {
    axum::serve(listener, api::router(delivery)).await
}

/// Feeds the runs a run-state store records to the rollback monitor, polling every
/// `every` on a thread of its own; for running without a host (`weft run` writes the
/// runs). Alerts are posted after the rollback, so they do not delay it.
pub fn watch_runs(
    delivery: Arc<Delivery>,
    runs: Box<dyn Store + Send>,
    every: Duration,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut seen: HashSet<i64> = HashSet::new();
        let mut first = true;
        loop {
            let filter = Filter {
                limit: Some(500),
                ..Filter::default()
            };
            if let Ok(mut list) = runs.runs(&filter) {
                list.reverse();
                for run in list.iter().filter(|r| r.status != RunStatus::Running) {
                    if !seen.insert(run.id) {
                        continue;
                    }
                    // Runs from before the server started only fill the window.
                    if let Ok(Some(rolled)) = delivery.observe_run(run) {
                        if !first || rolled.activation.is_some() {
                            delivery.send_alert(&rolled.alert);
                        }
                    }
                }
                if seen.len() > 100_000 {
                    let keep: HashSet<i64> = list.iter().map(|r| r.id).collect();
                    seen.retain(|id| keep.contains(id));
                }
            }
            first = false;
            std::thread::sleep(every);
        }
    })
}
