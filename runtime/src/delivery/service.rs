//! The delivery operations with their checks: who may call them, what the gates say,
//! and the audit entries they leave. The HTTP API ([`super::api`]) is a thin layer
//! over [`Delivery`]; a host calls it directly for activation lookups and run feeds.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast;

use super::audit::{self, Entry, ExportFormat, NewEntry, Verification};
use super::gates::{self, Context, Verdict};
use super::identity::{new_token, token_hash, Grant, Groups, Identity, Role};
use super::metrics::{self, Metrics};
use super::rollback::{self, Decision};
use super::store::{
    Activation, DeliveryStore, NewActivation, NewPromotion, Promotion, PromotionStatus, TestRecord,
};
use crate::artifact::Artifact;
use crate::ir::{Gate, Program};
use crate::state::RunRecord;

/// The compiler's semantic diff, injected by the host: old program, new program, and
/// the flow being promoted (to keep the changes that reach it).
pub type Differ = Arc<dyn Fn(&Program, &Program, &str) -> serde_json::Value + Send + Sync>;

/// The actor of automatic actions.
pub const SYSTEM: &str = "weft";

/// A change of the active version of a flow in an environment, for hosts to follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationChange {
    /// The flow.
    pub flow: String,
    /// The environment.
    pub environment: String,
    /// The digest now active.
    pub digest: String,
    /// Its version.
    pub version: String,
    /// `deploy`, `promotion` or `rollback`.
    pub cause: String,
}

/// Why an operation did not happen.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// No valid token (HTTP 401).
    Unauthenticated(String),
    /// The caller lacks the role, or approves their own request (HTTP 403).
    Forbidden(String),
    /// No such artifact, flow, promotion or user (HTTP 404).
    NotFound(String),
    /// A malformed request or a tampered artifact (HTTP 400).
    Invalid(String),
    /// The request conflicts with the current state (HTTP 409).
    Conflict(String),
    /// The store failed (HTTP 500).
    Store(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Unauthenticated(m)
            | Error::Forbidden(m)
            | Error::NotFound(m)
            | Error::Invalid(m)
            | Error::Conflict(m)
            | Error::Store(m) => f.write_str(m),
        }
    }
}

impl Error {
    /// The HTTP status that answers it.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::Unauthenticated(_) => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound(_) => 404,
            Error::Invalid(_) => 400,
            Error::Conflict(_) => 409,
            Error::Store(_) => 500,
        }
    }
}

impl From<super::store::StoreError> for Error {
    fn from(error: super::store::StoreError) -> Error {
        Error::Store(error.to_string())
    }
}

/// How the server is set up.
#[derive(Clone, Default)]
pub struct Options {
    /// Approval groups by project name (from each project's `weft.toml`).
    pub groups: Groups,
    /// The semantic diff stored with each promotion request.
    pub differ: Option<Differ>,
    /// Where alerts are posted (JSON), if anywhere.
    pub alert_webhook: Option<String>,
    /// The clock change windows are judged by; the system clock when none.
    pub clock: Option<Clock>,
    /// Whether a host can run a flow of a program in an environment (its connections
    /// bound, their secrets present); a version it cannot run is refused on request.
    pub binder: Option<Binder>,
}

/// Checks that a flow of a program can run in an environment: program, flow,
/// environment; the error says what is missing.
pub type Binder = Arc<dyn Fn(&Program, &str, &str) -> Result<(), String> + Send + Sync>;

/// A source of the current time.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What the monitor did about a breach.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutoRollback {
    /// The new activation, none when there was no known-good version to return to.
    pub activation: Option<Activation>,
    /// The monitor's decision.
    pub decision: Decision,
    /// The alert to post.
    pub alert: serde_json::Value,
}

/// Runs kept per flow and environment for the monitor.
const RUNS_KEPT: usize = 10_000;

/// The delivery service: state, gates, identity, audit, monitor.
pub struct Delivery {
    store: Mutex<Box<dyn DeliveryStore>>,
    artifacts: Mutex<HashMap<String, Arc<Artifact>>>,
    runs: Mutex<HashMap<(String, String), VecDeque<RunRecord>>>,
    options: Options,
    changes: broadcast::Sender<ActivationChange>,
}

