//! Redaction: secret values replaced by `***` in every text the runtime shows or stores
//! (log lines, error messages, run records, dead letters).

use base64::Engine as _;

/// What a secret becomes in redacted text.
pub const MASK: &str = "***";

/// Replaces the secret values of one environment in text. Cheap to clone; one is built
/// when an environment is bound and used for every output of its runs.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Every form a secret may take in text, longest first so that a secret containing
    /// another is masked whole.
    needles: Vec<String>,
}

impl Redactor {
    /// A redactor for these secret values. Besides each value it masks the value as it
    /// appears inside JSON strings and in base64 (as in an HTTP basic-auth header).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Redactor {
        let mut needles = Vec::new();
        for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
            needles.push(secret.to_owned());
            let json = serde_json::Value::from(secret).to_string();
            needles.push(json[1..json.len() - 1].to_owned());
            needles.push(base64::engine::general_purpose::STANDARD.encode(secret));
        }
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        needles.dedup();
        Redactor { needles }
    }

    /// Adds a value derived from secrets (such as a fetched OAuth2 access token or a
    /// basic-auth `user:password` pair) so that it is masked too.
    pub fn with(mut self, value: &str) -> Redactor {
        let mut more = Redactor::new([value]).needles;
        self.needles.append(&mut more);
        self.needles
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        self.needles.dedup();
        self
    }

    /// The text with every secret replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), MASK);
            }
        }
        out
    }

    /// A JSON value with every string (and object key) redacted.
    pub fn redact_json(&self, value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(s) => Value::String(self.redact(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_json(v)).collect())
            }
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (self.redact(k), self.redact_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_and_form() {
        let r = Redactor::new(["s3cr\"et", "tok"]);
        assert_eq!(r.redact("a s3cr\"et b tok c tok"), "a *** b *** c ***");
        // As it appears inside JSON text.
        let json = serde_json::json!({ "p": "s3cr\"et" }).to_string();
        assert_eq!(r.redact(&json), r#"{"p":"***"}"#);
        // As it appears base64-encoded.
        let encoded = base64::engine::general_purpose::STANDARD.encode("s3cr\"et");
        assert_eq!(r.redact(&format!("Basic {encoded}")), "Basic ***");
    }

    #[test]
    fn longest_secret_first_and_empty_ignored() {
        let r = Redactor::new(["abc", "abcdef", ""]).with("xyz");
        assert_eq!(r.redact("abcdef abc xyz q"), "*** *** *** q");
        assert_eq!(Redactor::new([""]).redact("text"), "text");
    }

    #[test]
    fn redacts_json_values_and_keys() {
        let r = Redactor::new(["pw"]);
        let v = serde_json::json!({ "pw": ["a pw", 1], "n": null });
        assert_eq!(
            r.redact_json(&v),
            serde_json::json!({ "***": ["a ***", 1], "n": null })
        );
    }
}
