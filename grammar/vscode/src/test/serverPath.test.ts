import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { isExecutable, resolveServerPath, type SearchContext } from "../serverPath";

/** A context over a fixed set of executable files. */
function context(executables: string[], overrides: Partial<SearchContext> = {}): SearchContext {
  const files = new Set(executables);
  return {
    pathVariable: "/usr/local/bin:/home/ana/.cargo/bin",
    pathExt: undefined,
    platform: "linux",
    home: "/home/ana",
    workspaceFolder: "/work/weft",
    isExecutable: (file) => files.has(file),
    ...overrides,
  };
}

test("a bare name is looked up on PATH, first folder first", () => {
  const found = resolveServerPath("weft", context(["/home/ana/.cargo/bin/weft", "/usr/local/bin/weft"]));
  assert.deepEqual(found, { found: true, path: "/usr/local/bin/weft" });
  const later = resolveServerPath("weft", context(["/home/ana/.cargo/bin/weft"]));
  assert.deepEqual(later, { found: true, path: "/home/ana/.cargo/bin/weft" });
});

test("an empty setting means weft", () => {
  assert.deepEqual(resolveServerPath("  ", context(["/usr/local/bin/weft"])), {
    found: true,
    path: "/usr/local/bin/weft",
  });
});

test("a name missing from PATH says so", () => {
  assert.deepEqual(resolveServerPath("weft", context([])), {
    found: false,
    reason: '"weft" was not found on PATH',
  });
  assert.deepEqual(resolveServerPath("weft", context([], { pathVariable: undefined })), {
    found: false,
    reason: '"weft" was not found on PATH',
  });
});

test("absolute, home and workspace-relative paths", () => {
  assert.deepEqual(resolveServerPath("/opt/weft/bin/weft", context(["/opt/weft/bin/weft"])), {
    found: true,
    path: "/opt/weft/bin/weft",
  });
  assert.deepEqual(resolveServerPath("~/bin/weft", context(["/home/ana/bin/weft"])), {
    found: true,
    path: "/home/ana/bin/weft",
  });
  assert.deepEqual(resolveServerPath("target/release/weft", context(["/work/weft/target/release/weft"])), {
    found: true,
    path: "/work/weft/target/release/weft",
  });
});

test("a path that is not executable is not found, and PATH is not searched for it", () => {
  assert.deepEqual(resolveServerPath("/opt/weft", context(["/usr/local/bin/weft"])), {
    found: false,
    reason: "/opt/weft is not an executable file",
  });
  assert.deepEqual(resolveServerPath("./weft", context([], { workspaceFolder: undefined })), {
    found: false,
    reason: "./weft is a relative path, and no trusted workspace folder is open to find it in",
  });
});

test("on Windows, PATHEXT extensions are tried and Path uses semicolons", () => {
  const windows = context(["C:\\Users\\ana\\.cargo\\bin\\weft.exe"], {
    platform: "win32",
    pathVariable: "C:\\Windows;C:\\Users\\ana\\.cargo\\bin",
    pathExt: ".COM;.EXE;.BAT",
    home: "C:\\Users\\ana",
    workspaceFolder: "C:\\work\\weft",
  });
  assert.deepEqual(resolveServerPath("weft", windows), {
    found: true,
    path: "C:\\Users\\ana\\.cargo\\bin\\weft.exe",
  });
  assert.deepEqual(resolveServerPath("C:\\Users\\ana\\.cargo\\bin\\weft.exe", windows), {
    found: true,
    path: "C:\\Users\\ana\\.cargo\\bin\\weft.exe",
  });
  assert.equal(resolveServerPath("target\\release\\weft", windows).found, false);
});

test("isExecutable checks the file system", () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "weft-vscode-"));
  try {
    const program = path.join(folder, "weft");
    const text = path.join(folder, "notes.txt");
    fs.writeFileSync(program, "#!/bin/sh\n");
    fs.chmodSync(program, 0o755);
    fs.writeFileSync(text, "");
    fs.chmodSync(text, 0o644);
    assert.equal(isExecutable(program), true);
    assert.equal(isExecutable(folder), false);
    assert.equal(isExecutable(path.join(folder, "missing")), false);
    if (process.platform !== "win32") {
      assert.equal(isExecutable(text), false);
    }
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});
