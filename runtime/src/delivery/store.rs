//! Where delivery state lives: artifacts, activations per flow and environment,
//! promotion requests and approvals, users and token hashes, test results and the
//! audit trail, behind [`DeliveryStore`] so that a shared PostgreSQL can back several
//! runtime hosts later. [`super::sqlite::SqliteDeliveryStore`] is the default.
//!
//! Every change takes the audit entries that describe it and appends them in the same
//! transaction: the trail never misses a change and never records one that failed.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::audit::{Entry, NewEntry};
use super::identity::{Grant, Identity};
use crate::artifact::Artifact;

/// Why the store failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "delivery state: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// A registered artifact's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// Content digest.
    pub digest: String,
    /// Project name.
    pub project: String,
    /// Project version.
    pub version: String,
    /// Author time of the commit it was built from (RFC 3339), if known.
    pub commit_time: Option<String>,
}

/// Where an activation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivationState {
    /// Running now.
    Active,
    /// Replaced by a later activation.
    Superseded,
    /// Taken back by a rollback: never re-activated without a new promotion.
    RolledBack,
}

impl ActivationState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivationState::Active => "active",
            ActivationState::Superseded => "superseded",
            ActivationState::RolledBack => "rolled_back",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<ActivationState> {
        [
            ActivationState::Active,
            ActivationState::Superseded,
            ActivationState::RolledBack,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One version of one flow made active in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    /// Its id, increasing.
    pub id: i64,
    /// The flow.
    pub flow: String,
    /// The environment.
    pub environment: String,
    /// The artifact version.
    pub version: Version,
    /// When (RFC 3339, UTC).
    pub activated_at: String,
    /// Who (a user, or `weft` for an automatic rollback).
    pub activated_by: String,
    /// Active, superseded or rolled back.
    pub state: ActivationState,
    /// Set when it ran until replaced by a promotion: a rollback may return to it.
    pub known_good: bool,
    /// How it came: `deploy`, `promotion`, `rollback`.
    pub cause: String,
}

/// An activation to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActivation {
    /// The flow.
    pub flow: String,
    /// The environment.
    pub environment: String,
    /// The digest to activate (registered).
    pub digest: String,
    /// Who.
    pub by: String,
    /// `deploy`, `promotion` or `rollback`.
    pub cause: String,
    /// The promotion request it completes, marked activated in the same transaction.
    pub promotion: Option<i64>,
}

/// Where a promotion request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionStatus {
    /// Waiting for approvals.
    Pending,
    /// Approved (or needing none) and activated.
    Activated,
    /// Rejected by an approver.
    Rejected,
    /// Refused by a gate.
    Refused,
}

impl PromotionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PromotionStatus::Pending => "pending",
            PromotionStatus::Activated => "activated",
            PromotionStatus::Rejected => "rejected",
            PromotionStatus::Refused => "refused",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<PromotionStatus> {
        [
            PromotionStatus::Pending,
            PromotionStatus::Activated,
            PromotionStatus::Rejected,
            PromotionStatus::Refused,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// An approval given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Who.
    pub user: String,
    /// When.
    pub at: String,
}

/// A request to move a version of a flow into an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    /// Its id.
    pub id: i64,
    /// The flow.
    pub flow: String,
    /// The environment it comes from (none for a deploy into the first).
    pub from: Option<String>,
    /// The environment it enters.
    pub to: String,
    /// The version.
    pub version: Version,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: String,
    /// Where it stands.
    pub status: PromotionStatus,
    /// The semantic diff against what ran in `to` when it was requested.
    pub diff: serde_json::Value,
    /// The last gate evaluation.
    pub gates: serde_json::Value,
    /// Why it was rejected or refused.
    pub reason: Option<String>,
    /// Approvals given, oldest first.
    pub approvals: Vec<Approval>,
}

/// A promotion request to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPromotion {
    /// The flow.
    pub flow: String,
    /// From.
    pub from: Option<String>,
    /// To.
    pub to: String,
    /// The digest (registered).
    pub digest: String,
    /// Who asked.
    pub requested_by: String,
    /// Initial status.
    pub status: PromotionStatus,
    /// The diff.
    pub diff: serde_json::Value,
    /// The gate evaluation.
    pub gates: serde_json::Value,
    /// Why, when refused.
    pub reason: Option<String>,
}

/// A user and what they may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Name.
    pub name: String,
    /// Roles per environment.
    pub grants: Vec<Grant>,
    /// When added.
    pub created_at: String,
}