impl Delivery {
    /// A service over `store`.
    pub fn new(store: Box<dyn DeliveryStore>, options: Options) -> Delivery {
        Delivery {
            store: Mutex::new(store),
            artifacts: Mutex::new(HashMap::new()),
            runs: Mutex::new(HashMap::new()),
            options,
            changes: broadcast::channel(1024).0,
        }
    }

    fn store(&self) -> MutexGuard<'_, Box<dyn DeliveryStore>> {
        // A panic while holding the lock leaves the store consistent (transactions).
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Activation changes as they happen (deploys, promotions, rollbacks).
    pub fn subscribe(&self) -> broadcast::Receiver<ActivationChange> {
        self.changes.subscribe()
    }

    /// The version of `flow` active in `environment`, for the host's scheduler.
    pub fn active(&self, environment: &str, flow: &str) -> Result<Option<Activation>, Error> {
        Ok(self.store().active(flow, environment)?)
    }

    /// The active version of every flow in `environment`, for a host's catalog.
    pub fn active_in(&self, environment: &str) -> Result<Vec<Activation>, Error> {
        let all = self.store().all_active()?;
        Ok(all
            .into_iter()
            .filter(|a| a.environment == environment)
            .collect())
    }

    /// A registered artifact (digest-verified when it was registered), cached.
    pub fn artifact(&self, digest: &str) -> Result<Arc<Artifact>, Error> {
        if let Some(found) = self
            .artifacts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(digest)
        {
            return Ok(Arc::clone(found));
        }
        let artifact = self
            .store()
            .artifact(digest)?
            .ok_or_else(|| Error::NotFound(format!("no artifact {digest}")))?;
        let artifact = Arc::new(artifact);
        self.artifacts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(digest.to_string(), Arc::clone(&artifact));
        Ok(artifact)
    }

    /// The identity holding `token`.
    pub fn authenticate(&self, token: Option<&str>) -> Result<Identity, Error> {
        let token = token.ok_or_else(|| Error::Unauthenticated("no bearer token".into()))?;
        self.store()
            .identity(&token_hash(token))?
            .ok_or_else(|| Error::Unauthenticated("unknown token".into()))
    }

    /// Admits a manual run of `flow` in `environment` for the holder of `token`, who
    /// needs the deployer role there; the request is audited either way.
    pub fn admit_run(
        &self,
        token: Option<&str>,
        environment: &str,
        flow: &str,
    ) -> Result<(), Error> {
        let call = "POST /v1/runs";
        let who = self
            .authenticate(token)
            .inspect_err(|e| self.refused("anonymous", call, e))?;
        self.require(&who, Role::Deployer, environment, "start runs")
            .inspect_err(|e| self.refused(&who.name, call, e))?;
        self.record(
            NewEntry::new(&who.name, "manual_run_requested").at(Some(flow), Some(environment)),
        )
    }

    /// Records a refused call in the audit trail.
    pub fn refused(&self, actor: &str, call: &str, error: &Error) {
        let entry = NewEntry::new(actor, "refused").details(json!({
            "call": call,
            "reason": error.to_string(),
        }));
        // The refusal is reported to the caller either way; a failing store shows
        // in the next call.
        let _ = self.store().append(&[entry]);
    }

