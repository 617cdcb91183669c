// The custom `weft/semanticDiff` request of the Weft language server: its parameters,
// and the checks on its answer (a server from another version may answer differently,
// and the client must say so rather than show `undefined`).

import { errorMessage } from "./errors";

/** The request's method name. */
export const SEMANTIC_DIFF_METHOD = "weft/semanticDiff";

/** What the diff is computed against: the file's project at git HEAD. */
export const AGAINST_HEAD = "HEAD";

/** The parameters of `weft/semanticDiff`. */
export interface SemanticDiffParams {
  /** The open `.weft` file whose project is compared (with unsaved edits). */
  readonly textDocument: { readonly uri: string };
  /** The old side: `HEAD`, `git:REV` or the path of an artifact. */
  readonly against: string;
  /** Only this flow and what it depends on, or the whole project when `null`. */
  readonly flow: string | null;
}

/** The part of the answer the client shows. */
export interface SemanticDiffResult {
  /** The diff as a Markdown document. */
  readonly markdown: string;
  /** How many changes were found. */
  readonly changes: number;
}

/** The parameters comparing `uri`'s project (or one `flow` of it) with git HEAD. */
export function semanticDiffParams(uri: string, flow: string | null): SemanticDiffParams {
  return { textDocument: { uri }, against: AGAINST_HEAD, flow };
}

/** The flow argument of the command: a non-empty string, or none. */
export function flowArgument(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/** The answer checked against the protocol, or a message saying what is wrong with it. */
export function parseSemanticDiffResult(
  value: unknown,
): { readonly ok: true; readonly result: SemanticDiffResult } | { readonly ok: false; readonly message: string } {
  if (typeof value !== "object" || value === null) {
    return { ok: false, message: `the server answered ${describe(value)} instead of a diff` };
  }
  const { markdown, changes } = value as Record<string, unknown>;
  if (typeof markdown !== "string") {
    return { ok: false, message: `the server's answer has no \`markdown\` text (got ${describe(markdown)})` };
  }
  if (typeof changes !== "number" || !Number.isInteger(changes) || changes < 0) {
    return { ok: false, message: `the server's answer has no change count (got ${describe(changes)})` };
  }
  return { ok: true, result: { markdown, changes } };
}

/** JSON-RPC's "method not found": a server older than the request. */
const METHOD_NOT_FOUND = -32601;

/** What to tell the user when the request failed with `error`. */
export function failureMessage(error: unknown): string {
  const code = typeof error === "object" && error !== null ? (error as Record<string, unknown>)["code"] : undefined;
  if (code === METHOD_NOT_FOUND) {
    return `this weft language server does not know ${SEMANTIC_DIFF_METHOD}: install a newer weft (cargo install --path cli)`;
  }
  return errorMessage(error);
}

function describe(value: unknown): string {
  if (value === undefined) {
    return "nothing";
  }
  if (value === null) {
    return "null";
  }
  if (Array.isArray(value)) {
    return "a list";
  }
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}
