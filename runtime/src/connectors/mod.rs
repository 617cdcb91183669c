//! Real connections: an environment's bindings turned into connectors that talk to
//! HTTP APIs, folders of record files and PostgreSQL, with secrets resolved at start.
//!
//! [`bind`] refuses, before anything runs, an environment that does not bind every
//! connection the flows use, or whose secrets are not all set; every error a bound
//! connection returns is redacted.

pub mod file;
pub mod http;
pub mod postgres;
mod settings;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use crate::binding::Environment;
use crate::connector::{Connections, ConnectorError, Records, Request};
use crate::ir::{Program, Step};
use crate::redact::Redactor;
use crate::secrets::SecretSource;

pub use settings::Settings;

/// One bound connection: sends requests to its real system.
pub trait Connector: Send + Sync {
    /// Sends one request and returns the answer's JSON (`null` when it has none).
    fn send(&self, request: &Request<'_>) -> Result<serde_json::Value, ConnectorError>;

    /// Streams a `read`'s records; `None` (the default) when the answer comes whole.
    fn read_records<'a>(
        &'a self,
        request: &Request<'_>,
    ) -> Result<Option<Records<'a>>, ConnectorError> {
        let _ = request;
        Ok(None)
    }

    /// The files a `read` of `path` would take now, for sources that are folders of
    /// files (see [`file`]); `None` for every other source.
    fn pending_files(&self, path: &str) -> Option<Vec<PathBuf>> {
        let _ = path;
        None
    }
}

/// The connections of one environment, ready to run flows.
pub struct Bound<'p> {
    connectors: BTreeMap<String, Box<dyn Connector + 'p>>,
    redactor: Redactor,
}

impl fmt::Debug for Bound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bound")
            .field("connections", &self.connectors.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Bound<'_> {
    /// The redactor of this environment's secrets, for everything shown or stored.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The files a `read` of `path` on `connection` would take now, when that
    /// connection is a folder of files and the path a folder or pattern.
    pub fn pending_files(&self, connection: &str, path: &str) -> Option<Vec<PathBuf>> {
        self.connectors.get(connection)?.pending_files(path)
    }
}

impl Connections for Bound<'_> {
    fn send(&self, request: &Request<'_>) -> Result<serde_json::Value, ConnectorError> {
        let Some(connector) = self.connectors.get(request.connection) else {
            return Err(ConnectorError::Invalid(format!(
                "connection `{}` is not bound",
                request.connection
            )));
        };
        connector
            .send(request)
            .map_err(|e| redact_error(e, &self.redactor))
    }

    fn read_records<'a>(
        &'a self,
        request: &Request<'_>,
    ) -> Result<Option<Records<'a>>, ConnectorError> {
        let Some(connector) = self.connectors.get(request.connection) else {
            return Ok(None);
        };
        let redactor = &self.redactor;
        Ok(connector
            .read_records(request)
            .map_err(|e| redact_error(e, redactor))?
            .map(|records| Records {
                items: Box::new(
                    records
                        .items
                        .map(move |item| item.map_err(|e| redact_error(e, redactor))),
                ),
                settle: records.settle,
            }))
    }
}

fn redact_error(error: ConnectorError, redactor: &Redactor) -> ConnectorError {
    match error {
        ConnectorError::Status {
            code,
            detail,
            retry_after,
        } => ConnectorError::Status {
            code,
            detail: redactor.redact(&detail),
            retry_after,
        },
        ConnectorError::Timeout => ConnectorError::Timeout,
        ConnectorError::Transport(m) => ConnectorError::Transport(redactor.redact(&m)),
        ConnectorError::Invalid(m) => ConnectorError::Invalid(redactor.redact(&m)),
    }
}

