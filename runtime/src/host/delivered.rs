//! The catalog of a host under delivery control: in each environment it serves, the
//! version of each flow that a deploy, promotion or rollback activated, bound to the
//! environment's connections. An environment's list is rebuilt when an activation in
//! it changes, so the scheduler's question at every tick stays cheap.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::broadcast::{self, error::TryRecvError};

use super::hosting::Hosting;
use super::{ActiveFlow, Catalog, Logger};
use crate::delivery::{ActivationChange, Delivery};
use crate::ir::Program;
use crate::redact::Redactor;

/// Active versions from the delivery service.
pub struct DeliveredCatalog {
    delivery: Arc<Delivery>,
    hosting: Arc<Hosting>,
    logger: Logger,
    changes: Mutex<broadcast::Receiver<ActivationChange>>,
    active: Mutex<BTreeMap<String, Vec<ActiveFlow>>>,
    programs: Mutex<HashMap<String, Arc<Program>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl DeliveredCatalog {
    /// The catalog of `hosting`'s environments, as `delivery` has them now.
    pub fn new(delivery: Arc<Delivery>, hosting: Arc<Hosting>, logger: Logger) -> Self {
        let catalog = DeliveredCatalog {
            changes: Mutex::new(delivery.subscribe()),
            delivery,
            hosting,
            logger,
            active: Mutex::new(BTreeMap::new()),
            programs: Mutex::new(HashMap::new()),
        };
        let environments = catalog.hosting.environments();
        catalog.rebuild(environments.into_iter().collect());
        catalog
    }

    /// Environments whose activations changed since the last look; all of them when
    /// changes were missed.
    fn changed(&self) -> BTreeSet<String> {
        let mut changed = BTreeSet::new();
        let mut changes = lock(&self.changes);
        loop {
            match changes.try_recv() {
                Ok(change) => {
                    changed.insert(change.environment);
                }
                Err(TryRecvError::Lagged(_)) => {
                    changed.extend(self.hosting.environments());
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        changed.retain(|e| self.hosting.serves(e));
        changed
    }

    /// Binds the active flows of `environments` again and logs each version that
    /// changed (`flow.activated`, `flow.deactivated`).
    fn rebuild(&self, environments: BTreeSet<String>) {
        for environment in environments {
            let flows = self.bind_active(&environment);
            let before = lock(&self.active).insert(environment.clone(), flows.clone());
            let digests = |list: &[ActiveFlow]| -> BTreeMap<String, String> {
                list.iter()
                    .map(|f| (f.flow.clone(), f.digest.clone()))
                    .collect()
            };
            let (old, new) = (digests(&before.unwrap_or_default()), digests(&flows));
            for (flow, digest) in &new {
                if old.get(flow) != Some(digest) {
                    self.log("flow.activated", &environment, flow, digest);
                }
            }
            for (flow, digest) in old.iter().filter(|(f, _)| !new.contains_key(*f)) {
                self.log("flow.deactivated", &environment, flow, digest);
            }
        }
    }

    fn log(&self, event: &str, environment: &str, flow: &str, digest: &str) {
        self.logger.event(
            &Redactor::default(),
            event,
            &[
                ("env", environment.to_owned()),
                ("flow", flow.to_owned()),
                ("digest", digest.to_owned()),
            ],
        );
    }

    /// Every flow active in `environment`, bound; one that cannot be bound is logged
    /// and left out (deploys and promotions refuse such versions, see
    /// [`Hosting::check`]).
    fn bind_active(&self, environment: &str) -> Vec<ActiveFlow> {
        let activations = match self.delivery.active_in(environment) {
            Ok(list) => list,
            Err(e) => {
                self.problem(environment, "", &e.to_string());
                return Vec::new();
            }
        };
        let mut flows = Vec::new();
        for activation in activations {
            let digest = &activation.version.digest;
            let bound = self.program(digest).and_then(|program| {
                self.hosting
                    .bind(&program, digest, &[activation.flow.as_str()], environment)
            });
            match bound {
                Ok(list) => flows.extend(list),
                Err(e) => self.problem(environment, &activation.flow, &e),
            }
        }
        flows
    }

    fn program(&self, digest: &str) -> Result<Arc<Program>, String> {
        if let Some(program) = lock(&self.programs).get(digest) {
            return Ok(Arc::clone(program));
        }
        let artifact = self.delivery.artifact(digest).map_err(|e| e.to_string())?;
        let program = Arc::new(artifact.program.clone());
        lock(&self.programs).insert(digest.to_owned(), Arc::clone(&program));
        Ok(program)
    }

    fn problem(&self, environment: &str, flow: &str, error: &str) {
        self.logger.event(
            &Redactor::default(),
            "flow.not_bound",
            &[
                ("env", environment.to_owned()),
                ("flow", flow.to_owned()),
                ("error", error.to_owned()),
            ],
        );
    }
}

impl Catalog for DeliveredCatalog {
    fn environments(&self) -> Vec<String> {
        self.hosting.environments()
    }

    fn active(&self, environment: &str) -> Vec<ActiveFlow> {
        let changed = self.changed();
        if !changed.is_empty() {
            self.rebuild(changed);
        }
        lock(&self.active)
            .get(environment)
            .cloned()
            .unwrap_or_default()
    }
}
