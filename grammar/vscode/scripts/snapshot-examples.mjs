// Snapshot tests of the grammar on the example projects (examples/**/*.weft), with
// vscode-tmgrammar-snap. The tool writes each snapshot beside its source; to keep the
// examples folder clean, the sources are staged in a temporary folder together with the
// snapshots committed under test/examples/, and the tool runs there.
//
//   node scripts/snapshot-examples.mjs            compare (fails on any difference,
//                                                  and on a missing or orphaned snapshot)
//   node scripts/snapshot-examples.mjs --update   rewrite test/examples/ (review the diff)

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const extension = join(dirname(fileURLToPath(import.meta.url)), "..");
const examples = join(extension, "..", "..", "examples");
const snapshots = join(extension, "test", "examples");
const update = process.argv.includes("--update");

/** The files under `folder` whose names end with `suffix`, relative to it, sorted. */
function filesUnder(folder, suffix) {
  if (!existsSync(folder)) {
    return [];
  }
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => relative(folder, join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

function copy(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

const sources = filesUnder(examples, ".weft");
if (sources.length === 0) {
  console.error(`snapshot-examples: no .weft files under ${examples}`);
  process.exit(1);
}
const committed = filesUnder(snapshots, ".weft.snap");
const expected = new Set(sources.map((source) => `${source}.snap`));
const missing = sources.filter((source) => !committed.includes(`${source}.snap`));
const orphaned = committed.filter((snapshot) => !expected.has(snapshot));
if (!update && (missing.length > 0 || orphaned.length > 0)) {
  for (const source of missing) console.error(`snapshot-examples: no snapshot for examples/${source}`);
  for (const snapshot of orphaned) console.error(`snapshot-examples: test/examples/${snapshot} has no example`);
  console.error("snapshot-examples: run `npm run test:update-snapshots` and review the new files");
  process.exit(1);
}

const stage = mkdtempSync(join(tmpdir(), "weft-grammar-snap-"));
let status = 1;
try {
  for (const source of sources) {
    copy(join(examples, source), join(stage, source));
    if (!update) {
      copy(join(snapshots, `${source}.snap`), join(stage, `${source}.snap`));
    }
  }
  const require = createRequire(import.meta.url);
  const tool = join(dirname(require.resolve("vscode-tmgrammar-test/package.json")), "dist", "snapshot.js");
  const args = [tool, "--config", join(extension, "package.json"), ...(update ? ["--updateSnapshot"] : [])];
  // Relative names, so that the tool's messages name `customer-sync/src/flows.weft`.
  const run = spawnSync(process.execPath, [...args, ...sources.map((source) => source.split(sep).join("/"))], {
    cwd: stage,
    stdio: "inherit",
  });
  status = run.status ?? 1;
  if (status === 0 && update) {
    rmSync(snapshots, { recursive: true, force: true });
    for (const source of sources) {
      copy(join(stage, `${source}.snap`), join(snapshots, `${source}.snap`));
    }
    console.log(`snapshot-examples: wrote ${sources.length} snapshots under test/examples/`);
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
process.exit(status);