/// Why an environment cannot run the flows. Never carries a secret value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindError {
    /// The project declares no environment of that name.
    UnknownEnvironment {
        /// The name asked for.
        name: String,
        /// The environments there are.
        known: Vec<String>,
    },
    /// The program has no flow of that name.
    UnknownFlow(String),
    /// A flow uses a connection the environment does not bind.
    Unbound {
        /// The flow.
        flow: String,
        /// The connection.
        connection: String,
        /// The environment.
        environment: String,
    },
    /// Secrets the bindings name are not set.
    MissingSecrets {
        /// The environment.
        environment: String,
        /// Each missing secret's name and where it is used (`crm auth.token`).
        missing: Vec<(String, String)>,
    },
    /// A binding cannot be turned into a connection (bad option, unknown kind, ...).
    Binding {
        /// The connection.
        connection: String,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindError::UnknownEnvironment { name, known } if known.is_empty() => {
                write!(f, "no environment named `{name}`: the project declares none")
            }
            BindError::UnknownEnvironment { name, known } => write!(
                f,
                "no environment named `{name}` (environments: {})",
                known.join(", ")
            ),
            BindError::UnknownFlow(name) => write!(f, "no flow named `{name}`"),
            BindError::Unbound {
                flow,
                connection,
                environment,
            } => write!(
                f,
                "flow `{flow}` uses connection `{connection}`, which environment `{environment}` does not bind"
            ),
            BindError::MissingSecrets {
                environment,
                missing,
            } => {
                write!(f, "environment `{environment}` needs secrets that are not set:")?;
                for (name, used) in missing {
                    write!(f, " {name} (for {used});")?;
                }
                f.write_str(" set them as environment variables or in the --secrets file")
            }
            BindError::Binding {
                connection,
                message,
            } => write!(f, "connection `{connection}`: {message}"),
        }
    }
}

impl std::error::Error for BindError {}

/// Binds the connections `flows` use in `environment`: every one must be bound and
/// every secret of those bindings set. Nothing is sent here (an OAuth2 token is
/// fetched on the first request).
pub fn bind(
    program: &Program,
    flows: &[&str],
    environment: &str,
    environments: &BTreeMap<String, Environment>,
    secrets: &SecretSource,
) -> Result<Bound<'static>, BindError> {
    let Some(env) = environments.get(environment) else {
        return Err(BindError::UnknownEnvironment {
            name: environment.to_owned(),
            known: environments.keys().cloned().collect(),
        });
    };
    let mut used = BTreeSet::new();
    for flow_name in flows {
        let Some(flow) = program.flows.get(*flow_name) else {
            return Err(BindError::UnknownFlow((*flow_name).to_owned()));
        };
        for connection in flow.steps().filter_map(Step::connection) {
            if !env.bindings.contains_key(connection) {
                return Err(BindError::Unbound {
                    flow: (*flow_name).to_owned(),
                    connection: connection.to_owned(),
                    environment: environment.to_owned(),
                });
            }
            used.insert(connection);
        }
    }
    let mut resolved = BTreeMap::new();
    let mut missing = Vec::new();
    for connection in &used {
        let binding = &env.bindings[*connection];
        let mut values = BTreeMap::new();
        for (usage, name) in &binding.secrets {
            match secrets.get(name) {
                Some(value) => {
                    values.insert(usage.clone(), value);
                }
                None => missing.push((name.clone(), format!("{connection} {usage}"))),
            }
        }
        resolved.insert(*connection, values);
    }
    if !missing.is_empty() {
        return Err(BindError::MissingSecrets {
            environment: environment.to_owned(),
            missing,
        });
    }
    let redactor = Redactor::new(
        resolved
            .values()
            .flat_map(|values| values.values().map(String::as_str)),
    );
    let mut connectors: BTreeMap<String, Box<dyn Connector>> = BTreeMap::new();
    for (connection, secrets) in resolved {
        let binding = &env.bindings[connection];
        let settings = Settings {
            connection,
            binding,
            secrets,
        };
        let declared = program.connections.get(connection).map(|c| c.kind.as_str());
        if declared.is_some_and(|kind| kind != binding.kind) {
            return Err(settings.error(format!(
                "declared as `{}` but bound as `{}`",
                declared.unwrap_or_default(),
                binding.kind
            )));
        }
        let connector: Box<dyn Connector> = match binding.kind.as_str() {
            "http" => Box::new(http::HttpConnector::new(&settings)?),
            "file" => Box::new(file::FileConnector::new(&settings, program, connection)?),
            "postgres" => Box::new(postgres::PostgresConnector::new(&settings)?),
            other => return Err(settings.error(format!("unknown connector kind `{other}`"))),
        };
        connectors.insert(connection.to_owned(), connector);
    }
    Ok(Bound {
        connectors,
        redactor,
    })
}

/// The connection a step talks to, if any.
#[cfg(test)]
mod tests;
