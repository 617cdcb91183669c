#!/usr/bin/env bash
# The language server's latency and memory on a 10k-line file inside a 100k-line project:
# the LSP bench kit (../shared/bench/lsp/lsp_bench.py: open, edit to diagnostics, peak RSS)
# and weft_positions.py (completion and hover at Weft positions, with the kit's client).
#
#   bash lsp/bench/run.sh [KIT_DIR] [WORK_DIR]
#
# KIT_DIR defaults to ../shared/bench/lsp beside the repository; WORK_DIR (default
# /tmp/weft-lsp-bench) receives the generated project and the JSON results.
set -euo pipefail
cd "$(dirname "$0")/../.."
kit="${1:-../shared/bench/lsp}"
work="${2:-/tmp/weft-lsp-bench}"
test -f "$kit/lsp_bench.py" || { echo "no lsp_bench.py in $kit" >&2; exit 2; }

cargo build --release --locked -p weft
weft="${CARGO_TARGET_DIR:-target}/release/weft"
weft="$(realpath "$weft")"

# The compiler's generator: 100k lines in files of 20 modules (about 2,000 lines each).
rm -rf "$work" && mkdir -p "$work"
cargo bench --locked -p weft-compiler --bench check -- 100000 --keep "$work/project" >/dev/null
# Seven of them become one 10k-line file; the project keeps its size.
src="$work/project/src"
cat "$src"/module_0000[0-6].weft >"$src/big.weft"
rm "$src"/module_0000[0-6].weft
echo "project: $(cat "$src"/*.weft | wc -l) lines; big.weft: $(wc -l <"$src/big.weft") lines"
"$weft" check "$work/project" >/dev/null

python3 "$kit/lsp_bench.py" --cmd "$weft lsp" --file "$src/big.weft" --lang weft \
  --root "$work/project" --edits 30 --positions 30 --out "$work/kit.json" >/dev/null
python3 lsp/bench/weft_positions.py --kit "$kit/lsp_bench.py" --cmd "$weft lsp" \
  --file "$src/big.weft" --root "$work/project" --positions 30 --out "$work/positions.json" >/dev/null

python3 - "$work/kit.json" "$work/positions.json" <<'EOF'
import json, sys
kit, pos = (json.load(open(p)) for p in sys.argv[1:3])
def line(name, s):
    if s:
        print(f"{name:<34} p50 {s['p50']:>8} ms  p95 {s['p95']:>8} ms  max {s['max']:>8} ms  (n={s['n']})")
print(f"{'open to first diagnostics':<34} {kit['open']['first_diag_ms']} ms")
line("edit to error diagnostic", kit.get("edit_break_to_error_diag"))
line("fixing edit to clean diagnostics", kit.get("edit_fix_to_clean_diag_first"))
line("completion (Weft positions)", pos.get("completion"))
line("completion while typing", pos.get("completion_while_typing"))
line("hover (Weft positions)", pos.get("hover"))
print("missed edits:", kit.get("edit_missed"))
print("server memory after the edits:", kit.get("rss_end") or kit.get("rss_after_open"))
print("server memory after completion and hover:", pos.get("rss_end"))
EOF
