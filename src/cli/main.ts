// `connected-apps`: dispatch to a command; map failures to exit codes 1 and 2 (SPEC §3).
import { ConfigError } from "../config/config.ts";
import { KeyringError } from "../crypto/keyring.ts";
import { SealError } from "../crypto/seal.ts";
import { AppError } from "../errors/problem.ts";
import { commands } from "./commands.ts";
import { UsageError, type CliIo, type Command } from "./command.ts";

function overview(): string {
  const width = Math.max(...commands.map((c) => c.usage.length));
  return [
    "Usage: connected-apps <command> [flags]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    "",
    "Every command reads the environment described in the README (DATABASE_URL, CONNECTED_APPS_KEYS, ...).",
    "Run `connected-apps <command> --help` for one command.",
  ].join("\n");
}

function find(args: string[]): { command: Command; rest: string[] } | undefined {
  const matches = commands.filter((c) => c.path.every((word, i) => args[i] === word));
  const command = matches.sort((a, b) => b.path.length - a.path.length)[0];
  return command && { command, rest: args.slice(command.path.length) };
}

/** One line, no stack: what went wrong, for a person at a terminal. */
function describeFailure(err: unknown): string {
  if (err instanceof AppError) return `error: ${err.detail}`;
  if (err instanceof ConfigError || err instanceof KeyringError || err instanceof SealError) return `error: ${err.message}`;
  const e = err as { code?: string; message?: string };
  if (e.code === "ECONNREFUSED") return `error: the database refused the connection (${e.message ?? ""}); is it running?`;
  if (e.code === "EADDRINUSE") return `error: the port is in use (${e.message ?? ""}); set PORT to another one`;
  return `error: ${(e.message ?? String(err)).split("\n")[0]}`;
}

const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    (argv.length === 0 ? io.err : io.out)(overview());
    return argv.length === 0 ? 2 : 0;
  }
  const found = find(argv);
  if (!found) {
    io.err(`connected-apps: unknown command "${argv.slice(0, 2).join(" ")}"\n\n${overview()}`);
    return 2;
  }
  const { command, rest } = found;
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(`Usage: ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    await command.run(rest, io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`connected-apps ${command.path.join(" ")}: ${err.message}\nUsage: ${command.usage}`);
      return 2;
    }
    io.err(describeFailure(err));
    return 1;
  }
}
