//! The `file` connector: record files in a folder (the binding's endpoint). `read`
//! parses a JSON, NDJSON or CSV file with [`crate::format`]; `write` appends each record
//! (a line of NDJSON, a CSV row under the file's header, or an element of a JSON
//! array, which rewrites the file). The format comes from the file's extension or
//! the `format` option (`"json"`, `"ndjson"`, `"csv"`). Paths stay inside the folder.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use super::{BindError, Connector, Settings};
use crate::connector::{ConnectorError, Request};
use crate::format::{self, Format};
use crate::ir::{Expr, Program, Step, Type};

/// A bound `file` connection.
pub struct FileConnector<'p> {
    folder: PathBuf,
    format: Option<Format>,
    program: &'p Program,
    /// The record type of each `read` of this connection, by its declared arguments,
    /// so CSV cells are typed as the flow expects.
    read_types: Vec<(&'p [Expr], &'p Type)>,
    /// Writes to one file never interleave.
    writing: Mutex<()>,
}

impl<'p> FileConnector<'p> {
    /// A connector for this binding, reading records for the flows of `program`.
    pub fn new(
        settings: &Settings<'_>,
        program: &'p Program,
        connection: &str,
    ) -> Result<FileConnector<'p>, BindError> {
        let folder = PathBuf::from(settings.endpoint()?);
        let format = match settings.value("format") {
            None => None,
            Some("json") => Some(Format::Json),
            Some("ndjson") => Some(Format::Ndjson),
            Some("csv") => Some(Format::Csv),
            Some(other) => {
                return Err(
                    settings.error(format!("unknown format `{other}` (json, ndjson or csv)"))
                )
            }
        };
        let read_types = program
            .flows
            .values()
            .flat_map(|flow| flow.steps())
            .filter_map(|step| match step {
                Step::Read {
                    connection: c,
                    args,
                    record,
                    ..
                } if c == connection => Some((args.as_slice(), record)),
                _ => None,
            })
            .collect();
        Ok(FileConnector {
            folder,
            format,
            program,
            read_types,
            writing: Mutex::new(()),
        })
    }

    /// The file a request names, inside the folder, and its format.
    fn target(&self, request: &Request<'_>) -> Result<(PathBuf, Format), ConnectorError> {
        let Some(relative) = request.resolved.first() else {
            return Err(ConnectorError::Invalid(format!(
                "{}.{} needs a path",
                request.connection, request.operation
            )));
        };
        let inside = Path::new(relative)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !inside || relative.is_empty() {
            return Err(ConnectorError::Invalid(format!(
                "`{relative}` is not a path inside the connection's folder"
            )));
        }
        let format = self.format.or_else(|| Format::of_path(relative)).ok_or_else(|| {
            ConnectorError::Invalid(format!(
                "cannot tell the format of `{relative}`: use .json, .ndjson or .csv, or the `format` option"
            ))
        })?;
        Ok((self.folder.join(relative), format))
    }

    fn read(&self, request: &Request<'_>) -> Result<serde_json::Value, ConnectorError> {
        let (path, format) = self.target(request)?;
        let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, &e))?;
        let record = self
            .read_types
            .iter()
            .find(|(args, _)| *args == request.args)
            .map(|(_, ty)| *ty);
        format::parse(&text, format, record, self.program)
            .map_err(|e| ConnectorError::Invalid(format!("{}: {e}", path.display())))
    }

    fn write(&self, request: &Request<'_>) -> Result<serde_json::Value, ConnectorError> {
        let (path, format) = self.target(request)?;
        let Some(record) = &request.body else {
            return Err(ConnectorError::Invalid("a write needs a record".into()));
        };
        let _guard = self
            .writing
            .lock()
            .map_err(|_| ConnectorError::Transport("a write failed half-way".into()))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(parent, &e))?;
        }
        match format {
            Format::Ndjson => append(&path, format!("{record}\n").as_bytes()),
            Format::Csv => append_csv(&path, record),
            Format::Json => append_json(&path, record),
        }?;
        Ok(serde_json::Value::Null)
    }
}

impl Connector for FileConnector<'_> {
    fn send(&self, request: &Request<'_>) -> Result<serde_json::Value, ConnectorError> {
        match request.operation {
            "read" => self.read(request),
            "write" => self.write(request),
            other => Err(ConnectorError::Invalid(format!(
                "`file` connections have no operation `{other}`"
            ))),
        }
    }
}

fn io_error(path: &Path, error: &std::io::Error) -> ConnectorError {
    let message = format!("{}: {error}", path.display());
    match error.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            ConnectorError::Invalid(message)
        }
        _ => ConnectorError::Transport(message),
    }
}

fn append(path: &Path, bytes: &[u8]) -> Result<(), ConnectorError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(bytes))
        .map_err(|e| io_error(path, &e))
}

/// Appends a row in the order of the file's header, writing the header (the record's
/// fields) when the file is new. Nested values are written as JSON text.
fn append_csv(path: &Path, record: &serde_json::Value) -> Result<(), ConnectorError> {
    let Some(fields) = record.as_object() else {
        return Err(ConnectorError::Invalid(
            "a CSV row needs a record (a JSON object)".into(),
        ));
    };
    let existing = match std::fs::File::open(path) {
        Ok(file) => {
            let mut first = String::new();
            BufReader::new(file)
                .read_line(&mut first)
                .map_err(|e| io_error(path, &e))?;
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(first.as_bytes());
            reader
                .records()
                .next()
                .transpose()
                .map_err(|e| ConnectorError::Invalid(format!("{}: {e}", path.display())))?
                .map(|row| row.iter().map(str::to_owned).collect::<Vec<_>>())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_error(path, &e)),
    };
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    let csv_error = |e: csv::Error| ConnectorError::Invalid(e.to_string());
    let header = match existing {
        Some(header) => header,
        None => {
            let header: Vec<String> = fields.keys().cloned().collect();
            writer.write_record(&header).map_err(csv_error)?;
            header
        }
    };
    if let Some(extra) = fields.keys().find(|k| !header.contains(k)) {
        return Err(ConnectorError::Invalid(format!(
            "{} has no column `{extra}`",
            path.display()
        )));
    }
    let row = header.iter().map(|name| match fields.get(name) {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    });
    writer.write_record(row).map_err(csv_error)?;
    let bytes = writer
        .into_inner()
        .map_err(|e| ConnectorError::Invalid(e.to_string()))?;
    append(path, &bytes)
}

/// Adds the record to the file's JSON array (a new file holds a one-element array).
fn append_json(path: &Path, record: &serde_json::Value) -> Result<(), ConnectorError> {
    let mut items = match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Vec::new(),
        Ok(text) => match serde_json::from_str(&text) {
            Ok(serde_json::Value::Array(items)) => items,
            Ok(_) => {
                return Err(ConnectorError::Invalid(format!(
                    "{} does not hold a JSON array",
                    path.display()
                )))
            }
            Err(e) => return Err(ConnectorError::Invalid(format!("{}: {e}", path.display()))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_error(path, &e)),
    };
    items.push(record.clone());
    let text =
        serde_json::to_string_pretty(&items).map_err(|e| ConnectorError::Invalid(e.to_string()))?;
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, text)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| io_error(path, &e))
}
