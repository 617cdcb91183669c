//! `weft graph` output for the bundled examples, as snapshots, and the properties every
//! picture must have: well-formed SVG, escaped labels, stable bytes.

use std::path::{Path, PathBuf};

use weft_compiler::analysis::{check_files, check_project};
use weft_compiler::{graph, lower, render};
use weft_runtime::ir::Program;

fn example(name: &str) -> Program {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    let analysis = check_project(&root);
    let rendered = render::text(&analysis.db, &analysis.diagnostics, false);
    match lower::lower(&analysis) {
        Some(lowered) => lowered.program,
        None => panic!("{name} does not lower:\n{rendered}"),
    }
}

fn source(text: &str) -> Program {
    let files = [(
        "main.weft".to_string(),
        PathBuf::from("src/main.weft"),
        text.to_string(),
    )];
    let analysis = check_files(&files, None);
    let rendered = render::text(&analysis.db, &analysis.diagnostics, false);
    match lower::lower(&analysis) {
        Some(lowered) => lowered.program,
        None => panic!("does not lower:\n{rendered}"),
    }
}

/// Snapshots the three formats of one flow (or of the whole program).
fn snapshots(project: &str, flow: Option<&str>) {
    let program = example(project);
    let name = format!("{project}__{}", flow.unwrap_or("all"));
    let draw = |render: fn(&Program, Option<&str>) -> Result<String, graph::UnknownFlow>| {
        render(&program, flow).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let svg = draw(graph::svg);
    check_xml(&svg).unwrap_or_else(|e| panic!("{name}: {e}\n{svg}"));
    insta::assert_snapshot!(format!("{name}.dot"), draw(graph::dot));
    insta::assert_snapshot!(format!("{name}.mmd"), draw(graph::mermaid));
    insta::assert_snapshot!(format!("{name}.svg"), svg);
}

#[test]
fn customer_sync_account_sync() {
    snapshots("customer-sync", Some("account_sync"));
}

#[test]
fn order_to_cash_order_to_shipment() {
    snapshots("order-to-cash", Some("order_to_shipment"));
}

#[test]
fn hire_to_retire_worker_to_payroll() {
    snapshots("hire-to-retire", Some("worker_to_payroll"));
}

#[test]
fn order_to_cash_whole_program() {
    snapshots("order-to-cash", None);
}

#[test]
fn the_whole_program_links_each_after_trigger_once() {
    let program = example("order-to-cash");
    let dot = graph::dot(&program, None).unwrap_or_else(|e| panic!("{e}"));
    let links: Vec<&str> = dot
        .lines()
        .filter(|l| l.contains("label=\"after\""))
        .collect();
    assert_eq!(links.len(), 1, "{dot}");
    let mermaid = graph::mermaid(&program, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mermaid.matches("==>|after|").count(), 1, "{mermaid}");
    let svg = graph::svg(&program, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(svg.matches("class=\"after\"").count(), 1);
    assert_eq!(
        svg.matches("<g class=\"flow\"").count(),
        program.flows.len()
    );
}

#[test]
fn every_svg_of_every_example_is_well_formed() {
    for project in ["customer-sync", "order-to-cash", "hire-to-retire"] {
        let program = example(project);
        let flows = program.flows.keys().map(|f| Some(f.as_str()));
        for flow in std::iter::once(None).chain(flows) {
            let svg = graph::svg(&program, flow).unwrap_or_else(|e| panic!("{e}"));
            check_xml(&svg).unwrap_or_else(|e| panic!("{project} {flow:?}: {e}\n{svg}"));
            assert!(svg.contains("viewBox=\"0 0 "), "{svg}");
        }
    }
}

#[test]
fn an_unknown_flow_names_the_closest_one() {
    let program = example("customer-sync");
    let error = graph::dot(&program, Some("acount_sync")).err();
    assert_eq!(
        error.as_ref().and_then(|e| e.suggestion.as_deref()),
        Some("account_sync")
    );
    assert_eq!(
        error.map(|e| e.to_string()).as_deref(),
        Some("no flow named `acount_sync`; did you mean `account_sync`?")
    );
}

const HOSTILE: &str = r#"
schema Item { id: Int, `display "name"`: String }
connection src: http
connection dst: http
flow `odd "flow" <&>` {
  trigger webhook "/in?a=1&b=<2>"
  read src.get("/items?q=\"x\"&lt=<3>") as [Item]
  where i => i.`display "name"` != "<&>\"" and i.id > 0
  write dst.post("/out#frag") as Item
  on error retry 2 backoff 500ms then dead_letter
}
"#;

#[test]
fn labels_with_quotes_and_markup_are_escaped_in_every_format() {
    let program = source(HOSTILE);

    let svg = graph::svg(&program, None).unwrap_or_else(|e| panic!("{e}"));
    check_xml(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    assert!(
        svg.contains("flow `odd &quot;flow&quot; &lt;&amp;&gt;`"),
        "{svg}"
    );
    assert!(svg.contains("webhook /in?a=1&amp;b=&lt;2&gt;"), "{svg}");
    assert!(
        svg.contains("!= &quot;&lt;&amp;&gt;\\&quot;&quot;"),
        "{svg}"
    );

    let dot = graph::dot(&program, None).unwrap_or_else(|e| panic!("{e}"));
    assert!(dot.contains(r#"label="flow `odd \"flow\" <&>`""#), "{dot}");
    assert!(
        dot.contains(r#"read src.get(\"/items?q=\\\"x\\\"&lt=<3>\")"#),
        "{dot}"
    );
    for line in dot.lines() {
        let bare = line.replace("\\\\", "").replace("\\\"", "");
        assert_eq!(
            bare.matches('"').count() % 2,
            0,
            "unbalanced quotes: {line}"
        );
    }

    let mermaid = graph::mermaid(&program, None).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        mermaid.contains("subgraph f0[\"flow #96;odd #quot;flow#quot; #lt;#amp;#gt;#96;\"]"),
        "{mermaid}"
    );
    assert!(mermaid.contains("/out#35;frag"), "{mermaid}");
    for line in mermaid.lines().filter(|l| l.contains('"')) {
        let (_, rest) = line.split_once('"').unwrap_or_default();
        let (label, _) = rest.rsplit_once('"').unwrap_or_default();
        assert!(!label.contains('"'), "raw quote in a label: {line}");
        assert!(
            !label.replace("<br/>", "").contains(['<', '>', '&']),
            "raw markup in a label: {line}"
        );
    }
}

#[test]
fn output_is_stable() {
    let program = example("hire-to-retire");
    for render in [graph::dot, graph::mermaid, graph::svg] {
        let first = render(&program, None).unwrap_or_else(|e| panic!("{e}"));
        let again = render(&example("hire-to-retire"), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first, again);
    }
}

/// Graphviz accepts the DOT, when it is installed (it is optional everywhere else too).
#[test]
fn graphviz_accepts_the_dot_when_installed() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let programs = [example("order-to-cash"), source(HOSTILE)];
    for program in &programs {
        let dot = graph::dot(program, None).unwrap_or_else(|e| panic!("{e}"));
        let Ok(mut child) = Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        else {
            println!("skipped: Graphviz `dot` is not on PATH (apt-get install graphviz)");
            return;
        };
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(dot.as_bytes())
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let output = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{}\n{dot}",
            String::from_utf8_lossy(&output.stderr)
        );
        check_xml(&String::from_utf8_lossy(&output.stdout))
            .unwrap_or_else(|e| panic!("graphviz output: {e}"));
    }
}

/// A small well-formedness check: one root element, every tag closed in order, quoted
/// attributes, and no raw `<` or stray `&` in text or attribute values.
fn check_xml(doc: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = doc;
    while let Some(open) = rest.find('<') {
        check_text(&rest[..open])?;
        if stack.is_empty() && !rest[..open].trim().is_empty() {
            return Err(format!("text outside the root: {:?}", &rest[..open]));
        }
        rest = &rest[open..];
        if let Some(after) = rest.strip_prefix("<?") {
            let end = after.find("?>").ok_or("unclosed <?")?;
            rest = &after[end + 2..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").ok_or("unclosed comment")?;
            rest = &after[end + 3..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("<!") {
            let end = after.find('>').ok_or("unclosed <!")?;
            rest = &after[end + 1..];
            continue;
        }
        let end = tag_end(rest)?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(open) if open == name.trim() => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name: String = tag.chars().take_while(|c| !c.is_whitespace()).collect();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || "-_:.".contains(c))
        {
            return Err(format!("bad tag name in <{tag}>"));
        }
        check_attributes(&tag[name.len()..])?;
        if stack.is_empty() {
            roots += 1;
        }
        if !self_closing {
            stack.push(name);
        }
    }
    check_text(rest)?;
    if !rest.trim().is_empty() {
        return Err(format!("text after the root: {rest:?}"));
    }
    match (stack.as_slice(), roots) {
        ([], 1) => Ok(()),
        ([], n) => Err(format!("{n} root elements")),
        (open, _) => Err(format!("unclosed: {open:?}")),
    }
}

/// Where the tag starting at `s` ends: the first `>` outside a quoted attribute value.
fn tag_end(s: &str) -> Result<usize, String> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Ok(i),
            _ => {}
        }
    }
    Err(format!("unclosed tag: {:?}", &s[..s.len().min(60)]))
}

fn check_attributes(mut s: &str) -> Result<(), String> {
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(());
        }
        let eq = s
            .find('=')
            .ok_or_else(|| format!("attribute without value: {s:?}"))?;
        let name = s[..eq].trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!("bad attribute name {name:?}"));
        }
        let value = s[eq + 1..].trim_start();
        let quote = value.chars().next().ok_or("missing value")?;
        if quote != '"' && quote != '\'' {
            return Err(format!("unquoted value of {name}"));
        }
        let close = value[1..]
            .find(quote)
            .ok_or_else(|| format!("unclosed value of {name}"))?;
        let inner = &value[1..1 + close];
        if inner.contains('<') {
            return Err(format!("raw < in {name}"));
        }
        check_text(inner)?;
        s = &value[close + 2..];
    }
}

