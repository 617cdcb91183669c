//! Tests of schema import. Each test imports a reference from a small `.weft` file and compares
//! a plain-text summary (fields with their types and lines, diagnostics with their codes and
//! lines) with the expected text.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::import_schema;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::source::{Loc, SourceDb, Span};
use crate::types::{RecordType, Type};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import")
}

/// A fresh folder under the system temp dir for files a test writes.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("weft-import-tests-{}", std::process::id()))
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), contents).unwrap_or_else(|e| panic!("cannot write {name}: {e}"));
}

struct Imported {
    db: SourceDb,
    base_dir: PathBuf,
    record: Option<RecordType>,
    diags: Vec<Diagnostic>,
}

/// Imports `reference` as `main.weft` in `base_dir` would: `schema X from "reference"`.
fn import_from(base_dir: &Path, reference: &str) -> Imported {
    import_with(SourceDb::new(), base_dir, reference)
}

/// Imports `reference` from files that are only in the [`SourceDb`], not on disk, which also
/// tests that files already in the database are reused.
fn import_inline(files: &[(&str, &str)], reference: &str) -> Imported {
    let base_dir = Path::new("/weft-virtual");
    let mut db = SourceDb::new();
    for (name, text) in files {
        db.add(*name, base_dir.join(name), *text);
    }
    import_with(db, base_dir, reference)
}

fn import_with(mut db: SourceDb, base_dir: &Path, reference: &str) -> Imported {
    let text = format!("schema X from \"{reference}\"\n");
    let start = text.find('"').unwrap_or(0);
    let site_file = db.add("main.weft", base_dir.join("main.weft"), text);
    let site = Loc::new(site_file, Span::new(start, start + reference.len() + 2));
    let (record, diags) = import_schema(&mut db, site, base_dir, reference);
    Imported {
        db,
        base_dir: base_dir.to_path_buf(),
        record,
        diags,
    }
}

/// The type of field `x` of `{"type": "object", "properties": {"x": SCHEMA}}`, required or not,
/// with the codes of any diagnostics.
fn field_type(schema: &str, required: bool) -> (String, Vec<Code>) {
    let required = if required {
        r#", "required": ["x"]"#
    } else {
        ""
    };
    let text = format!(
        r#"{{"type": "object", "properties": {{"x": {schema}}}{required}, "$defs": {{"R": {{"type": "object", "properties": {{"a": {{"type": "string"}}}}}}}}}}"#
    );
    let imported = import_inline(&[("t.json", &text)], "t.json");
    let ty = imported
        .record
        .as_ref()
        .and_then(|r| r.field("x"))
        .map_or("-".to_string(), |f| f.ty.to_string());
    (ty, imported.codes())
}

fn import(reference: &str) -> Imported {
    import_from(&fixtures(), reference)
}

impl Imported {
    fn at(&self, loc: Loc) -> String {
        let (line, col) = self.db.line_col(loc.file, loc.span.start);
        format!("{}:{line}:{col}", self.db.get(loc.file).name)
    }

    /// The record's fields and the diagnostics, one per line; `$DIR` stands for the folder.
    fn summary(&self) -> String {
        self.raw_summary()
            .replace(&*self.base_dir.to_string_lossy(), "$DIR")
    }

    fn raw_summary(&self) -> String {
        let mut out = String::new();
        match &self.record {
            Some(record) => {
                for field in &record.fields {
                    let _ = write!(out, "{}: {} @{}", field.name, field.ty, self.at(field.loc));
                    if let Some(doc) = &field.doc {
                        let _ = write!(out, " -- {doc}");
                    }
                    out.push('\n');
                }
            }
            None => out.push_str("no record\n"),
        }
        for d in &self.diags {
            let severity = if d.severity == Severity::Error {
                "error"
            } else {
                "warning"
            };
            let _ = writeln!(
                out,
                "{} {severity} @{}: {}",
                d.code.as_str(),
                self.at(d.primary.loc),
                d.message
            );
            if !d.primary.message.is_empty() {
                let _ = writeln!(out, "  label: {}", d.primary.message);
            }
            for label in &d.secondary {
                let _ = writeln!(out, "  also @{}: {}", self.at(label.loc), label.message);
            }
            for note in &d.notes {
                let _ = writeln!(out, "  note: {note}");
            }
            for fix in &d.fixes {
                for edit in &fix.edits {
                    let _ = writeln!(
                        out,
                        "  fix @{}: {} => {}",
                        self.at(edit.loc),
                        fix.message,
                        edit.replacement
                    );
                }
            }
        }
        out
    }

    fn codes(&self) -> Vec<Code> {
        self.diags.iter().map(|d| d.code).collect()
    }

    /// Line of the primary span of the first diagnostic.
    fn first_line(&self) -> usize {
        let d = self
            .diags
            .first()
            .unwrap_or_else(|| panic!("no diagnostic:\n{}", self.summary()));
        self.db
            .line_col(d.primary.loc.file, d.primary.loc.span.start)
            .0
    }

    fn field(&self, name: &str) -> &Type {
        let record = self
            .record
            .as_ref()
            .unwrap_or_else(|| panic!("no record:\n{}", self.summary()));
        &record
            .field(name)
            .unwrap_or_else(|| panic!("no field {name}:\n{}", self.summary()))
            .ty
    }
}

