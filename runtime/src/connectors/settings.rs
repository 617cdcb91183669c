//! One binding with its secrets resolved: typed access to its endpoint and options.

use std::collections::BTreeMap;
use std::time::Duration;

use super::BindError;
use crate::binding::Binding;

/// A binding and the values of its secrets, by where they are used (`auth.token`).
#[derive(Debug)]
pub struct Settings<'a> {
    /// The connection's name.
    pub connection: &'a str,
    /// The binding as lowered.
    pub binding: &'a Binding,
    /// Secret values by use.
    pub secrets: BTreeMap<String, String>,
}

impl Settings<'_> {
    /// A [`BindError`] about this connection.
    pub fn error(&self, message: String) -> BindError {
        BindError::Binding {
            connection: self.connection.to_owned(),
            message,
        }
    }

    /// The endpoint: the literal one, or the secret given in its place.
    pub fn endpoint(&self) -> Result<&str, BindError> {
        self.binding
            .endpoint
            .as_deref()
            .or_else(|| self.secrets.get("endpoint").map(String::as_str))
            .ok_or_else(|| self.error("the binding has no endpoint".into()))
    }

    /// A literal option, or a secret given for it.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.binding
            .options
            .get(key)
            .or_else(|| self.secrets.get(key))
            .map(String::as_str)
    }

    /// A required value of an option (such as `auth.token`).
    pub fn required(&self, key: &str) -> Result<&str, BindError> {
        self.value(key)
            .ok_or_else(|| self.error(format!("`{key}` is not given")))
    }

    /// A duration option (lowered as `NNNms`).
    pub fn duration(&self, key: &str) -> Result<Option<Duration>, BindError> {
        self.value(key)
            .map(|text| {
                text.strip_suffix("ms")
                    .and_then(|n| n.parse::<u64>().ok())
                    .map(Duration::from_millis)
                    .ok_or_else(|| self.error(format!("`{key}` is not a duration: `{text}`")))
            })
            .transpose()
    }

    /// A positive whole-number option.
    pub fn count(&self, key: &str) -> Result<Option<u32>, BindError> {
        self.value(key)
            .map(|text| {
                text.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    self.error(format!("`{key}` is not a positive whole number: `{text}`"))
                })
            })
            .transpose()
    }

    /// Options and secrets under `prefix.`, by the rest of their key.
    pub fn group(&self, prefix: &str) -> BTreeMap<&str, &str> {
        let dotted = format!("{prefix}.");
        self.binding
            .options
            .iter()
            .chain(self.secrets.iter())
            .filter_map(|(k, v)| {
                k.strip_prefix(dotted.as_str())
                    .map(|rest| (rest, v.as_str()))
            })
            .collect()
    }
}
