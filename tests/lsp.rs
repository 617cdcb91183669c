//! End-to-end tests of `weft lsp`: the real binary over stdio, speaking JSON-RPC with
//! Content-Length framing, on a copy of examples/customer-sync. Every wait is bounded,
//! so a broken server fails the test instead of hanging it.

mod common;

use common::{copy_dir, repo};

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Longest wait for any one answer.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A running `weft lsp` and the temporary folder it works in.
struct Server {
    child: Child,
    stdin: ChildStdin,
    inbox: Receiver<Value>,
    /// Messages read while waiting for something else.
    backlog: Vec<Value>,
    next_id: i64,
    /// The temporary folder, canonical, as the server names it.
    root: PathBuf,
    /// What the server said it can do in `initialize`.
    capabilities: Value,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts the server on a fresh copy of customer-sync (under `customer-sync/` in a
    /// temporary folder) and initializes it.
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let root =
            std::fs::canonicalize(dir.path()).unwrap_or_else(|e| panic!("canonicalize: {e}"));
        copy_dir(
            &repo().join("examples/customer-sync"),
            &root.join("customer-sync"),
        );
        let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start weft lsp: {e}"));
        let stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let (sender, inbox) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            stdin,
            inbox,
            backlog: Vec::new(),
            next_id: 0,
            root,
            capabilities: Value::Null,
            _dir: dir,
        };
        let root_uri = server.uri("customer-sync");
        let result = server.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "capabilities": {},
                "workspaceFolders": [{ "uri": root_uri, "name": "customer-sync" }]
            }),
        );
        assert!(
            result["capabilities"]["hoverProvider"]
                .as_bool()
                .unwrap_or(false),
            "{result}"
        );
        server.capabilities = result["capabilities"].clone();
        server.notify("initialized", json!({}));
        server
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    fn uri(&self, relative: &str) -> String {
        format!("file://{}", self.path(relative).display())
    }

    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative))
            .unwrap_or_else(|e| panic!("read {relative}: {e}"))
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|e| panic!("cannot write to the server: {e}"));
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its result; panics on an error response or timeout.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params);
        if let Some(error) = response.get("error") {
            panic!("{method} failed: {error}");
        }
        response["result"].clone()
    }

    /// Sends a request and returns the whole response.
    fn request_raw(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        self.wait(&format!("the answer to {method}"), |m| {
            m.get("method").is_none() && m["id"] == json!(id)
        })
    }

    /// The first message (earlier ones kept aside first) that satisfies `wanted`.
    fn wait(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&wanted) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.inbox.recv_timeout(left) {
                Ok(message) if wanted(&message) => return message,
                Ok(message) => self.backlog.push(message),
                Err(RecvTimeoutError::Timeout) => panic!("timed out waiting for {what}"),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the server closed its output while we waited for {what}")
                }
            }
        }
    }

    /// The next diagnostics published for a file that satisfy `wanted`.
    fn diagnostics(&mut self, relative: &str, wanted: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let uri = self.uri(relative);
        let message = self.wait(&format!("diagnostics of {relative}"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == json!(uri)
                && wanted(
                    m["params"]["diagnostics"]
                        .as_array()
                        .map_or(&[], Vec::as_slice),
                )
        });
        message["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn open(&mut self, relative: &str, text: &str) {
        let uri = self.uri(relative);
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "weft", "version": 1, "text": text } }),
        );
    }

    fn change(&mut self, relative: &str, version: i32, text: &str) {
        let uri = self.uri(relative);
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    /// `{ textDocument, position }` for the request at `needle` (plus `shift` bytes) in `text`.
    fn at(&self, relative: &str, text: &str, needle: &str, shift: usize) -> Value {
        let offset = text
            .find(needle)
            .unwrap_or_else(|| panic!("`{needle}` not in {relative}"))
            + shift;
        let line = text[..offset].matches('\n').count();
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let character: usize = text[line_start..offset].chars().map(char::len_utf16).sum();
        json!({
            "textDocument": { "uri": self.uri(relative) },
            "position": { "line": line, "character": character }
        })
    }

    /// JSON with the temporary folder written as `$ROOT`, pretty-printed for snapshots.
    fn redact(&self, value: &Value) -> String {
        let text = serde_json::to_string_pretty(value).unwrap_or_default();
        text.replace(&self.root.display().to_string(), "$ROOT")
    }

    /// Shuts the server down and checks that it exits cleanly.
    fn stop(mut self) {
        let result = self.request("shutdown", Value::Null);
        assert_eq!(result, Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    assert!(status.success(), "weft lsp exited with {status}");
                    return;
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => panic!("weft lsp did not exit after `exit`"),
                Err(e) => panic!("wait: {e}"),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One Content-Length framed message; `None` at the end of the stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length:") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// Document symbols as an indented list: name, detail, kind number, line range.
fn render_outline(symbols: &Value, depth: usize, out: &mut String) {
    for symbol in symbols.as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let detail = symbol["detail"]
            .as_str()
            .map(|d| format!(" `{d}`"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}{}{detail} [kind {}] lines {}-{}\n",
            "  ".repeat(depth),
            symbol["name"].as_str().unwrap_or("?"),
            symbol["kind"],
            symbol["range"]["start"]["line"],
            symbol["range"]["end"]["line"],
        ));
        render_outline(&symbol["children"], depth + 1, out);
    }
}

fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn diagnostics_follow_edits() {
    let mut server = Server::start();
    let maps = "customer-sync/src/maps.weft";
    let text = server.read(maps);
    server.open(maps, &text);
    let clean = server.diagnostics(maps, |_| true);
    assert_eq!(clean, Vec::<Value>::new(), "the example is clean");

    // A misspelled source field.
    let broken = text.replacen("trim(c.party_name)", "trim(c.party_nme)", 1);
    server.change(maps, 2, &broken);
    let found = server.diagnostics(maps, |d| !d.is_empty());
    assert_eq!(codes(&found), ["W0403"]);
    insta::assert_snapshot!("misspelled_field", server.redact(&json!(found)));

    // The fix-it comes back as a quick fix that restores the field name.
    let actions = server.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": server.uri(maps) },
            "range": found[0]["range"],
            "context": { "diagnostics": found },
        }),
    );
    assert_eq!(actions[0]["title"], "did you mean `party_name`?");
    assert_eq!(actions[0]["kind"], "quickfix");
    let edits = &actions[0]["edit"]["changes"][server.uri(maps)];
    assert_eq!(edits[0]["newText"], "party_name");
    assert_eq!(edits[0]["range"], found[0]["range"]);

    // A newer edit wins over a pending one: only the last text is reported.
    server.change(
        maps,
        3,
        &text.replacen("trim(c.party_name)", "trim(c.party_nam)", 1),
    );
    server.change(maps, 4, &text);
    let fixed = server.diagnostics(maps, |d| d.is_empty());
    assert!(fixed.is_empty());
    let stale = server
        .backlog
        .iter()
        .any(|m| m["params"]["version"] == json!(3));
    assert!(
        !stale,
        "the analysis of version 3 was published though version 4 followed"
    );
    server.stop();
}

