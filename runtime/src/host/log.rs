//! One structured line per host event on stderr, every line redacted.

use std::io::Write;

use crate::redact::Redactor;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `TIME EVENT key=value ...`.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Writes host events to stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct Logger {
    format: LogFormat,
}

impl Logger {
    /// A logger writing this format.
    pub fn new(format: LogFormat) -> Logger {
        Logger { format }
    }

    /// The line of an event, redacted.
    pub fn line(&self, redactor: &Redactor, event: &str, fields: &[(&str, String)]) -> String {
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let text = match self.format {
            LogFormat::Text => {
                let mut text = format!("{time} {event}");
                for (key, value) in fields {
                    if value.is_empty() || value.contains([' ', '"', '=']) {
                        text.push_str(&format!(
                            " {key}={}",
                            serde_json::Value::from(value.as_str())
                        ));
                    } else {
                        text.push_str(&format!(" {key}={value}"));
                    }
                }
                text
            }
            LogFormat::Json => {
                let mut object = serde_json::Map::new();
                object.insert("time".into(), time.into());
                object.insert("event".into(), event.into());
                for (key, value) in fields {
                    object.insert((*key).to_owned(), value.as_str().into());
                }
                serde_json::Value::Object(object).to_string()
            }
        };
        redactor.redact(&text)
    }

    /// Writes an event's line to stderr.
    pub fn event(&self, redactor: &Redactor, event: &str, fields: &[(&str, String)]) {
        let line = self.line(redactor, event, fields);
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_redacted_in_both_formats() {
        let redactor = Redactor::new(["hunter2"]);
        let fields = [
            ("flow", "sync".to_owned()),
            ("error", "bad hunter2 token".to_owned()),
        ];
        let text = Logger::new(LogFormat::Text).line(&redactor, "run.finish", &fields);
        assert!(
            text.ends_with(" run.finish flow=sync error=\"bad *** token\""),
            "{text}"
        );
        let json = Logger::new(LogFormat::Json).line(&redactor, "run.finish", &fields);
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(parsed["error"], "bad *** token");
        assert_eq!(parsed["event"], "run.finish");
    }
}
