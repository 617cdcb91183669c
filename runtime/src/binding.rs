//! Environment bindings: which endpoint, secrets and options each connection has in an
//! environment. The compiler lowers `environment` blocks into these; they hold secret
//! *names* only and never go into an artifact.

use std::collections::BTreeMap;

/// One environment's bindings, by connection name.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Environment {
    /// Bindings by connection name.
    pub bindings: BTreeMap<String, Binding>,
}

/// One connection's binding: endpoint and secret *names*, never values.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Binding {
    /// Connector kind.
    pub kind: String,
    /// The literal endpoint (URL or folder); `None` when the endpoint is a secret.
    pub endpoint: Option<String>,
    /// Where each secret is used and its name: `auth.token` -> `ERP_TOKEN`.
    pub secrets: BTreeMap<String, String>,
    /// Other options as written: `timeout` -> `30000ms`, `auth` -> `bearer`.
    pub options: BTreeMap<String, String>,
}
