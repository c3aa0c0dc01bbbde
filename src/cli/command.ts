// The shape of a CLI command, and the errors that pick its exit code (SPEC §3):
// 0 success, 1 failure (one line on stderr), 2 bad usage (usage on stderr).
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
}

export interface Command {
  /** Words that select it, e.g. ["api-keys", "create"]. */
  path: string[];
  usage: string;
  summary: string;
  run(args: string[], io: CliIo): Promise<void>;
}

export class UsageError extends Error {
  override name = "UsageError";
}
