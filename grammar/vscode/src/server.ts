// The Weft language server's lifetime: `weft lsp` over stdio, started when the
// extension activates and restarted when `weft.server.path` changes.

import * as os from "node:os";
import * as vscode from "vscode";
import { LanguageClient, type Executable, type LanguageClientOptions } from "vscode-languageclient/node";
import { errorMessage } from "./errors";
import { processContext, resolveServerPath } from "./serverPath";

/** The client id: vscode-languageclient reads the `weft.trace.server` setting from it. */
const CLIENT_ID = "weft";

const OPEN_SETTINGS = "Open Settings";

/** The language client, when the server runs. */
export class Server implements vscode.Disposable {
  private client: LanguageClient | undefined;
  // Starts and stops run one after the other, however quickly settings change.
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly output: vscode.OutputChannel) {}

  /** The client of the running server, or none. */
  running(): LanguageClient | undefined {
    return this.client?.isRunning() === true ? this.client : undefined;
  }

  /** Starts the server (stopping the previous one first, if any). */
  restart(): Promise<void> {
    this.queue = this.queue.then(
      () => this.stopNow().then(() => this.startNow()),
      () => this.stopNow().then(() => this.startNow()),
    );
    return this.queue;
  }

  /** Stops the server. */
  stop(): Promise<void> {
    this.queue = this.queue.then(
      () => this.stopNow(),
      () => this.stopNow(),
    );
    return this.queue;
  }

  /** Stops the server when the extension is deactivated. */
  dispose(): void {
    void this.stop();
  }

  private async startNow(): Promise<void> {
    const setting = vscode.workspace.getConfiguration("weft").get<string>("server.path", "weft");
    const folder = vscode.workspace.workspaceFolders?.find((candidate) => candidate.uri.scheme === "file");
    const trustedFolder = vscode.workspace.isTrusted ? folder?.uri.fsPath : undefined;
    const resolution = resolveServerPath(setting, processContext(trustedFolder, os.homedir()));
    if (!resolution.found) {
      this.output.appendLine(`The Weft language server was not started: ${resolution.reason}.`);
      void notFound(resolution.reason);
      return;
    }
    const server: Executable = {
      command: resolution.path,
      args: ["lsp"],
      ...(folder === undefined ? {} : { options: { cwd: folder.uri.fsPath } }),
    };
    const options: LanguageClientOptions = {
      documentSelector: [
        { scheme: "file", language: "weft" },
        { scheme: "untitled", language: "weft" },
      ],
      outputChannel: this.output,
    };
    const client = new LanguageClient(CLIENT_ID, "Weft Language Server", server, options);
    this.client = client;
    this.output.appendLine(`Starting ${resolution.path} lsp`);
    try {
      await client.start();
    } catch (error) {
      // vscode-languageclient has told the user already, with a link to this output.
      this.client = undefined;
      this.output.appendLine(`The Weft language server failed to start: ${errorMessage(error)}`);
      // A client that failed to start has nothing left to stop; disposing only frees it.
      await client.dispose().catch(() => undefined);
    }
  }

  private async stopNow(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    try {
      // Stops the server if it runs, and keeps the client from restarting it.
      await client?.dispose();
    } catch (error) {
      this.output.appendLine(`Stopping the Weft language server: ${errorMessage(error)}`);
    }
  }
}

async function notFound(reason: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(
    `Weft: cannot start the language server: ${reason}. Install the weft binary ` +
      '(run "cargo install --path cli" in the Weft repository) or set "weft.server.path" to it.',
    OPEN_SETTINGS,
  );
  if (choice === OPEN_SETTINGS) {
    await vscode.commands.executeCommand("workbench.action.openSettings", "weft.server.path");
  }
}

