//! Where secret values come from: a secrets file given with `--secrets FILE`, then the
//! process environment.
//!
//! The file is dotenv-style: one `NAME=value` per line; blank lines and lines starting
//! with `#` are skipped; an optional `export ` prefix is ignored; a value in matching
//! single or double quotes is taken without them (no escapes, no interpolation). A name
//! in the file wins over the same environment variable.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// The places secret values are looked up, in order.
#[derive(Debug, Clone, Default)]
pub struct SecretSource {
    file: BTreeMap<String, String>,
    use_process_env: bool,
}

/// Why a secrets file cannot be used. Never carries a value from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretsFileError {
    /// The file cannot be read.
    Unreadable {
        /// The file.
        path: String,
        /// The I/O error.
        error: String,
    },
    /// A line is not `NAME=value`.
    Malformed {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: &'static str,
    },
}

impl fmt::Display for SecretsFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretsFileError::Unreadable { path, error } => {
                write!(f, "cannot read the secrets file {path}: {error}")
            }
            SecretsFileError::Malformed {
                path,
                line,
                message,
            } => {
                write!(f, "{path}:{line}: {message} (expected `NAME=value`)")
            }
        }
    }
}

impl std::error::Error for SecretsFileError {}

impl SecretSource {
    /// Secrets from the process environment only.
    pub fn process_env() -> SecretSource {
        SecretSource {
            file: BTreeMap::new(),
            use_process_env: true,
        }
    }

    /// Secrets from this file, then the process environment.
    pub fn file_then_env(path: &Path) -> Result<SecretSource, SecretsFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SecretsFileError::Unreadable {
            path: shown.clone(),
            error: e.to_string(),
        })?;
        Ok(SecretSource {
            file: parse_file(&text, &shown)?,
            use_process_env: true,
        })
    }

    /// Secrets from these values only (for tests and embedding hosts).
    pub fn fixed(values: BTreeMap<String, String>) -> SecretSource {
        SecretSource {
            file: values,
            use_process_env: false,
        }
    }

    /// The value of the secret `name`, if it is set.
    pub fn get(&self, name: &str) -> Option<String> {
        self.file.get(name).cloned().or_else(|| {
            self.use_process_env
                .then(|| std::env::var(name).ok())
                .flatten()
        })
    }
}

/// Parses a dotenv-style secrets file.
fn parse_file(text: &str, path: &str) -> Result<BTreeMap<String, String>, SecretsFileError> {
    let mut values = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let malformed = |message| SecretsFileError::Malformed {
            path: path.to_owned(),
            line: index + 1,
            message,
        };
        let Some((name, value)) = line.split_once('=') else {
            return Err(malformed("no `=` on this line"));
        };
        let name = name.trim();
        let valid_name = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            return Err(malformed("the name is not letters, digits and `_`"));
        }
        let value = value.trim();
        let unquoted = [b'"', b'\'']
            .iter()
            .find(|q| {
                value.len() >= 2
                    && value.as_bytes()[0] == **q
                    && value.as_bytes()[value.len() - 1] == **q
            })
            .map_or(value, |_| &value[1..value.len() - 1]);
        values.insert(name.to_owned(), unquoted.to_owned());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dotenv_lines() {
        let text = "# comment\n\nexport A=1\nB = \"two words\"\nC='x=y'\nD=\n";
        let values = parse_file(text, "s.env").unwrap_or_default();
        assert_eq!(values.get("A").map(String::as_str), Some("1"));
        assert_eq!(values.get("B").map(String::as_str), Some("two words"));
        assert_eq!(values.get("C").map(String::as_str), Some("x=y"));
        assert_eq!(values.get("D").map(String::as_str), Some(""));
    }

    #[test]
    fn malformed_lines_name_the_line_not_the_value() {
        let error = parse_file("A=1\nhunter2\n", "s.env").err();
        let shown = error.map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            shown,
            "s.env:2: no `=` on this line (expected `NAME=value`)"
        );
        let error = parse_file("1X=secret\n", "s.env").err();
        assert!(error.is_some_and(|e| !e.to_string().contains("secret")));
    }

    #[test]
    fn fixed_source_ignores_the_process_environment() {
        let source = SecretSource::fixed(BTreeMap::from([("K".to_owned(), "v".to_owned())]));
        assert_eq!(source.get("K").as_deref(), Some("v"));
        assert_eq!(source.get("PATH"), None);
    }
}
