// Showing a semantic diff: a read-only virtual Markdown document per (file, flow),
// rendered with VS Code's Markdown preview. Asking again for the same file and flow
// refreshes the open preview instead of opening another.

import * as path from "node:path";
import * as vscode from "vscode";

/** The URI scheme of the diff documents. */
export const DIFF_SCHEME = "weft-diff";

/** The provider of the diff documents' text, and the way to show one. */
export class DiffView implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();

  /** Fired when a shown diff gets new content. */
  readonly onDidChange = this.changed.event;

  /** The Markdown of a diff document. */
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? "This semantic diff is no longer available: run it again.";
  }

  /** Shows `markdown`, the diff of `source`'s project (or of one `flow`) against HEAD. */
  async show(source: vscode.Uri, flow: string | null, markdown: string): Promise<void> {
    const uri = diffUri(source, flow);
    const key = uri.toString();
    const refresh = this.contents.has(key);
    this.contents.set(key, markdown);
    if (refresh) {
      this.changed.fire(uri);
    }
    try {
      await vscode.commands.executeCommand("markdown.showPreview", uri);
    } catch {
      // The built-in Markdown extension is disabled: show the Markdown source instead.
      const document = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(document, { preview: true });
    }
  }

  /** Releases the event emitter. */
  dispose(): void {
    this.changed.dispose();
  }
}

/**
 * The document of one diff: its name is the title of the preview
 * ("Semantic diff vs HEAD (flows.weft).md"); the query keeps files of the same name and
 * different flows apart.
 */
function diffUri(source: vscode.Uri, flow: string | null): vscode.Uri {
  const subject = (flow === null ? path.posix.basename(source.path) : `flow ${flow}`).replace(/[\\/]/g, "-");
  return vscode.Uri.from({
    scheme: DIFF_SCHEME,
    path: `/Semantic diff vs HEAD (${subject}).md`,
    query: new URLSearchParams({ source: source.toString(), flow: flow ?? "" }).toString(),
  });
}
