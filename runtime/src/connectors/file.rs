//! The `file` connector: record files in a folder (the binding's endpoint). `read`
//! parses a JSON, NDJSON or CSV file with [`crate::format`]; `write` appends each record
//! (a line of NDJSON, a CSV row under the file's header, or an element of a JSON
//! array, which rewrites the file). The format comes from the file's extension or
//! the `format` option (`"json"`, `"ndjson"`, `"csv"`). Paths stay inside the folder.
//!
//! A `read` path that names a folder (`orders/`) or whose last part is a pattern
//! (`orders/*.csv`, `*` and `?`) reads every matching file in name order; once the run
//! has settled every record, the files read are moved into `processed/` beside them,
//! so no file is read twice. NDJSON and CSV files are streamed record by record.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{BindError, Connector, Settings};
use crate::connector::{ConnectorError, Records, Request};
use crate::format::{self, Format};
use crate::ir::{Expr, Program, Step, Type};

/// A bound `file` connection.
pub struct FileConnector {
    folder: PathBuf,
    format: Option<Format>,
    program: Arc<Program>,
    /// The record type of each `read` of this connection, by its declared arguments,
    /// so CSV cells are typed as the flow expects.
    read_types: Vec<(Vec<Expr>, Type)>,
    /// Writes to one file never interleave.
    writing: Mutex<()>,
}

impl FileConnector {
    /// A connector for this binding, reading records for the flows of `program`.
    pub fn new(
        settings: &Settings<'_>,
        program: &Program,
        connection: &str,
    ) -> Result<FileConnector, BindError> {
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
                } if c == connection => Some((args.clone(), record.clone())),
                _ => None,
            })
            .collect();
        Ok(FileConnector {
            folder,
            format,
            program: Arc::new(program.clone()),
            read_types,
            writing: Mutex::new(()),
        })
    }

    /// The file a request names, inside the folder, and its format.
    fn target(&self, request: &Request<'_>) -> Result<(PathBuf, Format), ConnectorError> {
        let relative = self.relative(request)?;
        self.file(relative)
    }

    fn relative<'r>(&self, request: &'r Request<'_>) -> Result<&'r str, ConnectorError> {
        request.resolved.first().map(String::as_str).ok_or_else(|| {
            ConnectorError::Invalid(format!(
                "{}.{} needs a path",
                request.connection, request.operation
            ))
        })
    }

    fn file(&self, relative: &str) -> Result<(PathBuf, Format), ConnectorError> {
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
        let relative = self.relative(request)?;
        if self.pattern(relative)?.is_some() {
            return Err(ConnectorError::Invalid(format!(
                "`{relative}` names several files: read it `as [T]`"
            )));
        }
        let (path, format) = self.file(relative)?;
        self.parse_file(&path, format, self.record_type(request))
    }

    fn record_type(&self, request: &Request<'_>) -> Option<&Type> {
        self.read_types
            .iter()
            .find(|(args, _)| args.as_slice() == request.args)
            .map(|(_, ty)| ty)
    }

    fn parse_file(
        &self,
        path: &Path,
        format: Format,
        record: Option<&Type>,
    ) -> Result<serde_json::Value, ConnectorError> {
        let text = std::fs::read_to_string(path).map_err(|e| io_error(path, &e))?;
        format::parse(&text, format, record, &self.program)
            .map_err(|e| ConnectorError::Invalid(format!("{}: {e}", path.display())))
    }

    /// The folder and file-name pattern of a path that names several files: a folder
    /// (every file in it) or a last part with `*` or `?`. `None` for one file.
    fn pattern(&self, relative: &str) -> Result<Option<(PathBuf, String)>, ConnectorError> {
        let (folder, name) = match relative.rsplit_once('/') {
            Some((folder, name)) => (folder, name),
            None => ("", relative),
        };
        if name.contains(['*', '?']) {
            if folder.contains(['*', '?']) {
                return Err(ConnectorError::Invalid(format!(
                    "`{relative}`: only the file name may hold `*` or `?`"
                )));
            }
            let folder = if folder.is_empty() { "." } else { folder };
            let path = self.checked(folder)?;
            return Ok(Some((path, name.to_owned())));
        }
        let path = self.checked(relative)?;
        if name.is_empty() || path.is_dir() {
            return Ok(Some((path, "*".to_owned())));
        }
        Ok(None)
    }

    /// The files a folder or pattern matches now, in name order.
    fn matching(folder: &Path, pattern: &str) -> Result<Vec<PathBuf>, ConnectorError> {
        let entries = match std::fs::read_dir(folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(folder, &e)),
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
            .filter(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                // Files being written by a careful producer, and hidden files, wait.
                !name.starts_with('.')
                    && !name.ends_with(".partial")
                    && !name.ends_with(".tmp")
                    && glob(pattern, &name)
            })
            .map(|entry| entry.path())
            .collect();
        files.sort();
        Ok(files)
    }

    /// The path checked to stay inside the folder, with the folder joined.
    fn checked(&self, relative: &str) -> Result<PathBuf, ConnectorError> {
        let inside = Path::new(relative)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !inside || relative.is_empty() {
            return Err(ConnectorError::Invalid(format!(
                "`{relative}` is not a path inside the connection's folder"
            )));
        }
        Ok(self.folder.join(relative))
    }

    /// The files a `read` of `relative` would take now, when it names a folder or a
    /// pattern; `None` for a single file. The host watches these.
    pub fn pending_files(&self, relative: &str) -> Option<Vec<PathBuf>> {
        let (folder, pattern) = self.pattern(relative).ok()??;
        FileConnector::matching(&folder, &pattern).ok()
    }

    fn read_stream<'a>(
        &'a self,
        request: &Request<'_>,
    ) -> Result<Option<Records<'a>>, ConnectorError> {
        let relative = self.relative(request)?;
        let record = self.record_type(request).cloned();
        let fields = record
            .as_ref()
            .and_then(|ty| crate::value::record_fields(ty, &self.program))
            .map(<[crate::ir::Field]>::to_vec);
        let Some((folder, pattern)) = self.pattern(relative)? else {
            let (path, format) = self.file(relative)?;
            if format == Format::Json {
                return Ok(None);
            }
            return Ok(Some(Records {
                items: self.stream_file(path, format, record, fields),
                settle: None,
            }));
        };
        let files = FileConnector::matching(&folder, &pattern)?;
        let mut items: Box<dyn Iterator<Item = _> + Send + 'a> = Box::new(std::iter::empty());
        for path in &files {
            let format = self
                .format
                .or_else(|| Format::of_path(&path.to_string_lossy()))
                .ok_or_else(|| {
                    ConnectorError::Invalid(format!(
                        "cannot tell the format of {}: use .json, .ndjson or .csv, or the `format` option",
                        path.display()
                    ))
                })?;
            items = Box::new(items.chain(self.stream_file(
                path.clone(),
                format,
                record.clone(),
                fields.clone(),
            )));
        }
        Ok(Some(Records {
            items,
            settle: Some(Box::new(move || move_processed(&files))),
        }))
    }

    /// The records of one file, opened when the stream reaches it.
    fn stream_file<'a>(
        &'a self,
        path: PathBuf,
        format: Format,
        record: Option<Type>,
        fields: Option<Vec<crate::ir::Field>>,
    ) -> Box<dyn Iterator<Item = Result<serde_json::Value, ConnectorError>> + Send + 'a> {
        let opened = std::iter::once(()).flat_map(move |()| {
            let items: Box<dyn Iterator<Item = Result<serde_json::Value, ConnectorError>> + Send> =
                match std::fs::File::open(&path) {
                    Err(e) => Box::new(std::iter::once(Err(io_error(&path, &e)))),
                    Ok(file) => match format::stream(
                        BufReader::with_capacity(256 * 1024, file),
                        format,
                        fields.clone(),
                    ) {
                        Some(stream) => {
                            let path = path.clone();
                            Box::new(stream.map(move |item| {
                                item.map_err(|e| {
                                    ConnectorError::Invalid(format!("{}: {e}", path.display()))
                                })
                            }))
                        }
                        None => match self.parse_file(&path, format, record.as_ref()) {
                            Ok(serde_json::Value::Array(items)) => {
                                Box::new(items.into_iter().map(Ok))
                            }
                            Ok(serde_json::Value::Null) => Box::new(std::iter::empty()),
                            Ok(other) => Box::new(std::iter::once(Ok(other))),
                            Err(e) => Box::new(std::iter::once(Err(e))),
                        },
                    },
                };
            items
        });
        Box::new(opened)
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

