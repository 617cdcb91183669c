// The Weft extension: the `weft` language (grammar and editing rules come from
// package.json), the language server `weft lsp`, and the client-side command
// `weft.semanticDiff`. `weft.runTest`, the other command of the server's code lenses,
// is the server's own: vscode-languageclient forwards it (workspace/executeCommand).

import * as vscode from "vscode";
import { DIFF_SCHEME, DiffView } from "./diffView";
import { SEMANTIC_DIFF_COMMAND, semanticDiff } from "./semanticDiff";
import { Server } from "./server";

/** The running extension's server, for `deactivate`. */
let active: Server | undefined;

/** Starts the language server and registers the command. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("Weft");
  const server = new Server(output);
  active = server;
  const view = new DiffView();
  context.subscriptions.push(
    output,
    server,
    view,
    vscode.workspace.registerTextDocumentContentProvider(DIFF_SCHEME, view),
    vscode.commands.registerCommand(SEMANTIC_DIFF_COMMAND, (uri?: unknown, flow?: unknown) =>
      semanticDiff(server, view, uri, flow),
    ),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("weft.server.path")) {
        void server.restart();
      }
    }),
    // Trust makes the workspace's own `weft.server.path` (and relative paths) count.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void server.restart()),
  );
  await server.restart();
}

/** Stops the language server; VS Code waits for it to shut down. */
export function deactivate(): Promise<void> | undefined {
  const server = active;
  active = undefined;
  return server?.stop();
}
