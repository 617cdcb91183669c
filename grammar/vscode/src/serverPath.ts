// Finding the `weft` executable named by the `weft.server.path` setting, before the
// language client spawns it: a missing binary then gets a message that says what to do
// instead of a spawn error.

import * as fs from "node:fs";
import * as path from "node:path";

/** Where and how to look for the executable. */
export interface SearchContext {
  /** The `PATH` (or Windows `Path`) value. */
  readonly pathVariable: string | undefined;
  /** The Windows `PATHEXT` value: the extensions that make a file executable. */
  readonly pathExt: string | undefined;
  /** The platform, for its path rules. */
  readonly platform: NodeJS.Platform;
  /** The user's home folder, for `~/` paths. */
  readonly home: string;
  /**
   * The first workspace folder, for relative paths such as `target/release/weft`; none
   * when no folder is open or the workspace is not trusted (its programs must not run).
   */
  readonly workspaceFolder: string | undefined;
  /** Whether a file exists and may be executed. */
  readonly isExecutable: (file: string) => boolean;
}

/** The outcome of looking for the executable. */
export type Resolution =
  | { readonly found: true; readonly path: string }
  | { readonly found: false; readonly reason: string };

/** The search context of this process. */
export function processContext(workspaceFolder: string | undefined, home: string): SearchContext {
  return {
    pathVariable: process.env["PATH"] ?? process.env["Path"],
    pathExt: process.env["PATHEXT"],
    platform: process.platform,
    home,
    workspaceFolder,
    isExecutable,
  };
}

/** Whether `file` is a regular file this process may execute. */
export function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    if (process.platform !== "win32") {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves the setting's value: a bare name (`weft`) is looked up on `PATH`; a path is
 * taken as it is when absolute, from the home folder when it starts with `~/`, and
 * from the first workspace folder otherwise.
 */
export function resolveServerPath(setting: string, context: SearchContext): Resolution {
  const command = setting.trim() === "" ? "weft" : setting.trim();
  const rules = context.platform === "win32" ? path.win32 : path.posix;
  const candidates = (base: string): string[] => withExtensions(base, context);

  if (command === "~" || command.startsWith("~/") || command.startsWith("~\\")) {
    const file = rules.join(context.home, command.slice(1));
    return firstExecutable(candidates(file), context) ?? notFound(`${file} is not an executable file`);
  }
  if (rules.isAbsolute(command)) {
    return firstExecutable(candidates(command), context) ?? notFound(`${command} is not an executable file`);
  }
  if (command.includes("/") || (context.platform === "win32" && command.includes("\\"))) {
    if (context.workspaceFolder === undefined) {
      return notFound(`${command} is a relative path, and no trusted workspace folder is open to find it in`);
    }
    const file = rules.join(context.workspaceFolder, command);
    return firstExecutable(candidates(file), context) ?? notFound(`${file} is not an executable file`);
  }
  const separator = context.platform === "win32" ? ";" : ":";
  const folders = (context.pathVariable ?? "").split(separator).filter((folder) => folder !== "");
  for (const folder of folders) {
    const found = firstExecutable(candidates(rules.join(folder, command)), context);
    if (found !== undefined) {
      return found;
    }
  }
  return notFound(`"${command}" was not found on PATH`);
}

/** On Windows, `weft` means `weft.exe`, `weft.cmd`... (PATHEXT); elsewhere the name itself. */
function withExtensions(file: string, context: SearchContext): string[] {
  if (context.platform !== "win32") {
    return [file];
  }
  const extensions = (context.pathExt ?? ".COM;.EXE;.BAT;.CMD")
    .split(";")
    .filter((extension) => extension !== "");
  const hasExtension = extensions.some((extension) => file.toUpperCase().endsWith(extension.toUpperCase()));
  return hasExtension ? [file] : extensions.map((extension) => file + extension.toLowerCase());
}

function firstExecutable(files: string[], context: SearchContext): Resolution | undefined {
  const file = files.find((candidate) => context.isExecutable(candidate));
  return file === undefined ? undefined : { found: true, path: file };
}

function notFound(reason: string): Resolution {
  return { found: false, reason };
}