/// Every `&` starts an entity or character reference.
fn check_text(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        let after = &rest[at + 1..];
        let end = after
            .find(';')
            .ok_or_else(|| format!("stray & in {text:?}"))?;
        let entity = &after[..end];
        let known = ["amp", "lt", "gt", "quot", "apos"].contains(&entity)
            || entity
                .strip_prefix("#x")
                .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
            || entity
                .strip_prefix('#')
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        if !known {
            return Err(format!("unknown entity &{entity}; in {text:?}"));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

#[test]
fn the_xml_checker_rejects_broken_documents() {
    assert!(check_xml("<svg><g></g></svg>").is_ok());
    assert!(check_xml("<?xml version=\"1.0\"?>\n<svg a=\"1\"><rect/></svg>\n").is_ok());
    assert!(check_xml("<svg><g></svg>").is_err());
    assert!(check_xml("<svg></svg><svg></svg>").is_err());
    assert!(check_xml("<svg><text>a < b</text></svg>").is_err());
    assert!(check_xml("<svg><text>a & b</text></svg>").is_err());
    assert!(check_xml("<svg a=\"x\"y></svg>").is_err());
    assert!(check_xml("<svg a=x></svg>").is_err());
    assert!(check_xml("<svg a=\"<\"></svg>").is_err());
    assert!(check_xml("<svg><text>&amp;&#38;&#x26;</text></svg>").is_ok());
}
