//! Record files: JSON (one record or an array), NDJSON and CSV, read into JSON records.
//! Test fixtures and the file connector read through here. CSV cells are typed by the
//! record type when there is one (`"02134"` stays a string for a `String` field), and
//! read as numbers and booleans when they look like them otherwise.

use std::fmt;

use crate::ir::{Field, Program, Type};
use crate::value::record_fields;

/// A record file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A JSON document: one record, or an array of records.
    Json,
    /// One JSON record per line; blank lines are skipped.
    Ndjson,
    /// A header row, then one record per row.
    Csv,
}

impl Format {
    /// The format a file name's extension says (`.json`, `.ndjson`/`.jsonl`, `.csv`).
    pub fn of_path(path: &str) -> Option<Format> {
        let lower = path.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "json" => Some(Format::Json),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// Why a record file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// 1-based line of the problem, when known.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FormatError {}

/// Reads a document. JSON gives back the document as it is (one value); NDJSON and CSV
/// give an array of records. `record` types CSV cells.
pub fn parse(
    text: &str,
    format: Format,
    record: Option<&Type>,
    program: &Program,
) -> Result<serde_json::Value, FormatError> {
    match format {
        // serde_json's message already says where.
        Format::Json => serde_json::from_str(text).map_err(|e| FormatError {
            line: None,
            message: e.to_string(),
        }),
        Format::Ndjson => text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                serde_json::from_str(line).map_err(|e| FormatError {
                    line: Some(i as u64 + 1),
                    message: e.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(serde_json::Value::Array),
        Format::Csv => parse_csv(text, record.and_then(|t| record_fields(t, program))),
    }
}

/// Records as a stream over `reader`, for NDJSON and CSV (`None` for JSON, which is
/// one document): memory stays flat however long the file. `fields` types CSV cells.
pub fn stream<'a>(
    reader: impl std::io::BufRead + Send + 'a,
    format: Format,
    fields: Option<Vec<Field>>,
) -> Option<Box<dyn Iterator<Item = Result<serde_json::Value, FormatError>> + Send + 'a>> {
    match format {
        Format::Json => None,
        Format::Ndjson => Some(Box::new(
            reader
                .lines()
                .enumerate()
                .filter(|(_, line)| line.as_ref().map_or(true, |l| !l.trim().is_empty()))
                .map(|(i, line)| {
                    let at = |message: String| FormatError {
                        line: Some(i as u64 + 1),
                        message,
                    };
                    let line = line.map_err(|e| at(e.to_string()))?;
                    serde_json::from_str(&line).map_err(|e| at(e.to_string()))
                }),
        )),
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(true)
                .from_reader(reader);
            let headers = match reader.headers() {
                Ok(headers) => headers.clone(),
                Err(e) => return Some(Box::new(std::iter::once(Err(csv_error(e))))),
            };
            Some(Box::new(reader.into_records().map(move |row| {
                let row = row.map_err(csv_error)?;
                Ok(csv_object(&headers, &row, fields.as_deref()))
            })))
        }
    }
}

fn csv_error(e: csv::Error) -> FormatError {
    FormatError {
        line: e.position().map(csv::Position::line),
        message: e.to_string(),
    }
}

fn csv_object(
    headers: &csv::StringRecord,
    row: &csv::StringRecord,
    fields: Option<&[Field]>,
) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    for (name, cell) in headers.iter().zip(row.iter()) {
        let ty = fields
            .and_then(|fs| fs.iter().find(|f| f.name == name))
            .map(|f| &f.ty);
        object.insert(name.to_owned(), cell_value(cell, ty));
    }
    serde_json::Value::Object(object)
}

fn parse_csv(text: &str, fields: Option<&[Field]>) -> Result<serde_json::Value, FormatError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(csv_error)?.clone();
    let mut records = Vec::new();
    for row in reader.records() {
        let row = row.map_err(csv_error)?;
        records.push(csv_object(&headers, &row, fields));
    }
    Ok(serde_json::Value::Array(records))
}

