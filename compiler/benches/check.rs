//! `weft check` throughput on generated projects of 10k, 100k and 1M lines.
//!
//! cargo bench -p weft-compiler --bench check                 # all sizes
//! cargo bench -p weft-compiler --bench check -- 100000        # one size
//! cargo bench -p weft-compiler --bench check -- 100000 --keep /tmp/p   # also keep the project
//!
//! Reports the median of several runs for parsing alone (lex + parse of every file),
//! for the full check (read files, parse, resolve, type-check), in ms and lines/s, and
//! for a build (check, lower, digest, serialise the artifact).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use weft_compiler::analysis::check_project;
use weft_compiler::parse::parse;
use weft_compiler::source::FileId;
use weft_compiler::{emit, lower};

/// Lines per generated module (one file of schemas, maps, flows and tests).
fn module(i: usize) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"/// Customer record {i} from the ERP.
schema Customer{i} {{
  customer_id: Int
  /// Legal name.
  customer_name: String
  sector: String?
  headcount: Int
  revenue: Decimal
  country: String
  active: Bool
  created: Date
  updated: Timestamp
  tier: Tier{i}
  tags: [String]
  address: {{ street: String, city: String, postcode: String, region: String? }}
  lines: [{{ sku: String, qty: Int, price: Decimal }}]
}}

enum Tier{i} {{ gold, silver, bronze }}

schema Account{i} {{
  Name: String
  Industry: String
  NumberOfEmployees: Int
  AnnualRevenue: Decimal
  BillingCountry: String
  BillingStreet: String
  Region: String
  IsActive: Bool
  Since: Date
  Tier: String
  TagList: String
  LineCount: Int
  OrderTotal: Decimal
  Billing: {{ City: String, Postcode: String }}
}}

connection erp{i}: http
connection crm{i}: http

map customer_to_account{i}(c: Customer{i}) -> Account{i} {{
  Name = trim(c.customer_name)
  Industry = c.sector ?? "Unknown"
  NumberOfEmployees = c.headcount
  AnnualRevenue = round(c.revenue * 1.1, 2)
  BillingCountry = upper(c.country)
  BillingStreet = "${{c.address.street}}, ${{c.address.city}} ${{c.address.postcode}}"
  Region = if c.address.region != null then c.address.region else "none"
  IsActive = c.active and c.headcount > 0
  Since = c.created
  Tier = c.tier
  TagList = join(c.tags, ",")
  LineCount = count(c.lines, l => l.qty > 0)
  OrderTotal = sum(c.lines, l => int_to_decimal(l.qty) * l.price)
  Billing.City = c.address.city
  Billing.Postcode = c.address.postcode
}}

flow account_sync{i} {{
  trigger every 15m
  read erp{i}.get("/customers?changed_since={{last_run}}") as [Customer{i}]
  where c => c.headcount > 0 and c.active
  map customer_to_account{i}
  write crm{i}.post("/sobjects/Account") as Account{i}
  on error retry 3 backoff 2s then dead_letter
}}

test "customer {i} becomes an account" {{
  mock erp{i}.get("/customers") returns [{{ customer_id: 1, customer_name: "Acme" }}]
  run account_sync{i}
  expect crm{i}.post("/sobjects/Account") called 1 times
  property customer_to_account{i} runs 50
}}
"#
    );
    s
}

fn environments(modules: usize) -> String {
    let mut s = String::new();
    for env in ["dev", "staging", "prod"] {
        let _ = writeln!(s, "environment {env} {{");
        for i in 0..modules {
            let _ = writeln!(s, "  erp{i} = http(\"https://erp-{env}.example.com\", auth: bearer(secret \"ERP_{i}_TOKEN\"), timeout: 30s)");
            let _ = writeln!(s, "  crm{i} = http(\"https://crm-{env}.example.com\", auth: bearer(secret \"CRM_{i}_TOKEN\"))");
        }
        let _ = writeln!(s, "}}");
    }
    s.push_str("promotion {\n  dev -> staging -> prod\n  staging: require tests\n  prod: require tests, approvals 2 from \"leads\", no self approval\n}\n");
    s
}

/// Writes a project of about `lines` lines into `dir`, 20 modules per file.
fn generate(dir: &Path, lines: usize) -> usize {
    let per_module = module(0).lines().count() + 6;
    let modules = (lines / per_module).max(1);
    let src = dir.join("src");
    let _ = std::fs::create_dir_all(&src);
    let _ = std::fs::write(dir.join("weft.toml"), "[project]\nname = \"generated\"\nversion = \"1.0.0\"\nsources = [\"src\"]\n\n[groups]\nleads = [\"alice\", \"bob\"]\n");
    let mut written = 0;
    for chunk in 0..modules.div_ceil(20) {
        let text: String = (chunk * 20..((chunk + 1) * 20).min(modules))
            .map(module)
            .collect();
        written += text.lines().count();
        let _ = std::fs::write(src.join(format!("module_{chunk:05}.weft")), text);
    }
    let env = environments(modules);
    written += env.lines().count();
    let _ = std::fs::write(src.join("environments.weft"), env);
    written
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn measure(lines: usize, keep: Option<&PathBuf>) {
    let dir = match keep {
        Some(path) => path.clone(),
        None => std::env::temp_dir().join(format!("weft-bench-{lines}-{}", std::process::id())),
    };
    let _ = std::fs::remove_dir_all(&dir);
    let total = generate(&dir, lines);
    let runs = if lines >= 1_000_000 { 3 } else { 10 };

    let texts: Vec<String> = std::fs::read_dir(dir.join("src"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let parse_times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            for (i, text) in texts.iter().enumerate() {
                std::hint::black_box(parse(text, FileId(i as u32)));
            }
            start.elapsed()
        })
        .collect();
    let mut errors = 0;
    let check_times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let analysis = check_project(&dir);
            errors = analysis.error_count();
            std::hint::black_box(&analysis);
            start.elapsed()
        })
        .collect();
    let build_times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let analysis = check_project(&dir);
            let built = lower::lower(&analysis).map(|lowered| {
                let manifest = analysis.project.as_ref().map(|p| p.manifest.clone());
                manifest.map(|m| {
                    emit::to_json(&emit::artifact(
                        lowered,
                        &m,
                        emit::source_digest(&analysis),
                        Default::default(),
                    ))
                })
            });
            std::hint::black_box(built);
            start.elapsed()
        })
        .collect();
    let (parse_t, check_t, build_t) = (
        median(parse_times),
        median(check_times),
        median(build_times),
    );
    let rate = |t: Duration| total as f64 / t.as_secs_f64();
    println!(
        "{total:>9} lines {:>6.1} MB | parse {:>8.1} ms {:>11.0} lines/s | check {:>8.1} ms {:>11.0} lines/s | build {:>8.1} ms | {errors} errors",
        bytes as f64 / 1e6,
        parse_t.as_secs_f64() * 1e3,
        rate(parse_t),
        check_t.as_secs_f64() * 1e3,
        rate(check_t),
        build_t.as_secs_f64() * 1e3,
    );
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let keep = args
        .iter()
        .position(|a| a == "--keep")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000, 1_000_000]
    } else {
        sizes
    };
    for lines in sizes {
        measure(lines, keep.as_ref());
    }
}
