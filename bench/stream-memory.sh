#!/usr/bin/env bash
# Peak memory of a file-to-file `weft run` as the input grows: NDJSON is streamed in
# batches of 500 records, so the peak resident set stays flat from 1M to 10M records.
#
#   cargo build --release -p weft
#   bench/stream-memory.sh                 # 1,000,000 and 10,000,000 records
#   bench/stream-memory.sh 100000 1000000  # other counts
#
# WEFT names the binary (default: $CARGO_TARGET_DIR/release/weft or target/release/weft).
# Needs GNU time at /usr/bin/time and about 1 GB of disk per 10M records (in and out).
set -euo pipefail

weft=${WEFT:-${CARGO_TARGET_DIR:-target}/release/weft}
[ -x "$weft" ] || { echo "no weft binary at $weft (build it, or set WEFT)" >&2; exit 2; }
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000000 10000000)

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/src" "$dir/data"
printf '[project]\nname = "memory"\nversion = "0.1.0"\nsources = ["src"]\n' > "$dir/weft.toml"
cat > "$dir/src/flow.weft" <<'WEFT'
schema Order {
  id: Int
  customer: String
  amount: Int
}

schema Line {
  Number: String
  Customer: String
  Amount: Int
}

connection files: file

map order_to_line(o: Order) -> Line {
  Number = "L-${o.id}"
  Customer = upper(o.customer)
  Amount = o.amount
}

flow copy {
  trigger manual
  read files.read("in.ndjson") as [Order]
  map order_to_line
  write files.write("out.ndjson")
}
WEFT
printf 'environment bench {\n  files = file("%s/data")\n}\n' "$dir" > "$dir/src/env.weft"

for n in "${counts[@]}"; do
  awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":%d,\"customer\":\"customer %d\",\"amount\":%d}\n", i, i, i % 1000 }' \
    > "$dir/data/in.ndjson"
  rm -f "$dir/data/out.ndjson" "$dir/.weft/state.db"*
  /usr/bin/time -v "$weft" run copy --env bench "$dir" > "$dir/run.txt" 2> "$dir/time.txt"
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$dir/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$dir/time.txt")
  out=$(wc -l < "$dir/data/out.ndjson")
  printf '%9d records: peak RSS %7.1f MB, wall %s, %d written\n' "$n" "$(echo "$rss / 1024" | bc -l)" "$wall" "$out"
done