    fn require(
        &self,
        who: &Identity,
        role: Role,
        environment: &str,
        what: &str,
    ) -> Result<(), Error> {
        if who.may(role, environment) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "{} may not {what} in {environment} (needs the {} role there)",
                who.name,
                role.as_str()
            )))
        }
    }

    /// Creates the first admin when there are no users; returns the token, once.
    pub fn bootstrap_admin(&self, name: &str) -> Result<Option<String>, Error> {
        let mut store = self.store();
        if store.user_count()? > 0 {
            return Ok(None);
        }
        let grants = [Grant {
            role: Role::Admin,
            environment: "*".into(),
        }];
        store.put_user(
            name,
            &grants,
            &[NewEntry::new(SYSTEM, "user_added")
                .details(json!({"user": name, "grants": ["admin:*"], "bootstrap": true}))],
        )?;
        let token = new_token().map_err(Error::Store)?;
        store.add_token(
            name,
            &token_hash(&token),
            &[NewEntry::new(SYSTEM, "token_issued").details(json!({"user": name}))],
        )?;
        Ok(Some(token))
    }

    /// Adds a user or replaces their grants (admin only).
    pub fn put_user(&self, who: &Identity, name: &str, grants: &[Grant]) -> Result<(), Error> {
        if !who.is_admin() {
            return Err(Error::Forbidden(format!(
                "{} may not manage users (needs admin)",
                who.name
            )));
        }
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::Invalid(format!("`{name}` is not a user name")));
        }
        let shown: Vec<String> = grants.iter().map(ToString::to_string).collect();
        self.store().put_user(
            name,
            grants,
            &[NewEntry::new(&who.name, "user_added")
                .details(json!({"user": name, "grants": shown}))],
        )?;
        Ok(())
    }

    /// Issues a new token for a user (admin only); only its hash is stored.
    pub fn issue_token(&self, who: &Identity, name: &str) -> Result<String, Error> {
        if !who.is_admin() {
            return Err(Error::Forbidden(format!(
                "{} may not issue tokens (needs admin)",
                who.name
            )));
        }
        let mut store = self.store();
        if store.user(name)?.is_none() {
            return Err(Error::NotFound(format!("no user {name}")));
        }
        let token = new_token().map_err(Error::Store)?;
        store.add_token(
            name,
            &token_hash(&token),
            &[NewEntry::new(&who.name, "token_issued").details(json!({"user": name}))],
        )?;
        Ok(token)
    }

    /// Records a `weft test --format json` report for a digest (deployed or not yet).
    pub fn record_tests(
        &self,
        who: &Identity,
        digest: &str,
        report: &serde_json::Value,
    ) -> Result<bool, Error> {
        if !who
            .grants
            .iter()
            .any(|g| matches!(g.role, Role::Deployer | Role::Admin))
        {
            return Err(Error::Forbidden(format!(
                "{} may not upload test results (needs deployer)",
                who.name
            )));
        }
        if !digest.starts_with("sha256:") || digest.len() != 7 + 64 {
            return Err(Error::Invalid(format!(
                "`{digest}` is not an artifact digest"
            )));
        }
        // The artifact may be deployed after its tests ran.
        let version = self.store().version(digest)?.map(|v| v.version);
        let summary = report
            .get("summary")
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        let passed = summary["ok"].as_bool() == Some(true)
            && summary["failed"].as_u64() == Some(0)
            && summary["passed"].as_u64().unwrap_or(0) > 0;
        let record = TestRecord {
            digest: digest.to_string(),
            passed,
            by: who.name.clone(),
            at: super::sqlite::now(),
            summary: summary.clone(),
        };
        self.store().record_tests(
            &record,
            &[NewEntry {
                version,
                digest: Some(digest.to_string()),
                ..NewEntry::new(&who.name, "tests_recorded")
                    .details(json!({"passed": passed, "summary": summary}))
            }],
        )?;
        Ok(passed)
    }

    /// Registers an artifact (digest-checked) and activates each of its flows in the
    /// first environment of its promotion chain, when that environment's gates pass.
    pub fn deploy(
        &self,
        who: &Identity,
        artifact: Artifact,
        environment: &str,
        tests: Option<&serde_json::Value>,
    ) -> Result<Vec<Promotion>, Error> {
        artifact
            .verify()
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let chain = artifact
            .program
            .promotion
            .as_ref()
            .map(|p| p.chain.clone())
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "{} {} declares no promotion chain: it cannot be deployed",
                    artifact.project.name, artifact.project.version
                ))
            })?;
        let first = chain.first().cloned().unwrap_or_default();
        if environment != first {
            return Err(Error::Conflict(format!(
                "artifacts enter the chain ({}) at {first}; {environment} is reached by `weft promote`",
                chain.join(" -> ")
            )));
        }
        self.require(who, Role::Deployer, environment, "deploy")?;
        let digest = artifact.digest.clone();
        let version = artifact.project.version.clone();
        self.store().register(
            &artifact,
            &who.name,
            &[NewEntry::new(&who.name, "registered")
                .at(None, Some(environment))
                .of(&version, &digest)
                .details(json!({"project": artifact.project.name, "build": artifact.build, "source_digest": artifact.source_digest}))],
        )?;
        let artifact = Arc::new(artifact);
        self.artifacts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(digest.clone(), Arc::clone(&artifact));
        if let Some(report) = tests {
            self.record_tests(who, &digest, report)?;
        }
        let mut results = Vec::new();
        for flow in artifact.program.flows.keys() {
            results.push(self.request(who, flow, None, environment, &artifact)?);
        }
        Ok(results)
    }

    /// Asks to move the version of `flow` active in the environment before `to` into
    /// `to`: activated at once when the gates pass, pending when approvals are
    /// missing, refused otherwise (the returned request says which).
    pub fn promote(&self, who: &Identity, flow: &str, to: &str) -> Result<Promotion, Error> {
        self.require(who, Role::Deployer, to, "request promotions")?;
        let candidates: Vec<Activation> = self
            .store()
            .all_active()?
            .into_iter()
            .filter(|a| a.flow == flow)
            .collect();
        // The chain comes from the version being promoted; find the environment
        // before `to` in the chain of any active version of the flow.
        for active in &candidates {
            let artifact = self.artifact(&active.version.digest)?;
            let Some(chain) = artifact.program.promotion.as_ref().map(|p| &p.chain) else {
                continue;
            };
            let Some(index) = chain.iter().position(|e| e == to) else {
                continue;
            };
            if index == 0 {
                return Err(Error::Conflict(format!(
                    "{to} is the first environment of the chain: use `weft deploy`"
                )));
            }
            let from = &chain[index - 1];
            if from != &active.environment {
                continue;
            }
            return self.request(who, flow, Some(from), to, &artifact);
        }
        let from_hint = if candidates.is_empty() {
            String::new()
        } else {
            let envs: Vec<&str> = candidates.iter().map(|a| a.environment.as_str()).collect();
            format!(" (active in: {})", envs.join(", "))
        };
        Err(Error::NotFound(format!(
            "no version of {flow} is active in the environment before {to}{from_hint}"
        )))
    }

    fn gates_of(artifact: &Artifact, to: &str) -> Vec<Gate> {
        artifact
            .program
            .promotion
            .as_ref()
            .and_then(|p| p.gates.get(to).cloned())
            .unwrap_or_default()
    }

    /// The gates to enter `to`: those the promoted version declares and those of the
    /// version running there, so that a change cannot weaken the gates it passes.
    fn gates_for(&self, flow: &str, to: &str, artifact: &Artifact) -> Result<Vec<Gate>, Error> {
        let mut gates = Delivery::gates_of(artifact, to);
        let running = self.store().active(flow, to)?;
        if let Some(running) = running.filter(|a| a.version.digest != artifact.digest) {
            for gate in Delivery::gates_of(&*self.artifact(&running.version.digest)?, to) {
                if !gates.contains(&gate) {
                    gates.push(gate);
                }
            }
        }
        Ok(gates)
    }

    fn evaluate(
        &self,
        flow: &str,
        artifact: &Artifact,
        to: &str,
        requester: &str,
        approvals: &[String],
    ) -> Result<gates::Evaluation, Error> {
        let gates = self.gates_for(flow, to, artifact)?;
        let tests_passed = self.store().tests_passed(&artifact.digest)?;
        Ok(gates::evaluate(
            &gates,
            &Context {
                project: &artifact.project.name,
                groups: &self.options.groups,
                requester,
                approvals,
                tests_passed,
                now: self
                    .options
                    .clock
                    .as_ref()
                    .map_or_else(Utc::now, |clock| clock()),
            },
        ))
    }

    fn diff_against(
        &self,
        flow: &str,
        to: &str,
        artifact: &Artifact,
    ) -> Result<serde_json::Value, Error> {
        let Some(differ) = &self.options.differ else {
            return Ok(serde_json::Value::Null);
        };
        let active = self.store().active(flow, to)?;
        let old = match active {
            Some(a) => self.artifact(&a.version.digest)?.program.clone(),
            None => Program::default(),
        };
        Ok(differ(&old, &artifact.program, flow))
    }

    fn request(
        &self,
        who: &Identity,
        flow: &str,
        from: Option<&str>,
        to: &str,
        artifact: &Arc<Artifact>,
    ) -> Result<Promotion, Error> {
        let evaluation = self.evaluate(flow, artifact, to, &who.name, &[])?;
        let diff = self.diff_against(flow, to, artifact)?;
        let gates_json = serde_json::to_value(&evaluation).unwrap_or_default();
        let awaiting = evaluation
            .gates
            .iter()
            .any(|g| !g.passed && g.gate.starts_with("approvals"));
        let unbound = self
            .options
            .binder
            .as_ref()
            .and_then(|check| check(&artifact.program, flow, to).err());
        let (status, reason) = match evaluation.verdict {
            // A version the environment cannot run is refused before anyone approves it.
            _ if unbound.is_some() => (
                PromotionStatus::Refused,
                unbound.map(|why| format!("bindings: {why}")),
            ),
            Verdict::Pass | Verdict::AwaitApproval => (PromotionStatus::Pending, None),
            // The window is judged again when the last approval comes in.
            Verdict::OutsideWindow if awaiting => (PromotionStatus::Pending, None),
            Verdict::Refuse | Verdict::OutsideWindow => {
                let failed: Vec<String> = evaluation
                    .gates
                    .iter()
                    .filter(|g| !g.passed && !g.gate.starts_with("approvals"))
                    .map(|g| format!("{}: {}", g.gate, g.detail))
                    .collect();
                (PromotionStatus::Refused, Some(failed.join("; ")))
            }
        };
        let entry = NewEntry::new(&who.name, "promotion_requested")
            .at(Some(flow), Some(to))
            .of(&artifact.project.version, &artifact.digest)
            .details(json!({"from": from, "gates": gates_json, "diff": diff}));
        let mut audit = vec![entry];
        if let Some(reason) = &reason {
            audit.push(
                NewEntry::new(&who.name, "promotion_refused")
                    .at(Some(flow), Some(to))
                    .of(&artifact.project.version, &artifact.digest)
                    .details(json!({"from": from, "gates": gates_json, "reason": reason})),
            );
        }
        let id = self.store().create_promotion(
            &NewPromotion {
                flow: flow.to_string(),
                from: from.map(str::to_string),
                to: to.to_string(),
                digest: artifact.digest.clone(),
                requested_by: who.name.clone(),
                status,
                diff,
                gates: gates_json.clone(),
                reason,
            },
            &audit,
        )?;
        // Refused for its bindings, a version whose gates pass stays inactive.
        if status == PromotionStatus::Pending && evaluation.verdict == Verdict::Pass {
            self.activate(&who.name, id, artifact, &gates_json, &[])?;
        }
        self.promotion(id)
    }

    fn activate(
        &self,
        actor: &str,
        promotion: i64,
        artifact: &Artifact,
        gates_json: &serde_json::Value,
        approvals: &[String],
    ) -> Result<Activation, Error> {
        let request = self
            .store()
            .promotion(promotion)?
            .ok_or_else(|| Error::NotFound(format!("no promotion {promotion}")))?;
        // Checked again here: bindings may have changed since the request (a host
        // restarted without a secret) while it waited for approvals.
        if let Some(check) = &self.options.binder {
            check(&artifact.program, &request.flow, &request.to).map_err(|why| {
                Error::Conflict(format!(
                    "{} cannot run in {} now (bindings: {why}); nothing was activated",
                    request.flow, request.to
                ))
            })?;
        }
        let cause = if request.from.is_none() {
            "deploy"
        } else {
            "promotion"
        };
        let commit_time = artifact.build.git_author_time.clone();
        let diff_changes = request.diff["changes"].as_array().map_or(0, Vec::len);
        let activation = self.store().activate(
            &NewActivation {
                flow: request.flow.clone(),
                environment: request.to.clone(),
                digest: artifact.digest.clone(),
                by: actor.to_string(),
                cause: cause.to_string(),
                promotion: Some(promotion),
            },
            &|old, new| {
                vec![NewEntry::new(actor, "activated")
                    .at(Some(&new.flow), Some(&new.environment))
                    .of(&new.version.version, &new.version.digest)
                    .details(json!({
                        "activation": new.id,
                        "cause": cause,
                        "promotion": promotion,
                        "requested_by": request.requested_by,
                        "approvals": approvals,
                        "gates": gates_json,
                        "diff_changes": diff_changes,
                        "replaces": old.map(|o| json!({"version": o.version.version, "digest": o.version.digest})),
                        "commit_time": commit_time,
                    }))]
            },
        )?;
        self.announce(&activation);
        Ok(activation)
    }

    fn announce(&self, activation: &Activation) {
        // No subscriber is fine: hosts that poll `active` need no channel.
        let _ = self.changes.send(ActivationChange {
            flow: activation.flow.clone(),
            environment: activation.environment.clone(),
            digest: activation.version.digest.clone(),
            version: activation.version.version.clone(),
            cause: activation.cause.clone(),
        });
    }

    /// A promotion request.
    pub fn promotion(&self, id: i64) -> Result<Promotion, Error> {
        self.store()
            .promotion(id)?
            .ok_or_else(|| Error::NotFound(format!("no promotion request {id}")))
    }

    /// Promotion requests, newest first.
    pub fn promotions(&self, status: Option<PromotionStatus>) -> Result<Vec<Promotion>, Error> {
        Ok(self.store().promotions(status)?)
    }

    /// Approves a pending request; activates it when the gates then pass.
    pub fn approve(&self, who: &Identity, id: i64) -> Result<Promotion, Error> {
        let request = self.promotion(id)?;
        self.require(who, Role::Approver, &request.to, "approve promotions")?;
        if request.status != PromotionStatus::Pending {
            return Err(Error::Conflict(format!(
                "promotion request {id} is {}",
                request.status.as_str()
            )));
        }
        let artifact = self.artifact(&request.version.digest)?;
        let gates = self.gates_for(&request.flow, &request.to, &artifact)?;
        if gates::forbids_self_approval(&gates, &request.requested_by, &who.name) {
            return Err(Error::Forbidden(format!(
                "{} requested promotion {id} and may not approve it (no self approval)",
                who.name
            )));
        }
        let mut approvals: Vec<String> = request.approvals.iter().map(|a| a.user.clone()).collect();
        if approvals.contains(&who.name) {
            // Approving again re-judges the gates: how a request approved outside its
            // change window is activated inside it.
            let evaluation = self.evaluate(
                &request.flow,
                &artifact,
                &request.to,
                &request.requested_by,
                &approvals,
            )?;
            if evaluation.verdict != Verdict::Pass {
                let failing: Vec<String> = evaluation
                    .gates
                    .iter()
                    .filter(|g| !g.passed)
                    .map(|g| format!("{}: {}", g.gate, g.detail))
                    .collect();
                return Err(Error::Conflict(format!(
                    "{} already approved promotion {id}; it waits for {}",
                    who.name,
                    failing.join("; ")
                )));
            }
            let gates_json = serde_json::to_value(&evaluation).unwrap_or_default();
            self.activate(&who.name, id, &artifact, &gates_json, &approvals)?;
            return self.promotion(id);
        }
        approvals.push(who.name.clone());
        let evaluation = self.evaluate(
            &request.flow,
            &artifact,
            &request.to,
            &request.requested_by,
            &approvals,
        )?;
        let gates_json = serde_json::to_value(&evaluation).unwrap_or_default();
        let diff_text = request.diff.to_string();
        self.store().approve(
            id,
            &who.name,
            &gates_json,
            &[NewEntry::new(&who.name, "approved")
                .at(Some(&request.flow), Some(&request.to))
                .of(&request.version.version, &request.version.digest)
                .details(json!({
                    "promotion": id,
                    "requested_by": request.requested_by,
                    "approvals": approvals,
                    "gates": gates_json,
                    "diff_reviewed": {
                        "sha256": crate::artifact::sha256(diff_text.as_bytes()),
                        "changes": request.diff["changes"].as_array().map_or(0, Vec::len),
                    },
                }))],
        )?;
        if evaluation.verdict == Verdict::Pass {
            self.activate(&who.name, id, &artifact, &gates_json, &approvals)?;
        }
        self.promotion(id)
    }

    /// Rejects a pending request.
    pub fn reject(&self, who: &Identity, id: i64, reason: &str) -> Result<Promotion, Error> {
        let request = self.promotion(id)?;
        self.require(who, Role::Approver, &request.to, "reject promotions")?;
        if request.status != PromotionStatus::Pending {
            return Err(Error::Conflict(format!(
                "promotion request {id} is {}",
                request.status.as_str()
            )));
        }
        self.store().close_promotion(
            id,
            PromotionStatus::Rejected,
            reason,
            &[NewEntry::new(&who.name, "rejected")
                .at(Some(&request.flow), Some(&request.to))
                .of(&request.version.version, &request.version.digest)
                .details(json!({"promotion": id, "requested_by": request.requested_by, "reason": reason}))],
        )?;
        self.promotion(id)
    }

    /// Rolls `flow` in `environment` back by hand: to `to` (a version or digest that
    /// ran there and was not rolled back since), or to the previous known-good one.
    pub fn rollback(
        &self,
        who: &Identity,
        flow: &str,
        environment: &str,
        to: Option<&str>,
        reason: &str,
    ) -> Result<Activation, Error> {
        self.require(who, Role::Deployer, environment, "roll back")?;
        let history = self.store().history(flow, environment)?;
        let current = history
            .iter()
            .find(|a| a.state == super::store::ActivationState::Active)
            .ok_or_else(|| Error::NotFound(format!("{flow} is not active in {environment}")))?;
        let target = match to {
            None => rollback::target(&history),
            Some(wanted) => {
                if !history
                    .iter()
                    .any(|a| a.version.digest == wanted || a.version.version == wanted)
                {
                    return Err(Error::NotFound(format!(
                        "{wanted} never ran {flow} in {environment}"
                    )));
                }
                rollback::target_matching(&history, |a| {
                    a.version.digest == wanted || a.version.version == wanted
                })
            }
        }
        .cloned();
        let Some(target) = target else {
            return Err(Error::Conflict(format!(
                "no known-good version of {flow} to return to in {environment}{}",
                to.map(|t| format!(
                    " matching {t} (it is active, was rolled back, or never ran to completion)"
                ))
                .unwrap_or_default()
            )));
        };
        let details = json!({"reason": reason, "manual": true});
        self.do_rollback(&who.name, current, &target, details)
    }

    fn do_rollback(
        &self,
        actor: &str,
        current: &Activation,
        target: &Activation,
        details: serde_json::Value,
    ) -> Result<Activation, Error> {
        let activation = self.store().roll_back(
            &NewActivation {
                flow: current.flow.clone(),
                environment: current.environment.clone(),
                digest: target.version.digest.clone(),
                by: actor.to_string(),
                cause: "rollback".into(),
                promotion: None,
            },
            &|old, new| {
                let mut rolled = details.clone();
                rolled["rolled_back_activation"] = json!(old.map(|o| o.id));
                rolled["to"] = json!({"version": new.version.version, "digest": new.version.digest, "activation": new.id});
                vec![
                    NewEntry::new(actor, "rolled_back")
                        .at(Some(&new.flow), Some(&new.environment))
                        .of(&current.version.version, &current.version.digest)
                        .details(rolled),
                    NewEntry::new(actor, "activated")
                        .at(Some(&new.flow), Some(&new.environment))
                        .of(&new.version.version, &new.version.digest)
                        .details(json!({"activation": new.id, "cause": "rollback", "replaces": {"version": current.version.version, "digest": current.version.digest}})),
                ]
            },
        )?;
        self.announce(&activation);
        Ok(activation)
    }

    /// Feeds one finished run to the monitor; rolls back at once when the flow's
    /// rollback policy in that environment is breached. The host calls this after
    /// every run it stores.
    pub fn observe_run(&self, run: &RunRecord) -> Result<Option<AutoRollback>, Error> {
        let key = (run.flow.clone(), run.environment.clone());
        let runs: Vec<RunRecord> = {
            let mut all = self.runs.lock().unwrap_or_else(|p| p.into_inner());
            let kept = all.entry(key).or_default();
            kept.push_back(run.clone());
            while kept.len() > RUNS_KEPT {
                kept.pop_front();
            }
            kept.iter().cloned().collect()
        };
        let Some(active) = self.store().active(&run.flow, &run.environment)? else {
            return Ok(None);
        };
        if active.version.digest != run.digest {
            return Ok(None);
        }
        let artifact = self.artifact(&active.version.digest)?;
        let Some(policy) = artifact
            .program
            .rollbacks
            .iter()
            .find(|r| r.flow == run.flow && r.environment == run.environment)
        else {
            return Ok(None);
        };
        let since = DateTime::parse_from_rfc3339(&active.activated_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        // Judge at the latest of now and the run's start, so a run stamped by a
        // slightly faster clock still counts.
        let started = DateTime::parse_from_rfc3339(&run.started_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now());
        let decision = rollback::decide(
            policy,
            &runs,
            &active.version.digest,
            since,
            Utc::now().max(started),
        );
        if !decision.breach {
            return Ok(None);
        }
        let history = self.store().history(&run.flow, &run.environment)?;
        let target = rollback::target(&history).cloned();
        let activation = match &target {
            Some(target) => Some(self.do_rollback(
                SYSTEM,
                &active,
                target,
                json!({"reason": "error rate over the rollback policy", "decision": decision, "failing_since": decision.failing_since, "manual": false}),
            )?),
            None => {
                self.store().append(&[NewEntry::new(SYSTEM, "rollback_impossible")
                    .at(Some(&run.flow), Some(&run.environment))
                    .of(&active.version.version, &active.version.digest)
                    .details(json!({"decision": decision, "reason": "no known-good version to return to"}))])?;
                // Judge again only on later runs.
                self.runs
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&(run.flow.clone(), run.environment.clone()));
                None
            }
        };
        let alert = json!({
            "event": if activation.is_some() { "rolled_back" } else { "rollback_impossible" },
            "flow": run.flow,
            "environment": run.environment,
            "channels": policy.alerts,
            "bad": {"version": active.version.version, "digest": active.version.digest},
            "restored": target.as_ref().map(|t| json!({"version": t.version.version, "digest": t.version.digest})),
            "decision": decision,
            "text": format!(
                "{} in {}: error rate {:.1}% over {} runs > {}%; {}",
                run.flow, run.environment, decision.error_rate_percent, decision.runs, policy.threshold_percent,
                match &target { Some(t) => format!("rolled back from {} to {}", active.version.version, t.version.version), None => "no known-good version to roll back to".to_string() }
            ),
        });
        Ok(Some(AutoRollback {
            activation,
            decision,
            alert,
        }))
    }

    /// Posts an alert to the configured webhook and records the outcome.
    pub fn send_alert(&self, alert: &serde_json::Value) {
        let Some(url) = &self.options.alert_webhook else {
            return;
        };
        let outcome = rollback::post_alert(url, alert);
        let entry = NewEntry::new(
            SYSTEM,
            if outcome.is_ok() {
                "alert_sent"
            } else {
                "alert_failed"
            },
        )
        .at(alert["flow"].as_str(), alert["environment"].as_str())
        .details(json!({"channels": alert["channels"], "error": outcome.err()}));
        let _ = self.store().append(&[entry]);
    }

    /// Records an event the host observed (a secret binding changed, a host joined)
    /// in the audit trail.
    pub fn record(&self, entry: NewEntry) -> Result<(), Error> {
        Ok(self.store().append(&[entry])?)
    }

    /// Audit entries from `since`.
    pub fn audit(&self, since: Option<&str>) -> Result<Vec<Entry>, Error> {
        Ok(self.store().audit(since)?)
    }

    /// The audit trail exported.
    pub fn export(&self, since: Option<&str>, format: ExportFormat) -> Result<String, Error> {
        Ok(audit::export(&self.audit(since)?, format))
    }

    /// Walks the whole audit chain.
    pub fn verify(&self) -> Result<Verification, Error> {
        let (entries, head) = {
            let store = self.store();
            (store.audit(None)?, store.audit_head()?)
        };
        Ok(audit::verify(
            &entries,
            head.as_ref().map(|(s, h)| (*s, h.as_str())),
        ))
    }

    /// DORA metrics of an environment over `[since, until]` (defaults: the first
    /// entry, now).
    pub fn metrics(
        &self,
        environment: &str,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Metrics, Error> {
        let entries = self.audit(None)?;
        let first = entries
            .first()
            .and_then(|e| DateTime::parse_from_rfc3339(&e.at).ok())
            .map(|t| t.with_timezone(&Utc));
        let until = until.unwrap_or_else(Utc::now);
        let since = since.or(first).unwrap_or(until);
        Ok(metrics::compute(&entries, environment, since, until))
    }

    /// What runs where, and the pending requests.
    pub fn status(&self) -> Result<serde_json::Value, Error> {
        let store = self.store();
        let active = store.all_active()?;
        let pending = store.promotions(Some(PromotionStatus::Pending))?;
        let mut by_flow: BTreeMap<String, BTreeMap<String, serde_json::Value>> = BTreeMap::new();
        for a in &active {
            by_flow.entry(a.flow.clone()).or_default().insert(
                a.environment.clone(),
                json!({"version": a.version.version, "digest": a.version.digest, "since": a.activated_at, "by": a.activated_by, "cause": a.cause}),
            );
        }
        Ok(json!({"flows": by_flow, "pending": pending}))
    }
}

#[cfg(test)]
mod tests;