/// One CSV cell as JSON, as its field's type asks (or guessed without a type).
fn cell_value(cell: &str, ty: Option<&Type>) -> serde_json::Value {
    use serde_json::Value as J;
    let number = || {
        cell.parse::<i64>().map(J::from).ok().or_else(|| {
            cell.parse::<f64>()
                .ok()
                .and_then(|f| serde_json::Number::from_f64(f).map(J::Number))
        })
    };
    let boolean = || match cell.to_ascii_lowercase().as_str() {
        "true" => Some(J::Bool(true)),
        "false" => Some(J::Bool(false)),
        _ => None,
    };
    match ty {
        Some(Type::Optional { .. }) if cell.is_empty() => J::Null,
        Some(Type::Optional { inner }) => cell_value(cell, Some(inner)),
        // Decimals stay text: exact, and `Decimal` fields accept numeric strings.
        Some(Type::Int) => cell
            .parse::<i64>()
            .map_or_else(|_| J::String(cell.into()), J::from),
        Some(Type::Bool) => boolean().unwrap_or_else(|| J::String(cell.into())),
        Some(Type::Json) | None => {
            if cell.is_empty() {
                J::Null
            } else {
                boolean()
                    .or_else(number)
                    .unwrap_or_else(|| J::String(cell.into()))
            }
        }
        Some(_) => J::String(cell.into()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn typed() -> Type {
        let f = |name: &str, ty: Type| Field {
            name: name.into(),
            ty,
            doc: None,
        };
        Type::Record {
            fields: vec![
                f("zip", Type::String),
                f("qty", Type::Int),
                f("price", Type::Decimal),
                f("vip", Type::Bool),
                f(
                    "note",
                    Type::Optional {
                        inner: Box::new(Type::String),
                    },
                ),
            ],
        }
    }

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(Format::of_path("a/B.JSON"), Some(Format::Json));
        assert_eq!(Format::of_path("x.jsonl"), Some(Format::Ndjson));
        assert_eq!(Format::of_path("x.csv"), Some(Format::Csv));
        assert_eq!(Format::of_path("x.txt"), None);
        assert_eq!(Format::of_path("noext"), None);
    }

    #[test]
    fn csv_cells_follow_the_record_type() {
        let text = "zip,qty,price,vip,note\n02134,3,19.90,TRUE,\n\"9, rue\",x,1,no,hi\n";
        let p = Program::default();
        let parsed = parse(text, Format::Csv, Some(&typed()), &p);
        assert_eq!(
            parsed,
            Ok(json!([
                {"zip": "02134", "qty": 3, "price": "19.90", "vip": true, "note": null},
                {"zip": "9, rue", "qty": "x", "price": "1", "vip": "no", "note": "hi"}
            ]))
        );
    }

    #[test]
    fn untyped_csv_cells_are_guessed() {
        let parsed = parse(
            "a,b,c,d\n1,2.5,false,\n",
            Format::Csv,
            None,
            &Program::default(),
        );
        assert_eq!(
            parsed,
            Ok(json!([{"a": 1, "b": 2.5, "c": false, "d": null}]))
        );
    }

    #[test]
    fn ndjson_errors_name_their_line() {
        let parsed = parse(
            "{\"a\":1}\n\n{oops}\n",
            Format::Ndjson,
            None,
            &Program::default(),
        );
        assert!(parsed.is_err_and(|e| e.line == Some(3)));
        assert_eq!(
            parse(
                "{\"a\":1}\n\n{\"a\":2}",
                Format::Ndjson,
                None,
                &Program::default()
            ),
            Ok(json!([{"a": 1}, {"a": 2}]))
        );
    }

    #[test]
    fn streams_read_what_parse_reads() {
        let p = Program::default();
        let csv = "zip,qty,price,vip,note\n02134,3,19.90,TRUE,\n\"9, rue\",x,1,no,hi\n";
        let fields = record_fields(&typed(), &p).map(<[Field]>::to_vec);
        let streamed: Result<Vec<_>, _> = stream(csv.as_bytes(), Format::Csv, fields)
            .map(|s| s.collect())
            .unwrap_or_else(|| Ok(Vec::new()));
        assert_eq!(
            streamed.map(serde_json::Value::Array),
            parse(csv, Format::Csv, Some(&typed()), &p)
        );
        let ndjson = "{\"a\":1}\n\n{oops}\n";
        let lines: Vec<_> = stream(ndjson.as_bytes(), Format::Ndjson, None)
            .map(|s| s.collect())
            .unwrap_or_default();
        assert_eq!(lines[0], Ok(json!({"a": 1})));
        assert!(lines[1].as_ref().is_err_and(|e| e.line == Some(3)));
        assert!(stream(&b"[]"[..], Format::Json, None).is_none());
    }

    #[test]
    fn a_ragged_csv_row_is_an_error_with_its_line() {
        let parsed = parse("a,b\n1,2\n3\n", Format::Csv, None, &Program::default());
        assert!(parsed.is_err_and(|e| e.line == Some(3)));
    }
}
