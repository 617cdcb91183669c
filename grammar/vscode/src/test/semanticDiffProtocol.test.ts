import * as assert from "node:assert/strict";
import { test } from "node:test";
import { errorMessage } from "../errors";
import {
  failureMessage,
  flowArgument,
  parseSemanticDiffResult,
  semanticDiffParams,
} from "../semanticDiffProtocol";

test("the request names the document, HEAD and the flow", () => {
  assert.deepEqual(semanticDiffParams("file:///p/src/flows.weft", "account_sync"), {
    textDocument: { uri: "file:///p/src/flows.weft" },
    against: "HEAD",
    flow: "account_sync",
  });
  assert.deepEqual(JSON.parse(JSON.stringify(semanticDiffParams("file:///p/a.weft", null))), {
    textDocument: { uri: "file:///p/a.weft" },
    against: "HEAD",
    flow: null,
  });
});

test("the flow argument is a non-empty string or none", () => {
  assert.equal(flowArgument("account_sync"), "account_sync");
  assert.equal(flowArgument(""), null);
  assert.equal(flowArgument("  "), null);
  assert.equal(flowArgument(undefined), null);
  assert.equal(flowArgument(42), null);
});

test("a well-formed answer is accepted, extra fields ignored", () => {
  assert.deepEqual(parseSemanticDiffResult({ markdown: "# Diff", changes: 3, text: "~ x", diff: {} }), {
    ok: true,
    result: { markdown: "# Diff", changes: 3 },
  });
  assert.deepEqual(parseSemanticDiffResult({ markdown: "", changes: 0 }), {
    ok: true,
    result: { markdown: "", changes: 0 },
  });
});

test("a malformed answer says what is wrong", () => {
  assert.deepEqual(parseSemanticDiffResult(null), {
    ok: false,
    message: "the server answered null instead of a diff",
  });
  assert.deepEqual(parseSemanticDiffResult(undefined), {
    ok: false,
    message: "the server answered nothing instead of a diff",
  });
  assert.deepEqual(parseSemanticDiffResult({ changes: 1 }), {
    ok: false,
    message: "the server's answer has no `markdown` text (got nothing)",
  });
  assert.deepEqual(parseSemanticDiffResult({ markdown: "x", changes: "2" }), {
    ok: false,
    message: 'the server\'s answer has no change count (got string "2")',
  });
  assert.equal(parseSemanticDiffResult({ markdown: "x", changes: -1 }).ok, false);
  assert.equal(parseSemanticDiffResult({ markdown: "x", changes: 1.5 }).ok, false);
  assert.equal(parseSemanticDiffResult([]).ok, false);
});

test("error messages come from errors, JSON-RPC error objects and strings", () => {
  assert.equal(errorMessage(new Error("not a git repository: run git init")), "not a git repository: run git init");
  assert.equal(errorMessage({ code: -32603, message: "revision HEAD is unknown" }), "revision HEAD is unknown");
  assert.equal(errorMessage("boom"), "boom");
  assert.equal(errorMessage(undefined), "unknown error");
  assert.equal(errorMessage({ code: 1 }), "unknown error");
});

test("a server without the request is told apart from a failing diff", () => {
  assert.equal(
    failureMessage({ code: -32601, message: "Method not found" }),
    "this weft language server does not know weft/semanticDiff: install a newer weft (cargo install --path cli)",
  );
  assert.equal(
    failureMessage({ code: -32603, message: "not a git repository: run `git init` and commit" }),
    "not a git repository: run `git init` and commit",
  );
});