#[test]
fn errors_in_other_files_and_imported_schemas() {
    let mut server = Server::start();
    let schemas = "customer-sync/src/schemas.weft";
    let maps = "customer-sync/src/maps.weft";
    let text = server.read(schemas);
    server.open(schemas, &text);
    server.diagnostics(schemas, |d| d.is_empty());
    // Renaming a field breaks the maps that read it, in a file that is not open.
    let renamed = text.replacen("  party_name: String", "  party: String", 1);
    server.change(schemas, 2, &renamed);
    let found = server.diagnostics(maps, |d| !d.is_empty());
    assert_eq!(codes(&found), ["W0403"]);
    // Undone: the file whose diagnostics went away gets an empty list.
    server.change(schemas, 3, &text);
    server.diagnostics(maps, |d| d.is_empty());

    // A missing required target field points at the JSON Schema that requires it.
    let text = server.read(maps);
    server.open(maps, &text);
    server.diagnostics(maps, |_| true);
    let without = text.replacen("  AccountNumber      = c.account_number\n", "", 1);
    server.change(maps, 2, &without);
    let found = server.diagnostics(maps, |d| !d.is_empty());
    assert_eq!(codes(&found), ["W0400"]);
    insta::assert_snapshot!("missing_target_field", server.redact(&json!(found)));
    server.stop();
}

#[test]
fn navigation_and_editing_requests() {
    let mut server = Server::start();
    let maps = "customer-sync/src/maps.weft";
    let flows = "customer-sync/src/flows.weft";
    let text = server.read(maps);
    let flow_text = server.read(flows);
    server.open(maps, &text);
    server.open(flows, &flow_text);
    server.diagnostics(maps, |_| true);

    // Hover on a field in a path, on a map target field from JSON Schema, and on a built-in.
    let hover = server.request(
        "textDocument/hover",
        server.at(maps, &text, "c.bill_to.city", 12),
    );
    insta::assert_snapshot!("hover_path_field", server.redact(&hover));
    let hover = server.request(
        "textDocument/hover",
        server.at(maps, &text, "Last_ERP_Update__c", 2),
    );
    insta::assert_snapshot!("hover_target_field", server.redact(&hover));
    let hover = server.request(
        "textDocument/hover",
        server.at(maps, &text, "trim(c.party_name)", 1),
    );
    insta::assert_snapshot!("hover_builtin", server.redact(&hover));
    let hover = server.request(
        "textDocument/hover",
        server.at(flows, &flow_text, "map customer_to_account", 6),
    );
    insta::assert_snapshot!("hover_map", server.redact(&hover));

    // Definition of a map name used in a flow, and of a field of an imported schema.
    let definition = server.request(
        "textDocument/definition",
        server.at(flows, &flow_text, "map customer_to_account", 6),
    );
    assert_eq!(definition["uri"], json!(server.uri(maps)));
    insta::assert_snapshot!("definition_map", server.redact(&definition));
    let definition = server.request(
        "textDocument/definition",
        server.at(maps, &text, "BillingAddress.city", 16),
    );
    assert_eq!(
        definition["uri"],
        json!(server.uri("customer-sync/schemas/salesforce-account.json"))
    );
    insta::assert_snapshot!("definition_imported_field", server.redact(&definition));

    // The outline of every file of the project, open or not.
    let mut outline = String::new();
    for file in [
        "schemas",
        "maps",
        "flows",
        "environments",
        "tests",
        "delivery",
    ] {
        let uri = server.uri(&format!("customer-sync/src/{file}.weft"));
        let symbols = server.request(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": uri } }),
        );
        outline.push_str(&format!("{file}.weft\n"));
        render_outline(&symbols, 1, &mut outline);
    }
    insta::assert_snapshot!("document_symbols", outline);
    let found = server.request("workspace/symbol", json!({ "query": "accsync" }));
    insta::assert_snapshot!("workspace_symbols", server.redact(&found));

    // Completion after `c.`: the fields of ErpCustomer.
    let incomplete = text.replacen(
        "  Phone                  = c.phone",
        "  Phone                  = c.",
        1,
    );
    server.change(maps, 2, &incomplete);
    let completion = server.request(
        "textDocument/completion",
        server.at(maps, &incomplete, "Phone                  = c.", 27),
    );
    let labels: Vec<&str> = completion
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["label"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        labels.contains(&"party_name") && labels.contains(&"`tax-registration-number`"),
        "{labels:?}"
    );
    insta::assert_snapshot!("completion_fields", labels.join("\n"));

    // Completion of the target fields not assigned yet at the start of a line in the
    // map body: the required ones sort first.
    let missing = text
        .replacen("  Phone                  = c.phone\n", "  \n", 1)
        .replacen("  AccountNumber      = c.account_number\n", "", 1);
    server.change(maps, 3, &missing);
    let completion = server.request(
        "textDocument/completion",
        server.at(maps, &missing, "\n  \n", 3),
    );
    let mut items = completion.as_array().cloned().unwrap_or_default();
    items.sort_by_key(|i| i["sortText"].as_str().unwrap_or("").to_string());
    let rendered: Vec<String> = items
        .iter()
        .map(|i| {
            format!(
                "{} ({}) {}",
                i["label"].as_str().unwrap_or(""),
                i["detail"].as_str().unwrap_or(""),
                i["sortText"].as_str().unwrap_or("")
            )
        })
        .collect();
    insta::assert_snapshot!("completion_missing_target", rendered.join("\n"));

    // Formatting: one edit back to the canonical layout; none with syntax errors.
    let messy = text.replacen("  city        = s.city", "  city =     s.city", 1);
    server.change(maps, 4, &messy);
    let edits = server.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": server.uri(maps) }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits.as_array().map(Vec::len), Some(1), "{edits}");
    assert_eq!(edits[0]["newText"], json!(text));
    insta::assert_snapshot!("formatting_range", server.redact(&edits[0]["range"]));
    server.change(maps, 5, &format!("{text}\nmap broken(\n"));
    let edits = server.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": server.uri(maps) }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits, Value::Null);
    server.stop();
}