impl Connector for FileConnector {
    fn send(&self, request: &Request<'_>) -> Result<serde_json::Value, ConnectorError> {
        match request.operation {
            "read" => self.read(request),
            "write" => self.write(request),
            other => Err(ConnectorError::Invalid(format!(
                "`file` connections have no operation `{other}`"
            ))),
        }
    }

    fn read_records<'a>(
        &'a self,
        request: &Request<'_>,
    ) -> Result<Option<Records<'a>>, ConnectorError> {
        match request.operation {
            "read" => self.read_stream(request),
            _ => Ok(None),
        }
    }

    fn pending_files(&self, relative: &str) -> Option<Vec<PathBuf>> {
        FileConnector::pending_files(self, relative)
    }
}

/// Whether a file name matches a pattern of `*` (any run) and `?` (one character).
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(c) if *c == '?' || *c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Moves each file into `processed/` beside it; a name already there gets a suffix.
fn move_processed(files: &[PathBuf]) -> Result<(), ConnectorError> {
    for path in files {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            continue;
        };
        let processed = parent.join("processed");
        std::fs::create_dir_all(&processed).map_err(|e| io_error(&processed, &e))?;
        let mut target = processed.join(name);
        let mut n = 1;
        while target.exists() {
            target = processed.join(format!("{}.{n}", name.to_string_lossy()));
            n += 1;
        }
        std::fs::rename(path, &target).map_err(|e| io_error(path, &e))?;
    }
    Ok(())
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
