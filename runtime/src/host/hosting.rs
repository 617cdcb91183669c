//! The environments a host serves: each one's bindings (from its `environment` block)
//! and secrets (resolved at start), and the binding of a program's flows to them. A
//! flow that cannot be bound (a connection the environment does not bind, a secret not
//! set, webhooks without the signing key) is refused before it can run.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{ActiveFlow, WEBHOOK_SECRET};
use crate::binding::Environment;
use crate::connectors::{self, BindError, Bound};
use crate::ir::{Program, Trigger};
use crate::secrets::SecretSource;

/// The environments of a host with their secrets.
#[derive(Debug, Clone, Default)]
pub struct Hosting {
    /// Every environment block of the project, by name.
    bindings: BTreeMap<String, Environment>,
    /// The secrets of each environment this host serves.
    secrets: BTreeMap<String, SecretSource>,
}

impl Hosting {
    /// Hosting over the project's environment blocks, serving none yet.
    pub fn new(bindings: BTreeMap<String, Environment>) -> Hosting {
        Hosting {
            bindings,
            secrets: BTreeMap::new(),
        }
    }

    /// Serves `environment` with these secrets.
    pub fn serve(&mut self, environment: &str, secrets: SecretSource) {
        self.secrets.insert(environment.to_owned(), secrets);
    }

    /// The environments served, in name order.
    pub fn environments(&self) -> Vec<String> {
        self.secrets.keys().cloned().collect()
    }

    /// Whether this host serves `environment`.
    pub fn serves(&self, environment: &str) -> bool {
        self.secrets.contains_key(environment)
    }

    /// `flows` of `program` bound in `environment`, ready to run; the error names what
    /// is missing (never a secret's value).
    pub fn bind(
        &self,
        program: &Arc<Program>,
        digest: &str,
        flows: &[&str],
        environment: &str,
    ) -> Result<Vec<ActiveFlow>, String> {
        let (bound, webhook_secret) = self.connect(program, flows, environment)?;
        let mut redactor = bound.redactor().clone();
        if let Some(secret) = &webhook_secret {
            redactor = redactor.with(secret);
        }
        let redactor = Arc::new(redactor);
        let connections = Arc::new(bound);
        let webhook_secret = webhook_secret.map(Arc::new);
        Ok(flows
            .iter()
            .map(|flow| ActiveFlow {
                flow: (*flow).to_owned(),
                program: Arc::clone(program),
                digest: digest.to_owned(),
                connections: Arc::clone(&connections),
                redactor: Arc::clone(&redactor),
                webhook_secret: webhook_secret.clone(),
            })
            .collect())
    }

    /// Whether `flow` of `program` could run in `environment` here: always for an
    /// environment another host serves.
    pub fn check(&self, program: &Program, flow: &str, environment: &str) -> Result<(), String> {
        if !self.serves(environment) {
            return Ok(());
        }
        self.connect(program, &[flow], environment).map(drop)
    }

    /// The connections `flows` use, bound in `environment`, and the environment's
    /// webhook key when one of them has a webhook trigger (required then).
    fn connect(
        &self,
        program: &Program,
        flows: &[&str],
        environment: &str,
    ) -> Result<(Bound<'static>, Option<String>), String> {
        let Some(secrets) = self.secrets.get(environment) else {
            return Err(format!(
                "this host does not serve environment `{environment}`"
            ));
        };
        let bound = connectors::bind(program, flows, environment, &self.bindings, secrets)
            .map_err(|e| explain(program, &e))?;
        let hooked: Vec<&str> = flows
            .iter()
            .copied()
            .filter(|flow| {
                program.flows.get(*flow).is_some_and(|f| {
                    f.triggers
                        .iter()
                        .any(|t| matches!(t, Trigger::Webhook { .. }))
                })
            })
            .collect();
        let webhook_secret = secrets.get(WEBHOOK_SECRET).filter(|s| !s.is_empty());
        if !hooked.is_empty() && webhook_secret.is_none() {
            return Err(format!(
                "environment `{environment}` needs the secret {WEBHOOK_SECRET} to check the signatures of its webhooks (flows: {})",
                hooked.join(", ")
            ));
        }
        Ok((bound, webhook_secret))
    }
}

/// A bind error with the flows that use the connections it names.
fn explain(program: &Program, error: &BindError) -> String {
    let BindError::MissingSecrets { missing, .. } = error else {
        return error.to_string();
    };
    let connections: Vec<&str> = missing
        .iter()
        .map(|(_, used)| used.split(' ').next().unwrap_or_default())
        .collect();
    let flows: Vec<String> = program
        .flows
        .iter()
        .filter(|(_, flow)| {
            flow.steps()
                .filter_map(crate::ir::Step::connection)
                .any(|c| connections.contains(&c))
        })
        .map(|(name, _)| format!("flow `{name}`"))
        .collect();
    if flows.is_empty() {
        error.to_string()
    } else {
        format!("{error} (used by {})", flows.join(", "))
    }
}
