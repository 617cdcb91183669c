//! Fires flows on time and on new files: `every` (first run one interval after the
//! host starts, then every interval; a run still going when the next is due is
//! coalesced, missed intervals are not caught up), `cron` (UTC, next whole minute the
//! expression matches), and folders a flow reads with a pattern (`read
//! inbox.read("orders/*.csv")`), looked at every `watch_every`: a new or changed set of
//! files, unchanged over two looks, fires the flow. The catalog is asked at every tick,
//! so a flow that is no longer active stops firing and a new version's triggers apply.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::runner::{Runner, Waiters};
use super::ActiveFlow;
use crate::cron::Schedule;
use crate::eval::{eval, Env};
use crate::ir::{Step, Trigger as IrTrigger};
use crate::state::Trigger;
use crate::value::Value;

/// What one watched folder looked like.
type Listing = Vec<(String, u64, Option<SystemTime>)>;
/// Next fire time per (environment, flow, trigger text).
type NextTimes = BTreeMap<(String, String, String), DateTime<Utc>>;
/// Per watched (environment, flow): the last listing seen and the last one fired on.
type Watched = BTreeMap<(String, String), (Listing, Listing)>;

/// The schedule of every active flow. Cheap to clone.
#[derive(Clone)]
pub(super) struct Scheduler {
    runner: Runner,
    watch_every: Duration,
    next: Arc<Mutex<NextTimes>>,
    watched: Arc<Mutex<Watched>>,
}

impl Scheduler {
    pub(super) fn new(runner: Runner, watch_every: Duration) -> Scheduler {
        Scheduler {
            runner,
            watch_every,
            next: Arc::default(),
            watched: Arc::default(),
        }
    }

    /// The next scheduled fire time of a flow, if it has a schedule.
    pub(super) fn next_run(&self, environment: &str, flow: &str) -> Option<DateTime<Utc>> {
        let next = self.next.lock().ok()?;
        next.iter()
            .filter(|((e, f, _), _)| e == environment && f == flow)
            .map(|(_, t)| *t)
            .min()
    }

    pub(super) async fn run(self) {
        let tick = Duration::from_millis(100);
        let mut since_watch = Duration::ZERO;
        loop {
            self.fire_due(Utc::now());
            since_watch += tick;
            if since_watch >= self.watch_every {
                since_watch = Duration::ZERO;
                let scheduler = self.clone();
                let _ = tokio::task::spawn_blocking(move || scheduler.look_at_folders()).await;
            }
            tokio::time::sleep(tick).await;
        }
    }