/// Compares the summary of importing `reference` with `expected` (indentation removed).
#[track_caller]
fn check(reference: &str, expected: &str) {
    check_imported(&import(reference), expected);
}

#[track_caller]
fn check_imported(imported: &Imported, expected: &str) {
    let actual = imported.summary();
    let expected = unindent(expected);
    if actual.trim() != expected.trim() {
        panic!("summary differs\n--- expected\n{expected}\n--- actual\n{actual}");
    }
}

fn unindent(text: &str) -> String {
    let lines: Vec<&str> = text.lines().skip_while(|l| l.trim().is_empty()).collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------------
// Conversions

#[test]
fn draft07_root_schema() {
    check(
        "customer.draft07.json",
        r##"
        id: Int @customer.draft07.json:8:5 -- Customer number.
        name: String @customer.draft07.json:9:5
        email: String? @customer.draft07.json:10:5
        birthday: Date? @customer.draft07.json:11:5
        created_at: Timestamp @customer.draft07.json:12:5
        balance: Decimal? @customer.draft07.json:13:5
        active: Bool? @customer.draft07.json:14:5
        tier: enum { "free", "pro", "enterprise" } @customer.draft07.json:15:5
        nickname: String? @customer.draft07.json:16:5
        addresses: [{ street: String, city: String, zip: String? }] @customer.draft07.json:17:5
        tags: [Json]? @customer.draft07.json:18:5
        metadata: Json? @customer.draft07.json:19:5
        anything: Json? @customer.draft07.json:20:5
    "##,
    );
}

#[test]
fn draft2020_defs_with_all_of_any_of_and_one_of() {
    check(
        "order.2020-12.json#/$defs/Order",
        r##"
        id: String @order.2020-12.json:25:9
        updated: Timestamp @order.2020-12.json:26:9
        lines: [{ sku: String, quantity: Int, price: { amount: String, currency: String } }] @order.2020-12.json:36:13
        total: { amount: String, currency: String } @order.2020-12.json:37:13
        discount: { amount: String, currency: String }? @order.2020-12.json:38:13
        status: enum { "open", "paid", "shipped" } @order.2020-12.json:39:13
        note: String? @order.2020-12.json:46:13 -- Free text.
        shipped_on: Date? @order.2020-12.json:47:13
    "##,
    );
}

#[test]
fn openapi_json_component() {
    check(
        "petstore.openapi.json#/components/schemas/Pet",
        r##"
        id: Int @petstore.openapi.json:11:11
        name: String @petstore.openapi.json:12:11
        tag: String? @petstore.openapi.json:13:11
        owner: { name: String, phone: String? } @petstore.openapi.json:14:11 -- Who the pet belongs to.
        born: Date? @petstore.openapi.json:15:11
        kind: enum { "cat", "dog" }? @petstore.openapi.json:16:11
        weight: Float? @petstore.openapi.json:17:11
    "##,
    );
}

#[test]
fn openapi_yaml_component() {
    check(
        "shop.openapi.yaml#/components/schemas/Order",
        r##"
        id: Int @shop.openapi.yaml:29:9
        placed_at: Timestamp @shop.openapi.yaml:31:9
        delivery_date: Date? @shop.openapi.yaml:34:9
        items: [{ sku: String, qty: Int? }] @shop.openapi.yaml:37:9
        shipping: { street: String, city: String, country: enum { "DE", "AT", "CH" }? } @shop.openapi.yaml:45:9 -- Lieferadresse für die Bestellung
        billing: { street: String, city: String, country: enum { "DE", "AT", "CH" }? }? @shop.openapi.yaml:47:9 -- Lieferadresse für die Bestellung
        200: Bool? @shop.openapi.yaml:48:9
        notes: Json? @shop.openapi.yaml:51:9 -- Free-form JSON
    "##,
    );
}

#[test]
fn openapi_yaml_second_component_and_alias_target() {
    check(
        "shop.openapi.yaml#/components/schemas/Address",
        r##"
        street: String @shop.openapi.yaml:14:9
        city: String @shop.openapi.yaml:15:9 -- Größere Stadt
        country: enum { "DE", "AT", "CH" }? @shop.openapi.yaml:18:9
    "##,
    );
}

#[test]
fn whole_openapi_document_asks_for_a_component() {
    check(
        "petstore.openapi.json",
        r##"
        no record
        W0305 error @main.weft:1:15: `petstore.openapi.json` is an OpenAPI document, not a schema: add `#/components/schemas/NAME` to pick one of its schemas
          label: names a whole OpenAPI document
          also @petstore.openapi.json:2:3: OpenAPI document
          note: its schemas are `Pet`, `Owner`
    "##,
    );
}

#[test]
fn whole_openapi_document_with_one_schema_offers_a_fix() {
    let dir = temp_dir("one_schema");
    write(&dir, "api.yaml", "openapi: 3.0.0\ncomponents:\n  schemas:\n    Only:\n      type: object\n      properties: {a: {type: string}}\n");
    check_imported(
        &import_from(&dir, "api.yaml"),
        r##"
        no record
        W0305 error @main.weft:1:15: `api.yaml` is an OpenAPI document, not a schema: add `#/components/schemas/NAME` to pick one of its schemas
          label: names a whole OpenAPI document
          also @api.yaml:1:1: OpenAPI document
          note: its schemas are `Only`
          fix @main.weft:1:15: import `Only` => "api.yaml#/components/schemas/Only"
    "##,
    );
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn missing_file() {
    check(
        "nowhere/missing.json",
        r##"
        no record
        W0300 error @main.weft:1:15: cannot read the schema file `nowhere/missing.json`: the file does not exist
          label: file not found
          note: the path is relative to the folder of this .weft file
    "##,
    );
}

#[test]
fn missing_file_with_similar_name() {
    check(
        "customer.draft7.json",
        r##"
        no record
        W0300 error @main.weft:1:15: cannot read the schema file `customer.draft7.json`: the file does not exist
          label: file not found
          note: the path is relative to the folder of this .weft file
          note: did you mean `customer.draft07.json`?
          fix @main.weft:1:15: use `customer.draft07.json` => "customer.draft07.json"
    "##,
    );
}

#[test]
fn malformed_json_points_at_the_trailing_comma() {
    check(
        "malformed.json",
        r##"
        no record
        W0301 error @malformed.json:5:33: `malformed.json` is not valid JSON: trailing comma: JSON does not allow a comma before `}`
          label: remove this comma
          also @main.weft:1:15: imported here
    "##,
    );
}

#[test]
fn malformed_yaml() {
    check(
        "malformed.yaml",
        r##"
        no record
        W0301 error @malformed.yaml:6:8: `malformed.yaml` is not valid YAML: illegal placement of ':' indicator
          label: here
          also @malformed.yaml:5:9: inside this collection, opened here
          also @main.weft:1:15: imported here
    "##,
    );
}

#[test]
fn bad_ref_with_suggestion() {
    check(
        "bad_ref.json",
        r##"
        home: <error> @bad_ref.json:4:5
        work: <error> @bad_ref.json:5:5
        W0303 error @bad_ref.json:4:23: `$ref` `#/$defs/Adress` does not resolve: `#/$defs` has no `Adress`
          label: unresolved reference
          also @main.weft:1:15: imported here
          also @bad_ref.json:7:3: `#/$defs` is here
          note: did you mean `Address`?
          note: `#/$defs` has `Address`, `Person`
          fix @bad_ref.json:4:23: use `#/$defs/Address` => "#/$defs/Address"
        W0303 error @bad_ref.json:5:23: `$ref` `#/$def/Address` does not resolve: `#` has no `$def`
          label: unresolved reference
          also @main.weft:1:15: imported here
          note: did you mean `$defs`?
          note: `#` has `type`, `properties`, `$defs`
          fix @bad_ref.json:5:23: use `#/$defs/Address` => "#/$defs/Address"
    "##,
    );
}

#[test]
fn bad_pointer_in_the_reference() {
    check(
        "petstore.openapi.json#/components/schemas/Pets",
        r##"
        no record
        W0303 error @main.weft:1:15: `petstore.openapi.json#/components/schemas/Pets` does not exist: `#/components/schemas` in `petstore.openapi.json` has no `Pets`
          label: not found
          also @petstore.openapi.json:6:5: `#/components/schemas` is here
          note: did you mean `Pet`?
          note: `#/components/schemas` has `Pet`, `Owner`
          fix @main.weft:1:15: use `petstore.openapi.json#/components/schemas/Pet` => "petstore.openapi.json#/components/schemas/Pet"
    "##,
    );
}

#[test]
fn cycles() {
    check(
        "cycle.json#/$defs/Category",
        r##"
        name: String @cycle.json:7:9
        parent: <error> @cycle.json:8:9
        W0304 error @cycle.json:8:29: recursive schema: `#/$defs/Category` → `#/$defs/Category`
          label: refers back to a schema that contains it
          also @main.weft:1:15: imported here
          note: an imported schema is inlined into one Weft type, so it cannot contain itself
          note: declare this schema in Weft, where a schema may contain itself through a list or an optional
    "##,
    );
    check(
        "cycle.json#/$defs/A",
        r##"
        b: { a: <error> }? @cycle.json:13:23
        W0304 error @cycle.json:17:38: recursive schema: `#/$defs/A` → `#/$defs/B` → `#/$defs/A`
          label: refers back to a schema that contains it
          also @main.weft:1:15: imported here
          note: an imported schema is inlined into one Weft type, so it cannot contain itself
          note: declare this schema in Weft, where a schema may contain itself through a list or an optional
    "##,
    );
}

#[test]
fn non_object_root() {
    check(
        "not_object.json",
        r##"
        no record
        W0305 error @not_object.json:3:11: the root schema describes `String` values, not an object with fields
          label: not an object schema
          also @main.weft:1:15: imported here
          note: this file defines `Shipment`; import one with `not_object.json#/$defs/NAME`
    "##,
    );
}

#[test]
fn collection_instead_of_schema() {
    check(
        "petstore.openapi.json#/components/schemas",
        r##"
        no record
        W0305 error @petstore.openapi.json:6:5: `#/components/schemas` is a collection of schemas, not a schema
          label: not a schema
          also @main.weft:1:15: imported here
          note: add `/NAME` to the reference to import one of them: `Pet`, `Owner`
    "##,
    );
}

#[test]
fn external_ref() {
    check(
        "external_ref.json",
        r##"
        price: <error> @external_ref.json:5:5
        self: { x: Int? }? @external_ref.json:6:5
        W0302 error @external_ref.json:5:24: `$ref` to another file (`common.json`) is not supported: only references within the same file, starting with `#`, are
          label: reference to another file
          also @main.weft:1:15: imported here
          note: import that schema separately (`schema Name from "common.json#/$defs/Money"`, with the path relative to the .weft file) and declare this schema in Weft using it, or copy the definition into this file's `$defs`
    "##,
    );
}

#[test]
fn unsupported_constructs() {
    check(
        "unsupported.json",
        r##"
        payment: <error> @unsupported.json:4:5
        point: <error> @unsupported.json:10:5
        id: <error> @unsupported.json:11:5
        priority: Int? @unsupported.json:12:5
        label: <error> @unsupported.json:13:5
        never: <error> @unsupported.json:14:5
        ok: String? @unsupported.json:15:5
        W0302 error @unsupported.json:5:7: `oneOf` with 2 alternatives (`Card`, `BankAccount`) is not supported: a Weft field has one type
          label: several alternatives
          also @main.weft:1:15: imported here
          note: Weft imports `oneOf` only as `[X, {"type": "null"}]` (an optional X) or as alternatives that are all string constants (an enum)
          note: to keep this schema, declare it in Weft and give this field the type `Json`
        W0302 error @unsupported.json:10:33: tuple arrays (a schema per position) are not supported: a Weft list has one item type
          label: tuple
          also @main.weft:1:15: imported here
          note: use `"items": {...}` with one schema for every item
        W0302 error @unsupported.json:11:21: a value of several types (`string`, `integer`) has no Weft type
          label: several types
          also @main.weft:1:15: imported here
          note: Weft imports `"type": [T, "null"]` as an optional T; for anything else declare the schema in Weft and use `Json` here
        W0302 warning @unsupported.json:12:47: `enum` value `1` is not a string; Weft enums hold strings only, so this is imported as `Int` and its allowed values are not checked
          label: not a string
          also @main.weft:1:15: imported here
        W0302 error @unsupported.json:13:24: unknown type `strng`
          label: unknown type
          also @main.weft:1:15: imported here
          note: did you mean `string`?
          note: JSON Schema types are `string`, `integer`, `number`, `boolean`, `array`, `object`, `null`
          fix @unsupported.json:13:24: use `string` => "string"
        W0302 error @unsupported.json:14:14: the schema `false` accepts no value, so it has no Weft type
          label: `false` schema
          also @main.weft:1:15: imported here
    "##,
    );
}

// ---------------------------------------------------------------------------------------------
// Types, one schema at a time

#[test]
fn scalar_types_and_formats() {
    let cases = [
        (r#"{"type": "string"}"#, "String"),
        (r#"{"type": "string", "format": "date"}"#, "Date"),
        (r#"{"type": "string", "format": "date-time"}"#, "Timestamp"),
        (r#"{"type": "string", "format": "uuid"}"#, "String"),
        (r#"{"type": "string", "format": "time"}"#, "String"),
        (r#"{"type": "integer", "format": "int64"}"#, "Int"),
        (r#"{"type": "number"}"#, "Decimal"),
        (r#"{"type": "number", "format": "decimal"}"#, "Decimal"),
        (r#"{"type": "number", "format": "float"}"#, "Float"),
        (r#"{"type": "number", "format": "double"}"#, "Float"),
        (
            r#"{"type": ["number", "null"], "format": "double"}"#,
            "Float?",
        ),
        (r#"{"type": "boolean"}"#, "Bool"),
        (r#"{"type": "null"}"#, "null"),
        (r#"{}"#, "Json"),
        (r#"true"#, "Json"),
        (r#"{"description": "anything"}"#, "Json"),
        (r#"{"type": "object"}"#, "Json"),
        (
            r#"{"type": "object", "additionalProperties": {"type": "integer"}}"#,
            "Json",
        ),
        (r#"{"type": "object", "properties": {}}"#, "{  }"),
        (
            r#"{"properties": {"b": {"type": "integer"}}, "required": ["b"]}"#,
            "{ b: Int }",
        ),
        (r#"{"type": "array"}"#, "[Json]"),
        (r#"{"type": "array", "items": true}"#, "[Json]"),
        (
            r#"{"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}"#,
            "[[Int]]",
        ),
        (r#"{"items": {"type": "string"}}"#, "[String]"),
        (r##"{"$ref": "#/$defs/R"}"##, "{ a: String? }"),
        (r#"{"enum": ["a", "b", "a"]}"#, r#"enum { "a", "b" }"#),
        (r#"{"const": "only"}"#, r#"enum { "only" }"#),
        (
            r#"{"oneOf": [{"const": "x"}, {"enum": ["y", "z"]}]}"#,
            r#"enum { "x", "y", "z" }"#,
        ),
        (
            r#"{"allOf": [{"type": "string"}, {"minLength": 1}]}"#,
            "String",
        ),
        // Alternatives that only constrain values add nothing to the type.
        (
            r#"{"type": "object", "properties": {"a": {"type": "string"}}, "anyOf": [{"required": ["a"]}, {"required": ["b"]}]}"#,
            "{ a: String? }",
        ),
        (
            r#"{"type": "string", "oneOf": [{"format": "date"}, {"format": "email"}]}"#,
            "String",
        ),
        (
            r##"{"allOf": [{"$ref": "#/$defs/R"}], "description": "wrapped"}"##,
            "{ a: String? }",
        ),
    ];
    for (schema, expected) in cases {
        assert_eq!(
            field_type(schema, true),
            (expected.to_string(), vec![]),
            "schema {schema}"
        );
    }
}

#[test]
fn nullable_variants() {
    let cases = [
        (r#"{"type": ["string", "null"]}"#, "String?"),
        (r#"{"type": ["null", "integer"]}"#, "Int?"),
        (r#"{"type": "string", "nullable": true}"#, "String?"),
        (r#"{"type": "string", "nullable": false}"#, "String"),
        (
            r#"{"anyOf": [{"type": "string"}, {"type": "null"}]}"#,
            "String?",
        ),
        (
            r##"{"oneOf": [{"type": "null"}, {"$ref": "#/$defs/R"}]}"##,
            "{ a: String? }?",
        ),
        (
            r#"{"anyOf": [{"type": "string", "format": "date"}, {"const": null}]}"#,
            "Date?",
        ),
        (r#"{"enum": ["a", null]}"#, r#"enum { "a" }?"#),
        (
            r#"{"type": ["string", "null"], "enum": ["a", "b", null]}"#,
            r#"enum { "a", "b" }?"#,
        ),
        (
            r#"{"type": ["array", "null"], "items": {"type": "integer"}}"#,
            "[Int]?",
        ),
        (
            r##"{"allOf": [{"$ref": "#/$defs/R"}], "nullable": true}"##,
            "{ a: String? }?",
        ),
    ];
    for (schema, expected) in cases {
        // Required but nullable is still optional.
        assert_eq!(
            field_type(schema, true),
            (expected.to_string(), vec![]),
            "required {schema}"
        );
        let optional = if expected.ends_with('?') {
            expected.to_string()
        } else {
            format!("{expected}?")
        };
        assert_eq!(
            field_type(schema, false),
            (optional, vec![]),
            "not required {schema}"
        );
    }
}

#[test]
fn unsupported_schemas_are_reported() {
    let cases = [
        (
            r#"{"anyOf": [{"type": "string"}, {"type": "integer"}]}"#,
            "<error>",
            Code::ImportUnsupported,
        ),
        (r#"{"oneOf": []}"#, "<error>", Code::ImportUnsupported),
        (
            r#"{"allOf": [{"type": "string"}, {"type": "integer"}]}"#,
            "<error>",
            Code::ImportUnsupported,
        ),
        (
            r#"{"allOf": [{"type": "string"}, {"properties": {"a": {}}}]}"#,
            "<error>",
            Code::ImportUnsupported,
        ),
        (
            r#"{"type": "array", "items": [{"type": "string"}]}"#,
            "<error>",
            Code::ImportUnsupported,
        ),
        (r#"{"type": 5}"#, "<error>", Code::ImportUnsupported),
        (
            r#"{"type": "object", "properties": []}"#,
            "<error>",
            Code::ImportUnsupported,
        ),
        (r#"{"enum": []}"#, "<error>", Code::ImportUnsupported),
        (r#"{"enum": "a"}"#, "<error>", Code::ImportUnsupported),
        (r#""string""#, "<error>", Code::ImportUnsupported),
        (r#"{"$ref": 3}"#, "<error>", Code::ImportUnsupported),
        (
            r##"{"$ref": "#Anchor"}"##,
            "<error>",
            Code::ImportUnsupported,
        ),
        (
            r#"{"$ref": "https://example.com/money.json"}"#,
            "<error>",
            Code::ImportUnsupported,
        ),
        (
            r##"{"$ref": "#/$defs/Missing"}"##,
            "<error>",
            Code::ImportBadRef,
        ),
        (
            r##"{"$ref": "#/$defs/R/properties/a/type/x"}"##,
            "<error>",
            Code::ImportBadRef,
        ),
        (r##"{"$ref": "#"}"##, "<error>", Code::ImportCycle),
        // Warnings: the value is imported with its base type.
        (r#"{"enum": [1, 2.5]}"#, "Decimal", Code::ImportUnsupported),
        (
            r#"{"enum": [true, null]}"#,
            "Bool?",
            Code::ImportUnsupported,
        ),
        (r#"{"enum": ["a", 1]}"#, "Json", Code::ImportUnsupported),
        (r#"{"const": 7}"#, "Int", Code::ImportUnsupported),
    ];
    for (schema, expected, code) in cases {
        assert_eq!(
            field_type(schema, true),
            (expected.to_string(), vec![code]),
            "schema {schema}"
        );
    }
}

#[test]
fn all_of_merges_objects_and_required() {
    let text = r##"{
      "$defs": {
        "Base": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "Both": {
          "allOf": [
            {"$ref": "#/$defs/Base"},
            {"properties": {"name": {"description": "narrowed"}, "extra": {"type": "boolean"}}, "required": ["name"]}
          ]
        },
        "Conflict": {
          "allOf": [
            {"$ref": "#/$defs/Base"},
            {"properties": {"id": {"type": "string"}}}
          ]
        },
        "Sibling": {"$ref": "#/$defs/Base", "properties": {"more": {"type": "string"}}, "required": ["more"]}
      }
    }"##;
    let files = [("m.json", text)];
    check_imported(
        &import_inline(&files, "m.json#/$defs/Both"),
        r##"
        id: Int @m.json:3:71
        name: String @m.json:3:98 -- narrowed
        extra: Bool? @m.json:7:66
    "##,
    );
    check_imported(
        &import_inline(&files, "m.json#/$defs/Conflict"),
        r##"
        id: <error> @m.json:3:71
        name: String? @m.json:3:98
        W0302 error @m.json:13:29: property `id` is `String` here but `Int` in another `allOf` schema
          label: conflicting type
          also @m.json:3:71: declared here too
          also @main.weft:1:15: imported here
    "##,
    );
    check_imported(
        &import_inline(&files, "m.json#/$defs/Sibling"),
        r##"
        id: Int @m.json:3:71
        name: String? @m.json:3:98
        more: String @m.json:16:60
    "##,
    );
}

#[test]
fn pointer_escapes_and_indices() {
    let text = r#"{"$defs": {"a/b": {"properties": {"x": {"type": "integer"}}}, "c~d": {"properties": {"y": {"type": "string"}}}},
                  "list": [{"properties": {"z": {"type": "boolean"}}}]}"#;
    let files = [("p.json", text)];
    assert_eq!(
        import_inline(&files, "p.json#/$defs/a~1b").field("x"),
        &Type::Int.optional()
    );
    assert_eq!(
        import_inline(&files, "p.json#/%24defs/c~0d").field("y"),
        &Type::String.optional()
    );
    assert_eq!(
        import_inline(&files, "p.json#/list/0").field("z"),
        &Type::Bool.optional()
    );
    assert_eq!(
        import_inline(&files, "p.json#/list/1").codes(),
        vec![Code::ImportBadRef]
    );
    assert_eq!(
        import_inline(&files, "p.json#/list/01").codes(),
        vec![Code::ImportBadRef]
    );
    assert_eq!(
        import_inline(&files, "p.json#Name").codes(),
        vec![Code::ImportBadRef]
    );
}

#[test]
fn same_file_is_added_once() {
    let mut db = SourceDb::new();
    let dir = fixtures();
    let site_file = db.add("main.weft", dir.join("main.weft"), "schema A from \"x\"\n");
    let site = Loc::new(site_file, Span::new(14, 17));
    let (pet, d1) = import_schema(
        &mut db,
        site,
        &dir,
        "petstore.openapi.json#/components/schemas/Pet",
    );
    let (owner, d2) = import_schema(
        &mut db,
        site,
        &dir,
        "./petstore.openapi.json#/components/schemas/Owner",
    );
    assert!(d1.is_empty() && d2.is_empty(), "{d1:?} {d2:?}");
    assert_eq!(db.iter().count(), 2);
    let file = db.find(&dir.join("petstore.openapi.json"));
    assert!(file.is_some());
    let pet = pet.unwrap_or_default();
    let owner = owner.unwrap_or_default();
    assert_eq!(pet.fields.first().map(|f| f.loc.file), file);
    assert_eq!(owner.fields.first().map(|f| f.loc.file), file);
}

#[test]
fn references_without_a_file() {
    check(
        "",
        r##"
        no record
        W0300 error @main.weft:1:15: the schema reference is empty
          label: no file name
          note: write the path of a JSON Schema or OpenAPI file relative to this .weft file, such as `schemas/order.json` or `api.yaml#/components/schemas/Order`
    "##,
    );
    check(
        "#/$defs/Order",
        r##"
        no record
        W0300 error @main.weft:1:15: `#/$defs/Order` names no file
          label: no file name
          note: write the path of a JSON Schema or OpenAPI file relative to this .weft file, such as `schemas/order.json` or `api.yaml#/components/schemas/Order`
    "##,
    );
}

#[test]
fn folder_instead_of_file() {
    let dir = temp_dir("folder");
    std::fs::create_dir_all(dir.join("schemas.json")).unwrap_or_default();
    let imported = import_from(&dir, "schemas.json");
    assert_eq!(imported.codes(), vec![Code::ImportUnreadable]);
    assert!(
        imported.diags.iter().all(|d| d.message.contains("folder")),
        "{}",
        imported.summary()
    );
}

#[test]
fn defs_only_file_lists_what_to_import() {
    check_imported(
        &import_inline(
            &[(
                "defs.json",
                r#"{"$defs": {"A": {"type": "object", "properties": {}}, "B": {}}}"#,
            )],
            "defs.json",
        ),
        r##"
            no record
            W0305 error @defs.json:1:1: the root schema has no `properties`: it accepts any JSON value or any object, and a Weft schema needs named fields
              label: no `properties`
              also @main.weft:1:15: imported here
              note: this file defines `A`, `B`; import one with `defs.json#/$defs/NAME`
        "##,
    );
}

// ---------------------------------------------------------------------------------------------
// Malformed input: exact positions

/// Parses `text` as the file `name` and returns (code, line, column, message) of the first diagnostic.
fn first_error(name: &str, text: &str) -> (Code, usize, usize, String) {
    let imported = import_inline(&[(name, text)], name);
    let d = imported
        .diags
        .first()
        .unwrap_or_else(|| panic!("no diagnostic for {text:?}"));
    let (line, col) = imported
        .db
        .line_col(d.primary.loc.file, d.primary.loc.span.start);
    assert!(
        d.secondary.iter().any(|l| l.message == "imported here"),
        "diagnostic without `imported here`: {}",
        imported.summary()
    );
    (d.code, line, col, d.message.clone())
}

#[test]
fn malformed_json_positions() {
    let cases: &[(&str, usize, usize, &str)] = &[
        ("", 1, 1, "empty"),
        ("{\n  \"a\": 1\n  \"b\": 2\n}", 3, 3, "expected `,`"),
        ("{\n  \"a\": 1, // note\n}", 2, 11, "comments"),
        ("{\n  'a': 1\n}", 2, 3, "double quotes"),
        ("{\n  a: 1\n}", 2, 3, "double quotes"),
        ("{\"a\": \"open\n}", 1, 12, "line break inside a string"),
        ("{\"a\": \"bad \\q escape\"}", 1, 12, "invalid escape"),
        ("{\"a\": \"\\u12G4\"}", 1, 8, "four hex digits"),
        ("{\"a\": 012}", 1, 8, "leading zeros"),
        ("{\"a\": 1.}", 1, 9, "digit after `.`"),
        ("{\"a\": -}", 1, 8, "expected a digit"),
        ("{\"a\": True}", 1, 7, "write `true`"),
        ("{\"a\": [1, 2,]}", 1, 12, "trailing comma"),
        ("{\"a\": 1}\n{\"b\": 2}", 2, 1, "after the end"),
        ("{\n  \"a\": {\n    \"b\": 1\n", 4, 1, "never closed"),
        ("{\"a\" 1}", 1, 6, "expected `:`"),
        ("{\"é\": \"ü\", ☃}", 1, 12, "expected a key"),
        ("{\"a\": \"tab\there\"}", 1, 11, "must be escaped"),
    ];
    for (text, line, col, message) in cases {
        let (code, l, c, m) = first_error("bad.json", text);
        assert_eq!(
            (code, l, c),
            (Code::ImportMalformed, *line, *col),
            "{text:?}: {m}"
        );
        assert!(m.contains(message), "{text:?}: {m}");
    }
}

#[test]
fn duplicate_keys_are_errors_but_the_schema_is_imported() {
    for (name, text) in [
        ("dup.json", "{\"properties\": {\n  \"a\": {\"type\": \"string\"},\n  \"a\": {\"type\": \"integer\"}\n}}"),
        ("dup.yaml", "properties:\n  a: {type: string}\n  a: {type: integer}\n"),
    ] {
        let imported = import_inline(&[(name, text)], name);
        assert_eq!(imported.codes(), vec![Code::ImportMalformed], "{}", imported.summary());
        assert_eq!(imported.first_line(), 3);
        assert_eq!(imported.field("a"), &Type::Int.optional());
    }
}

#[test]
fn malformed_yaml_positions() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 1, "no YAML document"),
        (
            "type: object\n---\ntype: object\n",
            2,
            "more than one YAML document",
        ),
        ("type: object\nproperties:\n  a: b: c\n", 3, "not allowed"),
        ("type: object\nproperties:\n  a: [1, 2\n", 4, ""),
        ("a: *nothing\n", 1, ""),
        ("? [a, b]\n: c\n", 1, "plain strings"),
        ("a: !!int text\n", 1, "does not match its tag"),
    ];
    for (text, line, message) in cases {
        let (code, l, _, m) = first_error("bad.yaml", text);
        assert_eq!((code, l), (Code::ImportMalformed, *line), "{text:?}: {m}");
        assert!(m.contains(message), "{text:?}: {m}");
    }
}

#[test]
fn not_utf8() {
    let dir = temp_dir("not_utf8");
    write(
        &dir,
        "latin1.json",
        b"{\n  \"type\": \"object\",\n  \"description\": \"Gr\xf6\xdfe\"\n}\n",
    );
    let imported = import_from(&dir, "latin1.json");
    assert_eq!(
        imported.codes(),
        vec![Code::ImportMalformed],
        "{}",
        imported.summary()
    );
    assert_eq!(imported.first_line(), 3);
    check_imported(
        &imported,
        r##"
        no record
        W0301 error @latin1.json:3:21: `latin1.json` is not valid UTF-8: byte 0xF6 on line 3
          label: not UTF-8
          also @main.weft:1:15: imported here
          note: save the file as UTF-8
    "##,
    );

    write(&dir, "utf16.json", b"\xff\xfe{\x00}\x00");
    let imported = import_from(&dir, "utf16.json");
    assert_eq!(imported.codes(), vec![Code::ImportMalformed]);
    assert!(
        imported.diags.iter().all(|d| d.message.contains("UTF-16")),
        "{}",
        imported.summary()
    );
}

#[test]
fn byte_order_mark_is_accepted() {
    for name in ["bom.json", "bom.yaml"] {
        let text = if name.ends_with("json") {
            "\u{feff}{\"properties\": {\"a\": {\"type\": \"string\"}}}"
        } else {
            "\u{feff}properties:\n  a: {type: string}\n"
        };
        let imported = import_inline(&[(name, text)], name);
        assert_eq!(
            imported.field("a"),
            &Type::String.optional(),
            "{}",
            imported.summary()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile input: deep, wide, repetitive

#[test]
fn deep_json_nesting_is_reported_not_overflowed() {
    let depth = 10_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let (code, line, col, message) = first_error("deep.json", &text);
    assert_eq!((code, line, col), (Code::ImportMalformed, 1, 129));
    assert!(message.contains("128 levels"), "{message}");

    let text = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let (code, ..) = first_error("deep.json", &text);
    assert_eq!(code, Code::ImportMalformed);
}

#[test]
fn deep_yaml_nesting_is_reported_not_overflowed() {
    let depth = 10_000;
    let flow = format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    let block = format!("a:\n{}x\n", "- ".repeat(depth));
    let mapping: String = (0..depth)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    for text in [flow, block, mapping] {
        let (code, _, _, message) = first_error("deep.yaml", &text);
        assert_eq!(code, Code::ImportMalformed, "{message}");
    }
}

#[test]
fn deep_schema_through_refs_is_reported() {
    let defs: Vec<String> = (0..300)
        .map(|i| format!(r##""D{i}": {{"type": "object", "properties": {{"next": {{"$ref": "#/$defs/D{}"}}}}}}"##, i + 1))
        .collect();
    let text = format!(
        r#"{{"$defs": {{{}, "D300": {{"type": "object", "properties": {{}}}}}}}}"#,
        defs.join(",")
    );
    let imported = import_inline(&[("chain.json", &text)], "chain.json#/$defs/D0");
    assert_eq!(
        imported.codes(),
        vec![Code::ImportUnsupported],
        "{}",
        imported.summary()
    );
    assert!(imported
        .diags
        .iter()
        .all(|d| d.message.contains("128 levels")));
}

#[test]
fn exponential_ref_fan_out_is_bounded() {
    // Each definition uses the next one twice: 2^40 fields once inlined.
    let defs: Vec<String> = (0..40)
        .map(|i| {
            format!(
                r##""D{i}": {{"type": "object", "properties": {{"l": {{"$ref": "#/$defs/D{n}"}}, "r": {{"$ref": "#/$defs/D{n}"}}}}}}"##,
                n = i + 1
            )
        })
        .collect();
    let text = format!(
        r#"{{"$defs": {{{}, "D40": {{"type": "string"}}}}}}"#,
        defs.join(",")
    );
    let imported = import_inline(&[("fan.json", &text)], "fan.json#/$defs/D0");
    assert_eq!(
        imported.codes(),
        vec![Code::ImportUnsupported],
        "{}",
        imported.summary()
    );
    assert!(imported.record.is_none());
}

#[test]
fn yaml_alias_bomb_is_bounded() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let (code, _, _, message) = first_error("bomb.yaml", &text);
    assert_eq!(code, Code::ImportMalformed);
    assert!(message.contains("aliases"), "{message}");
}

#[test]
fn large_files_import_every_field_with_its_line() {
    let fields: Vec<String> = (0..20_000)
        .map(|i| format!(r#""f{i}": {{"type": "string", "description": "field number {i} ü"}}"#))
        .collect();
    let json = format!(
        r#"{{"type": "object", "properties": {{{}}}}}"#,
        fields.join(",\n")
    );
    let yaml: String =
        std::iter::once("type: object\nproperties:\n".to_string())
            .chain((0..20_000).map(|i| {
                format!("  f{i}: {{type: string, description: \"field number {i} ü\"}}\n")
            }))
            .collect();
    for (name, text) in [("big.json", json), ("big.yaml", yaml)] {
        let imported = import_inline(&[(name, &text)], name);
        assert!(imported.diags.is_empty(), "{}", imported.summary());
        let record = imported.record.as_ref().map_or(0, |r| r.fields.len());
        assert_eq!(record, 20_000);
        let last = imported
            .record
            .as_ref()
            .and_then(|r| r.fields.last())
            .map(|f| f.loc);
        let line = last.map(|loc| imported.db.line_col(loc.file, loc.span.start).0);
        assert_eq!(
            line,
            Some(if name.ends_with("json") {
                20_000
            } else {
                20_002
            })
        );
    }
}

#[test]
fn no_panic_on_truncated_or_mutated_fixtures() {
    let names = [
        "customer.draft07.json",
        "order.2020-12.json",
        "shop.openapi.yaml",
        "unsupported.json",
        "cycle.json",
    ];
    for name in names {
        let text = std::fs::read_to_string(fixtures().join(name)).unwrap_or_default();
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .collect();
        for &cut in boundaries.iter().step_by(3) {
            let truncated = text.get(..cut).unwrap_or("");
            let _ = import_inline(&[(name, truncated)], name);
            for replacement in ["\"", "{", "]", ":", "-", "\n", "#", "&a", "*a", "\u{feff}"] {
                let mut mutated = String::from(truncated);
                mutated.push_str(replacement);
                mutated.push_str(text.get(cut..).unwrap_or(""));
                let imported = import_inline(&[(name, &mutated)], name);
                for d in &imported.diags {
                    let file = imported.db.get(d.primary.loc.file);
                    assert!(
                        d.primary.loc.span.end <= file.text.len(),
                        "span out of range in {mutated:?}"
                    );
                }
            }
        }
    }
}
