// The `weft.semanticDiff` command ("Weft: Semantic diff vs HEAD"): asks the language
// server for the semantic diff of a file's project (or of one flow) against git HEAD
// and shows it. The server's "Diff vs HEAD" code lenses call it with `[uri, flowName]`.

import * as vscode from "vscode";
import type { DiffView } from "./diffView";
import type { Server } from "./server";
import {
  SEMANTIC_DIFF_METHOD,
  failureMessage,
  flowArgument,
  parseSemanticDiffResult,
  semanticDiffParams,
} from "./semanticDiffProtocol";

/** The command's id, as the server's code lenses name it. */
export const SEMANTIC_DIFF_COMMAND = "weft.semanticDiff";

/** Runs the command: `uri` defaults to the active editor's file, `flow` to the whole project. */
export async function semanticDiff(server: Server, view: DiffView, uri?: unknown, flow?: unknown): Promise<void> {
  const source = documentUri(uri);
  if (typeof source === "string") {
    void vscode.window.showErrorMessage(`Weft: ${source}`);
    return;
  }
  const client = server.running();
  if (client === undefined) {
    void vscode.window.showErrorMessage(
      "Weft: the language server is not running, so there is no semantic diff. See the Weft output for why.",
    );
    return;
  }
  const flowName = flowArgument(flow);
  let answer: unknown;
  try {
    answer = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: "Weft: semantic diff vs HEAD" },
      () => client.sendRequest(SEMANTIC_DIFF_METHOD, semanticDiffParams(source.toString(), flowName)),
    );
  } catch (error) {
    void vscode.window.showErrorMessage(`Weft: semantic diff failed: ${failureMessage(error)}`);
    return;
  }
  const parsed = parseSemanticDiffResult(answer);
  if (!parsed.ok) {
    void vscode.window.showErrorMessage(`Weft: semantic diff failed: ${parsed.message}.`);
    return;
  }
  const { markdown, changes } = parsed.result;
  vscode.window.setStatusBarMessage(
    `Weft: ${changes === 1 ? "1 semantic change" : `${changes} semantic changes`} vs HEAD`,
    STATUS_MILLISECONDS,
  );
  await view.show(source, flowName, markdown);
}

/** How long the change count stays in the status bar. */
const STATUS_MILLISECONDS = 10_000;

/**
 * The file to diff: the argument (a URI or its string form), else the active Weft
 * editor's; or why there is none.
 */
function documentUri(argument: unknown): vscode.Uri | string {
  if (argument instanceof vscode.Uri) {
    return argument;
  }
  if (typeof argument === "string" && argument !== "") {
    try {
      return vscode.Uri.parse(argument, true);
    } catch {
      return `"${argument}" is not a file URI.`;
    }
  }
  const document = vscode.window.activeTextEditor?.document;
  return document?.languageId === "weft" ? document.uri : "open a .weft file to compare it with git HEAD.";
}
