#!/usr/bin/env python3
"""Completion and hover latency of `weft lsp` at Weft positions, with the LSP bench kit's client.

The kit (lsp_bench.py) measures edit-to-diagnostics latency and memory of any server, but
picks its completion and hover positions from TOML lines. This driver reuses the kit's
client and statistics and asks at positions that exist in Weft files:

  member     after `c.` in a map assignment (`Name = trim(c.|customer_name)`): the fields
  step       after `map ` in a flow: the maps of the project
  value      at the start of an assignment's value: variables, built-ins, maps
  typing     an assignment's value replaced by `c.` in the buffer (a didChange), then the
             completion at once: what typing sees, the update of the analysis included
  hover      on a field in a path, and on a map name in a flow

Usage:
  weft_positions.py --kit /path/to/lsp_bench.py --cmd "weft lsp" --file big.weft --root PROJECT \
                    [--positions 30] [--out result.json]
"""
import argparse, importlib.util, json, os, re, shlex, sys, time


def load_kit(path):
    spec = importlib.util.spec_from_file_location("lsp_bench", path)
    kit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kit)
    return kit


def spread(xs, k):
    if not xs:
        return []
    return [xs[int(j * (len(xs) - 1) / max(1, k - 1))] for j in range(k)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kit", required=True, help="path of the kit's lsp_bench.py")
    ap.add_argument("--cmd", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--positions", type=int, default=30)
    ap.add_argument("--out", default=None)
    ap.add_argument("--stderr", default="/tmp/weft-positions-server-stderr.log")
    a = ap.parse_args()
    kit = load_kit(a.kit)

    path = os.path.abspath(a.file)
    root = os.path.abspath(a.root)
    uri = "file://" + path
    text = open(path).read()
    lines = text.split("\n")
    c = kit.Client(shlex.split(a.cmd), None, a.stderr)
    res = {"cmd": a.cmd, "file": path, "lines": text.count("\n")}

    _, init = c.request("initialize", {
        "processId": os.getpid(), "rootUri": "file://" + root,
        "workspaceFolders": [{"uri": "file://" + root, "name": "bench"}],
        "capabilities": {"textDocument": {"hover": {"contentFormat": ["markdown"]}}}}, timeout=120)
    if not init or "result" not in init:
        print("no initialize result", init)
        return 1
    c.send("initialized", {}, notify=True)
    c.drain(0.5)
    c.send("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "weft", "version": 1, "text": text}}, notify=True)
    t, d = c.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                  and m["params"]["uri"] == uri, 120)
    if d is None:
        print("no diagnostics after didOpen")
        return 1
    c.drain(0.5)

    member, step, value, field, map_name = [], [], [], [], []
    for i, line in enumerate(lines):
        m = re.match(r"^  \w+ = trim\(c\.(\w+)\)", line)
        if m:
            member.append((i, line.index("c.") + 2))
            field.append((i, line.index("c.") + 3))
        m = re.match(r"^  (\w+) = ", line)
        if m:
            value.append((i, len(m.group(0))))
        m = re.match(r"^  map (\w+)$", line)
        if m:
            step.append((i, len("  map ")))
            map_name.append((i, len("  map ") + 1))
    n = a.positions

    def items_of(m):
        r = m.get("result")
        return r.get("items", []) if isinstance(r, dict) else (r or [])

    def ask(method, positions):
        lat, counts = [], []
        for ln, col in positions:
            dt, m = c.request(method, {"textDocument": {"uri": uri},
                                       "position": {"line": ln, "character": col}})
            if m is None:
                continue
            lat.append(dt)
            counts.append(len(items_of(m)) if method.endswith("completion") else int(bool(m.get("result"))))
        return lat, counts

    completion, all_lat = {}, []
    for kind, positions in [("member", member), ("step", step), ("value", value)]:
        lat, counts = ask("textDocument/completion", spread(positions, n))
        all_lat += lat
        completion[kind] = {"lat": kit.summary(lat), "items_min": min(counts, default=None),
                            "items_max": max(counts, default=None)}
    res["completion"] = kit.summary(all_lat)
    res["completion_by_kind"] = completion

    # Typing: the value of an assignment becomes `c.`, completion asked at once.
    version = 1
    typing = []
    for ln, col in spread(member, n):
        edited = list(lines)
        edited[ln] = lines[ln][:col - 2] + "c."
        version += 1
        c.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
               "contentChanges": [{"text": "\n".join(edited)}]}, notify=True)
        dt, m = c.request("textDocument/completion", {"textDocument": {"uri": uri},
                          "position": {"line": ln, "character": col}})
        if m is not None and items_of(m):
            typing.append(dt)
        version += 1
        c.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
               "contentChanges": [{"text": text}]}, notify=True)
        c.drain(0.1)
    res["completion_while_typing"] = kit.summary(typing)
    res["completion_while_typing_answered"] = f"{len(typing)}/{len(spread(member, n))}"

    hover, found = ask("textDocument/hover", spread(field, n // 2) + spread(map_name, n - n // 2))
    res["hover"] = kit.summary(hover)
    res["hover_nonnull"] = f"{sum(found)}/{len(found)}"
    res["rss_end"] = kit.proc_status(c.p.pid)
    c.request("shutdown", None, timeout=10)
    c.send("exit", None, notify=True)
    try:
        c.p.wait(5)
    except Exception:
        c.p.kill()
    out = json.dumps(res, indent=1)
    if a.out:
        open(a.out, "w").write(out + "\n")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
