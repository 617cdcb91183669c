#!/usr/bin/env bash
# Puts `weft map` into the benchmark kit's table and runs the kit (README.md, "Benchmarks").
#
#   bench/run-kit.sh                       first run: builds weft and every peer of the kit
#   REBUILD=0 SIZES="200000 1000000" bench/run-kit.sh   later runs: reuse the peer builds
#
# Copies the kit (KIT, default ../shared/bench beside the repository) to WORK (default
# /tmp/weft-bench; an existing copy keeps its builds and data), builds `weft` in release
# mode, adds two rows to the kit's TOOLS in bench.py and run.sh:
#   weft        weft map account_sync bench/mapping --flow
#   weft-jobs2  the same with --jobs 2
# and runs the kit's run.sh, which checks every tool's output with verify.py (exact)
# before timing it. Results: WORK/RESULTS.md. Other knobs (SIZES, RUNS, N_VERIFY, SEED,
# REBUILD) go to run.sh unchanged.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
KIT=${KIT:-$repo/../shared/bench}
WORK=${WORK:-/tmp/weft-bench}
target=${CARGO_TARGET_DIR:-$repo/target}

[ -f "$KIT/run.sh" ] || { echo "no benchmark kit at $KIT (set KIT)" >&2; exit 2; }
mkdir -p "$WORK"
# The kit's files are read-only in the shared folder; the copy must be writable. Data,
# tools and builds already in WORK are kept (the kit reuses them with REBUILD=0).
cp -r --no-preserve=mode "$KIT/." "$WORK/"
chmod +x "$WORK"/*.sh "$WORK"/*.py

cargo build --release --locked -p weft --manifest-path "$repo/Cargo.toml"
weft="$target/release/weft"

python3 - "$WORK/bench.py" "$weft" "$repo/bench/mapping" <<'PY'
import re, sys
path, weft, project = sys.argv[1:]
text = open(path, encoding="utf-8").read()
base = [weft, "map", "account_sync", project, "--flow"]
rows = (f'    "weft": {base!r},\n'
        f'    "weft-jobs2": {base + ["--jobs", "2"]!r},\n')
# Insert before the closing brace of `TOOLS = {...}`.
patched, n = re.subn(r'(TOOLS = \{\n(?:    .*\n)*?)\}', lambda m: m.group(1) + rows + "}", text, count=1)
if n != 1:
    sys.exit("bench.py: TOOLS not found; the kit changed")
open(path, "w", encoding="utf-8").write(patched)
PY
# Every TOOLS list in run.sh (the full one and the fallbacks without VRL) gets the rows.
sed -i 's/serde-baseline,roundtrip"/serde-baseline,roundtrip,weft,weft-jobs2"/g' "$WORK/run.sh"
grep -q 'roundtrip,weft,weft-jobs2"' "$WORK/run.sh" || { echo "run.sh: TOOLS not found; the kit changed" >&2; exit 2; }

cd "$WORK"
# The kit builds (and `cargo clean`s) its peers beside itself: it must not see the target
# directory weft was built in, or its clean would wipe that one.
env -u CARGO_TARGET_DIR ./run.sh
echo "results: $WORK/RESULTS.md"