/// A recorded test run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestRecord {
    /// The digest tested.
    pub digest: String,
    /// Whether every test passed.
    pub passed: bool,
    /// Who uploaded it.
    pub by: String,
    /// When.
    pub at: String,
    /// The `weft test --format json` summary.
    pub summary: serde_json::Value,
}

/// Builds the audit entries of an activation from the one replaced (if any) and the
/// new one, inside its transaction.
pub type AuditOf<'a> = dyn Fn(Option<&Activation>, &Activation) -> Vec<NewEntry> + 'a;

/// Delivery state. Every mutating call takes the audit entries describing it and
/// appends them in the same transaction.
pub trait DeliveryStore: Send {
    /// Registers an artifact (already verified) unless its digest is known; returns
    /// whether it was new. The entries are appended only when it was.
    fn register(
        &mut self,
        artifact: &Artifact,
        by: &str,
        audit: &[NewEntry],
    ) -> Result<bool, StoreError>;
    /// A registered artifact.
    fn artifact(&self, digest: &str) -> Result<Option<Artifact>, StoreError>;
    /// A registered version by digest.
    fn version(&self, digest: &str) -> Result<Option<Version>, StoreError>;
    /// Digests registered for `project` with this version string, newest first.
    fn digests_of(&self, project: &str, version: &str) -> Result<Vec<String>, StoreError>;

    /// The active activation of a flow in an environment.
    fn active(&self, flow: &str, environment: &str) -> Result<Option<Activation>, StoreError>;
    /// Every active activation, by flow then environment.
    fn all_active(&self) -> Result<Vec<Activation>, StoreError>;
    /// A flow's activation history in an environment, newest first.
    fn history(&self, flow: &str, environment: &str) -> Result<Vec<Activation>, StoreError>;
    /// Activates a version: the active one becomes superseded and known-good. `audit`
    /// describes the change given the new activation (its id included).
    fn activate(
        &mut self,
        new: &NewActivation,
        audit: &AuditOf<'_>,
    ) -> Result<Activation, StoreError>;
    /// Rolls back: the active one becomes rolled back (never known-good), the given
    /// digest becomes active. `audit` gets the rolled-back and the new activation.
    fn roll_back(
        &mut self,
        new: &NewActivation,
        audit: &AuditOf<'_>,
    ) -> Result<Activation, StoreError>;

    /// Stores a promotion request; returns its id.
    fn create_promotion(
        &mut self,
        new: &NewPromotion,
        audit: &[NewEntry],
    ) -> Result<i64, StoreError>;
    /// A promotion request with its approvals.
    fn promotion(&self, id: i64) -> Result<Option<Promotion>, StoreError>;
    /// Promotion requests, newest first, optionally of one status.
    fn promotions(&self, status: Option<PromotionStatus>) -> Result<Vec<Promotion>, StoreError>;
    /// Records an approval and the new gate evaluation.
    fn approve(
        &mut self,
        id: i64,
        user: &str,
        gates: &serde_json::Value,
        audit: &[NewEntry],
    ) -> Result<(), StoreError>;
    /// Closes a request as rejected or refused.
    fn close_promotion(
        &mut self,
        id: i64,
        status: PromotionStatus,
        reason: &str,
        audit: &[NewEntry],
    ) -> Result<(), StoreError>;

    /// Adds a user (or replaces their grants).
    fn put_user(
        &mut self,
        user: &str,
        grants: &[Grant],
        audit: &[NewEntry],
    ) -> Result<(), StoreError>;
    /// A user.
    fn user(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// Number of users.
    fn user_count(&self) -> Result<u64, StoreError>;
    /// Stores the hash of a new token of `user`.
    fn add_token(
        &mut self,
        user: &str,
        token_hash: &str,
        audit: &[NewEntry],
    ) -> Result<(), StoreError>;
    /// The identity whose token has this hash.
    fn identity(&self, token_hash: &str) -> Result<Option<Identity>, StoreError>;

    /// Records a test run of a digest.
    fn record_tests(&mut self, record: &TestRecord, audit: &[NewEntry]) -> Result<(), StoreError>;
    /// Whether a passing test run is recorded for the digest.
    fn tests_passed(&self, digest: &str) -> Result<bool, StoreError>;

    /// Appends entries on their own (refused calls, alerts).
    fn append(&mut self, audit: &[NewEntry]) -> Result<(), StoreError>;
    /// Audit entries by `seq`, from the first at or after `since` (RFC 3339).
    fn audit(&self, since: Option<&str>) -> Result<Vec<Entry>, StoreError>;
    /// The recorded head of the trail: last `seq` and hash.
    fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError>;
}