    /// Fires every schedule that is due and plans its next time.
    fn fire_due(&self, now: DateTime<Utc>) {
        let mut due = Vec::new();
        {
            let Ok(mut next) = self.next.lock() else {
                return;
            };
            let mut seen = Vec::new();
            for environment in self.runner.catalog().environments() {
                for active in self.runner.catalog().active(&environment) {
                    for trigger in triggers(&active) {
                        let key = (
                            environment.clone(),
                            active.flow.clone(),
                            trigger.to_string(),
                        );
                        seen.push(key.clone());
                        match next.get(&key) {
                            None => {
                                if let Some(at) = first_time(trigger, now) {
                                    next.insert(key, at);
                                }
                            }
                            Some(at) if *at <= now => {
                                due.push((environment.clone(), active.flow.clone()));
                                match following(trigger, *at, now) {
                                    Some(t) => next.insert(key, t),
                                    None => next.remove(&key),
                                };
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
            next.retain(|key, _| seen.contains(key));
        }
        for (environment, flow) in due {
            self.runner
                .fire(&environment, &flow, Trigger::Schedule, Waiters::default());
        }
    }

    /// Fires flows whose watched folder holds a new, settled set of files.
    fn look_at_folders(&self) {
        let mut fire = Vec::new();
        {
            let Ok(mut watched) = self.watched.lock() else {
                return;
            };
            let mut seen = Vec::new();
            for environment in self.runner.catalog().environments() {
                for active in self.runner.catalog().active(&environment) {
                    let Some(files) = watched_files(&active) else {
                        continue;
                    };
                    let key = (environment.clone(), active.flow.clone());
                    seen.push(key.clone());
                    let listing: Listing = files
                        .iter()
                        .map(|path| {
                            let meta = std::fs::metadata(path).ok();
                            (
                                path.display().to_string(),
                                meta.as_ref().map_or(0, std::fs::Metadata::len),
                                meta.and_then(|m| m.modified().ok()),
                            )
                        })
                        .collect();
                    let entry = watched.entry(key.clone()).or_default();
                    let settled = listing == entry.0;
                    if settled && !listing.is_empty() && listing != entry.1 {
                        fire.push(key);
                        entry.1 = listing.clone();
                    }
                    if listing.is_empty() {
                        entry.1.clear();
                    }
                    entry.0 = listing;
                }
            }
            watched.retain(|key, _| seen.contains(key));
        }
        for (environment, flow) in fire {
            self.runner
                .fire(&environment, &flow, Trigger::Watch, Waiters::default());
        }
    }
}

/// The flow's schedule triggers.
fn triggers(active: &ActiveFlow) -> Vec<&IrTrigger> {
    active
        .program
        .flows
        .get(&active.flow)
        .map(|flow| {
            flow.triggers
                .iter()
                .filter(|t| matches!(t, IrTrigger::Every { .. } | IrTrigger::Cron { .. }))
                .collect()
        })
        .unwrap_or_default()
}

fn first_time(trigger: &IrTrigger, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match trigger {
        IrTrigger::Every { millis } => {
            Some(now + chrono::Duration::milliseconds(i64::try_from(*millis).ok()?))
        }
        IrTrigger::Cron { expression } => Schedule::parse(expression).ok()?.next_after(now),
        _ => None,
    }
}

/// The fire time after `at`, skipping times already past.
fn following(trigger: &IrTrigger, at: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match trigger {
        IrTrigger::Every { millis } => {
            let step = chrono::Duration::milliseconds(i64::try_from(*millis).ok()?.max(1));
            let next = at + step;
            Some(if next <= now { now + step } else { next })
        }
        _ => first_time(trigger, now),
    }
}

/// The files a flow's `read` would take now, when it reads a folder or pattern of a
/// file connection (and is not `manual`).
fn watched_files(active: &ActiveFlow) -> Option<Vec<std::path::PathBuf>> {
    let flow = active.program.flows.get(&active.flow)?;
    if flow.triggers.iter().all(|t| matches!(t, IrTrigger::Manual)) {
        return None;
    }
    let Some(Step::Read {
        connection, args, ..
    }) = flow.steps().next()
    else {
        return None;
    };
    let path = match eval(args.first()?, &Env::empty(), &active.program).ok()? {
        Value::String(path) if !path.contains('{') => path,
        _ => return None,
    };
    active.connections.pending_files(connection, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_skips_missed_intervals_and_cron_takes_the_next_minute() {
        let now = DateTime::parse_from_rfc3339("2025-03-01T10:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let every = IrTrigger::Every { millis: 1000 };
        assert_eq!(
            first_time(&every, now),
            Some(now + chrono::Duration::seconds(1))
        );
        // On time: the next interval.
        assert_eq!(
            following(&every, now, now),
            Some(now + chrono::Duration::seconds(1))
        );
        // Late by many intervals: one interval from now, no burst.
        let late = now + chrono::Duration::seconds(30);
        assert_eq!(
            following(&every, now, late),
            Some(late + chrono::Duration::seconds(1))
        );
        let cron = IrTrigger::Cron {
            expression: "*/5 * * * *".into(),
        };
        assert_eq!(
            first_time(&cron, now + chrono::Duration::seconds(10)),
            Some(now + chrono::Duration::minutes(5))
        );
    }
}