#[test]
fn files_outside_projects_and_unknown_documents() {
    let mut server = Server::start();
    // A file outside any project is checked alone.
    let loose = "loose.weft";
    let text = "schema A { a: Int }\nschema B { b: Strin }\n";
    std::fs::write(server.path(loose), text).unwrap_or_else(|e| panic!("write: {e}"));
    server.open(loose, text);
    let found = server.diagnostics(loose, |d| !d.is_empty());
    assert_eq!(codes(&found), ["W0201"]);
    assert!(found[0]["data"]["fixes"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("String"));
    // Requests about documents the server does not know answer null, not an error.
    let hover = server.request_raw(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "untitled:Untitled-1" }, "position": { "line": 0, "character": 0 } }),
    );
    assert_eq!(hover["result"], Value::Null, "{hover}");
    // Closing it clears its diagnostics.
    let uri = server.uri(loose);
    server.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": uri } }),
    );
    server.diagnostics(loose, |d| d.is_empty());
    server.stop();
}

/// Locations as `file line:character-line:character`, one per line, paths relative to
/// the project.
fn render_locations(server: &Server, locations: &Value) -> String {
    let prefix = server.uri("customer-sync/");
    let mut lines: Vec<String> = locations
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|l| {
            let range = &l["range"];
            format!(
                "{} {}:{}-{}:{}",
                l["uri"].as_str().unwrap_or("").replace(&prefix, ""),
                range["start"]["line"],
                range["start"]["character"],
                range["end"]["line"],
                range["end"]["character"]
            )
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

/// The byte offset of an LSP position in `text`.
fn offset_of(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap_or(0) as usize;
    let character = position["character"].as_u64().unwrap_or(0) as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units >= character || c == '\n' {
            return start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// `text` with the edits of a workspace edit for one file applied.
fn apply_edits(text: &str, edits: &Value) -> String {
    let mut spans: Vec<(usize, usize, String)> = edits
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|e| {
            (
                offset_of(text, &e["range"]["start"]),
                offset_of(text, &e["range"]["end"]),
                e["newText"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (start, end, new) in spans {
        out.replace_range(start..end, &new);
    }
    out
}

#[test]
fn references_and_rename_across_files() {
    let mut server = Server::start();
    let maps = "customer-sync/src/maps.weft";
    let flows = "customer-sync/src/flows.weft";
    let text = server.read(maps);
    let flow_text = server.read(flows);
    server.open(maps, &text);
    server.open(flows, &flow_text);
    server.diagnostics(maps, |_| true);

    // A map: its declaration, the flows that apply it and the tests that snapshot it.
    let mut at = server.at(flows, &flow_text, "map customer_to_account", 6);
    at["context"] = json!({ "includeDeclaration": true });
    let found = server.request("textDocument/references", at.clone());
    insta::assert_snapshot!("references_map", render_locations(&server, &found));
    at["context"] = json!({ "includeDeclaration": false });
    let uses = server.request("textDocument/references", at);
    assert_eq!(
        uses.as_array().map(Vec::len),
        found.as_array().map(|l| l.len() - 1)
    );

    // A schema field: its declaration and every path that reads it.
    let mut at = server.at(maps, &text, "trim(c.party_name)", 8);
    at["context"] = json!({ "includeDeclaration": true });
    let found = server.request("textDocument/references", at);
    insta::assert_snapshot!("references_field", render_locations(&server, &found));

    // A schema used in two files.
    let mut at = server.at(maps, &text, "c: ErpCustomer", 4);
    at["context"] = json!({ "includeDeclaration": true });
    let found = server.request("textDocument/references", at);
    let rendered = render_locations(&server, &found);
    assert!(
        rendered.contains("src/schemas.weft") && rendered.contains("src/flows.weft"),
        "{rendered}"
    );

    // Rename a map from its use in a flow: the declaration in another file changes too.
    let at = server.at(flows, &flow_text, "map customer_to_account", 6);
    let prepared = server.request("textDocument/prepareRename", at.clone());
    assert_eq!(prepared["start"]["line"], at["position"]["line"]);
    assert_eq!(
        prepared["end"]["character"].as_u64(),
        prepared["start"]["character"]
            .as_u64()
            .map(|c| c + "customer_to_account".len() as u64)
    );
    let mut params = at.clone();
    params["newName"] = json!("account_of");
    let edit = server.request("textDocument/rename", params);
    let changes = &edit["changes"];
    let renamed_maps = apply_edits(&text, &changes[server.uri(maps)]);
    let renamed_flows = apply_edits(&flow_text, &changes[server.uri(flows)]);
    assert!(renamed_maps.contains("map account_of(c: ErpCustomer)"));
    assert!(!renamed_flows.contains("customer_to_account"));
    assert_eq!(renamed_flows.matches("map account_of\n").count(), 2);
    let tests_uri = server.uri("customer-sync/src/tests.weft");
    assert!(
        changes[&tests_uri]
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "{edit}"
    );
    // The renamed project is still clean.
    server.change(maps, 2, &renamed_maps);
    server.change(flows, 2, &renamed_flows);
    let tests = "customer-sync/src/tests.weft";
    let test_text = apply_edits(&server.read(tests), &changes[&tests_uri]);
    server.open(tests, &test_text);
    let fresh = server.request("textDocument/references", {
        let mut at = server.at(maps, &renamed_maps, "map account_of", 5);
        at["context"] = json!({ "includeDeclaration": true });
        at
    });
    assert_eq!(fresh.as_array().map(Vec::len), found_len(&edit));

    // Refusals: a built-in, a keyword, a taken name, a name that is not an identifier.
    let refuse = |server: &mut Server,
                  file: &str,
                  text: &str,
                  needle: &str,
                  shift: usize,
                  new_name: &str| {
        let mut params = server.at(file, text, needle, shift);
        params["newName"] = json!(new_name);
        let response = server.request_raw("textDocument/rename", params);
        response["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("not refused: {response}"))
            .to_string()
    };
    let message = refuse(
        &mut server,
        maps,
        &renamed_maps,
        "trim(c.party_name)",
        1,
        "strip",
    );
    assert!(message.contains("built-in"), "{message}");
    let message = refuse(
        &mut server,
        flows,
        &renamed_flows,
        "flow account_sync",
        1,
        "x",
    );
    assert!(message.contains("keyword"), "{message}");
    let message = refuse(
        &mut server,
        maps,
        &renamed_maps,
        "c: ErpCustomer",
        4,
        "ErpSite",
    );
    assert!(message.contains("already taken"), "{message}");
    let message = refuse(
        &mut server,
        maps,
        &renamed_maps,
        "map account_of",
        5,
        "account-of",
    );
    assert!(message.contains("not an identifier"), "{message}");
    let message = refuse(
        &mut server,
        maps,
        &renamed_maps,
        "BillingAddress.city",
        16,
        "town",
    );
    assert!(message.contains("imported schema"), "{message}");
    let response = server.request_raw(
        "textDocument/prepareRename",
        server.at(maps, &renamed_maps, "trim(c.party_name)", 1),
    );
    assert!(response.get("error").is_some(), "{response}");
    server.stop();
}

/// The number of edits of a workspace edit.
fn found_len(edit: &Value) -> Option<usize> {
    edit["changes"].as_object().map(|files| {
        files
            .values()
            .filter_map(Value::as_array)
            .map(Vec::len)
            .sum()
    })
}

/// Semantic tokens decoded to `line:character text type [modifiers]`, one per line.
fn render_tokens(text: &str, data: &Value, legend: &Value) -> String {
    let numbers: Vec<u64> = data
        .as_array()
        .map(|d| d.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let lines: Vec<&str> = text.split('\n').collect();
    let (mut line, mut character) = (0u64, 0u64);
    let mut out = String::new();
    for token in numbers.chunks(5) {
        let [delta_line, delta_start, length, ty, modifiers] = token else {
            panic!("a token of {} numbers", token.len());
        };
        if *delta_line > 0 {
            line += delta_line;
            character = *delta_start;
        } else {
            character += delta_start;
        }
        let source: String = lines
            .get(line as usize)
            .map(|l| {
                l.encode_utf16()
                    .skip(character as usize)
                    .take(*length as usize)
                    .collect::<Vec<u16>>()
            })
            .map(|units| String::from_utf16_lossy(&units))
            .unwrap_or_default();
        let names: Vec<&str> = legend["tokenModifiers"]
            .as_array()
            .map(|m| {
                m.iter()
                    .enumerate()
                    .filter(|(i, _)| modifiers & (1 << i) != 0)
                    .filter_map(|(_, n)| n.as_str())
                    .collect()
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "{line}:{character} {source} {}{}\n",
            legend["tokenTypes"][*ty as usize].as_str().unwrap_or("?"),
            if names.is_empty() {
                String::new()
            } else {
                format!(" [{}]", names.join(", "))
            }
        ));
    }
    out
}

#[test]
fn semantic_tokens_signature_help_and_folding() {
    let mut server = Server::start();
    let maps = "customer-sync/src/maps.weft";
    let flows = "customer-sync/src/flows.weft";
    let text = server.read(maps);
    let flow_text = server.read(flows);
    server.open(maps, &text);
    server.open(flows, &flow_text);
    server.diagnostics(maps, |_| true);

    // The legend comes with the capabilities; the tokens of a whole file, decoded.
    let legend = server.capabilities["semanticTokensProvider"]["legend"].clone();
    assert!(
        legend["tokenTypes"].as_array().is_some_and(|t| t.len() > 8),
        "{legend}"
    );
    let tokens = server.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": server.uri(flows) } }),
    );
    let rendered = render_tokens(&flow_text, &tokens["data"], &legend);
    assert!(
        rendered.contains(" account_sync function [declaration]"),
        "{rendered}"
    );
    insta::assert_snapshot!("semantic_tokens_flows", rendered);
    let tokens = server.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": server.uri(maps) } }),
    );
    let rendered = render_tokens(&text, &tokens["data"], &legend);
    assert!(rendered.contains(" party_name property\n"), "{rendered}");
    assert!(
        rendered.contains(" trim function [defaultLibrary]\n"),
        "{rendered}"
    );

    // Signature help of a built-in, with the argument the cursor is in, and of a map.
    let help = server.request(
        "textDocument/signatureHelp",
        server.at(maps, &text, "round(c.annual_revenue, 0)", 24),
    );
    assert_eq!(
        help["signatures"][0]["label"],
        "round(n: N, places: Int) -> N"
    );
    assert_eq!(help["activeParameter"], 1);
    let help = server.request(
        "textDocument/signatureHelp",
        server.at(maps, &text, "site_to_address(c.ship_to)", 16),
    );
    assert_eq!(
        help["signatures"][0]["label"],
        "site_to_address(source: ErpSite) -> SalesforceAddress"
    );
    assert_eq!(help["activeParameter"], 0);
    let help = server.request(
        "textDocument/signatureHelp",
        server.at(maps, &text, "map customer_to_account", 4),
    );
    assert_eq!(help, Value::Null);

    // Folding: every multi-line block and the runs of comments.
    let ranges = server.request(
        "textDocument/foldingRange",
        json!({ "textDocument": { "uri": server.uri(maps) } }),
    );
    let rendered: Vec<String> = ranges
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|r| {
            format!(
                "{}-{}{}",
                r["startLine"],
                r["endLine"],
                r["kind"]
                    .as_str()
                    .map(|k| format!(" {k}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    insta::assert_snapshot!("folding_maps", rendered.join("\n"));
    server.stop();
}

/// The range of a whole text.
fn whole(text: &str) -> Value {
    json!({ "start": { "line": 0, "character": 0 }, "end": { "line": text.lines().count() + 1, "character": 0 } })
}

/// Inlay hints written into the text as `⟨label⟩`: the lines that got one.
fn render_hints(text: &str, hints: &Value) -> String {
    let mut spots: Vec<(usize, String)> = hints
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|h| {
            let label = h["label"].as_str().unwrap_or("?");
            (offset_of(text, &h["position"]), format!("⟨{label}⟩"))
        })
        .collect();
    spots.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let mut out = text.to_string();
    for (at, label) in spots {
        out.insert_str(at, &label);
    }
    out.lines()
        .filter(|l| l.contains('⟨'))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn inlay_hints_and_code_lenses() {
    let mut server = Server::start();
    let maps = "customer-sync/src/maps.weft";
    let flows = "customer-sync/src/flows.weft";
    let tests = "customer-sync/src/tests.weft";
    let text = server.read(maps);
    let flow_text = server.read(flows);
    server.open(maps, &text);
    server.open(flows, &flow_text);
    server.diagnostics(maps, |_| true);

    // Lambda parameters get the item type of their list.
    let hints = server.request(
        "textDocument/inlayHint",
        json!({ "textDocument": { "uri": server.uri(maps) }, "range": whole(&text) }),
    );
    let rendered = render_hints(&text, &hints);
    assert!(rendered.contains("p⟨: ErpContact⟩ =>"), "{rendered}");
    insta::assert_snapshot!("inlay_hints_maps", rendered);
    assert!(hints[0]["kind"] == json!(1), "type hints: {hints}");

    // Flow steps show the record type they hand on.
    let hints = server.request(
        "textDocument/inlayHint",
        json!({ "textDocument": { "uri": server.uri(flows) }, "range": whole(&flow_text) }),
    );
    let rendered = render_hints(&flow_text, &hints);
    assert!(
        rendered.contains("map customer_to_account⟨-> SalesforceAccount⟩"),
        "{rendered}"
    );
    insta::assert_snapshot!("inlay_hints_flows", rendered);

    // Only the range asked for: the first flow.
    let first = flow_text
        .find("flow contact_sync")
        .map(|end| flow_text[..end].lines().count())
        .unwrap_or(0);
    let part = server.request(
        "textDocument/inlayHint",
        json!({ "textDocument": { "uri": server.uri(flows) }, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": first, "character": 0 } } }),
    );
    assert_eq!(part.as_array().map(Vec::len), Some(2), "{part}");
    assert!(part.as_array().is_some_and(|h| h
        .iter()
        .all(|h| h["position"]["line"].as_u64() < Some(first as u64))));

    // A broken step shows nothing; the rest still does.
    let broken = flow_text.replacen("  map contact_to_sf_contact", "  map contact_to_sf", 1);
    server.change(flows, 2, &broken);
    let hints = server.request(
        "textDocument/inlayHint",
        json!({ "textDocument": { "uri": server.uri(flows) }, "range": whole(&broken) }),
    );
    let rendered = render_hints(&broken, &hints);
    assert!(!rendered.contains("contact_to_sf⟨"), "{rendered}");
    assert!(rendered.contains("map customer_to_account⟨"), "{rendered}");

    // Code lenses: run each test (the server's own command), diff each flow (the editor's).
    assert_eq!(
        server.capabilities["executeCommandProvider"]["commands"],
        json!(["weft.runTest"])
    );
    let mut lenses = String::new();
    for file in [flows, tests] {
        let found = server.request(
            "textDocument/codeLens",
            json!({ "textDocument": { "uri": server.uri(file) } }),
        );
        for lens in found.as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let arguments = &lens["command"]["arguments"];
            assert_eq!(arguments[0], json!(server.uri(file)));
            lenses.push_str(&format!(
                "{} {}:{}-{} {} {} {}\n",
                file.trim_start_matches("customer-sync/"),
                lens["range"]["start"]["line"],
                lens["range"]["start"]["character"],
                lens["range"]["end"]["character"],
                lens["command"]["title"].as_str().unwrap_or("?"),
                lens["command"]["command"].as_str().unwrap_or("?"),
                arguments[1],
            ));
        }
    }
    insta::assert_snapshot!("code_lenses", lenses);
    server.stop();
}

#[test]
fn semantic_diff_of_the_buffers_against_git_and_artifacts() {
    let mut server = Server::start();
    let maps = "customer-sync/src/maps.weft";
    let text = server.read(maps);
    server.open(maps, &text);
    server.diagnostics(maps, |_| true);
    let request = |server: &mut Server, against: &str, flow: Value| {
        let uri = server.uri(maps);
        server.request_raw(
            "weft/semanticDiff",
            json!({ "textDocument": { "uri": uri }, "against": against, "flow": flow }),
        )
    };
    let error = |response: Value| -> String {
        response["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error: {response}"))
            .to_string()
    };

    // Not a git repository yet: the message says what to do.
    let message = error(request(&mut server, "HEAD", Value::Null));
    assert!(
        message.contains("not in a git repository") && message.contains("git init"),
        "{message}"
    );

    // Committed, then a map edited in the buffer only (not saved).
    let root = server.root.clone();
    common::commit_all(&root, "customer sync");
    let edited = text.replacen(
        "Name               = trim(c.party_name)",
        "Name               = upper(trim(c.party_name))",
        1,
    );
    server.change(maps, 2, &edited);
    let answer = request(&mut server, "HEAD", Value::Null);
    let result = &answer["result"];
    assert_eq!(result["changes"], json!(1), "{answer}");
    assert_eq!(
        result["diff"]["changes"][0]["id"],
        "map.customer_to_account.field.Name"
    );
    assert_eq!(result["diff"]["format"], json!(1));
    insta::assert_snapshot!("semantic_diff_text", result["text"].as_str().unwrap_or(""));
    insta::assert_snapshot!(
        "semantic_diff_markdown",
        result["markdown"].as_str().unwrap_or("")
    );

    // One flow: only what reaches it.
    let answer = request(&mut server, "HEAD", json!("account_sync"));
    assert_eq!(answer["result"]["changes"], json!(1), "{answer}");
    let answer = request(&mut server, "git:HEAD", json!("contact_sync"));
    assert_eq!(answer["result"]["changes"], json!(0), "{answer}");
    let message = error(request(&mut server, "HEAD", json!("no_such_flow")));
    assert!(message.contains("no flow `no_such_flow`"), "{message}");

    // Unknown revisions and paths, and a version that does not compile.
    let message = error(request(&mut server, "git:no-such-branch", Value::Null));
    assert!(
        message.contains("unknown revision no-such-branch"),
        "{message}"
    );
    let message = error(request(&mut server, "dist/nothing.json", Value::Null));
    assert!(message.contains("names no file"), "{message}");
    let broken = edited.replacen("trim(c.party_name)", "trim(c.party_nme)", 1);
    server.change(maps, 3, &broken);
    let message = error(request(&mut server, "HEAD", Value::Null));
    assert!(message.contains("has errors"), "{message}");
    // The editor's version compiles (its buffers), the committed one does not.
    server.change(maps, 4, &edited);
    let schemas = "customer-sync/src/schemas.weft";
    let schema_text = server.read(schemas);
    let write = |text: &str| {
        std::fs::write(root.join(schemas), text).unwrap_or_else(|e| panic!("write: {e}"))
    };
    write(&schema_text.replacen("schema ErpCustomer {", "schema ErpCustomer { {", 1));
    common::commit_all(&root, "broken");
    server.open(schemas, &schema_text);
    server.diagnostics(schemas, |d| d.is_empty());
    let message = error(request(&mut server, "HEAD", Value::Null));
    assert!(
        message.starts_with("HEAD: the project has errors (")
            && message.contains("\nsrc/flows.weft:15:32: W0403 `c` has no field `account_number`"),
        "{message}"
    );

    // Against an artifact written by `weft build` of the saved files.
    write(&schema_text);
    let built = common::weft(&["build", "--out", "dist"], &root.join("customer-sync"));
    assert!(built.status.success(), "{}", common::stderr(&built));
    let artifact = std::fs::read_dir(root.join("customer-sync/dist"))
        .ok()
        .and_then(|mut entries| entries.next())
        .and_then(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .unwrap_or_else(|| panic!("no artifact"));
    let answer = request(&mut server, &format!("dist/{artifact}"), Value::Null);
    let result = &answer["result"];
    assert_eq!(
        result["diff"]["environments_compared"],
        json!(false),
        "{answer}"
    );
    assert_eq!(
        result["diff"]["changes"][0]["id"],
        "map.customer_to_account.field.Name"
    );
    server.stop();
}

/// The LSP position of a byte offset in `text` (UTF-16 columns).
fn position_of(text: &str, offset: usize) -> Value {
    let line = text[..offset].matches('\n').count();
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let character: usize = text[line_start..offset].chars().map(char::len_utf16).sum();
    json!({ "line": line, "character": character })
}

/// An offset on a character boundary at or before `offset`, never between `\r` and `\n`
/// (an editor puts no cursor there).
fn cursor(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at)
        || (at > 0 && text[..at].ends_with('\r') && text[at..].starts_with('\n'))
    {
        at -= 1;
    }
    at
}

/// One random edit: in the file `file` (wrapped) of customer-sync, at `at` (a fraction of
/// its length), `delete` bytes replaced by `insert`.
#[derive(Debug, Clone)]
struct RandomEdit {
    file: usize,
    at: f64,
    delete: usize,
    insert: String,
}

fn random_edits() -> impl proptest::strategy::Strategy<Value = Vec<RandomEdit>> {
    use proptest::prelude::*;
    let insert = prop_oneof![
        Just(String::new()),
        Just("\n".to_string()),
        Just("}".to_string()),
        Just("{".to_string()),
        Just(" oops".to_string()),
        Just("\"".to_string()),
        Just("c.".to_string()),
        Just(" => ".to_string()),
        Just("/// doc\n".to_string()),
        Just("\nschema Extra { a: Int }\n".to_string()),
        Just("\nmap m2(c: ErpCustomer) -> SalesforceAccount {\n  Name = c.".to_string()),
        Just(
            "\nflow f2 {\n  trigger manual\n  read erp.get(\"/x\") as [ErpCustomer]\n".to_string()
        ),
        Just("map ".to_string()),
        Just("é😀".to_string()),
        "[a-z_ .=(){}\n]{0,10}",
        "\\PC{0,3}",
    ];
    proptest::collection::vec(
        (0usize..6, 0.0f64..=1.0, 0usize..30, insert).prop_map(|(file, at, delete, insert)| {
            RandomEdit {
                file,
                at,
                delete,
                insert,
            }
        }),
        1..6,
    )
}

/// Diagnostics as `(start, end, code, message)` in byte offsets of `text`, sorted.
fn comparable(text: &str, diagnostics: &[Value]) -> Vec<(usize, usize, String, String)> {
    let mut out: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            (
                offset_of(text, &d["range"]["start"]),
                offset_of(text, &d["range"]["end"]),
                d["code"].as_str().unwrap_or("").to_string(),
                d["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn random_edits_never_crash_the_server_and_end_where_a_fresh_check_does() {
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    use std::cell::RefCell;
    use std::collections::HashMap;
    use weft_compiler::analysis::check_project_with;

    let server = RefCell::new(Server::start());
    let files = [
        "schemas.weft",
        "maps.weft",
        "flows.weft",
        "environments.weft",
        "tests.weft",
        "delivery.weft",
    ];
    // The buffers the server holds, by file name, and their versions.
    let buffers: RefCell<HashMap<&str, (String, i32)>> = RefCell::new(HashMap::new());
    // The last diagnostics published for each URI.
    let published: RefCell<HashMap<String, Vec<Value>>> = RefCell::new(HashMap::new());
    // The server's state carries over from case to case, so a failing case is reported
    // as it ran, not shrunk.
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        max_shrink_iters: 0,
        ..Config::default()
    });
    let outcome = runner.run(&random_edits(), |edits| {
        let mut server = server.borrow_mut();
        let mut buffers = buffers.borrow_mut();
        let mut published = published.borrow_mut();
        let mut last = None;
        for edit in &edits {
            let name = files[edit.file % files.len()];
            let relative = format!("customer-sync/src/{name}");
            let (text, version) = match buffers.get(name) {
                Some((text, version)) => (text.clone(), *version),
                None => {
                    let text = server.read(&relative);
                    server.open(&relative, &text);
                    (text, 1)
                }
            };
            let start = cursor(&text, (text.len() as f64 * edit.at) as usize);
            let end = cursor(&text, start + edit.delete).max(start);
            let new_text = format!("{}{}{}", &text[..start], edit.insert, &text[end..]);
            let uri = server.uri(&relative);
            server.notify(
                "textDocument/didChange",
                json!({
                    "textDocument": { "uri": uri, "version": version + 1 },
                    "contentChanges": [{
                        "range": { "start": position_of(&text, start), "end": position_of(&text, end) },
                        "text": edit.insert,
                    }],
                }),
            );
            buffers.insert(name, (new_text, version + 1));
            last = Some((uri, version + 1));
        }
        // The edited document's diagnostics come with the version checked; the other
        // files' changes of the same check follow at once.
        let mut messages: Vec<Value> = Vec::new();
        if let Some((uri, version)) = last {
            let done = server.wait("the diagnostics of the last edit", |m| {
                m["method"] == "textDocument/publishDiagnostics"
                    && m["params"]["uri"] == json!(uri)
                    && m["params"]["version"] == json!(version)
            });
            std::thread::sleep(Duration::from_millis(150));
            messages.append(&mut server.backlog);
            messages.push(done);
        }
        messages.extend(server.inbox.try_iter());
        for message in messages {
            if message["method"] == "textDocument/publishDiagnostics" {
                let uri = message["params"]["uri"].as_str().unwrap_or("").to_string();
                let list = message["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
                published.insert(uri, list);
            }
        }
        let overrides: HashMap<PathBuf, String> = buffers
            .iter()
            .map(|(name, (text, _))| (server.path(&format!("customer-sync/src/{name}")), text.clone()))
            .collect();
        let fresh = check_project_with(&server.path("customer-sync"), &overrides);
        for name in files {
            let relative = format!("customer-sync/src/{name}");
            let text = buffers.get(name).map_or_else(|| server.read(&relative), |(t, _)| t.clone());
            let path = server.path(&relative);
            let mut want: Vec<_> = fresh
                .diagnostics
                .iter()
                .filter(|d| fresh.db.get(d.primary.loc.file).path == path)
                .map(|d| {
                    let mut message = d.message.clone();
                    for note in &d.notes {
                        message.push_str("\nnote: ");
                        message.push_str(note);
                    }
                    (d.primary.loc.span.start, d.primary.loc.span.end, d.code.as_str().to_string(), message)
                })
                .collect();
            want.sort();
            let got = comparable(&text, published.get(&server.uri(&relative)).map_or(&[][..], Vec::as_slice));
            if got != want {
                return Err(TestCaseError::fail(format!("{name} after {edits:?}:\n server {got:#?}\n fresh {want:#?}")));
            }
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    server.into_inner().stop();
}

/// `weft.runTest` runs one test of the editor's buffers: a pass is returned and shown;
/// a failure also becomes a diagnostic at the failing expectation until the next edit,
/// and the lens shows the last result.
#[test]
fn run_test_lens_runs_the_test_of_the_buffers() {
    let mut server = Server::start();
    let tests = "customer-sync/src/tests.weft";
    let text = server.read(tests);
    server.open(tests, &text);
    server.diagnostics(tests, <[Value]>::is_empty);
    let name = "Salesforce outage dead-letters after five retries";
    let run = |server: &mut Server| {
        let uri = server.uri(tests);
        server.request(
            "workspace/executeCommand",
            json!({ "command": "weft.runTest", "arguments": [uri, name] }),
        )
    };

    let passed = run(&mut server);
    assert_eq!(passed["test"], json!(name), "{passed}");
    assert_eq!(passed["passed"], json!(true), "{passed}");
    assert_eq!(passed["failures"], json!([]));
    let shown = server.wait("the pass message", |m| m["method"] == "window/showMessage");
    assert_eq!(shown["params"]["type"], json!(3), "info: {shown}");
    assert!(
        shown["params"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with(&format!("Test `{name}` passed ("))),
        "{shown}"
    );

    // An unsaved edit breaks the expectation: the run uses the buffer, not the disk.
    let broken = text.replacen("expect dead_letters 2", "expect dead_letters 3", 1);
    assert_ne!(broken, text);
    server.change(tests, 2, &broken);
    server.diagnostics(tests, <[Value]>::is_empty);
    let failed = run(&mut server);
    assert_eq!(failed["passed"], json!(false), "{failed}");
    let failures = failed["failures"].as_array().cloned().unwrap_or_default();
    assert_eq!(failures.len(), 1, "{failed}");
    assert_eq!(failures[0]["code"], json!("W0900"), "{failed}");
    let line = broken[..broken.find("expect dead_letters 3").unwrap_or(0)]
        .matches('\n')
        .count();
    assert_eq!(
        failures[0]["range"]["start"]["line"],
        json!(line),
        "{failed}"
    );
    let published = server.diagnostics(tests, |d| d.len() == 1);
    assert_eq!(published[0]["code"], json!("W0900"));
    assert_eq!(published[0]["range"], failures[0]["range"]);
    let shown = server.wait("the failure message", |m| {
        m["method"] == "window/showMessage"
    });
    assert_eq!(shown["params"]["type"], json!(1), "error: {shown}");

    // The lens shows the last result.
    let lenses = server.request(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": server.uri(tests) } }),
    );
    let titles: Vec<&str> = lenses
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter(|l| l["command"]["arguments"][1] == json!(name))
        .filter_map(|l| l["command"]["title"].as_str())
        .collect();
    assert_eq!(titles.len(), 1, "{lenses}");
    assert!(titles[0].starts_with("▶ Run test · FAILED ("), "{titles:?}");

    // The next edit clears the failure: its place may have moved.
    server.change(tests, 3, &text);
    server.diagnostics(tests, <[Value]>::is_empty);

    // A test that does not exist, a command that does not exist: errors, not panics.
    let uri = server.uri(tests);
    let missing = server.request_raw(
        "workspace/executeCommand",
        json!({ "command": "weft.runTest", "arguments": [uri, "no such test"] }),
    );
    assert!(
        missing["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no test `no such test`")),
        "{missing}"
    );
    let unknown = server.request_raw(
        "workspace/executeCommand",
        json!({ "command": "weft.deploy", "arguments": [] }),
    );
    assert_eq!(unknown["error"]["code"], json!(-32602), "{unknown}");
    server.stop();
}
